"""SQL statements on a warehouse (Statement Execution API 2.0), answered by a pluggable engine.

`FakeWorkspace.warehouse` is the engine: a callable (statement, {name: (value, type)}, catalog,
schema) -> (columns [(name, type_name)], rows of strings). `warehouse.spark_engine(spark)` runs
statements on a local Spark session (named `:markers` bound as Spark named parameters). Without
an engine every statement ends FAILED, saying so.
"""

from __future__ import annotations

import re
import threading
from typing import Any

from tests.databricks_fake.routes import Request, Shape, bad_request, not_found, route

PARAMETER = Shape(required={"name"}, optional={"value", "type"})
STATEMENT = Shape(required={"statement", "warehouse_id"}, optional={
    "catalog", "schema", "parameters", "wait_timeout", "on_wait_timeout", "disposition", "format", "byte_limit",
    "row_limit", "query_tags"}, nested={"parameters": PARAMETER})
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
    return 200, _view(entry)


def _without_literals(sql: str) -> str:
    return re.sub(r"'(?:[^'\\]|\\.)*'|`[^`]*`", "''", sql)


def _run(fake, entry: dict[str, Any]) -> None:
    body = entry["body"]
    engine = fake.warehouse
    entry["state"] = "RUNNING"
    if engine is None:
        entry.update(state="FAILED", error={"error_code": "NOT_IMPLEMENTED",
                                            "message": "this fake workspace has no SQL engine (set FakeWorkspace.warehouse)"})
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


def _view(entry: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"statement_id": entry["id"], "status": {"state": entry["state"]}}
    if entry["error"]:
        out["status"]["error"] = entry["error"]
    if entry["state"] == "SUCCEEDED":
        columns = [{"name": n, "type_name": t, "type_text": t, "position": i} for i, (n, t) in enumerate(entry["columns"])]
        out["manifest"] = {"format": "JSON_ARRAY", "schema": {"column_count": len(columns), "columns": columns},
                           "total_row_count": len(entry["rows"]), "truncated": entry.get("truncated", False),
                           "total_chunk_count": 1, "chunks": [{"chunk_index": 0, "row_offset": 0, "row_count": len(entry["rows"])}]}
        out["result"] = {"chunk_index": 0, "row_offset": 0, "row_count": len(entry["rows"]), "data_array": entry["rows"]}
    return out


@route("GET", r"/api/2\.0/sql/statements/(?P<id>[^/]+)")
def get_statement(req: Request):
    assert req.match is not None
    statements = _statements(req)
    if req.match["id"] not in statements:
        raise not_found(f"statement {req.match['id']} not found")
    return 200, _view(statements[req.match["id"]])


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
