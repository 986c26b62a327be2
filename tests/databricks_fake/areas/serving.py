"""Model Serving: `POST /serving-endpoints/{name}/invocations` (no /api prefix), what
`w.serving_endpoints.query(name, dataframe_records=...)` sends.

Endpoints are registered by tests in `fake.area("serving")["endpoints"]`: name -> a function from
the input records (a list of dicts) to the predictions list. The request must carry exactly one
input format; a record without the model's input column is refused as a real endpoint would
(400, schema enforcement), which is the model's answer, not a contract failure.
"""

from __future__ import annotations

from tests.databricks_fake.routes import ApiError, Request, Shape, bad_request, route

INPUT_FORMATS = ("dataframe_records", "dataframe_split", "instances", "inputs")
QUERY = Shape(optional={*INPUT_FORMATS, "client_request_id", "usage_context", "params"})


def register(fake, name: str, predict, *, column: str = "review_text") -> None:
    """Serve `predict(records) -> predictions` as endpoint `name`, whose model wants `column`."""
    with fake.lock:
        fake.area("serving").setdefault("endpoints", {})[name] = (predict, column)


@route("POST", r"/serving-endpoints/(?P<name>[^/]+)/invocations")
def invocations(req: Request):
    assert req.fake is not None
    QUERY.check(req.body, "serving-endpoints/invocations")
    given = [k for k in INPUT_FORMATS if k in req.body]
    if len(given) != 1:
        raise bad_request(f"exactly one of {', '.join(INPUT_FORMATS)} is required, got {given or 'none'}")
    name = req.match.group("name") if req.match else ""
    with req.fake.lock:
        endpoint = req.fake.area("serving").get("endpoints", {}).get(name)
    if endpoint is None:
        raise ApiError(404, "RESOURCE_DOES_NOT_EXIST", f"Endpoint with name '{name}' does not exist.")
    predict, column = endpoint
    if given[0] != "dataframe_records":
        raise bad_request("this fake answers dataframe_records only (what lakectl sends)")
    records = req.body["dataframe_records"]
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise bad_request("dataframe_records must be a list of objects")
    if any(column not in r for r in records):
        raise ApiError(400, "BAD_REQUEST", f"Failed to enforce schema of data: missing input column '{column}'")
    return 200, {"predictions": predict(records)}
