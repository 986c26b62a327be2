"""End-to-end lag from the Delta logs alone: the newest event time a table reflects (bronze/silver from
their `event_time` statistics; gold from silver at the version aggregate folded in), `monitor tables`
reporting it, and `monitor check`'s `max_end_to_end_lag_seconds` SLA breaching (exit 7) once the
pipeline has stopped for longer than the limit."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from lakectl.cli.app import app
from lakectl.config import settings_from_dict
from lakectl.monitor.freshness import lag_seconds, newest_event


def _now() -> datetime:
    """Now, taken in the test: a module-level value dates from collection, minutes before a full suite gets here."""
    return datetime.now(UTC).replace(microsecond=0)


def _events(path: Path, times: list[datetime]) -> None:
    import pyarrow as pa
    from deltalake import write_deltalake

    table = pa.table({"event_id": [f"e{i}" for i in range(len(times))], "event_time": pa.array(times, pa.timestamp("us", tz="UTC"))})
    write_deltalake(str(path), table, mode="append")


def test_newest_event_of_silver_and_of_gold_at_the_silver_version_it_folded_in(tmp_path):
    NOW = _now()
    root = tmp_path / "lake"
    s = settings_from_dict({"storage": {"root": str(root)}}, "<test>")
    silver = Path(s.table("silver.events").path)
    _events(silver, [NOW - timedelta(minutes=30), NOW - timedelta(minutes=20)])  # version 0
    _events(silver, [NOW - timedelta(minutes=5)])  # version 1: not in gold yet
    assert newest_event(s, "silver.events") == NOW - timedelta(minutes=5)
    assert newest_event(s, "gold.kpi_hourly") is None  # no aggregate state: not known

    state = s.storage.checkpoints_dir / "aggregate" / "state.json"
    state.parent.mkdir(parents=True)
    state.write_text(json.dumps({"tables": {"gold.kpi_hourly": {"silver_version": 0, "scores_version": -1}}}))
    assert newest_event(s, "gold.kpi_hourly") == NOW - timedelta(minutes=20)
    assert 1190 <= lag_seconds(newest_event(s, "gold.kpi_hourly")) <= 1300


def test_check_breaches_max_end_to_end_lag_and_tables_report_it(tmp_path):
    NOW = _now()
    root = tmp_path / "lake"
    s = settings_from_dict({"storage": {"root": str(root)}}, "<test>")
    _events(Path(s.table("silver.events").path), [NOW - timedelta(minutes=10)])
    state = s.storage.checkpoints_dir / "aggregate" / "state.json"
    state.parent.mkdir(parents=True)
    state.write_text(json.dumps({"tables": {"gold.kpi_hourly": {"silver_version": 0}}}))
    cfg = tmp_path / "lakectl.yaml"

    def check(limit_s: int):
        cfg.write_text(f"storage:\n  root: {root}\ntables:\n  gold.kpi_hourly:\n    sla:\n      max_end_to_end_lag_seconds: {limit_s}\n")
        return CliRunner().invoke(app, ["--config", str(cfg), "monitor", "check", "--json", "--no-alert"])

    met = check(3600)
    assert met.exit_code == 0, met.output
    stopped = check(60)  # the stream has been stopped for ~10 minutes: later than the SLA allows
    assert stopped.exit_code == 7, stopped.output
    (breach,) = [c for c in json.loads(stopped.stdout)["details"] if c["status"] == "breach"]
    assert breach["name"] == "end_to_end_lag:gold.kpi_hourly" and 590 <= breach["value"] <= 700

    res = CliRunner().invoke(app, ["--config", str(cfg), "monitor", "tables", "--json"])
    assert res.exit_code == 0, res.output
    silver = next(t for t in json.loads(res.stdout)["details"] if t["table"] == "silver.events")
    assert silver["newest_event"] == (NOW - timedelta(minutes=10)).isoformat(timespec="seconds")
    assert 590 <= silver["end_to_end_lag_s"] <= 700


def test_report_draws_gold_lag_per_micro_batch():
    NOW = _now()
    from lakectl.monitor.report import lag_chart

    t0 = NOW - timedelta(minutes=5)
    progress = [
        {
            "stream": "aggregate",
            "num_input_rows": 10,
            "committed_at": t0 + timedelta(seconds=i * 10),
            "newest_event_time": t0 + timedelta(seconds=i * 10 - 3),
        }
        for i in range(4)
    ] + [{"stream": "files", "num_input_rows": 5, "committed_at": None, "newest_event_time": None}]
    svg = lag_chart(progress)
    assert "End-to-end lag" in svg and ">aggregate<" in svg and ">files<" not in svg
    assert "no stream has recorded event times yet" in lag_chart(progress[-1:])


def test_streams_report_the_lag_of_the_table_they_write(tmp_path):
    NOW = _now()
    from lakectl.monitor.streams import all_streams

    root = tmp_path / "lake"
    s = settings_from_dict({"storage": {"root": str(root)}}, "<test>")
    _events(Path(s.table("bronze.events").path), [NOW - timedelta(minutes=3)])
    checkpoint = s.storage.checkpoints_dir / "ingest" / "files"
    (checkpoint / "offsets").mkdir(parents=True)
    (checkpoint / "state.json").write_text(json.dumps({"app_id": "a", "identity": {"source": "files", "path": str(tmp_path / "landing")}}))
    (stream,) = all_streams(s)
    assert stream.writes == "bronze.events" and 170 <= stream.end_to_end_lag_s <= 280
