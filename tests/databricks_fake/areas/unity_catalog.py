"""Unity Catalog: grants (permissions, effective-permissions), and the securables they name.

A test declares securables with `add_securable(fake, type, full_name, owner=..., columns=...)` (a table's
columns may carry a `mask`, the table a `row_filter`, as TableInfo spells them) and, optionally, the
principals the workspace knows with `set_principals` (any principal otherwise). The documented
contract is checked: a lower-case securable type, privileges spelled with underscores, `full_name`
sent as ONE percent-encoded path segment (the SDK does not escape it; `Request.raw_path` keeps the
undecoded path). A PATCH is validated whole before anything changes, and answers every principal's
privileges after it (as `omit_permissions_in_response` false does). Owners are transferred with
PATCH catalogs|schemas|tables/{name} {"owner"}: catalogs and schemas answer the object, tables nothing.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from tests.databricks_fake.routes import ApiError, Request, Shape, bad_request, not_found, route

TYPES = ("catalog", "schema", "table", "volume", "function", "registered_model", "metastore", "external_location", "credential")
PRIVILEGES = {
    "ALL_PRIVILEGES",
    "APPLY_TAG",
    "MANAGE",
    "BROWSE",
    "SELECT",
    "MODIFY",
    "REFRESH",
    "EXECUTE",
    "READ_VOLUME",
    "WRITE_VOLUME",
    "USE_CATALOG",
    "USE_SCHEMA",
    "CREATE_SCHEMA",
    "CREATE_TABLE",
    "CREATE_FUNCTION",
    "CREATE_VOLUME",
    "CREATE_MODEL",
    "CREATE_MATERIALIZED_VIEW",
    "CREATE_EXTERNAL_TABLE",
    "CREATE_EXTERNAL_VOLUME",
    "CREATE_MANAGED_STORAGE",
    "READ_FILES",
    "WRITE_FILES",
    "CREATE_CATALOG",
    "CREATE_EXTERNAL_LOCATION",
    "CREATE_STORAGE_CREDENTIAL",
}
CHANGE = Shape(required={"principal"}, optional={"add", "remove"})
PATCH = Shape(optional={"changes", "omit_permissions_in_response"}, nested={"changes": CHANGE})
# the documented update bodies (the fields lakectl may send: owner only)
UPDATE = {
    "catalogs": Shape(optional={"owner", "comment", "new_name", "properties", "isolation_mode", "enable_predictive_optimization"}),
    "schemas": Shape(optional={"owner", "comment", "new_name", "properties", "enable_predictive_optimization"}),
    "tables": Shape(required={"owner"}),
}
_OBJECT_PATHS = {
    "catalogs": "catalog",
    "schemas": "schema",
    "tables": "table",
    "volumes": "volume",
    "functions": "function",
    "models": "registered_model",
}
# A listing's page when the client asks max_results=0 (the server's choice): small, so tests cross pages.
LIST_PAGE_SIZE = 2
_LIST_KEYS = {"schema": "schemas", "table": "tables", "volume": "volumes", "function": "functions", "registered_model": "registered_models"}


# --- test set-up ---------------------------------------------------------------------------------


def _state(fake: Any) -> dict[str, Any]:
    area = fake.area("unity_catalog")
    area.setdefault("objects", {})  # (type, full_name) -> {"owner": ...}
    area.setdefault("grants", {})  # (type, full_name) -> {principal: set(privileges)}
    area.setdefault("principals", None)  # None: every principal exists
    return area


def add_securable(
    fake: Any,
    type: str,
    full_name: str,
    owner: str = "owner@example.com",
    *,
    columns: list[dict[str, Any]] | None = None,
    row_filter: dict[str, Any] | None = None,
) -> None:
    with fake.lock:
        s = _state(fake)
        s["objects"][(type, full_name)] = {"owner": owner, "columns": columns, "row_filter": row_filter}
        s["grants"].setdefault((type, full_name), {})


def set_principals(fake: Any, principals: set[str] | None) -> None:
    with fake.lock:
        _state(fake)["principals"] = set(principals) if principals is not None else None


def table_info(fake: Any, full_name: str) -> dict[str, Any]:
    """A table's object as stored: owner, columns (with masks), row_filter (tests change it through it)."""
    with fake.lock:
        return _state(fake)["objects"][("table", full_name)]


