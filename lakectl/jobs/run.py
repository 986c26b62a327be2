"""run: the pipeline ingest -> transform -> aggregate in one process and one SparkSession.

Each stage is the ordinary job with its ordinary parameters; the run stops at the first stage that
fails (the error propagates with that stage named) and returns one Result whose details hold every
stage's own result. `on_stage` lets a caller (the CLI's progress display) follow the stages.
With `continuous`, every stage is its ordinary `--continuous` stream, all at once (lakectl.jobs.run_streams).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lakectl.core.errors import translate
from lakectl.core.results import Result
from lakectl.core.typed import parse_params
from lakectl.engine.context import JobContext
from lakectl.jobs.params import RunParams
from lakectl.jobs.run_plan import rows_by_layer, stages

StageEvent = Callable[[str, str, "Result | None"], None]  # (stage, "start" | "done", result)


def run(ctx: JobContext, params: dict[str, Any], on_stage: StageEvent | None = None) -> Result:
    from time import perf_counter

    from lakectl.jobs import run_job

    p = parse_params(params, RunParams)
    notify = on_stage or (lambda *_: None)
    if p.continuous and not p.dry_run:
        from lakectl.jobs.run_streams import run_streams

        return run_streams(ctx, p, notify)
    result = Result(job="run", dry_run=p.dry_run)
    started = perf_counter()
    for name, stage_params in stages(p):
        notify(name, "start", None)
        try:
            stage = run_job(ctx, name, stage_params)
        except Exception as exc:
            err = translate(exc)  # keep the stage's exit code, name the stage in the one-line message
            raise type(err)(f"stage {name}: {err.message}", err.hint) from exc
        notify(name, "done", stage)
        result.details.append(stage.to_dict())
        for attr in ("tables_read", "tables_written"):
            getattr(result, attr).extend(t for t in getattr(stage, attr) if t not in getattr(result, attr))
        result.warnings += [f"{name}: {w}" for w in stage.warnings]
        if stage.status not in ("ok", "dry_run"):
            result.status = stage.status
            break
    by_job = {d["job"]: d for d in result.details}
    result.rows_read = by_job.get("ingest", {}).get("rows_read", 0)
    result.rows_written = by_job.get("aggregate", {}).get("rows_written", 0)
    result.rows_quarantined = sum(d.get("rows_quarantined", 0) for d in result.details)
    result.metrics = {
        "rows_written_by_layer": rows_by_layer(result.details),
        "stages": {d["job"]: d.get("duration_s", 0.0) for d in result.details},
    }
    result.duration_s = round(perf_counter() - started, 3)
    if "kpi" in by_job.get("aggregate", {}):
        result.metrics["kpi"] = by_job["aggregate"]["kpi"]
    return result
