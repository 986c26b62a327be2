"""Unity Catalog on Databricks through databricks-sdk: grants with `w.grants.get / update`, owners (read and
transferred), listings, column masks and row filters (read) with the catalog APIs, and tags, masks and
row filters (set) through SQL on the target's warehouse (the warehouse engine, lakectl/engine/warehouse.py).

The SDK puts `full_name` into the URL path as given, so every name is percent-encoded here into one
path segment (a name can never address another object); securable types go as lower-case strings
(the SecurableType enum would be formatted as `SecurableType.TABLE`); privileges are the SDK's
`Privilege` enum, spelled with underscores like the policy file. SQL text is built only by
lakectl/core/sql.py. databricks-sdk is imported inside functions only.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from lakectl.core.errors import JobFailed, LakectlError, SourceUnavailable, UsageError, prefixed
from lakectl.governance.backend import ApplyOutcome, Capabilities, ChangeFailure, PrincipalChange, Securable, apply_securable, unverified
from lakectl.governance.names import Name, format_name, full_name
from lakectl.governance.privileges import PRIVILEGES

if TYPE_CHECKING:
    from databricks.sdk import WorkspaceClient

    from lakectl.engine.warehouse import WarehouseEngine

_LIST = {"schema": "schemas", "table": "tables", "volume": "volumes", "function": "functions", "registered_model": "registered_models"}
_TAGGABLE = {"catalog", "schema", "table", "volume"}
Tags = dict[str, str]


def segment(name: Name) -> str:
    """The securable's full name as one percent-encoded URL path segment (the SDK does not escape it)."""
    return urllib.parse.quote(full_name(name), safe="")


