"""The open-source Unity Catalog server (0.6.0) over plain HTTP (keep-alive, transport.py): grants, listings, users.

Privileges go out with spaces (`USE CATALOG`) and come back translated to underscores. Every name
is one percent-encoded path segment or a urlencoded query value. Its PATCH is not atomic across
principals: principals are validated before any change, a securable's changes go in one PATCH, and
after a failed PATCH the securable is re-read and the rest retried one principal at a time, so
every change is reported applied or failed with its own error.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import urllib.parse
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from lakectl.core.errors import ConfigError, LakectlError, SourceUnavailable, UsageError
from lakectl.governance.backend import ApplyOutcome, Capabilities, ChangeFailure, PrincipalChange, Securable, apply_securable, unverified
from lakectl.governance.names import Name, full_name
from lakectl.governance.privileges import OSS_KNOWN, from_oss, to_oss
from lakectl.governance.transport import HttpStatus, KeepAliveClient

API = "/api/2.1/unity-catalog"
SCIM = "/api/1.0/unity-control/scim2"
_LIST = {"schema": "schemas", "table": "tables", "volume": "volumes", "function": "functions", "registered_model": "models"}
_OBJECT = {"catalog": "catalogs", **_LIST}


class HttpError(LakectlError):
    """The server answered with an error status. 401/403 are credential problems (exit 2 with a hint);
    other 4xx name something wrong in the request (exit 2); 5xx is the server's failure (exit 1)."""

    _HINTS = {
        401: "check the token: UC_TOKEN (grant.token_env) or grant.auth_file",
        403: "the token's user may not do this: use the admin token or the object's owner",
    }

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message, self._HINTS.get(status))
        self.status = status
        self.exit_code = 2 if 400 <= status < 500 else 1
        self.kind = "http"


def _segment(text: str) -> str:
    return urllib.parse.quote(text, safe="")


def resolve_token(token_env: str, auth_file: str | None) -> str:
    """The bearer token: the env var first, else the token file (the local server's token.txt)."""
    token = os.environ.get(token_env, "").strip()
    if token:
        return token
    if auth_file:
        path = Path(auth_file)
        if path.is_file():
            token = path.read_text().strip()
            if token:
                return token
        raise ConfigError(f"grant.auth_file: no token in {path}", f"start the server (scripts/uc-local start) or export {token_env}")
    raise ConfigError(f"no Unity Catalog token: {token_env} is not set", f"export {token_env}=... or set grant.auth_file")


def _jwt_subject(token: str) -> str | None:
    """The `sub` of a JWT, read without verifying (only to know who we act as)."""
    try:
        payload = token.split(".")[1]
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return str(data.get("sub")) if data.get("sub") else None
    except Exception:
        return None


