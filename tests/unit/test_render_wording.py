"""The human rendering of a Result: a dry run speaks in the conditional and shows no after-figures."""

from __future__ import annotations

from lakectl.cli.render import render_result
from lakectl.core.results import Result


def _text(result: Result, capsys) -> str:
    render_result(result, as_json=False)
    return capsys.readouterr().out


def test_a_dry_run_says_would_and_shows_no_zero_rows_written(capsys):
    out = _text(
        Result(
            job="transform",
            dry_run=True,
            rows_read=12_345,
            tables_read=["bronze.events"],
            tables_written=["silver.events", "silver.quarantine"],
        ),
        capsys,
    )
    assert "transform (dry run)" in out
    assert "would write" in out and "silver.events, silver.quarantine" in out and "would read" in out
    assert "rows to read" in out and "12,345" in out
    assert "wrote" not in out and "rows written" not in out


def test_a_real_run_says_what_it_did(capsys):
    out = _text(Result(job="transform", rows_read=1_000_000, rows_written=0, tables_written=["silver.events"]), capsys)
    assert "wrote" in out and "rows written" in out and "1,000,000" in out and "would" not in out


def test_a_pipeline_summary_names_what_each_layer_got(capsys):
    from lakectl.jobs.run_plan import rows_by_layer

    details = [
        {"job": "ingest", "rows_written": 29_700},
        {"job": "transform", "rows_written": 29_500},
        {"job": "aggregate", "rows_written": 696},
    ]
    out = _text(Result(job="run", rows_read=30_000, rows_written=696, metrics={"rows_written_by_layer": rows_by_layer(details)}), capsys)
    assert "rows written by layer bronze=29,700, silver=29,500, gold=696" in " ".join(out.split())
    assert "rows written 696" not in " ".join(out.split())  # not one figure that reads as if 696 events survived


def test_per_rule_metrics_render_as_the_same_table_standalone_and_in_a_pipeline(capsys):
    rules = [
        {"rule": "known_customer", "action": "drop", "rows_checked": 12_000, "rows_failed": 1_234},
        {"rule": "positive_amount", "action": "quarantine", "rows_checked": 12_000, "rows_failed": 7},
    ]
    standalone = _text(Result(job="transform", rows_written=10_000, metrics={"batches": 2, "rules": rules}), capsys)
    pipeline = _text(Result(job="run", details=[{"job": "transform", "rows_written": 10_000, "rules": rules}]), capsys)
    for out in (standalone, pipeline):
        assert "transform rules" in out  # the table's title
        header = next(line for line in out.splitlines() if "rows checked" in line)
        assert "rule" in header and "rows failed" in header
        row = next(line for line in out.splitlines() if "known_customer" in line)
        assert "1,234" in row and "12,000" in row and "=" not in row  # a table row, not a k=v wall
    assert "rule=known_customer" not in standalone


def test_stage_lines_read_durations_for_people(capsys):
    """Per-stage lines off a terminal (issue 31, item 2): '2 min 18 s', not '138.4s'."""
    from lakectl.cli.status import StageProgress

    progress = StageProgress()
    progress.event("transform", "start", None)
    progress.event("transform", "end", Result(job="transform", rows_written=12_345, duration_s=138.4))
    err = capsys.readouterr().err
    assert "lakectl: transform ok in 2 min 18 s, 12,345 rows written" in err
