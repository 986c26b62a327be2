"""monitor: the run ledger, table/stream/quality health, SLA checks with alerts, and an HTML report.

No SparkSession: everything is read from Delta logs and small ops tables with delta-rs.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from lakectl.core.errors import UsageError
from lakectl.core.results import Result, Timer
from lakectl.core.typed import parse_params
from lakectl.engine.context import JobContext
from lakectl.jobs import JOBS
from lakectl.jobs.params import MonitorParams


def run(ctx: JobContext, params: dict[str, Any]) -> Result:
    p = parse_params(params, MonitorParams)
    return {"runs": runs, "tables": tables, "streams": streams, "quality": quality, "check": check, "report": report, "models": models}[
        p.action
    ](ctx, p)


STATUSES = {"ok", "failed", "dry_run", "breach", "interrupted"}


def _known(option: str, value: str | None, known: set[str]) -> None:
    """A filter that can match nothing lakectl knows is a typo: exit 2 with the closest name."""
    if value is None or value in known:
        return
    from lakectl.core.suggest import did_you_mean

    names = sorted(k for k in known if k)
    raise UsageError(f"{option} {value}: no such name", did_you_mean(value, names) or f"choose one of: {', '.join(names)}")


def _since(p: MonitorParams) -> datetime | None:
    if not p.since_hours:
        return None
    try:
        return datetime.now(UTC) - timedelta(hours=p.since_hours)
    except OverflowError:  # further back than datetime goes: everything qualifies
        return None


def runs(ctx: JobContext, p: MonitorParams) -> Result:
    from lakectl.monitor.ledger import TABLE, read_runs

    rows = read_runs(ctx.settings.table(TABLE).path)
    _known("--command", p.command, set(JOBS) | {r.get("command") for r in rows if r.get("command")})
    _known("--status", p.status, STATUSES | {r.get("status") for r in rows if r.get("status")})
    since = _since(p)
    rows = [
        r
        for r in rows
        if (p.include_stages or not r.get("parent_run_id"))
        and (p.command is None or r.get("command") == p.command)
        and (p.status is None or r.get("status") == p.status)
        and (since is None or (r.get("started_at") and r["started_at"] >= since))
    ]
    rows.sort(key=lambda r: r.get("started_at") or datetime.min.replace(tzinfo=UTC), reverse=True)
    shown = rows[: p.limit]
    for r in shown:
        for k in ("started_at", "ended_at"):
            if r.get(k) is not None:
                r[k] = r[k].isoformat(timespec="seconds")
    return Result(
        job="monitor runs",
        tables_read=[ctx.settings.table(TABLE).display],
        details=shown,
        metrics={"matched": len(rows), "shown": len(shown), "filtered": bool(p.command or p.status or p.since_hours)},
    )


def tables(ctx: JobContext, p: MonitorParams) -> Result:
    from lakectl.monitor.tables import all_tables

    keys = p.tables or None
    if keys:
        for k in keys:
            ctx.settings.table(k)  # validates schema.name
            _known("--table", k, set(ctx.settings.table_keys()))
    health = all_tables(ctx.settings, keys, history_limit=p.history)
    present = [h for h in health if h.status == "ok"]
    return Result(
        job="monitor tables",
        tables_read=[h.table for h in present],
        details=[h.to_dict() for h in health],
        metrics={"tables": len(health), "present": len(present), "missing": sum(h.status == "missing" for h in health)},
    )


def streams(ctx: JobContext, p: MonitorParams) -> Result:
    from lakectl.monitor.streams import all_streams

    found = all_streams(ctx.settings, kafka_timeout=p.kafka_timeout)
    warnings = [f"{s.stream}: {s.error}" for s in found if s.error]
    return Result(
        job="monitor streams",
        details=[s.to_dict() for s in found],
        warnings=warnings,
        metrics={"streams": len(found), "running": sum(s.state == "running" for s in found)},
    )


def quality(ctx: JobContext, p: MonitorParams) -> Result:
    from lakectl.monitor.quality import DQ_TABLE, quarantine_growth, replay_runs, rule_quality

    rules = rule_quality(ctx.settings, since=_since(p))
    growth = quarantine_growth(ctx.settings)
    replays = replay_runs(ctx.settings, since=_since(p))
    return Result(
        job="monitor quality",
        tables_read=[ctx.settings.table(DQ_TABLE).display] + [g["table"] for g in growth],
        details=[r.to_dict() for r in rules],
        metrics={"rules": len(rules), "quarantine": growth, "replays": replays},
    )


def models(ctx: JobContext, p: MonitorParams) -> Result:
    from lakectl.monitor.model_health import SCORES, model_report, to_details

    report = model_report(ctx, days=p.days, model=p.model, engine=p.engine)
    metrics: dict[str, Any] = {
        "days": p.days,
        "since": report.since.isoformat(timespec="seconds"),
        "model": p.model,
        "versions": len(report.versions),
        "rows": sum(v.rows for v in report.versions),
        "engine": report.engine,
    }
    if report.missing:
        metrics["message"] = report.missing
    tables_read = [] if report.missing else [ctx.settings.table(SCORES).display]
    return Result(
        job="monitor models",
        tables_read=tables_read,
        rows_read=metrics["rows"],
        details=to_details(report),
        warnings=report.warnings,
        metrics=metrics,
    )


def check(ctx: JobContext, p: MonitorParams) -> Result:
    from lakectl.monitor.alerts import notify
    from lakectl.monitor.junit import write_junit
    from lakectl.monitor.sla import breaches, evaluate

    with Timer() as t:
        checks = evaluate(ctx.settings, kafka_timeout=p.kafka_timeout)
    failed = breaches(checks)
    result = Result(
        job="monitor check",
        status="breach" if failed else "ok",
        dry_run=p.dry_run,
        details=[c.to_dict() for c in checks],
        metrics={"checks": len(checks), "breaches": len(failed), "skipped": sum(c.status == "skipped" for c in checks)},
    )
    if p.junit:
        write_junit(p.junit, checks, t.seconds)
        result.metrics["junit"] = p.junit
    if p.alert:
        outcome = notify(ctx.settings, checks, dry_run=p.dry_run)
        result.metrics["alerts"] = outcome.to_dict()
        result.warnings += outcome.errors
    return result


def _lineage_svg(ctx: JobContext) -> str | None:
    """The recorded lineage graph (the report is about this lake: Unity Catalog's graph is not drawn here)."""
    from lakectl.lineage.recorded import graph_of, read_events
    from lakectl.monitor.lineage_svg import lineage_svg

    if "file" not in ctx.settings.lineage.transports:
        return None
    events, _ = read_events(ctx.settings.lineage.file_path(ctx.settings.storage.root_dir))
    return lineage_svg(graph_of(events))


def report(ctx: JobContext, p: MonitorParams) -> Result:
    from lakectl.lake.deltars import open_table, read_rows
    from lakectl.monitor import progress as progress_table
    from lakectl.monitor.kpis import latest_kpis
    from lakectl.monitor.ledger import TABLE as RUNS
    from lakectl.monitor.quality import quarantine_growth, rule_quality
    from lakectl.monitor.report import recent_runs, render_html, write_report
    from lakectl.monitor.sla import evaluate
    from lakectl.monitor.streams import all_streams
    from lakectl.monitor.tables import MAINTENANCE_OPS, all_tables, committed_rows, iso

    s = ctx.settings
    health = all_tables(s, history_limit=p.history)
    streams_now = all_streams(s, kafka_timeout=p.kafka_timeout)
    runs_rows, hidden_runs = recent_runs(read_rows(s.table(RUNS).path))
    rules = rule_quality(s, since=_since(p))
    rates = [t.config.sla.min_pass_rate for t in (s.table(k) for k in s.table_keys()) if t.config.sla.min_pass_rate is not None]
    checks = evaluate(s, kafka_timeout=p.kafka_timeout)
    if not p.html:  # the terminal: the report's headlines
        from lakectl.monitor.summary import headlines

        summary = headlines(
            tables=health, streams=streams_now, rules=rules, checks=checks, runs=runs_rows, min_pass_rate=min(rates) if rates else None
        )
        return Result(job="monitor report", tables_read=[h.table for h in health if h.status == "ok"], metrics={"html": None, **summary})
    commits: dict[str, list[dict[str, Any]]] = {}
    for h in health:
        dt = open_table(h.path) if h.status == "ok" and not h.table.endswith(("ops.runs", "ops.stream_progress")) else None
        if dt is not None:
            commits[h.table] = [
                {"timestamp": iso(c.get("timestamp")), "rows": committed_rows(c)}
                for c in dt.history(200)
                if c.get("operation") not in MAINTENANCE_OPS
            ]
    html = render_html(
        project=s.project,
        tables=health,
        commits=commits,
        streams=streams_now,
        progress=read_rows(s.table(progress_table.TABLE).path),
        rules=rules,
        growth=quarantine_growth(s),
        checks=checks,
        runs=runs_rows,
        min_pass_rate=min(rates) if rates else None,
        kpis=latest_kpis(s),
        hidden_runs=hidden_runs,
        lineage=_lineage_svg(ctx),
    )
    path = write_report(p.html, html)
    return Result(job="monitor report", metrics={"html": str(path.absolute()), "bytes": len(html.encode())})
