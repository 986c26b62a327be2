"""`lakectl monitor ...`: the run ledger, table/stream/quality health, SLA checks and a report."""

from __future__ import annotations

import sys
from typing import Any

import typer

from lakectl.cli.boundary import run_job
from lakectl.cli.help import epilog
from lakectl.cli.params import option, options_from
from lakectl.cli.presenters import presents, show
from lakectl.jobs.params import MonitorParams

PANEL = "Operations"
app = typer.Typer(
    name="monitor",
    help="Health of runs, tables, streams, data quality and models; SLA checks with alerts; an HTML report.",
    no_args_is_help=True,
)


def _run(ctx: typer.Context, params: dict[str, Any], json_out: bool) -> None:
    """The monitor job, in this process whatever the target; its presenter (lakectl.cli.presenters) for
    -o table / wide, its warnings on stderr, exit 7 on an SLA breach."""
    run_job(ctx, "monitor", params, json_out, remote=False, progress="none", present=_present)


def _present(result: Any, fmt: str) -> None:
    show(result, fmt)
    if fmt != "json":
        _warnings(result)


def _warnings(result: Any) -> None:
    for w in result.warnings:
        print(f"lakectl: warning: {w}", file=sys.stderr)


def _table(title: str, columns: list[Any], rows: list[list[Any]], fmt: str, styles: list[str | None] | None = None) -> None:
    from lakectl.cli.fit import print_table
    from lakectl.cli.render import console_for

    print_table(console_for(fmt), columns, rows, title=title, wide=fmt == "wide", row_styles=styles)


@presents("monitor runs")
def _render_runs(result: Any, fmt: str) -> None:
    from lakectl.cli.fit import Column
    from lakectl.core.formatting import count, duration, when, when_short

    columns = [
        Column("started (UTC)", short=when_short),
        Column("run id"),
        Column("command"),
        Column("status"),
        Column("rows in", number=True, drop=2),
        Column("rows out", number=True, drop=4),
        Column("took", number=True, drop=1),
        Column("error", wrap=True, drop=3),
    ]
    rows = [
        [
            when(r["started_at"]),
            r["run_id"],
            r["command"],
            r["status"],
            count(r["rows_in"]),
            count(r["rows_out"]),
            duration(r["duration_s"]),
            r["error"] or "",
        ]
        for r in result.details
    ]
    if not rows:
        print(f"no runs recorded{' that match the filters' if _filtered(result) else ''} (ops.runs)")
        return
    _table(
        f"runs ({result.metrics['shown']:,} of {result.metrics['matched']:,}, newest first)",
        columns,
        rows,
        fmt,
        ["red" if r[3] in ("failed", "interrupted") else None for r in rows],
    )


def _filtered(result: Any) -> bool:
    return bool(result.metrics.get("filtered"))


@presents("monitor tables")
def _render_tables(result: Any, fmt: str = "table") -> None:
    """One line per table; missing tables in one line below. `-o wide` adds the table version, the exact
    byte count and the last operations."""
    from lakectl.cli.fit import Column
    from lakectl.cli.render import console_for
    from lakectl.core.formatting import count, duration, human_bytes, minutes, percent, when, when_short

    wide = fmt == "wide"
    present = [t for t in result.details if t["status"] != "missing"]
    missing = [t["table"] for t in result.details if t["status"] == "missing"]
    columns = [
        Column("table"),
        *([Column("version", number=True)] if wide else []),
        Column("written (UTC)", short=when_short),
        Column("age", number=True, drop=4),
        Column("SLA", number=True, drop=3),
        Column("rows", number=True),
        Column("files", number=True, drop=2),
        Column("small", number=True, drop=1),
        Column("size", number=True),
        *([Column("event lag", number=True), Column("bytes", number=True), Column("last operations", wrap=True)] if wide else []),
    ]
    rows, styles = [], []
    for t in present:
        sla = t["freshness_sla_minutes"]
        late = sla is not None and (t["freshness_minutes"] is None or t["freshness_minutes"] > sla)
        rows.append(
            [
                t["table"],
                *([count(t["version"])] if wide else []),
                when(t["last_write"]),
                minutes(t["freshness_minutes"]),
                minutes(sla),
                count(t["rows"]),
                count(t["files"]),
                percent(t["small_file_ratio"], 0),
                human_bytes(t["bytes"]),
                *(
                    [
                        duration(t["end_to_end_lag_s"]) if t.get("end_to_end_lag_s") is not None else "",
                        count(t["bytes"]),
                        ", ".join(f"v{o['version']} {o['operation']}" for o in t["last_operations"][:3]),
                    ]
                    if wide
                    else []
                ),
            ]
        )
        styles.append("red" if late or t["status"] != "ok" else None)
    _table("tables", columns, rows, fmt, styles)
    console = console_for(fmt)
    if missing:
        console.print(f"[dim]not written yet: {', '.join(missing)}[/]")
    console.print(
        "[dim]age: since the last write (red: later than its freshness SLA); small: share of files under monitor.small_file_bytes"
        + ("; event lag: now - the newest event the table reflects" if wide else "")
        + "[/]"
    )


