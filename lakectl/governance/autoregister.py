"""Register the Delta tables a run creates in storage.catalog, on a local target whose Spark addresses
them by path (Settings.for_target): what `lakectl grant register` does on request, done when lakectl
first creates a table, so that `grant` can name it.

The check is cheap: which tables' `_delta_log` folders exist, looked at before the run and after it
(and after a stream's first batch, so a continuous stream does not wait for its end). A table that
existed before is never looked up again; registration is idempotent (registered at the same path:
nothing to do; at another path: a warning, never overwritten). A failure to register never fails the
run: the result carries a warning naming the tables and `lakectl grant register`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from lakectl.lake.delta import local_log_exists

if TYPE_CHECKING:
    from lakectl.core.results import Result
    from lakectl.engine.context import JobContext


class CatalogRegistrar:
    def __init__(self, ctx: JobContext) -> None:
        self.ctx = ctx
        settings = ctx.settings
        self.keys = [k for k in settings.table_keys() if "://" not in settings.table(k).path]
        self.known = {k for k in self.keys if local_log_exists(settings.table(k).path)}
        self.registered: list[str] = []
        self.warnings: list[str] = []

    def register_new(self) -> None:
        """Register the tables that appeared since the last look (no request when none did)."""
        settings = self.ctx.settings
        new = [k for k in self.keys if k not in self.known and local_log_exists(settings.table(k).path)]
        if not new:
            return
        self.known.update(new)
        catalog = settings.storage.catalog
        fix = f"fix that, then run `lakectl grant register {' '.join(new)}`"
        backend = None
        try:
            from lakectl.governance.backends import backend_for
            from lakectl.governance.register import register_tables

            backend = backend_for(self.ctx)
            rows = register_tables(settings, backend, keys=new, dry_run=False)
        except Exception as exc:  # the data is written: registration problems only warn
            message = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
            names = ", ".join(f"{catalog}.{k}" for k in new)
            self.warnings.append(f"{names} created but not registered in catalog {catalog}: {message}; {fix}")
            return
        finally:
            if backend is not None and hasattr(backend, "close"):
                backend.close()
        self.registered += [r["table"] for r in rows if r["action"] == "created"]
        for r in rows:
            if r["action"] == "conflict":
                self.warnings.append(
                    f"{r['table']} is already registered at another location, left as it is ({r['detail']}; "
                    f"this table is at {r['location']}): drop or rename one of them, then run `lakectl grant register`"
                )
            elif r["action"] == "failed":
                self.warnings.append(f"{r['table']} created but not registered in catalog {catalog}: {r['detail']}; {fix}")

    def finish(self, result: Result | None) -> None:
        """The last look; what was registered and any warning go on the result (on stderr when the run failed)."""
        self.register_new()
        warnings, registered, self.warnings, self.registered = self.warnings, self.registered, [], []
        if result is None:
            for w in warnings:
                print(f"lakectl: warning: {w}", file=sys.stderr)
            return
        if registered:
            result.metrics["catalog_registered"] = registered
        result.warnings += warnings


def start(ctx: JobContext) -> CatalogRegistrar | None:
    """A registrar for the outermost run on a local target with storage.catalog set (None otherwise,
    and for the stages of a run, which the outer run's registrar covers)."""
    settings = ctx.settings
    if not settings.tables_by_path or ctx.catalog_registrar is not None or settings.grant.backend == "databricks":
        return None
    ctx.catalog_registrar = CatalogRegistrar(ctx)
    return ctx.catalog_registrar


def after_first_batch(
    ctx: JobContext, on_progress: Callable[[list[dict[str, Any]]], None] | None = None
) -> Callable[[list[dict[str, Any]]], None] | None:
    """`on_progress` for run_query that also registers new tables once, at the first progress report
    (a continuous stream runs for days: its tables should not wait for its end)."""
    registrar = ctx.catalog_registrar
    if registrar is None:
        return on_progress
    done: list[bool] = []

    def callback(progress: list[dict[str, Any]]) -> None:
        if on_progress is not None:
            on_progress(progress)
        if not done:
            done.append(True)
            registrar.register_new()

    return callback
