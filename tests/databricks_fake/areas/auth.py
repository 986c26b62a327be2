"""Host metadata and the current user: what WorkspaceClient asks before anything else."""

from __future__ import annotations

from tests.databricks_fake.routes import Request, route


@route("GET", r"/\.well-known/databricks-config")
def host_config(req: Request):
    return 200, {"oidc_endpoint": ""}


@route("GET", r"/api/2\.0/preview/scim/v2/Me")
def me(req: Request):
    assert req.fake is not None
    return 200, {"id": "1001", "userName": req.fake.user_name, "displayName": "Fake User", "active": True}