class DatabricksBackend:
    name = "databricks"

    def __init__(
        self,
        w: WorkspaceClient,
        *,
        warehouse: WarehouseEngine | None = None,
        admins: frozenset[str] = frozenset(),
        threads: int = 4,
        where: str = "the workspace",
        caller: str | None = None,
    ) -> None:
        self.w = w
        self.url = where  # how plans name the server (a host, never credentials)
        self.warehouse = warehouse
        self.admins = admins
        self.threads = max(1, threads)
        # tags, masks and row filters are set with SQL on a warehouse: without one, the plan lists them as
        # unsupported instead of dropping them
        sql = warehouse is not None
        self.capabilities = Capabilities(
            privileges=frozenset().union(*PRIVILEGES.values()), groups=True, owner_transfer=True, tags=sql, masks=sql, row_filters=sql
        )
        self._requests = 0
        self._caller = caller
        self._listed: dict[tuple[str, Name], list[Name]] = {}
        self._pool: ThreadPoolExecutor | None = None

    @property
    def requests(self) -> int:
        """API calls made, the warehouse's statements (and their polls) included."""
        return self._requests + (self.warehouse.requests if self.warehouse is not None else 0)

    @property
    def caller(self) -> str | None:
        if self._caller is None:
            with self._errors("reading the current user"):
                self._count()
                self._caller = self.w.current_user.me().user_name
        return self._caller

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    # --- grants -----------------------------------------------------------------------------------

    def _get_one(self, s: Securable) -> dict[str, frozenset[str]]:
        out: dict[str, set[str]] = {}
        token: str | None = None
        with self._errors(f"reading the grants on {s.type} {full_name(s.name)!r}", s):
            while True:
                self._count()
                resp = self.w.grants.get(s.type, segment(s.name), **({"page_token": token} if token else {}))
                for a in resp.privilege_assignments or []:
                    if a.principal:
                        out.setdefault(a.principal, set()).update(p.value for p in a.privileges or [])
                token = resp.next_page_token
                if not token:
                    break
        return {p: frozenset(v) for p, v in out.items() if v}

    def get_grants(self, securables: list[Securable]) -> dict[Securable, dict[str, frozenset[str]]]:
        return dict(zip(securables, self._map(self._get_one, securables)))

    def get_effective(self, s: Securable) -> list[dict[str, Any]]:
        """Effective privileges per principal, each naming the securable it is inherited from (or None)."""
        rows: list[dict[str, Any]] = []
        with self._errors(f"reading the effective grants on {s.type} {full_name(s.name)!r}", s):
            self._count()
            resp = self.w.grants.get_effective(s.type, segment(s.name))
        for a in resp.privilege_assignments or []:
            for p in a.privileges or []:
                inherited = None
                if p.inherited_from_name:
                    kind = p.inherited_from_type.value.lower() if p.inherited_from_type else "securable"
                    inherited = f"{kind} {format_name(tuple(p.inherited_from_name.split('.')))}"
                rows.append(
                    {"principal": a.principal, "privilege": p.privilege.value if p.privilege else None, "inherited_from": inherited}
                )
        return sorted(
            rows, key=lambda r: (r["inherited_from"] is not None, r["inherited_from"] or "", r["principal"] or "", r["privilege"] or "")
        )

    def owner(self, securable: Securable) -> str | None:
        name = segment(securable.name)
        get: dict[str, Callable[[], Any]] = {
            "catalog": lambda: self.w.catalogs.get(name),
            "schema": lambda: self.w.schemas.get(name),
            "table": lambda: self.w.tables.get(name),
            "volume": lambda: self.w.volumes.read(name),
            "function": lambda: self.w.functions.get(name),
            "registered_model": lambda: self.w.registered_models.get(name),
        }
        with self._errors(f"reading the owner of {securable.type} {full_name(securable.name)!r}", securable):
            self._count()
            return get[securable.type]().owner

    def owners(self, securables: list[Securable]) -> dict[Securable, str | None]:
        return dict(zip(securables, self._map(self.owner, securables)))

    def children(self, type: str, parent: Name) -> list[Name]:
        """The securables of `type` directly under `parent`, read once per backend (a plan asks for a schema's
        tables both for `managed.under` and for a wildcard entry). Paginated: `max_results=0` asks for the
        server's page size (a listing without it is deprecated and unpaginated); the SDK follows the pages."""
        key = (type, parent)
        if key not in self._listed:
            self._listed[key] = self._list(type, parent)
        return list(self._listed[key])

    def _list(self, type: str, parent: Name) -> list[Name]:
        what = f"listing the {type}s under {full_name(parent) or 'the metastore'}"
        with self._errors(what):
            self._count()
            if type == "catalog":
                items: Iterator[Any] = self.w.catalogs.list(max_results=0)
            elif type == "schema":
                items = self.w.schemas.list(catalog_name=parent[0], max_results=0)
            else:
                extra = {"omit_columns": True, "omit_properties": True} if type == "table" else {}  # names only
                items = getattr(self.w, _LIST[type]).list(catalog_name=parent[0], schema_name=parent[1], max_results=0, **extra)
            return [(*parent, item.name) for item in items]

    def missing_principals(self, principals: set[str]) -> set[str]:
        # The workspace checks principals itself: an unknown one fails its securable's PATCH with a message
        # naming it, and apply() then retries that securable one principal at a time, so only the unknown
        # principal's change fails and is reported. No SCIM look-ups (users, groups and service principals).
        return set()

    def apply(self, changes: list[PrincipalChange]) -> ApplyOutcome:
        groups: dict[Securable, list[PrincipalChange]] = {}
        for c in changes:
            groups.setdefault(c.securable, []).append(c)
        outcome = ApplyOutcome()
        for results in self._map(self._apply_securable, list(groups.values())):
            for change, error in results:
                if error is None:
                    outcome.applied.append(change)
                else:
                    outcome.failed.append(ChangeFailure(change, error))
        return outcome

    def _patch(self, securable: Securable, changes: list[PrincipalChange]) -> list[tuple[PrincipalChange, str | None]]:
        """One PATCH; its answer lists every principal's privileges after it, so each change is verified from it."""
        from databricks.sdk.service.catalog import PermissionsChange, Privilege

        body = [
            PermissionsChange(
                principal=c.principal, add=[Privilege(p) for p in c.add] or None, remove=[Privilege(p) for p in c.remove] or None
            )
            for c in changes
        ]
        with self._errors(f"changing the grants on {securable.type} {full_name(securable.name)!r}", securable):
            self._count()
            resp = self.w.grants.update(securable.type, segment(securable.name), changes=body)
        held: dict[str, set[str]] = {}
        for a in resp.privilege_assignments or []:
            held.setdefault(a.principal or "", set()).update(p.value for p in a.privileges or [])
        return [(c, _unverified(c, held.get(c.principal, set()))) for c in changes]

    def _apply_securable(self, changes: list[PrincipalChange]) -> list[tuple[PrincipalChange, str | None]]:
        return apply_securable(changes, self._patch, self._get_one, _unverified)

    # --- owners -----------------------------------------------------------------------------------

    def set_owner(self, s: Securable, owner: str) -> None:
        """Transfer ownership (catalogs/schemas/tables `update(owner=)`), verified from the answer: a catalog's
        and a schema's PATCH answer the object; a table's answers nothing, so the table is read back."""
        name = segment(s.name)
        doing = f"transferring the ownership of {s.type} {full_name(s.name)!r} to {owner!r}"
        with self._errors(doing, s):
            self._count()
            if s.type == "catalog":
                now = self.w.catalogs.update(name, owner=owner).owner
            elif s.type == "schema":
                now = self.w.schemas.update(name, owner=owner).owner
            elif s.type == "table":
                self.w.tables.update(name, owner=owner)
                self._count()
                now = self.w.tables.get(name).owner
            else:
                raise UsageError(f"{doing}: lakectl transfers the ownership of catalogs, schemas and tables only")
        if now != owner:
            raise JobFailed(f"{doing}: the workspace accepted the change but its answer shows owner {now!r}")

    # --- column masks and row filters (read: tables.get; set: SQL on the warehouse) ------------------

    def _table_policy(self, s: Securable) -> tuple[dict[str, tuple[str, list[str]]], tuple[str, list[str]] | None]:
        with self._errors(f"reading the masks and row filter of table {full_name(s.name)!r}", s):
            self._count()
            info = self.w.tables.get(segment(s.name))
        masks = {
            c.name: (c.mask.function_name, list(c.mask.using_column_names or []))
            for c in info.columns or []
            if c.name and c.mask and c.mask.function_name
        }
        rf = info.row_filter
        return masks, ((rf.function_name, list(rf.input_column_names or [])) if rf and rf.function_name else None)

    def get_table_policies(
        self, securables: list[Securable]
    ) -> dict[Securable, tuple[dict[str, tuple[str, list[str]]], tuple[str, list[str]] | None]]:
        """({column: (mask function, using columns)}, (row filter function, columns) or None) per table, from
        the SDK's TableInfo (one GET per table, no SQL)."""
        return dict(zip(securables, self._map(self._table_policy, securables)))

    def apply_masks(self, changes: list[dict[str, Any]]) -> list[tuple[dict[str, Any], str | None]]:
        """The plan's mask/row filter changes, one statement each, a table's in order; then each table is read
        back once and every change verified from it. Returns (change, error or None) per change."""
        tables: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for c in changes:
            tables.setdefault(tuple(c["name"]), []).append(c)
        out: list[tuple[dict[str, Any], str | None]] = []
        for results in self._map(self._apply_table_masks, list(tables.values())):
            out += results
        return out

    def _apply_table_masks(self, changes: list[dict[str, Any]]) -> list[tuple[dict[str, Any], str | None]]:
        from lakectl.core.sql import unity_drop_column_mask, unity_drop_row_filter, unity_set_column_mask, unity_set_row_filter
        from lakectl.governance.names import parse_name
        from lakectl.governance.plan import same_binding

        table = tuple(changes[0]["name"])
        errors: dict[int, str] = {}
        for i, c in enumerate(changes):
            kind, fn = c["kind"], c["function"]
            if kind == "mask_set":
                statement = unity_set_column_mask(table, c["column"], parse_name(fn), c["columns"])
            elif kind == "mask_drop":
                statement = unity_drop_column_mask(table, c["column"])
            elif kind == "row_filter_set":
                statement = unity_set_row_filter(table, parse_name(fn), c["columns"])
            else:
                statement = unity_drop_row_filter(table)
            what = f"column {c['column']!r} mask" if c["column"] is not None else "row filter"
            try:
                self._sql(statement, [], f"{'setting' if fn else 'dropping'} the {what} of table {full_name(table)!r}")
            except LakectlError as e:
                errors[i] = e.message
        try:
            masks, row_filter = self._table_policy(Securable("table", table))
        except LakectlError as e:
            return [(c, errors.get(i, f"applied, but could not be verified: {e.message}")) for i, c in enumerate(changes)]
        out: list[tuple[dict[str, Any], str | None]] = []
        for i, c in enumerate(changes):
            if i in errors:
                out.append((c, errors[i]))
                continue
            held_fn, held_cols = masks.get(c["column"], (None, [])) if c["column"] is not None else row_filter or (None, [])
            ok = same_binding(held_fn, held_cols, c["function"], c["columns"])
            out.append(
                (c, None if ok else f"the workspace ran the statement but table {full_name(table)!r} shows {held_fn or 'none'} there")
            )
        return out

    # --- tags (SQL on the warehouse) ---------------------------------------------------------------

    def get_tags(self, securables: list[Securable]) -> dict[Securable, tuple[Tags, dict[str, Tags]]]:
        """(securable tags, {column: tags}) per taggable securable, from information_schema."""
        from lakectl.core.sql import unity_tags_select

        out: dict[Securable, tuple[Tags, dict[str, Tags]]] = {}
        for s in securables:
            if s.type not in _TAGGABLE:
                continue
            tags: Tags = {}
            columns: dict[str, Tags] = {}
            statement, params = unity_tags_select(s.type, s.name)
            for row in self._sql(statement, params, f"reading the tags of {s.type} {full_name(s.name)!r}"):
                column, key, value = row
                (columns.setdefault(column, {}) if column else tags)[key] = value or ""
            out[s] = (tags, columns)
        return out

    def set_tags(self, s: Securable, column: str | None, set_: Tags, unset: list[str]) -> None:
        from lakectl.core.sql import unity_set_tags, unity_unset_tags

        doing = f"tagging {s.type} {full_name(s.name)!r}" + (f" column {column!r}" if column else "")
        if set_:
            self._sql(unity_set_tags(s.type, s.name, column, set_), [], doing)
        if unset:
            self._sql(unity_unset_tags(s.type, s.name, column, unset), [], doing)

    def _sql(self, statement: str, params: list[tuple[str, str]], doing: str) -> list[list[Any]]:
        if self.warehouse is None:
            raise UsageError(f"{doing}: tags, masks and row filters need SQL on a warehouse", "set warehouse_id in the databricks target")
        try:
            return [list(r) for r in self.warehouse.query(statement, dict(params)).rows]
        except LakectlError as exc:
            raise prefixed(exc, doing) from exc

    # --- plumbing ---------------------------------------------------------------------------------

    def _count(self) -> None:
        self._requests += 1  # an int += under the GIL is enough for a counter shown as a figure

    def _map(self, fn, items: list) -> list:
        if len(items) <= 1 or self.threads == 1:
            return [fn(i) for i in items]
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="lakectl-dbx")
        return list(self._pool.map(fn, items))

    def _errors(self, doing: str, securable: Securable | None = None):
        return _SdkErrors(doing, securable, self.url)


