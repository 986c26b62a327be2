"""What the run ledger records (issue 31, item 11): bad input (exit 2) is not a failed run, and read-only
`model list` / `model show` stay out of it as the docs say; a model promotion and a real failure are in."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from lakectl.cli.app import build
from lakectl.config import settings_from_dict
from lakectl.engine.context import JobContext
from lakectl.lake.deltars import read_rows
from lakectl.monitor import ledger


def _runs(settings) -> list[dict]:  # noqa: ANN001
    path = Path(settings.table("ops.runs").path)
    return read_rows(str(path)) if (path / "_delta_log").exists() else []


def test_a_typo_is_exit_2_and_no_failed_run(tmp_path):
    import pyarrow as pa
    from deltalake import write_deltalake

    root = tmp_path / "lake"
    write_deltalake(str(root / "tables" / "silver" / "events"), pa.table({"event_id": ["a"]}))
    config = tmp_path / "lakectl.yaml"
    config.write_text(f"storage:\n  root: {root}\n")
    result = CliRunner().invoke(build(), ["--config", str(config), "optimize", "silver.evnts"], env={"COLUMNS": "200"})
    assert result.exit_code == 2 and "silver.events" in result.output  # did you mean
    settings = settings_from_dict({"storage": {"root": str(root)}})
    assert _runs(settings) == []
    ctx = JobContext(settings=settings)
    with pytest.raises(OSError), ledger.recording(ctx, "optimize", {"tables": ["silver.events"]}):
        raise OSError("disk full")  # a real failure is still recorded
    assert [(r["command"], r["status"]) for r in _runs(settings)] == [("optimize", "failed")]


def test_model_list_and_show_are_not_recorded_but_promote_is(tmp_path):
    settings = settings_from_dict({"storage": {"root": str(tmp_path / "lake")}})
    for action in ("list", "show"):
        with ledger.recording(JobContext(settings=settings), "model", {"action": action}):
            pass
    assert _runs(settings) == []
    with ledger.recording(JobContext(settings=settings), "model", {"action": "promote", "name": "sentiment", "version": "3"}):
        pass
    assert [(r["command"], r["status"]) for r in _runs(settings)] == [("model", "ok")]


def test_an_interrupted_run_records_what_it_committed(tmp_path):
    """An interrupted continuous run's row had empty rows and `tables written: []` although rows were committed;
    the job attaches its committed figures to the Interrupted it raises, and the ledger records them."""
    from lakectl.core.errors import Interrupted
    from lakectl.core.results import Result

    settings = settings_from_dict({"storage": {"root": str(tmp_path / "lake")}})
    stop = Interrupted("stopped by SIGINT after 3 batch(es) with data, 59,997 rows")
    stop.result = Result(job="ingest", status="interrupted", rows_read=59_997, rows_written=59_997, tables_written=["bronze.events"])
    with pytest.raises(Interrupted), ledger.recording(JobContext(settings=settings), "ingest", {"continuous": True}):
        raise stop
    [row] = _runs(settings)
    assert row["status"] == "interrupted" and row["rows_out"] == 59_997 and row["tables_written"] == ["bronze.events"]
