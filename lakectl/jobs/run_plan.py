"""The stages of `lakectl run` and what each wrote, shared by the batch run (lakectl.jobs.run) and the
continuous one (lakectl.jobs.run_streams)."""

from __future__ import annotations

from typing import Any, get_args

from lakectl.jobs.params import PipelineStage, RunParams

STAGES: tuple[str, ...] = get_args(PipelineStage)


def stages(p: RunParams) -> list[tuple[str, dict[str, Any]]]:
    """(job, params) for every stage the run will execute, in order."""
    plan: dict[str, dict[str, Any]] = {
        "ingest": {"source": p.source, "dry_run": p.dry_run},
        "transform": {"dry_run": p.dry_run},
        "aggregate": {"full_refresh": p.full_refresh, "dry_run": p.dry_run},
    }
    if p.continuous and not p.dry_run:
        for stage in plan.values():
            stage.update(continuous=True, trigger_interval=p.trigger_interval)
        plan["aggregate"].pop("full_refresh")
    return [(name, plan[name]) for name in STAGES if name not in p.skip]


def rows_by_layer(details: list[dict[str, Any]]) -> dict[str, int]:
    """What each stage wrote, named by its layer: one "rows written" for a whole pipeline read as if
    that many events survived, when it was the gold row count."""
    layers = {"ingest": "bronze", "transform": "silver", "aggregate": "gold"}
    return {layers[d["job"]]: d.get("rows_written", 0) for d in details if d.get("job") in layers}
