"""`monitor report --html`: one self-contained HTML file (inline CSS + SVG, no scripts, no network)
with freshness, throughput and data-quality charts, table health, SLA checks and recent runs."""

from __future__ import annotations

from datetime import datetime, timezone
from html import escape
from pathlib import Path
from typing import Any

from lakectl.monitor import svg
from lakectl.monitor.quality import RuleQuality
from lakectl.monitor.sla import Check
from lakectl.monitor.streams import StreamHealth
from lakectl.monitor.tables import TableHealth

CSS = """body{font:14px system-ui,sans-serif;margin:24px;color:#111;max-width:1100px}
h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:8px 0}td,th{padding:3px 8px;border-bottom:1px solid #eee;text-align:left}
th{background:#f3f4f6}.num{text-align:right}.breach{color:#b91c1c;font-weight:bold}.pass{color:#15803d}
.missing,.skipped{color:#777}svg{display:block;margin:10px 0}"""


def _epoch(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.timestamp()
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:,.3f}".rstrip("0").rstrip(".")
    if isinstance(v, int):
        return f"{v:,}"
    return escape(str(v))


def _table(headers: list[str], rows: list[list[Any]], classes: list[str] | None = None) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = []
    for i, r in enumerate(rows):
        cls = f' class="{classes[i]}"' if classes else ""
        body.append(f"<tr{cls}>" + "".join(f'<td class="num">{_cell(c)}</td>' if isinstance(c, (int, float)) and not isinstance(c, bool) else f"<td>{_cell(c)}</td>" for c in r) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def freshness_chart(tables: list[TableHealth]) -> str:
    bars = [(t.table, t.freshness_minutes, t.freshness_sla_minutes) for t in tables if t.status == "ok"]
    return svg.bar_chart("Freshness: minutes since the last data write (line: SLA)", bars, unit=" min")


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


def quality_chart(rules: list[RuleQuality], min_pass_rate: float | None = None) -> str:
    series = {f"{r.table}:{r.rule}": [(_epoch(h["recorded_at"]), h["pass_rate"]) for h in r.history if h["recorded_at"] and h["pass_rate"] is not None] for r in rules}
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


def render_html(*, project: str, tables: list[TableHealth], commits: dict[str, list[dict[str, Any]]], streams: list[StreamHealth],
                progress: list[dict[str, Any]], rules: list[RuleQuality], growth: list[dict[str, Any]], checks: list[Check],
                runs: list[dict[str, Any]], min_pass_rate: float | None = None) -> str:
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    breaches = [c for c in checks if c.status == "breach"]
    summary = (f'<p class="breach">{len(breaches)} SLA breach(es)</p>' if breaches else '<p class="pass">All SLAs met</p>') if checks else "<p>No SLAs configured.</p>"
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>lakectl monitor: {escape(project)}</title><style>{CSS}</style></head><body>",
        f"<h1>lakectl monitor — {escape(project)}</h1><p>Generated {now}</p>", summary,
        "<h2>Freshness</h2>", freshness_chart(tables), writes_chart(tables, commits),
        "<h2>Throughput</h2>", throughput_chart(progress),
        "<h2>Data quality</h2>", quality_chart(rules, min_pass_rate), quarantine_chart(growth),
        "<h2>SLA checks</h2>",
        _table(["check", "status", "value", "threshold", "message"], [[c.name, c.status, c.value, c.threshold, c.message] for c in checks], [c.status for c in checks]),
        "<h2>Tables</h2>",
        _table(["table", "status", "version", "last write", "freshness (min)", "rows", "files", "small-file ratio", "bytes"],
               [[t.table, t.status, t.version, t.last_write, t.freshness_minutes, t.rows, t.files, t.small_file_ratio, t.bytes] for t in tables],
               [t.status for t in tables]),
        "<h2>Streams</h2>",
        _table(["stream", "state", "last batch", "input rows/s", "processed rows/s", "batch ms", "backlog records", "backlog files"],
               [[s.stream, s.state, s.last_batch_time, s.input_rows_per_second, s.processed_rows_per_second, s.batch_duration_ms, s.backlog_records, s.backlog_files] for s in streams]),
        "<h2>Recent runs</h2>",
        _table(["started", "command", "status", "rows in", "rows out", "duration (s)", "error"],
               [[r.get("started_at").isoformat(timespec="seconds") if r.get("started_at") else None, r.get("command"), r.get("status"),
                 r.get("rows_in"), r.get("rows_out"), r.get("duration_s"), r.get("error")] for r in runs]),
        "</body></html>",
    ]
    return "\n".join(parts)


def write_report(path: str, html: str) -> Path:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(html, encoding="utf-8")
    return target
