"""What a replay records on a quarantine row, and which rows a replay takes.

A replayed row gets `replay_status` (moved: it is in the next layer now; dropped: a drop rule discards it;
failing: it still fails, `rules`/`reason` then hold the new reason), `replay_run_id` and `replayed_at`.
Moved and dropped rows are final; failing rows stay candidates for the next replay. The columns are added
to a quarantine table on its first replay, so tables written before replay existed keep working.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from lakectl.config import TableHandle
from lakectl.core import sql
from lakectl.core.errors import UsageError
from lakectl.lake.delta import temp_view

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

STATUS, RUN_ID, AT = "replay_status", "replay_run_id", "replayed_at"
COLUMNS: tuple[tuple[str, str], ...] = ((STATUS, "string"), (RUN_ID, "string"), (AT, "timestamp"))
MOVED, DROPPED, FAILING = "moved", "dropped", "failing"
FINAL = (MOVED, DROPPED)

_AGO = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([mhd])\s*$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def since_instant(text: str, now: datetime | None = None) -> datetime:
    """--since: an ISO date or time (UTC unless it says otherwise), or a span back from now (90m, 6h, 2d)."""
    ago = _AGO.match(text)
    if ago:
        return (now or datetime.now(UTC)) - timedelta(**{_UNITS[ago.group(2)]: float(ago.group(1))})
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(
            f"--since {text!r} is neither a date/time nor a span", "write e.g. 2026-12-01, 2026-12-01T08:00:00Z, 90m, 6h or 2d"
        ) from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def with_mark_columns(df: DataFrame) -> DataFrame:
    """`df` with the replay columns as NULLs where the table has none yet (read-only: no ALTER)."""
    from pyspark.sql import functions as F

    for name, kind in COLUMNS:
        if name not in df.columns:
            df = df.withColumn(name, F.lit(None).cast(kind))
    return df


@dataclass(frozen=True)
class Selection:
    """Which quarantine rows a replay takes: not yet moved or dropped, failing `rule` if given, newer than `since`."""

    rule: str | None = None
    since: datetime | None = None

    def apply(self, quarantine: DataFrame, rules: Column, time_column: str) -> DataFrame:
        from pyspark.sql import functions as F

        df = with_mark_columns(quarantine).where(F.col(STATUS).isNull() | ~F.col(STATUS).isin(*FINAL))
        if self.rule is not None:
            df = df.where(F.array_contains(rules, self.rule))
        if self.since is not None:
            # an aware datetime: the same instant whatever the session's or the machine's time zone
            df = df.where(F.col(time_column) >= F.lit(self.since.astimezone(UTC)))
        return df


def ensure_mark_columns(spark: SparkSession, handle: TableHandle) -> list[str]:
    """Add the replay columns a quarantine table lacks (a table written before replay existed); returns those added."""
    have = set(spark.sql(sql.columns_probe_sql(handle.ref)).columns)
    missing = [(c, k) for c, k in COLUMNS if c not in have]
    if missing:
        spark.sql(sql.add_columns_sql(handle.ref, missing)).collect()
    return [c for c, _ in missing]


def pending_marks(quarantine: DataFrame, marks: DataFrame, keys: list[str], changed: list[str]) -> DataFrame:
    """The marks that would change their quarantine row (a re-run of a finished replay has none)."""
    from pyspark.sql import functions as F

    current = with_mark_columns(quarantine).select(
        *[F.col(k).alias(f"_key_{k}") for k in keys], *[F.col(c).alias(f"_now_{c}") for c in changed]
    )
    cond = None
    for k in keys:
        eq = F.col(k).eqNullSafe(F.col(f"_key_{k}"))
        cond = eq if cond is None else cond & eq
    differs = None
    for c in changed:
        d = ~F.col(c).eqNullSafe(F.col(f"_now_{c}"))
        differs = d if differs is None else differs | d
    return marks.join(current, cond, "inner").where(differs).select(*marks.columns).dropDuplicates(keys)


def write_marks(spark: SparkSession, handle: TableHandle, marks: DataFrame, keys: list[str], reason: str) -> None:
    """One MERGE (one Delta commit) that stamps the replayed rows: status, run id, time and the new reason."""
    set_columns = [STATUS, RUN_ID, AT, reason]
    with temp_view(marks.select(*keys, *set_columns)) as view:
        spark.sql(sql.update_matched_sql(handle.ref, view, keys, set_columns=set_columns, changed=[STATUS, reason])).collect()