class UcOssBackend:
    name = "uc_oss"
    capabilities = Capabilities(privileges=OSS_KNOWN)

    def __init__(
        self, url: str, token: str, *, admins: frozenset[str] = frozenset({"admin"}), timeout_s: float = 10.0, threads: int = 4
    ) -> None:
        self.url = url.rstrip("/")
        self.caller = _jwt_subject(token)
        self.admins = admins
        try:  # no Accept header: the SCIM endpoints answer 500 to application/json
            self._http = KeepAliveClient(self.url, {"Authorization": f"Bearer {token}"}, timeout_s=timeout_s, threads=threads)
        except ValueError:
            raise ConfigError(f"grant.url: {url!r} is not an http(s) URL", "e.g. http://127.0.0.1:8081 (scripts/uc-local url)") from None
        self._users: Future[set[str]] | None = None

    def __repr__(self) -> str:  # never the token
        return f"UcOssBackend(url={self.url!r})"

    @property
    def requests(self) -> int:
        return self._http.requests

    @property
    def connections(self) -> int:
        return self._http.connections

    @property
    def threads(self) -> int:
        return self._http.threads

    def close(self) -> None:
        self._http.close()

    # --- HTTP -------------------------------------------------------------------------------------

    def _call(self, method: str, path: str, body: Any = None, query: dict[str, str] | None = None) -> Any:
        try:
            return self._http.request(method, path, body, query)
        except HttpStatus as e:
            raise HttpError(e.status, f"{method} {urllib.parse.unquote(path)}: HTTP {e.status}: {_message(e)}") from None
        except (OSError, http.client.HTTPException) as e:
            raise SourceUnavailable(
                f"Unity Catalog server at {self.url} unreachable: {e}", "start it (scripts/uc-local start) or fix grant.url"
            ) from None

    # --- reads ------------------------------------------------------------------------------------

    def _grants_path(self, s: Securable) -> str:
        return f"{API}/permissions/{s.type}/{_segment(full_name(s.name))}"

    def _get_one(self, s: Securable) -> dict[str, frozenset[str]]:
        try:
            data = self._call("GET", self._grants_path(s))
        except HttpError as e:
            if e.status == 404:
                raise UsageError(f"{s.type} {full_name(s.name)!r} not found on the server", "create it first, or fix the policy") from None
            if e.status == 400:
                raise UsageError(
                    f"{s.type} {full_name(s.name)!r}: the server refused the name ({e.message.rsplit(': ', 1)[-1]})",
                    "Unity Catalog names allow letters, digits, _, @ and -",
                ) from None
            raise
        return {
            a["principal"]: frozenset(from_oss(p) for p in a.get("privileges") or [])
            for a in data.get("privilege_assignments") or []
            if a.get("privileges")
        }

    def get_grants(self, securables: list[Securable]) -> dict[Securable, dict[str, frozenset[str]]]:
        return dict(zip(securables, self._map(self._get_one, securables)))

    def owner(self, securable: Securable) -> str | None:
        data = self._call("GET", f"{API}/{_OBJECT[securable.type]}/{_segment(full_name(securable.name))}")
        return data.get("owner")

    def owners(self, securables: list[Securable]) -> dict[Securable, str | None]:
        return dict(zip(securables, self._map(self.owner, securables)))

    def unseen(self, securables: list[Securable]) -> list[Securable]:
        """The securables whose grants this token cannot read in full. The server's rule: the metastore admin
        and the owner of a securable, of its schema or of its catalog get every principal's grants (and full
        listings below it); anyone else gets only their own assignment, and listings without what they cannot
        use. A securable the server does not have is left to the plan to report."""
        if self.caller is None or self.caller in self.admins:
            return []
        chains = {s: _ancestry(s) for s in securables}
        unique = list(dict.fromkeys(c for chain in chains.values() for c in chain))
        owners = dict(zip(unique, self._map(self._owner_if_visible, unique)))
        return [s for s, chain in chains.items() if owners[s] is not _MISSING and self.caller not in {owners[c] for c in chain}]

    def _owner_if_visible(self, s: Securable) -> str | object | None:
        try:
            return self.owner(s)
        except HttpError as e:
            if e.status == 404:
                return _MISSING
            if e.status == 403:  # not visible to this token: not its owner either
                return None
            raise

    def children(self, type: str, parent: Name) -> list[Name]:
        if type == "catalog":
            path, query, key = f"{API}/catalogs", {}, "catalogs"
        else:
            path, key = f"{API}/{_LIST[type]}", _LIST[type] if type != "registered_model" else "registered_models"
            query = {"catalog_name": parent[0]} if type == "schema" else {"catalog_name": parent[0], "schema_name": parent[1]}
            if type == "table":  # only names are needed: without columns and properties the listing is ~5x cheaper for the server
                query.update(omit_columns="true", omit_properties="true")
        names: list[Name] = []
        token: str | None = None
        while True:
            try:
                page = self._call("GET", path, query={**query, "max_results": "1000", **({"page_token": token} if token else {})})
            except HttpError as e:
                if e.status == 404:
                    raise UsageError(
                        f"{'schema' if len(parent) == 2 else 'catalog'} {full_name(parent)!r} not found on the server",
                        "create it first, or fix the policy",
                    ) from None
                raise
            names += [(*parent, item["name"]) for item in page.get(key) or []]
            token = page.get("next_page_token")
            if not token:
                return names

    # --- registration (lakectl's own Delta tables; see register.py) -------------------------------

    def get_table(self, name: Name) -> dict[str, Any] | None:
        try:
            return self._call("GET", f"{API}/tables/{_segment(full_name(name))}")
        except HttpError as e:
            if e.status == 404:
                return None
            raise

    def _create(self, path: str, body: dict[str, Any]) -> None:
        try:
            self._call("POST", path, body)
        except HttpError as e:
            if "ALREADY_EXISTS" not in e.message and "already exists" not in e.message.lower():
                raise

    def ensure_catalog(self, name: str) -> None:
        self._create(f"{API}/catalogs", {"name": name, "comment": "created by lakectl grant register"})

    def ensure_schema(self, catalog: str, name: str) -> None:
        self._create(f"{API}/schemas", {"name": name, "catalog_name": catalog})

    def create_external_table(self, name: Name, location: str, columns: list[dict[str, Any]]) -> None:
        catalog, schema, table = name
        self._call(
            "POST",
            f"{API}/tables",
            {
                "name": table,
                "catalog_name": catalog,
                "schema_name": schema,
                "table_type": "EXTERNAL",
                "data_source_format": "DELTA",
                "storage_location": location,
                "columns": columns,
            },
        )

    def users(self) -> set[str]:
        found: set[str] = set()
        start, seen = 1, 0
        while True:
            data = self._call("GET", f"{SCIM}/Users", query={"startIndex": str(start), "count": "500"})
            page = data.get("Resources") or []
            for u in page:
                found.add(u.get("userName", ""))
                found.update(e.get("value", "") for e in u.get("emails") or [])
            seen += len(page)
            if not page or seen >= int(data.get("totalResults") or 0):
                return found - {""}
            start += len(page)

    def prefetch_users(self) -> None:
        """Start listing the users now, on the pool, so apply's principal check overlaps the grant reads."""
        if self._users is None:
            self._users = self._http.pool().submit(self.users)

    def missing_principals(self, principals: set[str]) -> set[str]:
        if not principals:
            return set()
        users = self._users.result() if self._users is not None else self.users()
        return set(principals) - users

    # --- writes -----------------------------------------------------------------------------------

    @staticmethod
    def _entry(change: PrincipalChange) -> dict[str, Any]:
        entry: dict[str, Any] = {"principal": change.principal}
        if change.add:
            entry["add"] = [to_oss(p) for p in change.add]
        if change.remove:
            entry["remove"] = [to_oss(p) for p in change.remove]
        return entry

    def _patch(self, securable: Securable, changes: list[PrincipalChange]) -> list[tuple[PrincipalChange, str | None]]:
        """One PATCH; each change checked against the answer, which holds the named principals' privileges
        after it (a principal left with none is absent) — a verification that costs no extra request."""
        data = self._call("PATCH", self._grants_path(securable), {"changes": [self._entry(c) for c in changes]})
        held = {a.get("principal"): {from_oss(x) for x in a.get("privileges") or []} for a in data.get("privilege_assignments") or []}
        return [(c, _unverified(c, held.get(c.principal, set()))) for c in changes]

    def _apply_securable(self, changes: list[PrincipalChange]) -> list[tuple[PrincipalChange, str | None]]:
        return apply_securable(changes, self._patch, self._get_one, _unverified)

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

    def _map(self, fn, items: list) -> list:
        return self._http.map(fn, items)


_MISSING = object()


def _ancestry(s: Securable) -> list[Securable]:
    """The securable, then its schema and its catalog (the owners whose grants reach it)."""
    up = [Securable("schema", s.name[:2])] if len(s.name) > 2 else []
    return [s, *up, *([Securable("catalog", s.name[:1])] if len(s.name) > 1 else [])]


def _unverified(change: PrincipalChange, held: set[str] | frozenset[str]) -> str | None:
    return unverified(change, held, who="the server", hint=" (is authorization enabled on the server?)")


def _message(e: HttpStatus) -> str:
    try:
        body = json.loads(e.body or b"{}")
    except Exception:
        return e.reason or ""
    msg = body.get("message") or body.get("detail") or body.get("error_code") or ""
    return str(msg).splitlines()[0][:200] if msg else str(e.reason or "")
