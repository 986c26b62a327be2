"""Which grants backend a run talks to: Databricks' Unity Catalog or an open-source Unity Catalog server."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lakectl.core.errors import ConfigError
from lakectl.governance.backend import GrantsBackend

if TYPE_CHECKING:
    from lakectl.engine.context import JobContext


def backend_for(ctx: "JobContext", url: str | None = None) -> GrantsBackend:
    """The grants backend: Databricks' Unity Catalog when the target is a `databricks` one (grant.backend
    auto, and no --url), else the configured server with its token from the environment or the token file."""
    g = ctx.settings.grant
    target = ctx.target
    if not url and (g.backend == "databricks" or (g.backend == "auto" and target.kind == "databricks")):
        if target.kind != "databricks":
            raise ConfigError("grant.backend: databricks needs a databricks target", "choose one with --target, or set grant.backend: auto")
        return _databricks_backend(ctx, target)
    from lakectl.governance.uc_oss import UcOssBackend, resolve_token

    token = resolve_token(g.token_env, g.auth_file)
    return UcOssBackend(url or g.url, token, admins=frozenset(g.admins), timeout_s=g.timeout_s, threads=g.threads)


def _databricks_backend(ctx: "JobContext", target: Any) -> GrantsBackend:
    from lakectl.engine.workspace import host_label, workspace_client
    from lakectl.governance.databricks import DatabricksBackend

    g = ctx.settings.grant
    return DatabricksBackend(workspace_client(target), warehouse_id=getattr(target, "warehouse_id", None),
                             admins=frozenset(g.admins), threads=g.threads, where=host_label(target))
