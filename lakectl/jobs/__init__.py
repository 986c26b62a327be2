"""Jobs: one module per stage, each with `run(ctx, params) -> Result`.

A job module is imported only when it runs, so `lakectl --help` stays free of pyspark.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # not at run time: lakectl.jobs.params (read by `lakectl --help`) stays free of the config's imports
    from lakectl.core.results import Result
    from lakectl.engine.context import JobContext

JOBS: dict[str, str] = {
    "generate": "lakectl.jobs.generate",
    "ingest": "lakectl.jobs.ingest",
    "transform": "lakectl.jobs.transform",
    "demo": "lakectl.jobs.demo",
    "aggregate": "lakectl.jobs.aggregate",
    "query": "lakectl.jobs.query",
    "run": "lakectl.jobs.run",
    "monitor": "lakectl.jobs.monitor",
    "optimize": "lakectl.jobs.optimize",
    "grant": "lakectl.jobs.grant",
    "train": "lakectl.jobs.train",
    "score": "lakectl.jobs.score",
    "model": "lakectl.jobs.model",
    "lineage": "lakectl.jobs.lineage",
    "replay": "lakectl.jobs.replay",
}


class Job(Protocol):
    def run(self, ctx: JobContext, params: dict[str, Any]) -> Result: ...


def load_job(name: str) -> Job:
    if name not in JOBS:
        from lakectl.core.errors import UsageError

        raise UsageError(f"unknown job {name!r}", f"choose one of: {', '.join(sorted(JOBS))}")
    return importlib.import_module(JOBS[name])  # type: ignore[return-value]


def run_job(ctx: JobContext, name: str, params: dict[str, Any]) -> Result:
    """Run a job in this process, time it, record it in the run ledger (ops.runs) and send its lineage events."""
    from lakectl.core.results import Timer
    from lakectl.jobs.tracking import tracked

    registrar = None
    if ctx.settings.tables_by_path:  # a catalog Spark cannot reach here: register the tables this run creates
        from lakectl.governance.autoregister import start

        registrar = start(ctx)
    result = None
    try:
        with tracked(ctx, name, params) as record:
            job = load_job(name)
            with Timer() as t:
                result = job.run(ctx, params)
            if not result.duration_s:
                result.duration_s = t.seconds
            result.metrics.setdefault("run_id", record.run_id)  # find it in `lakectl monitor runs`
            record.result = result
    finally:
        if registrar is not None:  # after the ledger's write: ops.runs is one of the tables a first run creates
            ctx.catalog_registrar = None
            registrar.finish(result)
    return result
