"""Every command's table output at 80 and 120 columns (issue 31, item 1): no line wider than the terminal,
no value cut (no ellipsis) and no word split over two lines; what does not fit is left out with a footer
naming it and `-o wide`, or the rows become vertical records.

Commands are found by rule: every leaf command of the CLI is rendered, through its registered presenter
(lakectl.cli.presenters) when it has one, else through the generic renderer. A presenter needs a sample
Result here (the test says so when one is missing); a command without one gets a generic Result shaped
like a job's (figures, tables written, one record per table)."""

from __future__ import annotations

from typing import Any

import pytest

from lakectl.core.results import Result

WIDTHS = (80, 120)


def _leaf_commands() -> list[str]:
    import typer

    from lakectl.cli.app import build

    def walk(cmd: Any, path: list[str]) -> list[str]:
        subs = getattr(cmd, "commands", None)
        if not subs:
            return [" ".join(path)]
        return [p for name, sub in sorted(subs.items()) for p in walk(sub, [*path, name])]

    return walk(typer.main.get_command(build()), [])


def _runs() -> Result:
    def row(i: int, command: str, status: str, error: str | None) -> dict[str, Any]:
        return {
            "run_id": f"7f3c9a2e4b{i:02d}",
            "parent_run_id": None,
            "command": command,
            "status": status,
            "started_at": f"2026-12-0{i + 1}T14:03:22+00:00",
            "ended_at": f"2026-12-0{i + 1}T14:05:40+00:00",
            "duration_s": 138.4 + i,
            "rows_in": 1_234_567 * (i + 1),
            "rows_out": 1_230_001 * (i + 1),
            "rows_quarantined": 12,
            "tables_read": ["bronze.events"],
            "tables_written": ["silver.events"],
            "error": error,
        }

    details = [
        row(0, "aggregate", "ok", None),
        row(1, "transform", "failed", "silver.events: schema drift: column discount_code is new; pass --schema-drift add"),
        row(2, "ingest", "interrupted", None),
    ]
    return Result(job="monitor runs", details=details, metrics={"matched": 3, "shown": 3})


def _tables() -> Result:
    from lakectl.monitor.tables import TableHealth

    names = ["bronze.events", "silver.events", "silver.customers_scd2", "gold.kpi_hourly", "gold.revenue_by_country_daily"]
    health = [
        TableHealth(
            table=n,
            path=f"/lake/{n}",
            status="ok",
            version=1234 + i,
            last_write=f"2026-12-07T1{i}:03:22.123Z",
            freshness_minutes=37.5 * (i + 1),
            freshness_sla_minutes=60.0,
            rows=12_345_678 * (i + 1),
            files=1_234,
            small_files=321,
            small_file_ratio=0.26,
            bytes=5 * 1024**3,
            last_operations=[{"version": 1234, "operation": "MERGE"}, {"version": 1233, "operation": "OPTIMIZE"}],
        )
        for i, n in enumerate(names)
    ]
    health.append(TableHealth(table="ops.stream_progress", path="/lake/ops", status="missing"))
    return Result(job="monitor tables", details=[h.to_dict() for h in health], metrics={"tables": 6, "present": 5, "missing": 1})


def _streams() -> Result:
    from lakectl.monitor.streams import StreamHealth

    streams = [
        StreamHealth(
            stream="kafka:lakectl.events.eu-west",
            checkpoint="/lake/_checkpoints/kafka-events",
            state="running",
            last_batch_id=123_456,
            last_batch_time="2026-12-07T14:03:22.123Z",
            input_rows_per_second=23_456.7,
            processed_rows_per_second=34_567.0,
            batch_duration_ms=45_678,
            backlog_records=1_234_567,
        ),
        StreamHealth(stream="files:landing/events", checkpoint="/lake/_checkpoints/files", state="never-run", backlog_files=12_345),
    ]
    return Result(job="monitor streams", details=[s.to_dict() for s in streams], metrics={"streams": 2, "running": 1})


