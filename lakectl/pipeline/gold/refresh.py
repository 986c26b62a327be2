"""Incremental gold refresh: which silver versions each gold table has folded in (a small JSON state under
<checkpoints>/aggregate), and the plan per table (full, incremental on the touched days, or skip)
sized from silver's change data feed and the Delta logs."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from lakectl.engine.context import JobContext
from lakectl.lake import delta
from lakectl.lake.delta import log_version
from lakectl.lake.deltars import open_local_table
from lakectl.pipeline.gold.builders import GOLD, SILVER_COLUMNS

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

STATE_FILE = "state.json"


@dataclass
class RefreshPlan:
    """What the job will do to one gold table."""

    table: str
    mode: Literal["full", "incremental", "skip"]
    reason: str
    from_version: int | None
    to_version: int
    touched_days: list[date] = field(default_factory=list)
    changed_rows: int = 0
    append: bool = False  # every touched day is newer than the table's last day: append, remove nothing

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "mode": self.mode,
            "reason": self.reason,
            "from_version": self.from_version,
            "to_version": self.to_version,
            "touched_days": len(self.touched_days),
            "changed_rows": self.changed_rows,
            "write": None if self.mode != "incremental" else "append new days" if self.append else "replace days",
        }


def state_path(ctx: JobContext) -> Path:
    return ctx.settings.storage.checkpoints_dir / "aggregate" / STATE_FILE


def load_state(ctx: JobContext) -> dict[str, dict[str, int]]:
    try:
        data = json.loads(state_path(ctx).read_text())
    except FileNotFoundError:
        return {}
    except ValueError:
        return {}  # an unreadable state only costs a full recompute
    return data.get("tables", {}) if isinstance(data, dict) else {}


def save_state(ctx: JobContext, tables: dict[str, dict[str, int]]) -> None:
    path = state_path(ctx)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"tables": tables}, indent=2, sort_keys=True))
    os.replace(tmp, path)  # atomic: a crash leaves the old state, which only means recomputing again


def change_feed_enabled(spark: SparkSession, path: str) -> bool:
    """Whether the table has delta.enableChangeDataFeed: from its log (delta-rs) for a local path,
    else from DESCRIBE DETAIL."""
    props = delta.properties(spark, path)
    return str(props.get("delta.enableChangeDataFeed", "false")).lower() == "true"


def read_changes(spark: SparkSession, path: str, start: int, end: int) -> DataFrame:
    return (
        spark.read.format("delta")
        .option("readChangeFeed", "true")
        .option("startingVersion", start)
        .option("endingVersion", end)
        .load(path)
        .select(*SILVER_COLUMNS, "_commit_version")
    )


def known_days(spark: SparkSession, ctx: JobContext) -> set[date]:
    """Days gold already covers (from the small kpi table), to size a change against: read with
    delta-rs for a local table, else with Spark."""
    from pyspark.sql import functions as F

    kpi = ctx.settings.table("gold.kpi_hourly")
    if log_version(spark, kpi.path) < 0:
        return set()
    log = open_local_table(kpi.path)
    if log is not None:
        import pyarrow as pa
        import pyarrow.compute as pc

        try:
            hours = log.to_pyarrow_table(columns=["event_hour"]).column("event_hour")
            return {d for d in pc.unique(pc.cast(hours, pa.date32())).to_pylist() if d is not None}
        except Exception:  # a data feature delta-rs cannot read: ask Spark
            pass
    rows = spark.read.format("delta").load(kpi.path).select(F.to_date("event_hour").alias("d")).distinct().collect()
    return {r["d"] for r in rows}


def last_day(path: str, day_column: str) -> date | None:
    """The last day a local table holds, from its files' statistics (no scan). None when that is not
    known for sure: a remote or empty table, or a file without statistics for the column."""
    log = open_local_table(path)
    if log is None:
        return None
    try:
        values = log.get_add_actions(flatten=True).column(f"max.{day_column}").to_pylist()
    except Exception:  # no statistics for the column
        return None
    if not values or any(v is None for v in values):
        return None
    return max(v.date() if isinstance(v, datetime) else v for v in values)


def make_plans(
    ctx: JobContext,
    silver_path: str,
    silver_version: int,
    scores_version: int,
    warnings: list[str],
    *,
    full_refresh: bool = False,
    threshold: float | None = None,
) -> list[RefreshPlan]:
    """One plan per gold table, sized from silver's change feed (rows per commit version and day).
    `threshold` (default: aggregate.full_refresh_threshold) is the share of days a change may touch
    before the table is recomputed in full."""
    spark = ctx.spark
    state = load_state(ctx)
    if threshold is None:
        threshold = ctx.settings.aggregate.full_refresh_threshold
    plans: list[RefreshPlan] = []
    pending: list[RefreshPlan] = []
    for spec in GOLD:
        last = state.get(spec.table)
        gold_exists = log_version(spark, ctx.settings.table(spec.table).path) >= 0
        base = last.get("silver_version") if last else None
        plan = RefreshPlan(spec.table, "incremental", "new silver versions", base, silver_version)
        if full_refresh:
            plan.mode, plan.reason = "full", "--full-refresh"
        elif not last or not gold_exists:
            plan.mode, plan.reason = "full", "first run" if not last else "gold table missing"
        elif base is None or base > silver_version:
            plan.mode, plan.reason = "full", "silver was re-created"
        elif spec.table == "gold.sentiment_daily" and last.get("scores_version", -1) != scores_version:
            plan.mode, plan.reason = "full", "review scores changed"
        elif base == silver_version:
            plan.mode, plan.reason = "skip", "up to date"
        else:
            pending.append(plan)
        plans.append(plan)
    if not pending:
        return plans

    if not change_feed_enabled(spark, silver_path):
        warnings.append("silver.events has no change data feed (delta.enableChangeDataFeed); recomputing gold in full")
        for plan in pending:
            plan.mode, plan.reason = "full", "no change data feed"
        return plans
    start = min(plan.from_version for plan in pending if plan.from_version is not None) + 1
    try:
        from pyspark.sql import functions as F

        changes = read_changes(spark, silver_path, start, silver_version)
        per_version = changes.groupBy("_commit_version", "event_date").agg(F.count(F.lit(1)).alias("n")).collect()
    except Exception as exc:  # e.g. the feed was enabled later than `start`, or its files were vacuumed
        from lakectl.core.errors import translate

        warnings.append(f"cannot read silver's change feed from version {start}: {translate(exc).message}; recomputing in full")
        for plan in pending:
            plan.mode, plan.reason = "full", "change feed unreadable"
        return plans

    all_days = known_days(spark, ctx) | {r["event_date"] for r in per_version}
    day_columns = {spec.table: spec.day for spec in GOLD}
    for plan in pending:
        rows = [r for r in per_version if r["_commit_version"] > (plan.from_version or -1)]
        plan.touched_days = sorted({r["event_date"] for r in rows if r["event_date"] is not None})
        plan.changed_rows = sum(r["n"] for r in rows)
        if not rows:
            plan.mode, plan.reason = "skip", "no row changes"
        elif any(r["event_date"] is None for r in rows) or (all_days and len(plan.touched_days) >= threshold * len(all_days)):
            plan.mode = "full"
            plan.reason = f"{len(plan.touched_days):,} of {len(all_days):,} days touched (>= {threshold:.0%})"
        else:
            # Read from the table itself, not from the state: a run that died between its commit and
            # saving the state finds its own rows here and replaces them instead of adding them twice.
            last = last_day(ctx.settings.table(plan.table).path, day_columns[plan.table])
            plan.append = last is not None and plan.touched_days[0] > last
    return plans
