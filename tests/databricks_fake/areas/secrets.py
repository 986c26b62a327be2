"""Secret scopes, as far as a job reads them: GET /api/2.0/secrets/get (the value base64-encoded, as the
service answers it). Tests put secrets with `fake.put_secret(scope, key, value)`; a cluster's
`spark_env_vars` references ({{secrets/scope/key}}) are resolved from the same store when a run starts."""

from __future__ import annotations

import base64

from tests.databricks_fake.routes import ApiError, Request, bad_request, route


@route("GET", r"/api/2\.0/secrets/get")
def get_secret(req: Request):
    unknown = set(req.query) - {"scope", "key"}
    if unknown or not req.query.get("scope") or not req.query.get("key"):
        raise bad_request(f"secrets/get: takes scope and key (got {sorted(req.query)})")
    assert req.fake is not None
    value = req.fake.area("secrets").get((req.query["scope"], req.query["key"]))
    if value is None:
        raise ApiError(404, "RESOURCE_DOES_NOT_EXIST", f"Secret {req.query['key']} does not exist in scope {req.query['scope']}.")
    return 200, {"key": req.query["key"], "value": base64.b64encode(value.encode()).decode()}
