"""replay's pure parts: --since parsing and the SQL that marks quarantine rows (no JVM)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lakectl.core import sql
from lakectl.core.errors import UsageError
from lakectl.pipeline.replay.marks import since_instant

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90m", NOW - timedelta(minutes=90)),
        ("6h", NOW - timedelta(hours=6)),
        (" 2d ", NOW - timedelta(days=2)),
        ("2026-12-01", datetime(2026, 12, 1, tzinfo=UTC)),  # no zone: UTC
        ("2026-12-01T08:00:00+02:00", datetime(2026, 12, 1, 6, tzinfo=UTC)),
        ("2026-12-01T08:00:00Z", datetime(2026, 12, 1, 8, tzinfo=UTC)),
    ],
)
def test_since_reads_spans_and_iso_times(text, expected):
    assert since_instant(text, now=NOW) == expected


def test_since_refuses_other_text_in_one_line():
    with pytest.raises(UsageError) as exc:
        since_instant("yesterday")
    assert "--since 'yesterday'" in exc.value.message and "2d" in exc.value.hint


def test_mark_merge_updates_only_changed_rows_and_never_inserts():
    text = sql.update_matched_sql("delta.`/q`", "`v`", ["event_id"], set_columns=["replay_status", "rules"], changed=["replay_status"])
    assert text == (
        "MERGE INTO delta.`/q` t USING `v` s ON t.`event_id` <=> s.`event_id` "
        "WHEN MATCHED AND (NOT (t.`replay_status` <=> s.`replay_status`)) "
        "THEN UPDATE SET t.`replay_status` = s.`replay_status`, t.`rules` = s.`rules`"
    )
    assert "INSERT" not in text


def test_add_columns_quotes_names_and_refuses_odd_types():
    assert sql.add_columns_sql("delta.`/q`", [("replay`x", "string"), ("at", "timestamp")]) == (
        "ALTER TABLE delta.`/q` ADD COLUMNS (`replay``x` string, `at` timestamp)"
    )
    with pytest.raises(ValueError):
        sql.add_columns_sql("delta.`/q`", [("c", "string); DROP TABLE x; --")])


def test_replay_with_no_quarantine_table_says_so_without_starting_spark(tmp_path):
    from lakectl.config import settings_from_dict
    from lakectl.engine.context import JobContext
    from lakectl.jobs import run_job

    ctx = JobContext(settings=settings_from_dict({"storage": {"root": str(tmp_path / "lake")}}, "<test>"))
    for layer in ("silver", "bronze"):
        result = run_job(ctx, "replay", {"layer": layer, "dry_run": True})
        assert (result.rows_read, result.tables_written) == (0, [])
        assert result.warnings == [f"{layer}.quarantine does not exist: nothing was quarantined, nothing to replay"]
    assert not ctx.has_spark