@presents("monitor streams")
def _render_streams(result: Any, fmt: str) -> None:
    from lakectl.cli.fit import Column
    from lakectl.core.formatting import duration, when, when_short

    if not result.details:
        print("no ingest streams yet (run `lakectl ingest` first)")
        return

    def backlog(s: dict[str, Any]) -> str:
        if s["backlog_records"] is not None:
            return f"{s['backlog_records']:,} records"
        return "" if s["backlog_files"] is None else f"{s['backlog_files']:,} files"

    def rate(value: float | None) -> str:
        return "" if value is None else f"{value:,.0f}/s"

    rows = [
        [
            s["stream"],
            s["state"],
            "" if s["last_batch_id"] is None else str(s["last_batch_id"]),
            when(s["last_batch_time"]),
            rate(s["input_rows_per_second"]),
            rate(s["processed_rows_per_second"]),
            "" if s["batch_duration_ms"] is None else duration(s["batch_duration_ms"] / 1000),
            backlog(s),
            "" if s.get("end_to_end_lag_s") is None else duration(s["end_to_end_lag_s"]),
        ]
        for s in result.details
    ]
    columns = [
        Column("stream"),
        Column("state"),
        Column("batch", number=True, drop=3),
        Column("last batch (UTC)", short=when_short, drop=4),
        Column("in rows", number=True, drop=2),
        Column("processed", number=True, drop=1),
        Column("batch took", number=True, drop=5),
        Column("backlog", number=True),
        Column("event lag", number=True, drop=6),
    ]
    _table("streams", columns, rows, fmt, ["red" if s["state"] == "never-run" else None for s in result.details])


@presents("monitor quality")
def _render_quality(result: Any, fmt: str) -> None:
    from lakectl.cli.fit import Column
    from lakectl.core.formatting import count, percent, when, when_short

    rows = [
        [
            r["table"],
            r["rule"],
            r["action"] or "",
            count(r["runs"]),
            percent(r["last_pass_rate"]),
            percent(r["min_pass_rate"]),
            count(r["rows_failed"]),
            when(r["last_recorded_at"]),
        ]
        for r in result.details
    ]
    if rows:
        columns = [
            Column("table", drop=4),
            Column("rule"),
            Column("action", drop=3),
            Column("runs", number=True, drop=1),
            Column("last pass", number=True),
            Column("lowest", number=True, drop=2),
            Column("rows failed", number=True),
            Column("last run (UTC)", short=when_short, drop=5),
        ]
        _table("expectation pass rates", columns, rows, fmt)
    else:
        print("no data-quality metrics yet (ops.dq_metrics is written by `lakectl transform`)")
    q = result.metrics.get("quarantine", [])
    _table(
        "quarantine",
        [Column("table"), Column("status"), Column("rows", number=True), Column("rows added per day", wrap=True, drop=1)],
        [[g["table"], g["status"], count(g["rows"]), ", ".join(f"{d['day']}: {d['rows_added']:,}" for d in g["per_day"][-7:])] for g in q],
        fmt,
    )
    replays = result.metrics.get("replays") or []
    if replays:
        _table(
            "quarantine replays (lakectl replay)",
            [
                Column("run"),
                Column("quarantine", drop=2),
                Column("rule", drop=1),
                Column("replayed", number=True),
                Column("moved", number=True),
                Column("still failing", number=True),
                Column("at (UTC)", short=when_short, drop=3),
            ],
            [
                [
                    r["run_id"],
                    f"{r['layer']}.quarantine",
                    r["rule"] or "all",
                    count(r["replayed"]),
                    count(r["moved"]),
                    count(r["still_failing"]),
                    when(r["started_at"]),
                ]
                for r in replays[-10:]
            ],
            fmt,
        )


