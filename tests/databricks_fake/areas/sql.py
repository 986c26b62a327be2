"""SQL statements on a warehouse (Statement Execution API 2.0), answered by a pluggable engine.

`FakeWorkspace.warehouse` is the engine: a callable (statement, {name: (value, type)}, catalog,
schema) -> (columns [(name, type_name)], rows of strings). `warehouse.spark_engine(spark)` runs
statements on a local Spark session (named `:markers` bound as escaped typed literals). Results are
split into chunks of `FakeWorkspace.chunk_rows` rows (GET .../result/chunks/N) when it is set. Without
an engine every statement ends FAILED, saying so.
"""

from __future__ import annotations

import re
import threading
from typing import Any

from tests.databricks_fake.routes import Request, Shape, bad_request, not_found, route

PARAMETER = Shape(required={"name"}, optional={"value", "type"})
STATEMENT = Shape(
    required={"statement", "warehouse_id"},
    optional={
        "catalog",
        "schema",
        "parameters",
        "wait_timeout",
        "on_wait_timeout",
        "disposition",
        "format",
        "byte_limit",
        "row_limit",
        "query_tags",
    },
    nested={"parameters": PARAMETER},
)
_WAIT = re.compile(r"^(0|[5-9]|[1-4][0-9]|50)s$")


def _statements(req: Request) -> dict[str, Any]:
    assert req.fake is not None
    return req.fake.area("sql").setdefault("statements", {})


@route("POST", r"/api/2\.0/sql/statements/?")
def execute(req: Request):
    STATEMENT.check(req.body, "sql/statements")
    body = req.body
    wait = body.get("wait_timeout", "10s")
    if not _WAIT.match(wait):
        raise bad_request(f"wait_timeout must be 0s or 5s..50s, got {wait!r}")
    if body.get("format", "JSON_ARRAY") != "JSON_ARRAY" or body.get("disposition", "INLINE") != "INLINE":
        raise bad_request("this fake answers format JSON_ARRAY with disposition INLINE only")
    markers = set(re.findall(r"(?<!:):([A-Za-z_]\w*)", _without_literals(body["statement"])))
    names = {p["name"] for p in body.get("parameters", [])}
    if names - markers:
        raise bad_request(f"parameters {sorted(names - markers)} have no :marker in the statement")
    assert req.fake is not None
    with req.fake.lock:
        statements = _statements(req)
        statement_id = f"01ef-{len(statements) + 1:04d}"
        entry = {"id": statement_id, "body": body, "state": "PENDING", "columns": [], "rows": [], "error": None}
        statements[statement_id] = entry
    worker = threading.Thread(target=_run, args=(req.fake, entry), daemon=True)
    worker.start()
    worker.join(int(wait[:-1]))
    return 200, _view(entry, req.fake)


def _without_literals(sql: str) -> str:
    return re.sub(r"'(?:[^'\\]|\\.)*'|`[^`]*`", "''", sql)


def _run(fake, entry: dict[str, Any]) -> None:
    body = entry["body"]
    engine = fake.warehouse
    entry["state"] = "RUNNING"
    if engine is None:
        entry.update(
            state="FAILED",
            error={"error_code": "NOT_IMPLEMENTED", "message": "this fake workspace has no SQL engine (set FakeWorkspace.warehouse)"},
        )
        return
    params = {p["name"]: (p.get("value"), p.get("type", "STRING")) for p in body.get("parameters", [])}
    try:
        columns, rows = engine(body["statement"], params, body.get("catalog"), body.get("schema"))
    except Exception as exc:  # noqa: BLE001 - a SQL error is a FAILED statement, not an HTTP error
        entry.update(state="FAILED", error={"error_code": "BAD_REQUEST", "message": str(exc).strip().splitlines()[0][:500]})
        return
    if entry["state"] == "CANCELED":
        return
    limit = body.get("row_limit")
    entry["truncated"] = bool(limit) and len(rows) > limit
    entry.update(columns=columns, rows=rows[:limit] if limit else rows, state="SUCCEEDED")


def _chunks(fake, entry: dict[str, Any]) -> list[list[Any]]:
    """Rows split into chunks of `fake.chunk_rows` (a real warehouse splits large results by size)."""
    size = max(1, int(getattr(fake, "chunk_rows", 0) or len(entry["rows"]) or 1))
    rows = entry["rows"]
    return [rows[i : i + size] for i in range(0, len(rows), size)] or [[]]


def _chunk(fake, entry: dict[str, Any], index: int) -> dict[str, Any]:
    chunks = _chunks(fake, entry)
    offset = sum(len(c) for c in chunks[:index])
    out: dict[str, Any] = {"chunk_index": index, "row_offset": offset, "row_count": len(chunks[index]), "data_array": chunks[index]}
    if index + 1 < len(chunks):
        out["next_chunk_index"] = index + 1
        out["next_chunk_internal_link"] = f"/api/2.0/sql/statements/{entry['id']}/result/chunks/{index + 1}"
    return out


def _view(entry: dict[str, Any], fake=None) -> dict[str, Any]:
    out: dict[str, Any] = {"statement_id": entry["id"], "status": {"state": entry["state"]}}
    if entry["error"]:
        out["status"]["error"] = entry["error"]
    if entry["state"] == "SUCCEEDED":
        columns = [{"name": n, "type_name": t, "type_text": t, "position": i} for i, (n, t) in enumerate(entry["columns"])]
        chunks = _chunks(fake, entry)
        offsets = [sum(len(c) for c in chunks[:i]) for i in range(len(chunks))]
        out["manifest"] = {
            "format": "JSON_ARRAY",
            "schema": {"column_count": len(columns), "columns": columns},
            "total_row_count": len(entry["rows"]),
            "truncated": entry.get("truncated", False),
            "total_chunk_count": len(chunks),
            "chunks": [{"chunk_index": i, "row_offset": offsets[i], "row_count": len(c)} for i, c in enumerate(chunks)],
        }
        out["result"] = _chunk(fake, entry, 0)
    return out


@route("GET", r"/api/2\.0/sql/statements/(?P<id>[^/]+)/result/chunks/(?P<index>\d+)")
def get_chunk(req: Request):
    assert req.match is not None
    statements = _statements(req)
    entry = statements.get(req.match["id"])
    if entry is None or entry["state"] != "SUCCEEDED":
        raise not_found(f"statement {req.match['id']} has no result")
    index = int(req.match["index"])
    if index >= len(_chunks(req.fake, entry)):
        raise bad_request(f"chunk_index {index} is out of range")
    return 200, _chunk(req.fake, entry, index)


@route("GET", r"/api/2\.0/sql/statements/(?P<id>[^/]+)")
def get_statement(req: Request):
    assert req.match is not None
    statements = _statements(req)
    if req.match["id"] not in statements:
        raise not_found(f"statement {req.match['id']} not found")
    return 200, _view(statements[req.match["id"]], req.fake)


@route("POST", r"/api/2\.0/sql/statements/(?P<id>[^/]+)/cancel")
def cancel(req: Request):
    assert req.match is not None
    statements = _statements(req)
    if req.match["id"] not in statements:
        raise not_found(f"statement {req.match['id']} not found")
    entry = statements[req.match["id"]]
    if entry["state"] in ("PENDING", "RUNNING"):
        entry["state"] = "CANCELED"
    return 200, {}