def grants_of(fake: Any, type: str, full_name: str) -> dict[str, set[str]]:
    with fake.lock:
        return {p: set(v) for p, v in _state(fake)["grants"].get((type, full_name), {}).items() if v}


def grant(fake: Any, type: str, full_name: str, principal: str, *privileges: str) -> None:
    with fake.lock:
        _state(fake)["grants"].setdefault((type, full_name), {}).setdefault(principal, set()).update(privileges)


# --- helpers -------------------------------------------------------------------------------------


def _securable(req: Request, prefix: str) -> tuple[str, str]:
    """(type, full_name) from the UNDECODED path: the name must be exactly one encoded segment."""
    raw = req.raw_path or req.path
    rest = raw[len(prefix) :].split("/")
    if len(rest) != 2:
        raise bad_request(f"the securable's full_name must be one URL-encoded path segment, got {raw[len(prefix) :]!r}")
    type, name = rest[0], unquote(rest[1])
    if type not in TYPES:
        raise bad_request(f"securable type {type!r}: expected one of {', '.join(TYPES)} (lower case)")
    return type, name


def _assignments(grants: dict[str, set[str]]) -> list[dict[str, Any]]:
    return [{"principal": p, "privileges": sorted(v)} for p, v in sorted(grants.items()) if v]


def _require(state: dict[str, Any], type: str, name: str) -> None:
    if (type, name) not in state["objects"]:
        raise not_found(f"{type.capitalize()} '{name}' does not exist.")


# --- routes --------------------------------------------------------------------------------------


@route("GET", r"/api/2\.1/unity-catalog/permissions/.+")
def get_permissions(req: Request):
    assert req.fake is not None
    type, name = _securable(req, "/api/2.1/unity-catalog/permissions/")
    with req.fake.lock:
        s = _state(req.fake)
        _require(s, type, name)
        grants = s["grants"].get((type, name), {})
        principal = req.query.get("principal")
        if principal:
            grants = {principal: grants.get(principal, set())}
        return 200, {"privilege_assignments": _assignments(grants)}


@route("PATCH", r"/api/2\.1/unity-catalog/permissions/.+")
def update_permissions(req: Request):
    assert req.fake is not None
    type, name = _securable(req, "/api/2.1/unity-catalog/permissions/")
    PATCH.check(req.body or {}, "permissions")
    changes = (req.body or {}).get("changes") or []
    for i, c in enumerate(changes):
        for key in ("add", "remove"):
            for p in c.get(key) or []:
                if p not in PRIVILEGES:
                    raise bad_request(f"changes[{i}].{key}: unknown privilege {p!r} (spelled with underscores, e.g. USE_CATALOG)")
    with req.fake.lock:
        s = _state(req.fake)
        _require(s, type, name)
        known = s["principals"]
        for c in changes:  # validated whole first: nothing changes when one principal is unknown
            if known is not None and c["principal"] not in known:
                raise ApiError(400, "INVALID_PARAMETER_VALUE", f"Could not find principal with name {c['principal']}")
        grants = s["grants"].setdefault((type, name), {})
        for c in changes:
            held = grants.setdefault(c["principal"], set())
            held |= set(c.get("add") or [])
            held -= set(c.get("remove") or [])
        if (req.body or {}).get("omit_permissions_in_response"):
            return 200, {}
        return 200, {"privilege_assignments": _assignments(grants)}


@route("GET", r"/api/2\.1/unity-catalog/effective-permissions/.+")
def get_effective(req: Request):
    assert req.fake is not None
    type, name = _securable(req, "/api/2.1/unity-catalog/effective-permissions/")
    parts = name.split(".")
    chain = [(type, name, None)]
    if type != "catalog":
        chain.append(("catalog", parts[0], "CATALOG"))
    if type not in ("catalog", "schema"):
        chain.insert(1, ("schema", ".".join(parts[:2]), "SCHEMA"))
    with req.fake.lock:
        s = _state(req.fake)
        _require(s, type, name)
        out: dict[str, list[dict[str, Any]]] = {}
        for t, n, kind in chain:
            for principal, privs in sorted(s["grants"].get((t, n), {}).items()):
                for p in sorted(privs):
                    item: dict[str, Any] = {"privilege": p}
                    if kind:
                        item.update(inherited_from_type=kind, inherited_from_name=n)
                    out.setdefault(principal, []).append(item)
    return 200, {"privilege_assignments": [{"principal": p, "privileges": v} for p, v in sorted(out.items())]}


