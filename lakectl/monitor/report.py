"""`monitor report --html`: one self-contained HTML file (inline CSS + SVG, no scripts, no network)
for the person on call: breached SLAs first, then the checks, freshness against each table's SLA,
gold KPIs, recent runs, throughput and data-quality charts, table and stream health."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from html import escape
from pathlib import Path
from typing import Any

from lakectl.monitor import svg
from lakectl.monitor.ledger import READ_ONLY_COMMANDS
from lakectl.monitor.quality import RuleQuality
from lakectl.monitor.sla import Check
from lakectl.monitor.streams import StreamHealth
from lakectl.monitor.tables import TableHealth

CSS = """body{font:14px system-ui,sans-serif;margin:16px 24px;color:#111}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd}
.scroll{overflow-x:auto}table{border-collapse:collapse;margin:8px 0;width:100%}
td,th{padding:3px 8px;border-bottom:1px solid #eee;text-align:left;vertical-align:top}
th{background:#f3f4f6}.num{text-align:right;white-space:nowrap}tr.breach,tr.failed,tr.unreadable{background:#fef2f2}
tr.interrupted{background:#fffbeb}tr.missing,tr.skipped{color:#777}.st-breach,.st-failed,.st-unreadable{color:#b91c1c;font-weight:bold}
.st-pass,.st-ok{color:#15803d}.st-interrupted{color:#b45309;font-weight:bold}.kpis+.scroll table{width:auto}
svg.chart{display:block;margin:10px 0;width:100%;min-width:900px;height:auto}
.alert{border:2px solid #b91c1c;background:#fef2f2;border-radius:6px;padding:4px 16px 10px;margin:12px 0}
.alert h2{color:#b91c1c;border:0;margin-top:8px}.alert table{background:#fff}
.allclear{border:2px solid #15803d;background:#f0fdf4;border-radius:6px;padding:8px 16px;margin:12px 0;color:#15803d;font-weight:bold}
.kpis{display:flex;flex-wrap:wrap;gap:12px;margin:8px 0}.kpi{border:1px solid #ddd;border-radius:6px;padding:8px 14px;min-width:140px}
.kpi b{display:block;font-size:20px}.kpi small{color:#666}.note{color:#666}
@media (max-width:700px){body{margin:8px}td,th{white-space:nowrap}}"""
CHECK_ORDER = {"breach": 0, "pass": 1}  # then skipped / anything else


def _epoch(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.timestamp()
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()


class Num(str):
    """Preformatted text for a numeric column (right-aligned, as numbers are)."""


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, Num):
        return escape(v)
    if isinstance(v, Decimal):
        return f"{v:,.2f}"
    if isinstance(v, float):
        return f"{v:,.3f}".rstrip("0").rstrip(".")
    if isinstance(v, int):
        return f"{v:,}"
    return escape(str(v))


def _td(c: Any, cls: str | None = None) -> str:
    if cls is None and isinstance(c, (int, float, Decimal, Num)) and not isinstance(c, bool):
        cls = "num"
    return f'<td class="{cls}">{_cell(c)}</td>' if cls else f"<td>{_cell(c)}</td>"


def _table(headers: list[str], rows: list[list[Any]], classes: list[str] | None = None, status_col: int | None = None) -> str:
    """classes: one per row (its status: tints the row); status_col: the column that shows it (coloured)."""
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = []
    for i, r in enumerate(rows):
        cls = f' class="{escape(classes[i])}"' if classes else ""
        body.append(f"<tr{cls}>" + "".join(_td(c, f"st-{escape(str(c))}" if j == status_col else None) for j, c in enumerate(r)) + "</tr>")
    return f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>'


def _charts(*charts: str) -> str:
    """Charts fill the page width; on a phone they keep a readable size and scroll sideways."""
    return "".join(f'<div class="scroll">{c}</div>' for c in charts)


def freshness_chart(tables: list[TableHealth]) -> str:
    bars = [(t.table, t.freshness_minutes, t.freshness_sla_minutes) for t in tables if t.status == "ok"]
    return svg.sla_bars("Freshness: minutes since the last data write, each table against its own SLA", bars, unit=" min")


def writes_chart(tables: list[TableHealth], commits: dict[str, list[dict[str, Any]]]) -> str:
    series = {k: [(_epoch(c["timestamp"]), float(c["rows"])) for c in v if c.get("timestamp")] for k, v in commits.items() if v}
    return svg.line_chart("Rows written per commit over time", series, y_label="rows", y_min=0)


def throughput_chart(progress: list[dict[str, Any]]) -> str:
    series: dict[str, list[tuple[float, float]]] = {}
    for p in progress:
        if p.get("timestamp") is None or p.get("processed_rows_per_second") is None:
            continue
        series.setdefault(p["stream"], []).append((_epoch(p["timestamp"]), p["processed_rows_per_second"]))
    return svg.line_chart("Ingest throughput: processed rows/s per micro-batch", series, y_label="rows/s", y_min=0)


def lag_chart(progress: list[dict[str, Any]]) -> str:
    """End-to-end lag of each micro-batch that recorded its newest event (gold's, under run --continuous):
    when it committed minus that event time."""
    series: dict[str, list[tuple[float, float]]] = {}
    for p in progress:
        committed, newest = _epoch(p.get("committed_at")), _epoch(p.get("newest_event_time"))
        if committed is None or newest is None or not p.get("num_input_rows"):
            continue
        series.setdefault(p["stream"], []).append((committed, max(0.0, committed - newest)))
    if not series:
        return svg.empty("End-to-end lag per micro-batch", "no stream has recorded event times yet (lakectl run --continuous does)")
    return svg.line_chart("End-to-end lag: seconds from an event to its micro-batch's commit", series, y_label="s", y_min=0)


def quality_chart(rules: list[RuleQuality], min_pass_rate: float | None = None) -> str:
    series = {
        f"{r.table}:{r.rule}": [
            (_epoch(h["recorded_at"]), h["pass_rate"]) for h in r.history if h["recorded_at"] and h["pass_rate"] is not None
        ]
        for r in rules
    }
    return svg.line_chart("Data-quality pass rate per rule over time", series, y_label="pass rate", y_max=1.0, threshold=min_pass_rate)


def quarantine_chart(growth: list[dict[str, Any]]) -> str:
    series = {}
    for g in growth:
        total, pts = 0, []
        for v in g.get("per_version", []):
            total += v["rows_added"]
            pts.append((_epoch(v["timestamp"]), float(total)))
        if pts:
            series[g["table"]] = pts
    return svg.line_chart("Quarantine growth: cumulative rows", series, y_label="rows", y_min=0)


def _figure(kind: str, v: float | None) -> str:
    """A check's figure in its own unit."""
    if v is None:
        return "unknown"
    if kind == "freshness":
        return f"{v:,.1f} min"
    if kind in ("min_pass_rate", "min_rating_agreement"):
        return f"{v:.2%}"
    if kind == "max_score_psi":
        return f"{v:.3f}"
    if kind == "max_small_file_ratio":
        return f"{v:.0%}"
    return f"{v:,.0f}"


def _sla(kind: str, threshold: float) -> str:
    return ("≥ " if kind.startswith("min_") else "≤ ") + _figure(kind, threshold)


def sort_checks(checks: list[Check]) -> list[Check]:
    """Breaches first, then passes, then skipped (stable: the configured order within each)."""
    return sorted(checks, key=lambda c: CHECK_ORDER.get(c.status, len(CHECK_ORDER)))


def breaches_block(checks: list[Check]) -> str:
    """The top of the report: every breach named with its table, figure, SLA and message; or one all-clear line."""
    if not checks:
        return '<p class="note">No SLAs configured (tables.&lt;key&gt;.sla in the config).</p>'
    breached = [c for c in checks if c.status == "breach"]
    if not breached:
        return f'<div class="allclear">All {len(checks):,} SLA checks met.</div>'
    rows = [[c.table, c.kind, Num(_figure(c.kind, c.value)), Num(_sla(c.kind, c.threshold)), c.message] for c in breached]
    return (
        f'<section class="alert" id="breaches"><h2>{len(breached):,} SLA breach{"es" if len(breached) > 1 else ""}</h2>'
        + _table(["table", "check", "figure", "SLA", "message"], rows, ["breach"] * len(rows))
        + "</section>"
    )


def recent_runs(rows: list[dict[str, Any]], limit: int = 20) -> tuple[list[dict[str, Any]], int]:
    """Top-level runs, newest first, without the read-only noise (monitor, query, dry runs) that
    monitor.record_read_only lets into ops.runs; and how many of those were left out."""
    top = [r for r in rows if not r.get("parent_run_id")]
    kept = [r for r in top if r.get("command") not in READ_ONLY_COMMANDS and r.get("status") != "dry_run"]
    kept.sort(key=lambda r: r.get("started_at") or datetime.min.replace(tzinfo=UTC), reverse=True)
    return kept[:limit], len(top) - len(kept)


def runs_table(runs: list[dict[str, Any]], hidden: int = 0) -> str:
    rows = [
        [
            r.get("run_id"),
            r.get("started_at").isoformat(timespec="seconds") if r.get("started_at") else None,
            r.get("command"),
            r.get("status"),
            r.get("rows_in"),
            r.get("rows_out"),
            r.get("duration_s"),
            r.get("error"),
        ]
        for r in runs
    ]
    note = f'<p class="note">{hidden} read-only run(s) (monitor, query, dry runs) not shown.</p>' if hidden else ""
    return (
        _table(
            ["run id", "started", "command", "status", "rows in", "rows out", "duration (s)", "error"],
            rows,
            [str(r.get("status") or "") for r in runs],
            status_col=3,
        )
        + note
    )


KPI_TILES = ("events", "revenue", "orders", "active_customers")


def kpi_summary(kpis: list[dict[str, Any]]) -> str:
    """gold.kpi_hourly at a glance: the latest hour as tiles (with the hour before), then the latest hours."""
    if not kpis:
        return '<p class="note">gold.kpi_hourly has no rows yet (run `lakectl aggregate`).</p>'
    latest, prev = kpis[0], kpis[1] if len(kpis) > 1 else {}
    hour = latest.get("event_hour")
    hour_s = hour.strftime("%Y-%m-%d %H:%M UTC") if isinstance(hour, datetime) else str(hour)
    tiles = []
    for k in KPI_TILES:
        if k in latest:
            before = f"<small>hour before: {_cell(prev.get(k))}</small>" if k in prev else ""
            tiles.append(f'<div class="kpi">{escape(k.replace("_", " "))}<b>{_cell(latest[k])}</b>{before}</div>')
    columns = list(latest)
    table = _table(
        [c.replace("_", " ") for c in columns],
        [[r.get(c).strftime("%Y-%m-%d %H:%M") if isinstance(r.get(c), datetime) else r.get(c) for c in columns] for r in kpis],
    )
    return f'<p>Latest hour: {escape(hour_s)}</p><div class="kpis">{"".join(tiles)}</div>{table}'


def render_html(
    *,
    project: str,
    tables: list[TableHealth],
    commits: dict[str, list[dict[str, Any]]],
    streams: list[StreamHealth],
    progress: list[dict[str, Any]],
    rules: list[RuleQuality],
    growth: list[dict[str, Any]],
    checks: list[Check],
    runs: list[dict[str, Any]],
    min_pass_rate: float | None = None,
    kpis: list[dict[str, Any]] | None = None,
    hidden_runs: int = 0,
    lineage: str | None = None,
) -> str:
    from lakectl.core.formatting import human_bytes

    now = datetime.now(UTC).isoformat(timespec="seconds")
    ordered = sort_checks(checks)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>lakectl monitor: {escape(project)}</title><style>{CSS}</style></head><body>",
        f'<h1>lakectl monitor — {escape(project)}</h1><p class="note">Generated {now}</p>',
        breaches_block(checks),
        "<h2>SLA checks</h2>",
        _table(
            ["table", "check", "status", "figure", "SLA", "message"],
            [[c.table, c.kind, c.status, Num(_figure(c.kind, c.value)), Num(_sla(c.kind, c.threshold)), c.message] for c in ordered],
            [c.status for c in ordered],
            status_col=2,
        ),
        "<h2>Freshness</h2>",
        _charts(freshness_chart(tables), writes_chart(tables, commits)),
        "<h2>Gold KPIs (gold.kpi_hourly)</h2>",
        kpi_summary(kpis) if kpis is not None else '<p class="note">gold.kpi_hourly does not exist yet.</p>',
        "<h2>Lineage</h2>",
        _charts(lineage) if lineage else '<p class="note">No lineage: lineage.transports does not include file.</p>',
        "<h2>Recent runs</h2>",
        runs_table(runs, hidden_runs),
        "<h2>Throughput</h2>",
        _charts(throughput_chart(progress), lag_chart(progress)),
        "<h2>Data quality</h2>",
        _charts(quality_chart(rules, min_pass_rate), quarantine_chart(growth)),
        "<h2>Tables</h2>",
        _table(
            ["table", "status", "version", "last write", "freshness (min)", "rows", "files", "small-file ratio", "size"],
            [
                [
                    t.table,
                    t.status,
                    t.version,
                    t.last_write,
                    t.freshness_minutes,
                    t.rows,
                    t.files,
                    t.small_file_ratio,
                    Num(human_bytes(t.bytes)) if t.bytes is not None else None,
                ]
                for t in tables
            ],
            [t.status for t in tables],
            status_col=1,
        ),
        "<h2>Streams</h2>",
        _table(
            ["stream", "state", "last batch", "input rows/s", "processed rows/s", "batch ms", "backlog records", "backlog files"],
            [
                [
                    s.stream,
                    s.state,
                    s.last_batch_time,
                    s.input_rows_per_second,
                    s.processed_rows_per_second,
                    s.batch_duration_ms,
                    s.backlog_records,
                    s.backlog_files,
                ]
                for s in streams
            ],
        ),
        "</body></html>",
    ]
    return "\n".join(parts)


def write_report(path: str, html: str) -> Path:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(html, encoding="utf-8")
    return target
