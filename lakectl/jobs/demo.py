"""demo: a day of generated data through every stage that exists, in one process and one session."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lakectl.core.results import Result
from lakectl.core.sources import Source
from lakectl.core.typed import parse_params
from lakectl.engine.context import JobContext
from lakectl.jobs.params import DemoParams, RunParams

if TYPE_CHECKING:
    from lakectl.jobs.run import StageEvent


def stages(p: DemoParams) -> list[tuple[str, dict[str, Any]]]:
    from lakectl.jobs.run import stages as pipeline

    # generate, then the same stages `lakectl run` executes (ingest -> transform -> aggregate)
    return [("generate", {"events": p.events, "bad_fraction": p.bad_fraction, "seed": p.seed})] + pipeline(RunParams(source=Source.files))


def run(ctx: JobContext, params: dict[str, Any], on_stage: StageEvent | None = None) -> Result:
    from time import perf_counter

    from lakectl.jobs import run_job

    p = parse_params(params, DemoParams)
    notify = on_stage or (lambda *_: None)
    result = Result(job="demo")
    started = perf_counter()
    for name, stage_params in stages(p):
        notify(name, "start", None)
        stage = run_job(ctx, name, stage_params)
        notify(name, "done", stage)
        result.details.append(stage.to_dict())
        result.tables_written += [t for t in stage.tables_written if t not in result.tables_written]
        result.warnings += stage.warnings
        if stage.status != "ok":
            result.status = stage.status
            break
    last = {d["job"]: d for d in result.details}
    result.rows_written = last.get("ingest", {}).get("rows_written", 0)
    result.rows_quarantined = last.get("ingest", {}).get("rows_quarantined", 0)
    from lakectl.jobs.run import rows_by_layer

    result.metrics = {"rows_written_by_layer": rows_by_layer(result.details), "stages": [d["job"] for d in result.details]}
    if last.get("aggregate", {}).get("kpi"):
        result.metrics["kpi"] = last["aggregate"]["kpi"]
    result.duration_s = round(perf_counter() - started, 3)  # the CLI calls this job directly, not through run_job
    return result
