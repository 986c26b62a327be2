"""`run --continuous`: every stage as its ordinary `--continuous` stream, all in this one process and one
SparkSession: source -> bronze (ingest), bronze -> silver (transform), silver's change feed -> gold
(aggregate) and, when a champion model exists, silver.reviews -> scores (score).

Each stream keeps its own checkpoint, so a restart resumes every stage where it stopped. A stage waits for
the table it reads to exist before it starts (a new lake gets them from the stage before). SIGINT/SIGTERM,
or a stage that fails, stop every stream after its batch in flight; the run then ends in Interrupted (exit
130) with what each stage committed, or in the failed stage's error."""

from __future__ import annotations

import contextvars
import threading
import time
from typing import Any

from lakectl.core.errors import Interrupted, LakectlError, translate
from lakectl.core.results import Result
from lakectl.engine.context import JobContext
from lakectl.jobs.params import RunParams
from lakectl.jobs.run_plan import rows_by_layer, stages
from lakectl.lake.streaming import StopScope

# the table each stage reads, which the stage before creates on a new lake
READS = {"transform": "bronze.events", "aggregate": "silver.events", "score": "silver.reviews"}
START_TIMEOUT_S = 300.0


def stream_stages(ctx: JobContext, p: RunParams, warnings: list[str]) -> list[tuple[str, dict[str, Any]]]:
    """(job, params) of every stream, in order: the run's stages, then score when a champion exists."""
    plan = stages(p)
    if "score" not in p.skip:
        why = no_champion(ctx)
        if why is None:
            plan.append(("score", {"continuous": True, "trigger_interval": p.trigger_interval}))
        else:
            warnings.append(f"score: not streaming, {why}")
    return plan


def no_champion(ctx: JobContext) -> str | None:
    """Why reviews cannot be scored now (no ML extra, no champion model), or None."""
    try:
        from lakectl.ml import registry
        from lakectl.ml.store import connect, store_of

        store = store_of(ctx.settings, ctx.target)
        registry.resolve(connect(store, create=False), f"{store.model_name}@{registry.CHAMPION}", store.model_name)
    except ImportError:
        return "the ml extra is not installed"
    except LakectlError as exc:
        return f"{exc.message} (train one with `lakectl train`, then restart)"
    return None


class _Stage:
    """One stage's stream, run by `run_job` in its own thread."""

    def __init__(self, ctx: JobContext, name: str, params: dict[str, Any], scope: StopScope) -> None:
        self.ctx, self.name, self.params, self.scope = ctx, name, params, scope
        self.result: Result | None = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=contextvars.copy_context().run, args=(self._body,), name=f"lakectl-{name}", daemon=True)

    def _body(self) -> None:
        from lakectl.jobs import run_job

        self.started = time.monotonic()
        try:
            self.result = run_job(self.ctx, self.name, self.params)
        except Interrupted as exc:
            self.result = exc.result if isinstance(exc.result, Result) else Result(job=self.name, status="interrupted")
            self.result.duration_s = self.result.duration_s or round(time.monotonic() - self.started, 3)
        except BaseException as exc:  # noqa: BLE001 - carried to the main thread, which raises it
            self.error = exc
            self.scope.stop(f"stage {self.name} failed")


def run_streams(ctx: JobContext, p: RunParams, notify: Any) -> Result:
    warnings: list[str] = []
    plan = stream_stages(ctx, p, warnings)
    started = time.monotonic()
    ctx.spark  # noqa: B018 - the one session, made here: stages that start it at once from their threads would race
    running: list[_Stage] = []
    with StopScope() as scope:
        for name, params in plan:
            if name in READS and not _wait_for_table(ctx, READS[name], running, scope):
                break
            if scope.stopping:
                break
            stage = _Stage(ctx, name, params, scope)
            notify(name, "start", None)
            stage.thread.start()
            running.append(stage)
        while any(s.thread.is_alive() for s in running):
            for s in running:
                s.thread.join(0.5)  # a timeout, so the main thread gets to run the signal handler
        signal_name = scope.signal
    for s in running:
        notify(s.name, "done", s.result)
    failed = next((s for s in running if s.error is not None), None)
    if failed is not None:
        err = translate(failed.error)  # type: ignore[arg-type]
        raise type(err)(f"stage {failed.name}: {err.message}", err.hint) from failed.error
    result = _result(running, warnings, time.monotonic() - started)
    stopped = Interrupted(
        f"stopped by {signal_name or 'request'}: " + _committed(running),
        "run the same command again: every stream continues from its checkpoint",
    )
    result.status = "interrupted"
    stopped.result = result
    raise stopped


def _wait_for_table(ctx: JobContext, key: str, running: list[_Stage], scope: StopScope) -> bool:
    """Wait until the stage before has created `key` (False: the run is stopping, or it never came)."""
    from lakectl.lake.delta import is_delta_table

    handle = ctx.settings.table(key)
    deadline = time.monotonic() + START_TIMEOUT_S
    while not scope.stopping and time.monotonic() < deadline:
        if is_delta_table(ctx.spark, handle.path):
            return True
        if running and not running[-1].thread.is_alive():
            return False  # the stage that would create it ended: its error or result tells why
        time.sleep(0.5)
    if not scope.stopping:
        scope.stop(f"{handle.display} did not appear within {START_TIMEOUT_S:.0f} s")
    return False


def _committed(stages: list[_Stage]) -> str:
    parts = [f"{s.name} {s.result.rows_written:,} rows" for s in stages if s.result is not None]
    return ", ".join(parts) if parts else "no stage committed anything"


def _result(stages: list[_Stage], warnings: list[str], seconds: float) -> Result:
    details = [s.result.to_dict() for s in stages if s.result is not None]
    result = Result(job="run", details=details, warnings=warnings)
    for s in stages:
        if s.result is None:
            continue
        for attr in ("tables_read", "tables_written"):
            getattr(result, attr).extend(t for t in getattr(s.result, attr) if t not in getattr(result, attr))
        result.warnings += [f"{s.name}: {w}" for w in s.result.warnings]
    by_job = {d["job"]: d for d in details}
    result.rows_read = by_job.get("ingest", {}).get("rows_read", 0)
    result.rows_written = by_job.get("aggregate", {}).get("rows_written", 0)
    result.rows_quarantined = sum(d.get("rows_quarantined", 0) for d in details)
    result.duration_s = round(seconds, 3)
    result.metrics = {"continuous": True, "rows_written_by_layer": rows_by_layer(details)}
    return result