def _quality() -> Result:
    from lakectl.monitor.quality import RuleQuality

    rules = [
        RuleQuality(
            table="silver.events",
            rule=rule,
            action=action,
            runs=1_234,
            rows_checked=12_345_678,
            rows_failed=123_456,
            last_pass_rate=0.98345,
            min_pass_rate=0.91234,
            last_recorded_at="2026-12-07T14:03:22Z",
        )
        for rule, action in (("known_customer_id", "quarantine"), ("rating_between_1_and_5", "warn"), ("country_iso2", "drop"))
    ]
    quarantine = [
        {
            "table": "quarantine.silver_events",
            "status": "ok",
            "rows": 1_234_567,
            "per_day": [{"day": f"2026-12-0{d}", "rows_added": 12_345 * d} for d in range(1, 8)],
        }
    ]
    replays = [
        {
            "run_id": "4d2e9b7a0c15",
            "started_at": "2026-12-07T15:10:00+00:00",
            "layer": "silver",
            "rule": "price_range",
            "replayed": 123_456,
            "moved": 120_001,
            "still_failing": 3_455,
        }
    ]
    return Result(
        job="monitor quality", details=[r.to_dict() for r in rules], metrics={"rules": 3, "quarantine": quarantine, "replays": replays}
    )


def _check() -> Result:
    from lakectl.monitor.sla import Check

    checks = [
        Check(
            "freshness:silver.customers_scd2",
            "silver.customers_scd2",
            "freshness",
            "breach",
            245.0,
            60.0,
            "last write 4 h 05 min ago (SLA 1 h)",
        ),
        Check(
            "max_lag_records:bronze.events",
            "bronze.events",
            "max_lag_records",
            "pass",
            12.0,
            10_000.0,
            "stream kafka:events: 12 records behind",
        ),
        Check("grants_drift:lakehouse", "lakehouse", "grants_drift", "skipped", None, 0.0, "no grant policy configured (grant.policy)"),
    ]
    alerts = {"alerted": ["a1"], "suppressed": [], "resolved": [], "channels": {"webhook": True, "email": False}, "errors": []}
    return Result(
        job="monitor check",
        status="breach",
        details=[c.to_dict() for c in checks],
        metrics={"checks": 3, "breaches": 1, "skipped": 1, "alerts": alerts},
    )


def _models() -> Result:
    from lakectl.monitor.model_health import DayFigures, VersionFigures

    def version(n: str, psi: float | None) -> dict[str, Any]:
        days = {
            f"2026-12-0{d}": DayFigures(
                day=f"2026-12-0{d}",
                rows=123_456,
                score_sum=61_728.0,
                positive=81_234,
                rated_rows=98_765,
                agreeing_rows=97_123,
                histogram=[12, 40, 80, 200, 400, 900, 1500, 3000, 6000, 9000],
            )
            for d in (5, 6, 7)
        }
        return VersionFigures(
            model_name="sentiment-distilbert-multilingual", model_version=n, days=days, psi=psi, aliases=["champion"]
        ).to_dict()

    return Result(
        job="monitor models",
        details=[version("12", 0.0123), version("13", 0.31)],
        metrics={"since": "2026-11-30T14:03:22+00:00", "versions": 2, "rows": 740_736, "days": 7},
    )


def _report() -> Result:
    metrics = {
        "html": None,
        "checks": {
            "total": 9,
            "breaches": [{"name": "freshness:silver.customers_scd2", "message": "last write 4 h 05 min ago (SLA 1 h)"}],
            "passed": 7,
            "skipped": 1,
        },
        "tables": {
            "present": 9,
            "missing": ["ops.stream_progress"],
            "unreadable": [],
            "late": ["silver.customers_scd2"],
            "rows": 123_456_789,
            "bytes": 5 * 1024**3,
        },
        "streams": {"total": 2, "running": ["kafka:lakectl.events"], "never_run": [], "backlog": {"kafka:lakectl.events": 1_234_567}},
        "quality": {
            "rules": 6,
            "lowest": {"table": "silver.events", "rule": "known_customer_id", "pass_rate": 0.9123, "rows_failed": 123_456},
            "below": [],
        },
        "runs": {
            "recent": 50,
            "failed": [{"run_id": "7f3c9a2e4b01", "command": "transform", "status": "failed", "error": "silver.events: schema drift"}],
            "failed_count": 1,
        },
    }
    return Result(job="monitor report", metrics=metrics)


