"""One job run as the outside sees it: its row in the run ledger (ops.runs) and its OpenLineage run
events, START when it begins, then COMPLETE (with what it read and wrote) or FAIL (with the error).

Read-only commands and dry runs send no events (they change no dataset), nor does a job inside a
Databricks run (Unity Catalog records its lineage). A stage of `run` or `demo` names
its parent run (ParentRunFacet). Sending an event never fails the job: a problem becomes a warning."""

from __future__ import annotations

import contextvars
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lakectl.engine.context import JobContext
    from lakectl.lineage.transports import Transports
    from lakectl.monitor.ledger import RunRecord

QUIET_COMMANDS = {"monitor", "query", "lineage"}  # read only: no events
_jobs: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar("lakectl_lineage_jobs", default=None)  # run id -> job


@contextmanager
def tracked(ctx: JobContext, name: str, params: dict[str, Any]) -> Iterator[RunRecord]:
    """Record the run inside this block in the ledger and send its lineage events; set `record.result`
    before the block ends."""
    from lakectl.monitor.ledger import recording

    with recording(ctx, name, params) as record, _observed(ctx, name, params, record):
        yield record


@contextmanager
def _observed(ctx: JobContext, name: str, params: dict[str, Any], record: RunRecord) -> Iterator[None]:
    from lakectl.lineage.transports import Transports

    transports = Transports(ctx.settings)
    # Inside a Databricks run Unity Catalog records the lineage itself (what `lakectl lineage` reads there),
    # and the runtime has no openlineage-python: lakectl sends nothing.
    if name in QUIET_COMMANDS or params.get("dry_run") or ctx.on_cluster or not transports.enabled:
        yield
        return
    missing = transports.missing_client()
    if missing is not None:
        yield
        if record.result is not None and record.parent_run_id is None:  # said once, by the outermost run
            record.result.warnings.append(missing)
        return
    jobs = _jobs.get() or {}
    parent_job = jobs.get(record.parent_run_id or "")
    parent = (parent_job, record.parent_run_id) if parent_job and record.parent_run_id else None
    token = _jobs.set({**jobs, record.run_id: name})
    common = {"job": name, "run_id": record.run_id, "parent": parent, "streaming": bool(params.get("continuous"))}
    problems = _send(transports, ctx, "START", **common)
    try:
        yield
    except BaseException as exc:
        from lakectl.core.errors import translate

        problems += _send(transports, ctx, "FAIL", error=translate(exc).one_line()[:1000], **common)
        for p in dict.fromkeys(problems):
            print(f"lakectl: warning: {p}", file=sys.stderr)
        raise
    finally:
        _jobs.reset(token)
    result = record.result
    if result is not None and result.status not in ("ok", "dry_run"):
        problems += _send(transports, ctx, "FAIL", error=f"status {result.status}", **common)
    else:
        from lakectl.jobs.lineage_facts import job_lineage

        # a run of stages (run, demo) says nothing of datasets itself: each stage's events do, naming it as their parent
        lineage = job_lineage(ctx, name, params, result) if result is not None and not record.stages else None
        figures = {} if result is None else {"rows_read": result.rows_read, "rows_written": result.rows_written}
        problems += _send(transports, ctx, "COMPLETE", lineage=lineage, figures=figures, **common)
    if result is not None:
        result.warnings += [p for p in dict.fromkeys(problems) if p not in result.warnings]


def _send(transports: Transports, ctx: JobContext, state: str, *, figures: dict[str, int] | None = None, **kw: Any) -> list[str]:
    from lakectl.lineage.events import run_event

    try:
        tags = {"target": ctx.target_name or ctx.settings.default_target, **{k: str(v) for k, v in (figures or {}).items()}}
        event = run_event(state, namespace=ctx.settings.lineage.namespace or ctx.settings.project, tags=tags, **kw)
        return transports.emit(event)
    except Exception as exc:  # a bug here must not cost the job: say it
        return [f"could not build the lineage event: {type(exc).__name__}: {str(exc)[:200]}"]