class _SdkErrors:
    """SDK errors as one-line lakectl errors: a missing securable is exit 2, a refused request exit 2,
    the workspace failing or unreachable exit 4."""

    def __init__(self, doing: str, securable: Securable | None, where: str) -> None:
        self.doing, self.securable, self.where = doing, securable, where

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind, exc, tb) -> bool:
        if exc is None or isinstance(exc, (LakectlError, KeyboardInterrupt)):
            return False
        from databricks.sdk.errors import BadRequest, DatabricksError, NotFound, PermissionDenied, Unauthenticated

        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
        if isinstance(exc, NotFound) and self.securable is not None:
            s = self.securable
            raise UsageError(f"{s.type} {full_name(s.name)!r} not found in {self.where}", "create it first, or fix the policy") from exc
        if isinstance(exc, Unauthenticated):
            raise UsageError(f"Databricks {self.where}: authentication failed while {self.doing}", "check the token or profile") from exc
        if isinstance(exc, (PermissionDenied, BadRequest, NotFound)):
            raise UsageError(f"{self.doing}: {first}") from exc
        if isinstance(exc, DatabricksError):
            raise SourceUnavailable(
                f"Databricks {self.where} failed while {self.doing}: {first}", "retry later; --verbose shows the trace"
            ) from exc
        if isinstance(exc, (OSError, TimeoutError)) or type(exc).__name__ in {"ConnectionError", "ConnectTimeout", "ReadTimeout"}:
            raise SourceUnavailable(f"Databricks {self.where} is not reachable while {self.doing}: {first}") from exc
        return False


def _unverified(change: PrincipalChange, held: set[str] | frozenset[str]) -> str | None:
    return unverified(change, held, who="the workspace", hint="")