def _grant_show() -> Result:
    details = [
        {"principal": "data-engineers@example.com", "privilege": "MODIFY", "inherited_from": "catalog lakehouse"},
        {"principal": "analysts", "privilege": "SELECT", "inherited_from": "schema lakehouse.gold"},
        {"principal": "svc-lakectl-ingest-prod", "privilege": "ALL_PRIVILEGES", "inherited_from": None},
    ]
    return Result(job="grant show", details=details, metrics={"securable": "lakehouse.gold.revenue_by_country_daily", "owner": "admins"})


def _grant_plan(job: str = "grant plan") -> Result:
    change = {
        "action": "grant",
        "privilege": "SELECT",
        "securable_type": "table",
        "securable": "lakehouse.gold.revenue_by_country_daily",
        "principal": "analysts-europe",
    }
    metrics = {
        "policy": "configs/grants.yaml",
        "server": "http://127.0.0.1:8080",
        "securables": 12,
        "changes": [change, {**change, "action": "revoke", "principal": "interns"}],
        "kept": [],
        "self_lockout": [],
        "notes": [],
        "unsupported": [],
        "to_add": 1,
        "to_revoke": 1,
        "unchanged": 1_234,
    }
    return Result(job=job, status="changes", metrics=metrics)


def _grant_drift() -> Result:
    grant = {"principal": "analysts-europe", "privilege": "SELECT", "securable_type": "table", "securable": "lakehouse.gold.kpi_hourly"}
    return Result(
        job="grant drift",
        status="changes",
        metrics={"out_of_policy": [grant], "missing": [grant], "unchanged": 1_234, "securables": 12},
    )


def _grant_export() -> Result:
    return Result(
        job="grant export", metrics={"out": None, "securables": 3, "principals": 2, "policy_yaml": "grants:\n- securable: lakehouse\n"}
    )


def _grant_register() -> Result:
    details = [{"action": "created", "table": "lakehouse.gold.kpi_hourly", "location": "file:///lake/gold/kpi_hourly", "detail": ""}]
    metrics = {"created": 1, "would_create": 0, "exists": 3, "missing": 1, "conflict": 0, "failed": 0}
    return Result(job="grant register", details=details, metrics=metrics)


def _lineage() -> Result:
    last = {"job": "transform", "run_id": "7f3c9a2e4b01", "at": "2026-12-07T14:03:22+00:00"}
    tables = [
        {"table": "/srv/lake/landing/events", "distance": -3, "last_write": None},
        {"table": "bronze.events", "distance": -2, "last_write": {**last, "job": "ingest"}},
        {"table": "silver.events", "distance": -1, "last_write": last},
        {"table": "gold.revenue_by_country_daily", "distance": 0, "last_write": {**last, "job": "aggregate"}},
    ]
    edges = [
        {"from": "/srv/lake/landing/events", "to": "bronze.events", "job": "ingest"},
        {"from": "bronze.events", "to": "silver.events", "job": "transform"},
        {"from": "silver.events", "to": "gold.revenue_by_country_daily", "job": "aggregate"},
    ]
    columns = [
        {
            "column": "revenue",
            "sources": [{"table": "silver.events", "column": "price"}, {"table": "silver.events", "column": "quantity"}],
            "origins": [{"table": "bronze.events", "column": "payload_price"}, {"table": "bronze.events", "column": "payload_quantity"}],
        }
    ]
    metrics = {"table": "gold.revenue_by_country_daily", "direction": "upstream", "source": "recorded", "tables": tables}
    return Result(job="lineage", metrics={**metrics, "edges": edges, "columns": columns, "events": 8})


