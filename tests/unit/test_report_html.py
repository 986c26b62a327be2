"""`monitor report --html` for the person on call (issue 18, section 6): breaches first, full width,
per-table SLA scales, distinct colours, whole legends, tooltips, readable bytes, runs without the
read-only noise, a gold KPI summary, and the headless-Chromium screenshot script. No JVM."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from lakectl.config import settings_from_dict
from lakectl.engine.context import JobContext
from lakectl.jobs import run_job
from lakectl.lake.deltars import read_rows
from lakectl.monitor import ledger, svg
from lakectl.monitor.report import freshness_chart
from lakectl.monitor.tables import TableHealth

REPO = Path(__file__).resolve().parents[2]
NS = "{http://www.w3.org/2000/svg}"


def _settings(tmp_path: Path, tables: dict | None = None, **monitor):
    return settings_from_dict({"storage": {"root": str(tmp_path / "lake")}, "tables": tables or {}, "monitor": monitor}, "<test>")


def _write(path: str, n: int, files: int = 1) -> None:
    import pyarrow as pa
    from deltalake import write_deltalake

    for i in range(files):
        write_deltalake(path, pa.table({"event_id": [f"e{i}-{j}" for j in range(n)], "x": list(range(n))}), mode="append")


def _report(tmp_path: Path, s) -> str:
    out = tmp_path / "report.html"
    run_job(JobContext(settings=s), "monitor", {"action": "report", "html": str(out)})
    return out.read_text()


def _section(html: str, heading: str) -> str:
    """The HTML between the <h2> that starts with `heading` and the next <h2>."""
    start = html.index(f"<h2>{heading}")
    nxt = html.find("<h2>", start + 4)
    return html[start : nxt if nxt >= 0 else len(html)]


def test_breaches_are_named_at_the_top_and_sorted_before_passes(tmp_path):
    s = _settings(
        tmp_path,
        {
            "silver.events": {"sla": {"freshness_minutes": 60, "max_small_file_ratio": 0.5, "min_pass_rate": 0.9}},
            "gold.kpi_hourly": {"sla": {"freshness_minutes": 45}},
            "bronze.events": {"sla": {"freshness_minutes": 30}},
        },
    )
    _write(s.table("silver.events").path, 3, files=12)  # fresh (pass), 12 small files (breach), no DQ metrics (skipped)
    _write(s.table("bronze.events").path, 3)  # fresh (pass)
    html = _report(tmp_path, s)
    top = html[: html.index("<h2>SLA checks")]
    block = re.search(r'<section class="alert" id="breaches">(.*?)</section>', top, re.S)
    assert block, "no breach block before the SLA checks table"
    rows = re.findall(r'<tr class="breach">(.*?)</tr>', block.group(1))
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", r) for r in rows]
    assert {(c[0], c[1]) for c in cells} == {("silver.events", "max_small_file_ratio"), ("gold.kpi_hourly", "freshness")}
    small = next(c for c in cells if c[1] == "max_small_file_ratio")
    assert small[2] == "100%" and small[3] == "≤ 50%" and "12 of 12 files are small" in small[4]  # figure, SLA, message
    fresh = next(c for c in cells if c[0] == "gold.kpi_hourly")
    assert fresh[2] == "unknown" and fresh[3] == "≤ 45.0 min" and "missing" in fresh[4]
    statuses = re.findall(r'<tr class="(\w+)">', _section(html, "SLA checks"))
    assert statuses == ["breach", "breach", "pass", "pass", "skipped"], statuses


def test_all_clear_line_when_every_sla_is_met(tmp_path):
    s = _settings(tmp_path, {"silver.events": {"sla": {"freshness_minutes": 60}}})
    _write(s.table("silver.events").path, 3)
    html = _report(tmp_path, s)
    assert 'id="breaches"' not in html and '<div class="allclear">All 1 SLA checks met.</div>' in html


def test_full_width_layout_with_a_viewport_and_charts_scaled_to_it(tmp_path):
    s = _settings(tmp_path, {"silver.events": {"sla": {"freshness_minutes": 60}}})
    _write(s.table("silver.events").path, 3)
    html = _report(tmp_path, s)
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    css = re.search(r"<style>(.*?)</style>", html, re.S).group(1)
    assert "max-width:1100px" not in css and re.search(r"svg\.chart\{[^}]*width:100%", css)
    for tag in re.findall(r"<svg [^>]*>", html):
        assert 'viewBox="0 0 ' in tag, tag  # scalable: CSS gives it the page width
    # on a phone a chart keeps a readable size and scrolls sideways inside its box
    assert re.search(r"svg\.chart\{[^}]*min-width:900px", css) and re.search(r"\.scroll\{overflow-x:auto\}", css)
    assert html.count('<div class="scroll"><svg') == html.count("<svg")


def test_freshness_bars_are_scaled_per_table_against_its_own_sla():
    tables = [
        TableHealth("gold.kpi_hourly", "", "ok", freshness_minutes=2.0, freshness_sla_minutes=5.0),
        TableHealth("silver.events", "", "ok", freshness_minutes=600.0, freshness_sla_minutes=1440.0),
        TableHealth("bronze.events", "", "ok", freshness_minutes=90.0, freshness_sla_minutes=60.0),
        TableHealth("ops.runs", "", "ok", freshness_minutes=1.0, freshness_sla_minutes=None),
    ]
    root = ET.fromstring(freshness_chart(tables))
    bars = {r.get("data-series"): r for r in root.iter(f"{NS}rect") if r.get("class") == "bar"}
    marks = [float(line.get("x1")) for line in root.iter(f"{NS}line") if line.get("class") == "threshold"]
    assert len(marks) == 3 and len(set(marks)) == 1  # the SLA mark at the same x on every row
    width = {k: float(b.get("width")) for k, b in bars.items()}
    # 2 of 5 minutes and 600 of 1440 minutes are about the same share of their SLA: about the same bar,
    # where one shared scale would draw the 2-minute table as a sliver next to the 600-minute one.
    assert width["gold.kpi_hourly"] == pytest.approx(width["silver.events"] * 0.4 / (600 / 1440), rel=0.01)
    assert width["gold.kpi_hourly"] / width["silver.events"] > 0.9
    assert bars["bronze.events"].get("fill") != bars["silver.events"].get("fill")  # over its SLA: red
    assert float(bars["bronze.events"].get("x")) + width["bronze.events"] > marks[0]
    for b in bars.values():  # a tooltip on every bar
        assert b.find(f"{NS}title") is not None and "SLA" in b.find(f"{NS}title").text
    assert "ops.runs" not in bars and "ops.runs: 1 min (no SLA)" in freshness_chart(tables)


def test_line_chart_series_have_distinct_colours_whole_legends_and_tooltips():
    t0 = datetime(2026, 1, 1, tzinfo=UTC).timestamp()
    names = [f"silver.events:a_rather_long_expectation_name_{i:02d}" for i in range(25)]
    chart = svg.line_chart("pass rate", {n: [(t0 + 60 * k, 0.9 + i / 1000) for k in range(3)] for i, n in enumerate(names)})
    root = ET.fromstring(chart)
    fills: dict[str, set[str]] = {}
    for c in root.iter(f"{NS}circle"):
        fills.setdefault(c.get("data-series"), set()).add(c.get("fill"))
        assert c.find(f"{NS}title") is not None  # a tooltip on every point
    assert len(fills) == 25 and all(len(f) == 1 for f in fills.values())
    assert len({next(iter(f)) for f in fills.values()}) == 25  # no two series share a colour
    legend = [t.text for g in root.iter(f"{NS}g") if g.get("class") == "legend" for t in g.iter(f"{NS}text")]
    assert sorted(legend) == sorted(names)  # every name, whole
    vb_width = float(root.get("viewBox").split()[2])
    rows = {}
    for g in (g for g in root.iter(f"{NS}g") if g.get("class") == "legend"):
        text = g.find(f"{NS}text")
        x = float(text.get("x"))
        assert x + len(text.text) * svg.CHAR_W <= vb_width  # wrapped, not running off the chart
        rows.setdefault(text.get("y"), []).append(x)
    assert len(rows) > 1
    assert float(root.get("viewBox").split()[3]) >= max(float(y) for y in rows)  # the chart grew to hold them
    assert len(set(svg.colors(60))) == 60


def test_y_axis_labels_are_round_numbers():
    t0 = datetime(2026, 1, 1, tzinfo=UTC).timestamp()
    chart = svg.line_chart("pass rate", {"r": [(t0, 0.99), (t0 + 60, 1.0)]}, y_max=1.0, threshold=0.95)
    labels = re.findall(r'x="58" y="[0-9.]+" text-anchor="end" font-size="11">([^<]+)</text>', chart)
    assert labels == ["0.95", "0.96", "0.97", "0.98", "0.99", "1.00"]  # not 0.9625-style steps
    chart = svg.line_chart("rows", {"t": [(t0, 0.0), (t0 + 60, 4953.0)]}, y_min=0)
    assert re.findall(r'x="58" y="[0-9.]+" text-anchor="end" font-size="11">([^<]+)</text>', chart) == [
        "0",
        "1,000",
        "2,000",
        "3,000",
        "4,000",
    ]


def test_tables_table_shows_bytes_human_readable(tmp_path):
    s = _settings(tmp_path)
    _write(s.table("silver.events").path, 2000, files=2)  # about 2 x 10 KiB
    tables = _section(_report(tmp_path, s), "Tables")
    row = re.search(r'<tr class="ok"><td>silver.events</td>(.*?)</tr>', tables).group(1)
    assert re.search(r'<td class="num">\d+\.\d KiB</td>$', row), row
    assert "<th>size</th>" in tables


def test_recent_runs_leave_out_read_only_noise_and_show_run_id_and_status(tmp_path):
    s = _settings(tmp_path, record_read_only=True)
    ctx = JobContext(settings=s, run_id="gen-1")
    run_job(ctx, "generate", {"events": 20, "out": str(tmp_path / "landing")})
    for i in range(3):
        run_job(JobContext(settings=s, run_id=f"mon-{i}"), "monitor", {"action": "check", "alert": False})
    run_job(JobContext(settings=s, run_id="dry-1"), "generate", {"events": 20, "out": str(tmp_path / "landing"), "dry_run": True})
    with pytest.raises(Exception):
        with ledger.recording(JobContext(settings=s, run_id="bad-1"), "ingest", {}):
            raise RuntimeError("boom")
    recorded = {r["run_id"]: r["command"] for r in read_rows(s.table("ops.runs").path)}
    assert {"mon-0", "dry-1"} <= set(recorded)  # the noise is in the ledger (record_read_only) ...
    runs = _section(_report(tmp_path, s), "Recent runs")
    assert "mon-0" not in runs and "dry-1" not in runs and "monitor" not in re.sub(r"<p .*?</p>", "", runs)  # ... not in the report
    assert re.search(r'<tr class="ok"><td>gen-1</td><td>[^<]+</td><td>generate</td><td class="st-ok">ok</td>', runs)
    assert re.search(r'<tr class="failed"><td>bad-1</td>.*?<td>ingest</td><td class="st-failed">failed</td>', runs)
    assert "<th>run id</th>" in runs and "4 read-only run(s)" in runs  # 3 monitor + 1 dry run


def test_gold_kpi_summary_from_the_latest_hours(tmp_path):
    import pyarrow as pa
    from deltalake import write_deltalake

    s = _settings(tmp_path)
    html = _report(tmp_path, s)
    assert "gold.kpi_hourly does not exist yet" in _section(html, "Gold KPIs")
    h0 = datetime(2026, 11, 29, 0, tzinfo=UTC)
    hours = [h0 + timedelta(hours=i) for i in range(10)]
    write_deltalake(
        s.table("gold.kpi_hourly").path,
        pa.table(
            {
                "event_hour": pa.array(hours, pa.timestamp("us", tz="UTC")),
                "events": pa.array([100 + i for i in range(10)], pa.int64()),
                "revenue": pa.array([Decimal(f"{1000 + i}.5{i}") for i in range(10)], pa.decimal128(18, 2)),
                "orders": pa.array([i for i in range(10)], pa.int64()),
                "active_customers": pa.array([40 + i for i in range(10)], pa.int64()),
            }
        ),
    )
    kpis = _section(_report(tmp_path, s), "Gold KPIs")
    assert "Latest hour: 2026-11-29 09:00 UTC" in kpis
    tiles = re.findall(r'<div class="kpi">([^<]+)<b>([^<]+)</b><small>hour before: ([^<]+)</small>', kpis)
    assert tiles == [("events", "109", "108"), ("revenue", "1,009.59", "1,008.58"), ("orders", "9", "8"), ("active customers", "49", "48")]
    hours_shown = re.findall(r"<td>(2026-11-29 \d\d:00)</td>", kpis)
    assert hours_shown == [f"2026-11-29 {h:02d}:00" for h in range(9, 3, -1)]  # the latest 6, newest first


def _tool_dir(tmp_path: Path, tools: tuple[str, ...]) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for t in tools:
        os.symlink(shutil.which(t), bin_dir / t)
    return bin_dir


def test_screenshot_script_says_in_one_line_when_chromium_is_missing(tmp_path):
    report = tmp_path / "r.html"
    report.write_text("<!DOCTYPE html><p>x</p>")
    bin_dir = _tool_dir(tmp_path, ("bash", "dirname", "basename", "mktemp", "rm", "mkdir", "grep"))
    res = subprocess.run(
        [str(REPO / "scripts" / "report-screenshot"), str(report), str(tmp_path / "r.png")],
        env={"PATH": str(bin_dir)},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert res.returncode == 3 and res.stdout == ""
    assert res.stderr.strip().splitlines() == ["report-screenshot: error: chromium not found on PATH; install it: apt-get install chromium"]
    res = subprocess.run(
        [str(REPO / "scripts" / "report-screenshot"), str(tmp_path / "nope.html"), "x.png"], capture_output=True, text=True, timeout=30
    )
    assert res.returncode == 2 and "no such file" in res.stderr and len(res.stderr.splitlines()) == 1


@pytest.mark.skipif(not (shutil.which("chromium") or shutil.which("chromium-browser")), reason="needs chromium (apt-get install chromium)")
def test_screenshot_script_renders_a_report_to_png(tmp_path):
    s = _settings(tmp_path, {"silver.events": {"sla": {"freshness_minutes": 60}}})
    _write(s.table("silver.events").path, 3)
    _report(tmp_path, s)
    out = tmp_path / "shots" / "report.png"
    res = subprocess.run(
        [str(REPO / "scripts" / "report-screenshot"), str(tmp_path / "report.html"), str(out), "800,600"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (800, 600)


def test_report_imports_no_spark(tmp_path):
    """The report (gold KPIs included) is read with delta-rs: no pyspark, no JVM."""
    import pyarrow as pa
    from deltalake import write_deltalake

    s = _settings(tmp_path)
    write_deltalake(
        s.table("gold.kpi_hourly").path,
        pa.table(
            {
                "event_hour": pa.array([datetime(2026, 11, 29, tzinfo=UTC)], pa.timestamp("us", tz="UTC")),
                "events": pa.array([1], pa.int64()),
            }
        ),
    )
    cfg = tmp_path / "lakectl.yaml"
    cfg.write_text(f"storage:\n  root: {tmp_path / 'lake'}\n")
    code = (
        "import sys\nfrom lakectl.cli.main import main\nsys.argv = ['lakectl', '--config', sys.argv[1], 'monitor', 'report', '--html', sys.argv[2]]\n"
        "try:\n    main()\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pyspark', 'py4j')), file=sys.stderr)"
    )
    res = subprocess.run(
        [sys.executable, "-c", code, str(cfg), str(tmp_path / "r.html")],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert res.returncode == 0 and res.stderr.strip().splitlines()[-1] == "[]", res.stderr
    assert "Latest hour: 2026-11-29 00:00 UTC" in (tmp_path / "r.html").read_text()
