"""SQL statements on a warehouse (Statement Execution API): the request contract only, for now."""

from __future__ import annotations

from tests.databricks_fake.routes import Request, Shape, not_found, route

PARAMETER = Shape(required={"name"}, optional={"value", "type"})
STATEMENT = Shape(required={"statement", "warehouse_id"}, optional={
    "catalog", "schema", "parameters", "wait_timeout", "on_wait_timeout", "disposition", "format", "byte_limit",
    "row_limit", "query_tags"}, nested={"parameters": PARAMETER})


@route("POST", r"/api/2\.0/sql/statements/?")
def execute(req: Request):
    STATEMENT.check(req.body, "sql/statements")
    assert req.fake is not None
    with req.fake.lock:
        statements = req.fake.area("sql").setdefault("statements", {})
        statement_id = f"stmt-{len(statements) + 1}"
        statements[statement_id] = req.body
    # No SQL engine behind this fake yet: the statement is accepted and answered as a failed one,
    # which is how the real API reports SQL errors (HTTP 200, status.state FAILED).
    return 200, {"statement_id": statement_id, "status": {"state": "FAILED", "error": {
        "error_code": "NOT_IMPLEMENTED", "message": "the fake workspace has no SQL warehouse engine"}}}


@route("GET", r"/api/2\.0/sql/statements/(?P<id>[^/]+)")
def get_statement(req: Request):
    assert req.fake is not None and req.match is not None
    statements = req.fake.area("sql").get("statements", {})
    if req.match["id"] not in statements:
        raise not_found(f"statement {req.match['id']} not found")
    return 200, {"statement_id": req.match["id"], "status": {"state": "FAILED", "error": {
        "error_code": "NOT_IMPLEMENTED", "message": "the fake workspace has no SQL warehouse engine"}}}