# A presenter's sample, by the Result.job it presents, and the values that must show whole at any width.
SAMPLES: dict[str, tuple[Any, list[str]]] = {
    "monitor runs": (_runs, ["7f3c9a2e4b01", "transform", "interrupted", "aggregate"]),
    "monitor tables": (_tables, ["gold.revenue_by_country_daily", "silver.customers_scd2", "24,691,356", "5.0 GiB"]),
    "monitor streams": (_streams, ["kafka:lakectl.events.eu-west", "1,234,567 records", "never-run"]),
    "monitor quality": (_quality, ["rating_between_1_and_5", "98.3%", "123,456", "quarantine.silver_events", "4d2e9b7a0c15", "120,001"]),
    "monitor check": (_check, ["freshness:silver.customers_scd2", "BREACH", "max_lag_records:bronze.events"]),
    "monitor models": (_models, ["sentiment-distilbert-multilingual/12", "370,368", "98.3%", "0.310"]),
    "monitor report": (_report, ["freshness:silver.customers_scd2", "silver.customers_scd2", "91.2%"]),
    "grant show": (_grant_show, ["data-engineers@example.com", "ALL_PRIVILEGES", "svc-lakectl-ingest-prod"]),
    "grant plan": (_grant_plan, ["lakehouse.gold.revenue_by_country_daily", "analysts-europe"]),
    "grant apply": (lambda: _grant_plan("grant apply"), ["lakehouse.gold.revenue_by_country_daily"]),
    "grant drift": (_grant_drift, ["lakehouse.gold.kpi_hourly", "analysts-europe"]),
    "grant export": (_grant_export, []),
    "grant register": (_grant_register, ["lakehouse.gold.kpi_hourly"]),
    "lineage": (_lineage, ["gold.revenue_by_country_daily", "silver.events", "bronze.events.payload_quantity"]),
}


def _generic(job: str) -> tuple[Result, list[str]]:
    """A Result shaped like a job's: figures, tables written and one record per table."""
    details = [
        {
            "table": t,
            "version": 12_345,
            "rows_written": 12_345_678,
            "rows_quarantined": 1_234,
            "files_before": 23_456,
            "files_after": 12,
            "bytes_after": 5 * 1024**3,
            "duration_s": 138.4,
            "zorder_by": "customer_id, event_date",
        }
        for t in ("silver.customers_scd2", "gold.revenue_by_country_daily")
    ]
    result = Result(
        job=job,
        rows_read=12_345_678,
        rows_written=12_345_001,
        tables_read=["bronze.events"],
        tables_written=["silver.events", "silver.customers_scd2", "gold.revenue_by_country_daily"],
        details=details,
        metrics={"files_written": 12_345, "bytes_written": 3 * 1024**3, "run_id": "7f3c9a2e4b01"},
    )
    return result, ["gold.revenue_by_country_daily", "silver.customers_scd2", "12,345,678", "7f3c9a2e4b01"]


def _query() -> tuple[Result, list[str]]:
    columns = ["event_hour", "customer_id", "country", "channel", "orders", "revenue", "avg_order_value", "conversion", "table"]
    rows = [
        ["2026-12-07 14:00:00", f"C0001234{i}", "DE", "mobile-app", 98_765, 5_091_234.5, 51.55, 0.0312, "gold.kpi_hourly"] for i in range(3)
    ]
    return Result(job="query", metrics={"columns": columns, "rows": rows}), ["C00012341", "5,091,234.50", "gold.kpi_hourly", "98,765"]


def _cases() -> list[tuple[str, Result, list[str]]]:
    from lakectl.cli import presenters

    cases = []
    for path in _leaf_commands():
        job = "model" if path.startswith("model ") else path
        if job in presenters.PRESENTERS:
            make, needles = SAMPLES[job]
            cases.append((path, make(), needles))
        elif job == "query":
            cases.append((path, *_query()))
        else:
            cases.append((path, *_generic(job)))
    return cases


def test_every_presenter_has_a_sample():
    from lakectl.cli import presenters

    _leaf_commands()  # imports every command module: their presenters register
    missing = sorted(set(presenters.PRESENTERS) - set(SAMPLES))
    assert not missing, f"add a sample Result to SAMPLES in {__file__} for: {missing}"


