"""Which grants backend a run talks to: Databricks' Unity Catalog or an open-source Unity Catalog server."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lakectl.core.errors import ConfigError
from lakectl.governance.backend import GrantsBackend

if TYPE_CHECKING:
    from lakectl.engine.context import JobContext


def backend_for(ctx: JobContext, url: str | None = None) -> GrantsBackend:
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


# Tags, masks and row filters wait this long for one statement on the warehouse.
STATEMENT_TIMEOUT_S = 120.0


def _databricks_backend(ctx: JobContext, target: Any) -> GrantsBackend:
    from lakectl.engine.warehouse import WarehouseEngine
    from lakectl.engine.workspace import host_label, workspace_client
    from lakectl.governance.databricks import DatabricksBackend

    g = ctx.settings.grant
    w = workspace_client(target)
    warehouse = WarehouseEngine(target, catalog=None, timeout_s=STATEMENT_TIMEOUT_S, client=w) if target.warehouse_id else None
    return DatabricksBackend(w, warehouse=warehouse, admins=frozenset(g.admins), threads=g.threads, where=host_label(target))