@presents("monitor check")
def _render_check(result: Any, fmt: str) -> None:
    from lakectl.cli.fit import Column

    rows = [[c["name"], c["status"].upper(), c["message"]] for c in result.details]
    if not rows:
        print("no SLAs configured (tables.<schema.name>.sla in the config)")
    else:
        _table(
            f"SLA checks: {result.metrics['breaches']:,} breach(es) of {result.metrics['checks']:,}",
            [Column("check"), Column("status"), Column("detail", wrap=True)],
            rows,
            fmt,
            ["bold red" if r[1] == "BREACH" else "dim" if r[1] == "SKIPPED" else "green" for r in rows],
        )
    alerts = result.metrics.get("alerts") or {}
    for line in alert_lines(alerts, dry_run=result.dry_run):
        print(line)


def alert_lines(alerts: dict[str, Any], *, dry_run: bool) -> list[str]:
    """What the alerting did (or would do), channel by channel."""
    lines = []
    channels = alerts.get("channels") or {}
    if alerts.get("alerted"):
        if dry_run:
            names = ", ".join(alerts.get("would_notify") or []) or "no channel (set monitor.webhook_url or monitor.smtp_host and smtp_to)"
            lines.append(f"would alert: {len(alerts['alerted']):,} breach(es) via {names}")
        else:
            sent = [c for c, ok in channels.items() if ok]
            lines.append(f"alerted: {len(alerts['alerted']):,} breach(es) via {', '.join(sent) or 'no channel'}")
    for channel, pending in (alerts.get("retrying") or {}).items():
        lines.append(f"{'would retry' if dry_run else 'retried'} {channel}: {len(pending):,} breach(es) another channel already delivered")
    if alerts.get("suppressed"):
        lines.append(f"already alerted (standing): {len(alerts['suppressed']):,} breach(es)")
    return lines


_SPARK = "▁▂▃▄▅▆▇█"