@route("GET", r"/api/2\.1/unity-catalog/(catalogs|schemas|tables|volumes|functions|models)/.+")
def get_object(req: Request):
    assert req.fake is not None
    _, type, name = _object_of(req)
    with req.fake.lock:
        s = _state(req.fake)
        _require(s, type, name)
        return 200, _info(type, name, s["objects"][(type, name)])


def _object_of(req: Request) -> tuple[str, str, str]:
    """(path kind, securable type, full name) of a catalogs|schemas|tables|... /{full_name} request; the name
    must arrive as one URL-encoded path segment."""
    raw = req.raw_path or req.path
    kind, _, segment = raw[len("/api/2.1/unity-catalog/") :].partition("/")
    if "/" in segment:
        raise bad_request(f"the full_name must be one URL-encoded path segment, got {segment!r}")
    return kind, _OBJECT_PATHS[kind], unquote(segment)


def _info(type: str, name: str, obj: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name.rsplit(".", 1)[-1], "full_name": name, "owner": obj["owner"]}
    if type == "table":
        if obj.get("columns") is not None:
            out["columns"] = [dict(c) for c in obj["columns"]]
        if obj.get("row_filter"):
            out["row_filter"] = dict(obj["row_filter"])
    return out


@route("PATCH", r"/api/2\.1/unity-catalog/(catalogs|schemas|tables)/.+")
def update_object(req: Request):
    """Ownership transfer (update with `owner`); the new owner must be a principal the workspace knows."""
    assert req.fake is not None
    kind, type, name = _object_of(req)
    UPDATE[kind].check(req.body or {}, kind)
    with req.fake.lock:
        s = _state(req.fake)
        _require(s, type, name)
        owner = (req.body or {}).get("owner")
        if owner is not None:
            if s["principals"] is not None and owner not in s["principals"]:
                raise ApiError(400, "INVALID_PARAMETER_VALUE", f"Could not find principal with name {owner}")
            s["objects"][(type, name)]["owner"] = owner
        return 200, ({} if type == "table" else _info(type, name, s["objects"][(type, name)]))


@route("GET", r"/api/2\.1/unity-catalog/(catalogs|schemas|tables|volumes|functions|models)")
def list_objects(req: Request):
    assert req.fake is not None
    kind = req.path.rsplit("/", 1)[-1]
    type = _OBJECT_PATHS[kind]
    if type == "catalog":
        parent: tuple[str, ...] = ()
    elif type == "schema":
        if not req.query.get("catalog_name"):
            raise bad_request("catalog_name is required")
        parent = (req.query["catalog_name"],)
    else:
        if not req.query.get("catalog_name") or not req.query.get("schema_name"):
            raise bad_request("catalog_name and schema_name are required")
        parent = (req.query["catalog_name"], req.query["schema_name"])
    with req.fake.lock:
        s = _state(req.fake)
        if parent and ("catalog" if len(parent) == 1 else "schema", ".".join(parent)) not in s["objects"]:
            raise not_found(f"{'Catalog' if len(parent) == 1 else 'Schema'} '{'.'.join(parent)}' does not exist.")
        names = (
            sorted(n for (t, n) in s["objects"] if t == type and tuple(n.split(".")[:-1]) == parent)
            if type != "catalog"
            else sorted(n for (t, n) in s["objects"] if t == "catalog")
        )
        items = [
            {"name": n.rsplit(".", 1)[-1] if type != "catalog" else n, "full_name": n, "owner": s["objects"][(type, n)]["owner"]}
            for n in names
        ]
        if "max_results" not in req.query:
            # the service still answers an unpaginated listing in full, but it is deprecated (and capped on
            # large metastores): a client must page
            req.fake.failures.append(f"GET {req.path}: listing without max_results (unpaginated listings are deprecated)")
            return 200, {_LIST_KEYS.get(type, "catalogs"): items}
    asked = _int_query(req, "max_results")
    start = _int_query(req, "page_token") if req.query.get("page_token") else 0
    size = asked if asked > 0 else LIST_PAGE_SIZE  # 0: the server's page size
    page: dict[str, Any] = {_LIST_KEYS.get(type, "catalogs"): items[start : start + size]}
    if start + size < len(items):
        page["next_page_token"] = str(start + size)
    return 200, page


def _int_query(req: Request, name: str) -> int:
    value = req.query.get(name, "")
    if not value.isdigit():
        raise bad_request(f"{name} must be a non-negative integer (got {value!r})")
    return int(value)
