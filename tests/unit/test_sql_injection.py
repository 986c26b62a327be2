"""Hostile identifiers from config or flags cannot escape their quotes in the SQL lakectl builds (no JVM)."""

from __future__ import annotations

import pytest

from lakectl.core import sql

HOSTILE = "x`; DROP TABLE y; --"


def test_hostile_column_stays_one_identifier_in_every_builder():
    ref = sql.path_ref("/lake/t")
    quoted = "`x``; DROP TABLE y; --`"
    assert sql.optimize_sql(ref, zorder_by=[HOSTILE]) == f"OPTIMIZE delta.`/lake/t` ZORDER BY ({quoted})"
    assert sql.cluster_by_sql(ref, [HOSTILE, "b"]) == f"ALTER TABLE delta.`/lake/t` CLUSTER BY ({quoted}, `b`)"
    assert sql.bloom_filter_sql(ref, [HOSTILE]) == (
        f"CREATE BLOOMFILTER INDEX ON TABLE delta.`/lake/t` FOR COLUMNS({quoted} OPTIONS (fpp=0.1, numItems=50000000))"
    )


def test_hostile_table_names_and_paths_are_quoted():
    assert sql.quote_name("main", HOSTILE, "events") == "`main`.`x``; DROP TABLE y; --`.`events`"
    assert sql.path_ref("/lake/" + HOSTILE) == "delta.`/lake/x``; DROP TABLE y; --`"
    assert sql.vacuum_sql(sql.path_ref("/t`x"), retain_hours=1, dry_run=True) == "VACUUM delta.`/t``x` RETAIN 1 HOURS DRY RUN"


def test_hostile_property_keys_and_values_are_string_literals():
    text = sql.set_properties_sql("delta.`/t`", {"k') ; DROP TABLE y; --": "v' OR '1'='1"})
    assert text == "ALTER TABLE delta.`/t` SET TBLPROPERTIES ('k\\') ; DROP TABLE y; --' = 'v\\' OR \\'1\\'=\\'1')"


def test_retain_hours_must_be_a_number():
    with pytest.raises((TypeError, ValueError)):
        sql.vacuum_sql("delta.`/t`", retain_hours="1; DROP TABLE y")  # type: ignore[arg-type]


def test_bloom_filter_sql_for_the_policy_columns():
    from lakectl.maintenance.properties import bloom_filter_statement

    assert bloom_filter_statement("`main`.`silver`.`events`", ["customer_id", "session_id"]) == (
        "CREATE BLOOMFILTER INDEX ON TABLE `main`.`silver`.`events` FOR COLUMNS("
        "`customer_id` OPTIONS (fpp=0.1, numItems=50000000), `session_id` OPTIONS (fpp=0.1, numItems=50000000))"
    )
    assert bloom_filter_statement("`t`", []) is None


def test_retention_parsing_and_guard():
    from lakectl.core.errors import UsageError
    from lakectl.maintenance import vacuum

    assert vacuum.parse_hours("168h") == 168
    assert vacuum.parse_hours("7d") == 168
    assert vacuum.parse_hours("interval 2 days") == 48
    assert vacuum.parse_hours("30 minutes") == 0.5
    assert vacuum.table_retention_hours({}) == 168
    assert vacuum.table_retention_hours({"delta.deletedFileRetentionDuration": "interval 1 hours"}) == 1
    with pytest.raises(UsageError):
        vacuum.parse_hours("a week")
    with pytest.raises(UsageError) as err:
        vacuum.check_retention(1, {}, force=False, table="silver.events")
    assert err.value.exit_code == 2 and "--force" in err.value.hint
    assert "FORCED" in vacuum.check_retention(1, {}, force=True, table="silver.events")
    assert vacuum.check_retention(2, {"delta.deletedFileRetentionDuration": "interval 1 hours"}, force=False, table="t") is None


def test_conflict_retry_backs_off_and_reports():
    from lakectl.maintenance.compaction import Attempts, with_retries

    class ConcurrentAppendException(Exception):
        pass

    calls, sleeps = [], []

    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise ConcurrentAppendException("[DELTA_CONCURRENT_APPEND] files were added by a concurrent update")
        return "done"

    attempts = Attempts()
    assert with_retries(flaky, attempts, max_attempts=5, backoff_s=0.5, sleep=sleeps.append) == "done"
    assert attempts.retries == 2 and sleeps == [0.5, 1.0]
    with pytest.raises(ValueError):
        with_retries(lambda: (_ for _ in ()).throw(ValueError("not a conflict")), Attempts(), sleep=sleeps.append)


def test_days_predicate_names_exactly_the_days():
    from datetime import date

    from lakectl.core.sql import days_predicate_sql

    days = [date(2026, 3, 1), date(2026, 3, 4)]
    assert days_predicate_sql("event_date", days, hourly=False) == "`event_date` IN (DATE'2026-03-01', DATE'2026-03-04')"
    # one range per day: a single min..max range would also replace the untouched days between them
    assert days_predicate_sql("event`hour", days, hourly=True) == (
        "(`event``hour` >= TIMESTAMP'2026-03-01 00:00:00' AND `event``hour` < TIMESTAMP'2026-03-02 00:00:00')"
        " OR (`event``hour` >= TIMESTAMP'2026-03-04 00:00:00' AND `event``hour` < TIMESTAMP'2026-03-05 00:00:00')"
    )