def _render(result: Result, width: int, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> list[str]:
    from lakectl.cli.presenters import show

    monkeypatch.setenv("COLUMNS", str(width))
    monkeypatch.setenv("NO_COLOR", "1")
    show(result, "table")
    captured = capsys.readouterr()
    return (captured.out + captured.err).splitlines()


@pytest.mark.parametrize("width", WIDTHS)
def test_every_commands_table_output_fits_without_cutting_or_splitting(width, monkeypatch, capsys):
    failures = []
    for path, result, needles in _cases():
        lines = _render(result, width, monkeypatch, capsys)
        text = "\n".join(lines)
        too_wide = [ln for ln in lines if len(ln) > width]
        if too_wide:
            failures.append(f"{path}: {len(too_wide)} line(s) wider than {width}: {too_wide[0]!r}")
        if "…" in text:
            failures.append(f"{path}: a value cut with an ellipsis at {width} columns")
        left_out = [ln for ln in lines if "left out:" in ln]
        for needle in needles:
            if not any(needle in ln for ln in lines) and not left_out:
                failures.append(f"{path}: {needle!r} cut or split at {width} columns:\n{text}")
        if left_out and not all("-o wide" in ln for ln in left_out):
            failures.append(f"{path}: the footer does not say -o wide shows what was left out")
    assert not failures, "\n".join(failures)


def test_a_table_too_wide_for_its_essential_columns_becomes_vertical_records(monkeypatch, capsys):
    result, needles = _query()
    lines = _render(result, 80, monkeypatch, capsys)
    assert any(ln.startswith("-[ 1 ]") for ln in lines) and any(ln.startswith("-[ 3 ]") for ln in lines)
    assert any("-o wide" in ln for ln in lines)
    record = lines[lines.index(next(ln for ln in lines if ln.startswith("-[ 1 ]"))) + 1 :]
    assert record[0].split() == ["event_hour", "2026-12-07", "14:00:00"]  # name, then the whole value
    lines = _render(result, 200, monkeypatch, capsys)  # room enough: one line per row
    assert sum("gold.kpi_hourly" in ln for ln in lines) == 3 and not any(ln.startswith("-[") for ln in lines)


def test_low_value_columns_are_left_out_first_and_the_footer_says_so(monkeypatch, capsys):
    lines = _render(_runs(), 80, monkeypatch, capsys)
    footer = next(ln for ln in lines if "left out:" in ln)
    assert "-o wide" in footer and "took" in footer  # the run's duration goes first
    row = next(ln for ln in lines if "7f3c9a2e4b01" in ln)
    assert "transform" in row and "failed" in row and "12-02 14:03" in row  # essentials on one line, the time shortened
    assert any("--schema-drift" in ln.split() for ln in lines)  # the error wraps between words, never inside one
    lines = _render(_runs(), 120, monkeypatch, capsys)
    assert not any("left out:" in ln for ln in lines) and any("2 min 19 s" in ln for ln in lines)  # wider: all of it


def test_wide_output_keeps_every_column(capsys):
    from lakectl.cli.presenters import show

    show(_runs(), "wide")
    out = capsys.readouterr().out
    assert "left out" not in out and "pass --schema-drift add" in out and "2026-12-02 14:03:22" in out


def test_monitor_report_without_html_prints_the_headlines(tmp_path, monkeypatch, capsys):
    """Item 5: `monitor report` with no --html is a terminal summary, breaches first (it was an error)."""
    from lakectl.config import settings_from_dict
    from lakectl.engine.context import JobContext
    from lakectl.jobs import run_job

    s = settings_from_dict(
        {"storage": {"root": str(tmp_path / "lake")}, "tables": {"silver.events": {"sla": {"freshness_minutes": 60}}}}, "<t>"
    )
    result = run_job(JobContext(settings=s), "monitor", {"action": "report"})
    assert result.metrics["html"] is None and result.metrics["tables"]["missing"]
    assert [b["name"] for b in result.metrics["checks"]["breaches"]] == ["freshness:silver.events"]
    lines = _render(result, 80, monkeypatch, capsys)
    assert lines[0].startswith("1 SLA breach(es)") and "freshness:silver.events" in lines[1]
    assert any(ln.startswith("tables") and "not written yet" in ln for ln in lines)
    assert "--html FILE" in lines[-1]


def test_monitor_runs_says_when_its_filters_match_nothing(capsys):
    from lakectl.cli.presenters import show

    _leaf_commands()  # the command modules register their presenters on import

    show(Result(job="monitor runs", metrics={"matched": 0, "shown": 0, "filtered": True}), "table")
    assert capsys.readouterr().out.strip() == "no runs recorded that match the filters (ops.runs)"
    show(Result(job="monitor runs", metrics={"matched": 0, "shown": 0, "filtered": False}), "table")
    assert capsys.readouterr().out.strip() == "no runs recorded (ops.runs)"
