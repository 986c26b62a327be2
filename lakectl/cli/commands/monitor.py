"""`lakectl monitor ...`: the run ledger, table/stream/quality health, SLA checks and a report."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import typer

from lakectl.cli.boundary import run_job
from lakectl.cli.params import option, options_from
from lakectl.jobs.params import MonitorParams

app = typer.Typer(
    name="monitor",
    help="Health of runs, tables, streams, data quality and models; SLA checks with alerts; an HTML report.",
    no_args_is_help=True,
)


def _run(ctx: typer.Context, params: dict[str, Any], json_out: bool, render: Callable[[Any, str], None]) -> None:
    """The monitor job, in this process whatever the target; its own human rendering (-o table / wide), its
    warnings on stderr, exit 7 on an SLA breach."""
    run_job(ctx, "monitor", params, json_out, remote=False, progress="none", present=_present(render))


def _present(render: Callable[[Any, str], None]) -> Callable[[Any, str], None]:
    def present(result: Any, fmt: str) -> None:
        if fmt in ("json", "csv"):
            from lakectl.cli.render import render_result

            render_result(result, fmt=fmt)
        else:
            render(result, fmt)
        if fmt != "json":
            _warnings(result)

    return present


def _grid(title: str, columns: list[str], rows: list[list[Any]], fmt: str, styles: list[str] | None = None) -> None:
    from rich.table import Table
    from rich.text import Text

    from lakectl.cli.render import console_for
    from lakectl.core.formatting import fmt_value

    table = Table(title=title, title_justify="left")
    for c in columns:
        table.add_column(c, overflow="fold")
    for i, r in enumerate(rows):
        table.add_row(*[Text("" if v is None else fmt_value(v, c)) for c, v in zip(columns, r)], style=styles[i] if styles else None)
    console_for(fmt).print(table)


def _warnings(result: Any) -> None:
    for w in result.warnings:
        print(f"lakectl: warning: {w}", file=sys.stderr)


def _render_runs(result: Any, fmt: str) -> None:
    rows = [
        [r["started_at"], r["run_id"], r["command"], r["status"], r["rows_in"], r["rows_out"], r["duration_s"], r["error"] or ""]
        for r in result.details
    ]
    _grid(
        f"runs ({result.metrics['shown']:,} of {result.metrics['matched']:,})",
        ["started (UTC)", "run id", "command", "status", "rows in", "rows out", "seconds", "error"],
        rows,
        fmt,
        ["red" if r[3] == "failed" else "" for r in rows],
    )


def _render_tables(result: Any, fmt: str = "table") -> None:
    """One line per table that fits 80 columns (names never wrap); missing tables in one line below.
    `-o wide` adds the table version, the byte count and the last operations, and cuts nothing."""
    from rich import box
    from rich.table import Table

    from lakectl.cli.render import console_for
    from lakectl.core.formatting import count, human_bytes

    wide = fmt == "wide"

    present = [t for t in result.details if t["status"] != "missing"]
    missing = [t["table"] for t in result.details if t["status"] == "missing"]
    table = Table(
        title="tables", title_justify="left", header_style="bold cyan", box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 0), show_edge=False
    )
    table.add_column("table", no_wrap=True, overflow="ellipsis")
    for name in (["version"] if wide else []) + ["written UTC", "age/SLA", "rows", "files", "small", "size"]:
        table.add_column(name, justify="left" if name.startswith("written") else "right", no_wrap=True)
    if wide:
        table.add_column("bytes", justify="right", no_wrap=True)
        table.add_column("last operations")
    for t in present:
        sla = t["freshness_sla_minutes"]
        age = "" if t["freshness_minutes"] is None else f"{t['freshness_minutes']:,.0f}" + (f"/{sla:,.0f}" if sla else "")
        late = sla is not None and (t["freshness_minutes"] is None or t["freshness_minutes"] > sla)
        written = (t["last_write"] or "").replace("T", " ")
        row = (
            [t["table"]]
            + ([f"{t['version']:,}" if t["version"] is not None else ""] if wide else [])
            + [
                written[:19] if wide else written[5:16],
                age,
                count(t["rows"]),
                count(t["files"]),
                "" if t["small_file_ratio"] is None else f"{t['small_file_ratio']:.0%}",
                human_bytes(t["bytes"]),
            ]
        )
        if wide:
            row += [count(t["bytes"]), ", ".join(f"v{o['version']} {o['operation']}" for o in t["last_operations"][:3])]
        table.add_row(*row, style="red" if late or t["status"] != "ok" else None)
    console = console_for(fmt)
    console.print(table)
    if missing:
        console.print(f"[dim]not written yet: {', '.join(missing)}[/]")
    console.print("[dim]age: minutes since the last write; small: share of files under monitor.small_file_bytes[/]")


def _render_streams(result: Any, fmt: str) -> None:
    if not result.details:
        print("no ingest streams yet (run `lakectl ingest` first)")
        return
    rows = [
        [
            s["stream"],
            s["state"],
            s["last_batch_id"],
            s["last_batch_time"],
            s["input_rows_per_second"],
            s["processed_rows_per_second"],
            s["batch_duration_ms"],
            s["backlog_records"]
            if s["backlog_records"] is not None
            else s["backlog_files"]
            if s["backlog_files"] is None
            else f"{s['backlog_files']:,} files",
        ]
        for s in result.details
    ]
    _grid(
        "streams", ["stream", "state", "batch id", "last batch (UTC)", "input rows/s", "processed rows/s", "batch ms", "backlog"], rows, fmt
    )


def _render_quality(result: Any, fmt: str) -> None:
    rows = [
        [r["table"], r["rule"], r["action"], r["runs"], r["last_pass_rate"], r["min_pass_rate"], r["rows_failed"], r["last_recorded_at"]]
        for r in result.details
    ]
    if rows:
        _grid(
            "expectation pass rates",
            ["table", "rule", "action", "runs", "last pass rate", "lowest", "rows failed", "last run (UTC)"],
            rows,
            fmt,
        )
    else:
        print("no data-quality metrics yet (ops.dq_metrics is written by `lakectl transform`)")
    q = result.metrics.get("quarantine", [])
    _grid(
        "quarantine",
        ["table", "status", "rows", "rows added per day"],
        [[g["table"], g["status"], g["rows"], ", ".join(f"{d['day']}: {d['rows_added']:,}" for d in g["per_day"][-7:])] for g in q],
        fmt,
    )


def _render_check(result: Any, fmt: str) -> None:
    rows = [[c["name"], c["status"].upper(), c["message"]] for c in result.details]
    if not rows:
        print("no SLAs configured (tables.<schema.name>.sla in the config)")
    else:
        _grid(
            f"SLA checks: {result.metrics['breaches']:,} breach(es) of {result.metrics['checks']:,}",
            ["check", "status", "detail"],
            rows,
            fmt,
            ["bold red" if r[1] == "BREACH" else "dim" if r[1] == "SKIPPED" else "green" for r in rows],
        )
    alerts = result.metrics.get("alerts") or {}
    if alerts.get("alerted"):
        verb = "would alert" if result.dry_run else "alerted"
        print(f"{verb}: {len(alerts['alerted']):,} breach(es) via {', '.join(alerts.get('channels') or ['(dry run)'])}")
    if alerts.get("suppressed"):
        print(f"already alerted (standing): {len(alerts['suppressed']):,} breach(es)")


_SPARK = "▁▂▃▄▅▆▇█"


def _spark_line(counts: list[int]) -> str:
    """A 10-bin histogram as one line of block characters (scaled to its fullest bin)."""
    top = max(counts) if counts else 0
    return "".join(" " if not c else _SPARK[c * (len(_SPARK) - 1) // top] for c in counts) if top else ""


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:.3f}"


def _render_models(result: Any, fmt: str) -> None:
    """One line per model version, then its days; PSI read as stable / moderate / shift."""
    from rich import box
    from rich.table import Table

    from lakectl.cli.render import console_for
    from lakectl.core.formatting import count

    console = console_for(fmt)
    if not result.details:
        msg = result.metrics.get("message") or (
            f"no scores in the last {result.metrics['days']:g} day(s)"
            + (f" for model {result.metrics['model']}" if result.metrics.get("model") else "")
            + " (silver.review_scores is written by `lakectl score`)"
        )
        console.print(msg)
        return
    pct = lambda v: "" if v is None else f"{v:.1%}"  # noqa: E731
    table = Table(
        title=f"model versions scored since {result.metrics['since'][:16].replace('T', ' ')} UTC",
        title_justify="left",
        header_style="bold cyan",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        show_edge=False,
    )
    table.add_column("model / day", no_wrap=True, overflow="ellipsis", min_width=10)
    for name in ("rows", "mean", "pos", "agree", "rated", "PSI", "drift", "0 ─ 1"):
        table.add_column(name, justify="left" if name in ("drift", "0 ─ 1") else "right", no_wrap=True)
    notes = []
    for v in result.details:
        style = "bold red" if v["psi_reading"] == "shift" else "yellow" if v["psi_reading"] == "moderate" else "bold"
        table.add_row(
            f"{v['model_name']}/{v['model_version']}",
            count(v["rows"]),
            _num(v["mean_score"]),
            pct(v["positive_share"]),
            pct(v["rating_agreement"]),
            count(v["rated_rows"]),
            _num(v["psi"]),
            v["psi_reading"] or "–",
            _spark_line(v["histogram"]),
            style=style,
        )
        for d in v["per_day"]:
            table.add_row(
                f" {d['day']}",
                count(d["rows"]),
                _num(d["mean_score"]),
                pct(d["positive_share"]),
                pct(d["rating_agreement"]),
                count(d["rated_rows"]),
                "",
                "",
                _spark_line(d["histogram"]),
            )
        if v["aliases"]:
            notes.append(f"{v['model_name']}/{v['model_version']}: now {', '.join('@' + a for a in v['aliases'])}")
        if v["psi_reason"]:
            notes.append(f"{v['model_name']}/{v['model_version']}: no PSI: {v['psi_reason']}")
    console.print(table)
    for n in notes:
        console.print(f"[dim]{n}[/]")
    console.print(
        "[dim]pos: share predicted positive; agree: predicted label = rating label, over the rated rows "
        "(3 stars: no label); PSI: scores vs the training run's test split, < 0.1 stable, 0.1-0.25 moderate, "
        "> 0.25 shift; 0 ─ 1: score histogram in 10 bins[/]"
    )


def _render_report(result: Any, fmt: str) -> None:
    from lakectl.core.formatting import human_bytes

    print(f"wrote {result.metrics['html']} ({human_bytes(result.metrics['bytes'])})")


@app.command("runs")
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
    _run(ctx, {"action": "runs", **params}, json_out, _render_runs)


@app.command("tables")
@options_from(
    MonitorParams,
    table=option(field="tables", help="Only this table (schema.name); repeatable."),
    history=option(help="Last operations to include per table."),
)
def tables(ctx: typer.Context, params: dict[str, Any], json_out: bool) -> None:
    """Per table: version, last write, freshness vs SLA, rows, files, small-file ratio, bytes, last operations (Delta log only, no JVM).

    `-o wide` adds the version, the exact bytes and the last operations; `-o csv` prints every figure raw."""
    _run(ctx, {"action": "tables", **params}, json_out, _render_tables)


KAFKA_TIMEOUT = option(help="Seconds to wait for Kafka end offsets.")


@app.command("streams")
@options_from(MonitorParams, kafka_timeout=KAFKA_TIMEOUT)
def streams(ctx: typer.Context, params: dict[str, Any], json_out: bool) -> None:
    """Per ingest stream: last batch, input/processing rates, batch duration, backlog, running or not."""
    _run(ctx, {"action": "streams", **params}, json_out, _render_streams)


@app.command("quality")
@options_from(MonitorParams, since_hours=option(help="Only metrics recorded in the last N hours."))
def quality(ctx: typer.Context, params: dict[str, Any], json_out: bool) -> None:
    """Expectation pass rates over time (ops.dq_metrics) and quarantine growth."""
    _run(ctx, {"action": "quality", **params}, json_out, _render_quality)


@app.command("check")
@options_from(
    MonitorParams,
    junit=option(help="Also write JUnit XML (one testcase per check) to FILE."),
    alert=option("--alert/--no-alert", help="Send webhook/email alerts for new breaches (de-duplicated)."),
    dry_run=option(help="Evaluate and say who would be alerted; send nothing."),
    kafka_timeout=KAFKA_TIMEOUT,
)
def check(ctx: typer.Context, params: dict[str, Any], json_out: bool) -> None:
    """Evaluate every SLA in the config; print breaches and exit 7 on any breach (for CI)."""
    _run(ctx, {"action": "check", **params}, json_out, _render_check)


@app.command("models")
@options_from(
    MonitorParams,
    days=option(help="Scores of the last N days (by scored_at, UTC)."),
    model=option(help="Only this model name (default: every scored model)."),
    engine=option(help="auto: DuckDB for local tables (no JVM), else Spark; or duckdb, spark."),
)
def models(ctx: typer.Context, params: dict[str, Any], json_out: bool) -> None:
    """Per scored model version: daily score distribution, agreement with ratings (a proxy accuracy)
    and score drift (PSI) against the training run."""
    _run(ctx, {"action": "models", **params}, json_out, _render_models)


@app.command("report")
@options_from(
    MonitorParams,
    html=option(required=True, help="Write a self-contained HTML report (inline SVG charts, no network) to FILE."),
    kafka_timeout=KAFKA_TIMEOUT,
)
def report(ctx: typer.Context, params: dict[str, Any], json_out: bool) -> None:
    """Write an HTML report: freshness, throughput and data-quality charts, SLA checks, tables, streams, runs."""
    _run(ctx, {"action": "report", **params}, json_out, _render_report)
