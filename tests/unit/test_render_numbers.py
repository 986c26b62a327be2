"""Numbers for people (issue 18, section 3): thousands separators on every count, bytes in
KiB/MiB/GiB, money with two decimals, identifiers as they are; JSON keeps the raw numbers."""

from __future__ import annotations

import json

import pytest

from lakectl.cli.render import render_result
from lakectl.core.formatting import fmt_value, human_bytes
from lakectl.core.results import Result


def _squash(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(autouse=True)
def _wide_enough(monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # one line per row: the assertions read whole rows


def test_fmt_value_reads_the_key():
    assert fmt_value(12_345) == "12,345"
    assert fmt_value(1234.5678) == "1,234.568"
    assert fmt_value(3 * 1024**3, "bytes") == "3.0 GiB" and fmt_value(1536, "size_bytes") == "1.5 KiB"
    assert fmt_value(1234567.891, "revenue") == "1,234,567.89" and fmt_value(12, "avg_price") == "12.00"
    assert fmt_value(20261, "version") == "20261" and fmt_value(123456, "batch_id") == "123456"
    assert fmt_value(42_000, "seed") == "42000" and fmt_value(9092, "port") == "9092"
    assert fmt_value({"rows": 12_345, "bytes": 2048}) == "rows=12,345, bytes=2.0 KiB"
    from decimal import Decimal

    assert fmt_value(Decimal("1234567.5"), "revenue") == "1,234,567.50" and fmt_value(Decimal("12345.125")) == "12,345.125"
    assert human_bytes(999) == "999 B" and human_bytes(5 * 1024**2) == "5.0 MiB"


def test_a_job_summary_separates_thousands_and_humanises_bytes(capsys):
    result = Result(
        job="aggregate",
        rows_read=1_234_567,
        rows_written=45_678,
        tables_written=["gold.kpi_hourly"],
        metrics={
            "files_written": 12_345,
            "bytes_written": 3 * 1024**3,
            "run_id": "ab12",
            "kpi": {"day": "2026-11-29", "revenue": 1234567.891, "orders": 23_456},
        },
    )
    render_result(result)
    out = _squash(capsys.readouterr().out)
    assert "rows read 1,234,567" in out and "rows written 45,678" in out
    assert "files written 12,345" in out and "bytes written 3.0 GiB" in out
    assert "revenue=1,234,567.89" in out and "orders=23,456" in out


def test_per_table_details_are_one_table_with_separators(capsys):
    details = [
        {"table": "silver.events", "version": 12_345, "files_before": 23_456, "files_after": 12, "bytes_after": 5 * 1024**2},
        {"table": "gold.kpi_hourly", "version": 3, "files_before": 1_000, "files_after": 1, "bytes_after": 2048},
    ]
    render_result(Result(job="optimize", details=details))
    out = capsys.readouterr().out
    row = next(ln for ln in out.splitlines() if "silver.events" in ln)
    assert "23,456" in row and "5.0 MiB" in row and "12345" in row  # a version is an identifier: no separator
    assert "1,000" in next(ln for ln in out.splitlines() if "gold.kpi_hourly" in ln)


def test_a_query_shows_separated_numbers_and_money(capsys):
    render_result(
        Result(job="query", metrics={"columns": ["event_hour", "events", "revenue"], "rows": [["2026-11-29 10:00", 98_765, 43210.5]]})
    )
    out = capsys.readouterr().out
    assert "98,765" in out and "43,210.50" in out


def test_json_keeps_raw_numbers(capsys):
    result = Result(
        job="aggregate",
        rows_read=1_234_567,
        metrics={"bytes_written": 3 * 1024**3, "revenue": 1234567.891},
        details=[{"table": "gold.kpi_hourly", "files": 12_345}],
    )
    render_result(result, fmt="json")
    doc = json.loads(capsys.readouterr().out)
    assert doc["rows_read"] == 1_234_567 and doc["bytes_written"] == 3 * 1024**3 and doc["revenue"] == 1234567.891
    assert doc["details"][0]["files"] == 12_345


def test_monitor_views_separate_thousands(capsys):
    from lakectl.cli.commands.monitor import _render_report, _render_streams
    from lakectl.monitor.streams import StreamHealth

    stream = StreamHealth(
        stream="kafka:events",
        checkpoint="/c",
        state="running",
        last_batch_id=12_345,
        input_rows_per_second=23_456.7,
        processed_rows_per_second=34_567.0,
        batch_duration_ms=45_678,
        backlog_records=1_234_567,
    )
    _render_streams(Result(job="monitor streams", details=[stream.to_dict()]), "table")
    row = next(ln for ln in capsys.readouterr().out.splitlines() if "kafka:events" in ln)
    # rates per second, the batch's time as a duration, the backlog with its unit; the batch id as an identifier
    assert all(s in row for s in ("23,457/s", "34,567/s", "45.7 s", "1,234,567 records")) and "12345" in row
    _render_report(Result(job="monitor report", metrics={"html": "r.html", "bytes": 123_456}), "table")
    assert capsys.readouterr().out.strip() == "wrote r.html (120.6 KiB)"


def test_sla_messages_separate_thousands():
    from lakectl.monitor.sla import _lag, _small_files
    from lakectl.monitor.streams import StreamHealth
    from lakectl.monitor.tables import TableHealth

    [lag] = _lag("bronze.events", [StreamHealth(stream="kafka:events", checkpoint="/c", backlog_records=1_234_567)], 10_000)
    assert lag.message == "stream kafka:events: 1,234,567 records behind (SLA <= 10,000)"
    small = _small_files(
        "silver.events",
        TableHealth(table="silver.events", path="/p", status="ok", files=12_345, small_files=2_345, small_file_ratio=0.19),
        0.1,
    )
    assert "2,345 of 12,345 files are small" in small.message