def _spark_line(counts: list[int]) -> str:
    """A 10-bin histogram as one line of block characters (scaled to its fullest bin)."""
    top = max(counts) if counts else 0
    return "".join(" " if not c else _SPARK[c * (len(_SPARK) - 1) // top] for c in counts) if top else ""


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:.3f}"


@presents("monitor models")
def _render_models(result: Any, fmt: str) -> None:
    """One line per model version, then its days; PSI read as stable / moderate / shift."""
    from lakectl.cli.fit import Column
    from lakectl.cli.render import console_for
    from lakectl.core.formatting import count, percent, when

    console = console_for(fmt)
    if not result.details:
        msg = result.metrics.get("message") or (
            f"no scores in the last {result.metrics['days']:g} day(s)"
            + (f" for model {result.metrics['model']}" if result.metrics.get("model") else "")
            + " (silver.review_scores is written by `lakectl score`)"
        )
        console.print(msg)
        return
    columns = [
        Column("model / day"),
        Column("rows", number=True),
        Column("mean", number=True, drop=2),
        Column("pos", number=True, drop=3),
        Column("agree", number=True),
        Column("rated", number=True, drop=1),
        Column("PSI", number=True),
        Column("drift"),
        Column("0 ─ 1", drop=4),
    ]
    rows, styles, notes = [], [], []
    for v in result.details:
        styles.append("bold red" if v["psi_reading"] == "shift" else "yellow" if v["psi_reading"] == "moderate" else "bold")
        rows.append(
            [
                f"{v['model_name']}/{v['model_version']}",
                count(v["rows"]),
                _num(v["mean_score"]),
                percent(v["positive_share"]),
                percent(v["rating_agreement"]),
                count(v["rated_rows"]),
                _num(v["psi"]),
                v["psi_reading"] or "–",
                _spark_line(v["histogram"]),
            ]
        )
        for d in v["per_day"]:
            styles.append(None)
            rows.append(
                [
                    f" {d['day']}",
                    count(d["rows"]),
                    _num(d["mean_score"]),
                    percent(d["positive_share"]),
                    percent(d["rating_agreement"]),
                    count(d["rated_rows"]),
                    "",
                    "",
                    _spark_line(d["histogram"]),
                ]
            )
        if v["aliases"]:
            notes.append(f"{v['model_name']}/{v['model_version']}: now {', '.join('@' + a for a in v['aliases'])}")
        if v["psi_reason"]:
            notes.append(f"{v['model_name']}/{v['model_version']}: no PSI: {v['psi_reason']}")
    _table(f"model versions scored since {when(result.metrics['since'])[:16]} UTC", columns, rows, fmt, styles)
    for n in notes:
        console.print(f"[dim]{n}[/]")
    console.print(
        "[dim]pos: share predicted positive; agree: predicted label = rating label, over the rated rows "
        "(3 stars: no label); PSI: scores vs the training run's test split, < 0.1 stable, 0.1-0.25 moderate, "
        "> 0.25 shift; 0 ─ 1: score histogram in 10 bins[/]"
    )


@presents("monitor report")
def _render_report(result: Any, fmt: str) -> None:
    """The HTML file written, or (without --html) the report's headlines, what needs attention first."""
    from rich.text import Text

    from lakectl.cli.fit import print_pairs
    from lakectl.cli.render import console_for
    from lakectl.core.formatting import count, human_bytes, percent

    m = result.metrics
    if m.get("html"):
        print(f"wrote {m['html']} ({human_bytes(m['bytes'])})")
        return
    console = console_for(fmt)
    c, t, st, q, r = m["checks"], m["tables"], m["streams"], m["quality"], m["runs"]
    breaches = c["breaches"]
    head = Text(f"{len(breaches):,} SLA breach(es)", style="bold red") if breaches else Text("no SLA breached", style="bold green")
    console.print(Text.assemble(head, f" ({c['total']:,} checks: {c['passed']:,} pass, {c['skipped']:,} skipped)"))
    for b in breaches:
        console.print(Text.assemble(("  ✗ ", "red"), (b["name"], "bold"), ": ", b["message"]))
    lowest = q["lowest"]
    pairs: list[tuple[str, str]] = [
        (
            "tables",
            f"{t['present']:,} written ({count(t['rows'])} rows, {human_bytes(t['bytes'])})"
            + (f"; late: {', '.join(t['late'])}" if t["late"] else "")
            + (f"; not written yet: {', '.join(t['missing'])}" if t["missing"] else "")
            + (f"; unreadable: {', '.join(t['unreadable'])}" if t["unreadable"] else ""),
        ),
        (
            "streams",
            f"{st['total']:,} ({len(st['running']):,} running)"
            + (f"; never run: {', '.join(st['never_run'])}" if st["never_run"] else "")
            + "".join(f"; {name} backlog {count(n)}" for name, n in st["backlog"].items() if n),
        ),
        (
            "data quality",
            "no metrics yet"
            if lowest is None
            else f"{q['rules']:,} rules; lowest pass rate {percent(lowest['pass_rate'])} ({lowest['table']} {lowest['rule']}, "
            f"{count(lowest['rows_failed'])} rows failed)" + (f"; {len(q['below']):,} below the SLA" if q["below"] else ""),
        ),
        ("runs", f"{r['recent']:,} recent, {r['failed_count']:,} failed or interrupted"),
    ]
    pairs += [(f"  {f['command']} {f['run_id']}", f"{f['status']}: {f['error'] or ''}".rstrip(": ")) for f in r["failed"]]
    print_pairs(console, pairs, wide=fmt == "wide")
    console.print(Text("charts and every table: lakectl monitor report --html FILE", style="dim"))


@app.command(
    "runs",
    epilog=epilog(
        [
            ("lakectl monitor runs --status failed --since-hours 24", "what failed in the last day"),
            ("lakectl monitor runs --command ingest -n 5", "the last five ingest runs"),
        ],
        exits=(),
    ),
)
@options_from(
    MonitorParams,
    command=option(help="Only runs of this command (e.g. ingest)."),
    status=option(help="Only runs with this status (ok, failed, dry_run, breach...)."),
    since_hours=option(help="Only runs started in the last N hours."),
    limit=option("-n", help="Newest N runs."),
    stages=option(field="include_stages", help="Also list the stages of nested runs (demo)."),
)
def runs(ctx: typer.Context, params: dict[str, Any], json_out: bool) -> None:
    """List recorded runs from the run ledger (ops.runs), newest first."""
    _run(ctx, {"action": "runs", **params}, json_out)


@app.command(
    "tables",
    epilog=epilog(
        [
            ("lakectl monitor tables", "every table's freshness, size and small files"),
            ("lakectl -o wide monitor tables --table silver.events", "one table with its last operations"),
        ],
        exits=(),
    ),
)
@options_from(
    MonitorParams,
    table=option(field="tables", help="Only this table (schema.name); repeatable."),
    history=option(help="Last operations to include per table."),
)
def tables(ctx: typer.Context, params: dict[str, Any], json_out: bool) -> None:
    """Per table: version, last write, freshness vs SLA, rows, files, small-file ratio, bytes, last operations (Delta log only, no JVM).

    `-o wide` adds the version, the exact bytes and the last operations; `-o csv` prints every figure raw."""
    _run(ctx, {"action": "tables", **params}, json_out)


KAFKA_TIMEOUT = option(help="Seconds to wait for Kafka end offsets.")


@app.command(
    "streams", epilog=epilog([("lakectl monitor streams", "each stream: running, last batch, backlog, end-to-end lag")], exits=(4,))
)
@options_from(MonitorParams, kafka_timeout=KAFKA_TIMEOUT)
def streams(ctx: typer.Context, params: dict[str, Any], json_out: bool) -> None:
    """Per ingest stream: last batch, input/processing rates, batch duration, backlog, running or not."""
    _run(ctx, {"action": "streams", **params}, json_out)


@app.command(
    "quality",
    epilog=epilog([("lakectl monitor quality --since-hours 24", "pass rates of the last day's runs, and quarantine growth")], exits=()),
)
@options_from(MonitorParams, since_hours=option(help="Only metrics recorded in the last N hours."))
def quality(ctx: typer.Context, params: dict[str, Any], json_out: bool) -> None:
    """Expectation pass rates over time (ops.dq_metrics) and quarantine growth."""
    _run(ctx, {"action": "quality", **params}, json_out)


@app.command(
    "check",
    epilog=epilog(
        [
            ("lakectl monitor check --junit checks.xml", "every SLA, JUnit for CI; exit 7 on a breach"),
            ("lakectl monitor check --dry-run", "which channels would be alerted, sending nothing"),
        ],
        exits=(7,),
    ),
)
@options_from(
    MonitorParams,
    junit=option(help="Also write JUnit XML (one testcase per check) to FILE."),
    alert=option("--alert/--no-alert", help="Send webhook/email alerts for new breaches (de-duplicated)."),
    dry_run=option(help="Evaluate and say who would be alerted; send nothing."),
    kafka_timeout=KAFKA_TIMEOUT,
)
def check(ctx: typer.Context, params: dict[str, Any], json_out: bool) -> None:
    """Evaluate every SLA in the config; print breaches and exit 7 on any breach (for CI)."""
    _run(ctx, {"action": "check", **params}, json_out)


@app.command("models", epilog=epilog([("lakectl monitor models --days 7", "agreement with ratings and score drift per version")], exits=()))
@options_from(
    MonitorParams,
    days=option(help="Scores of the last N days (by scored_at, UTC)."),
    model=option(help="Only this model name (default: every scored model)."),
    engine=option(help="auto: DuckDB for local tables (no JVM), else Spark; or duckdb, spark."),
)
def models(ctx: typer.Context, params: dict[str, Any], json_out: bool) -> None:
    """Per scored model version: daily score distribution, agreement with ratings (a proxy accuracy)
    and score drift (PSI) against the training run."""
    _run(ctx, {"action": "models", **params}, json_out)


@app.command(
    "report",
    epilog=epilog(
        [
            ("lakectl monitor report", "the headlines in the terminal"),
            ("lakectl monitor report --html report.html", "a page with charts, no network needed"),
        ],
        exits=(),
    ),
)
@options_from(
    MonitorParams,
    html=option(metavar="FILE", help="Write a self-contained HTML report (inline SVG charts, no network) to FILE."),
    kafka_timeout=KAFKA_TIMEOUT,
)
def report(ctx: typer.Context, params: dict[str, Any], json_out: bool) -> None:
    """The health report: SLA breaches first, then tables, streams, data quality and recent runs; with --html FILE a
    self-contained page with freshness, throughput and data-quality charts."""
    _run(ctx, {"action": "report", **params}, json_out)
