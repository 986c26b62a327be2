"""`--advise`: which columns to Z-order or cluster by, and what that would do to data skipping.

Columns are ranked from one aggregation pass (approx_count_distinct per column) and the table's
configured `predicates`. For each sample predicate (the configured ones plus a point predicate on
the top candidate), the fraction of files Spark reads is *measured*: now, on the table itself, and
after, on a simulated layout — a sample of the table sorted by the candidate column into the ideal
number of files (ceil(table bytes / target file size)), written as a scratch Delta table and queried
the same way (Delta's per-file min/max statistics decide what is skipped in both). The scratch table
is deleted afterwards.
"""

from __future__ import annotations

import re
import shutil
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from lakectl.core import sql
from lakectl.maintenance.file_stats import files_read, ideal_files

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

MAX_SIMULATED_ROWS = 500_000
_SKIPPABLE = ("string", "int", "bigint", "smallint", "tinyint", "date", "timestamp", "timestamp_ntz", "double", "float")


def referenced_columns(predicate: str, columns: list[str]) -> list[str]:
    """Column names that occur in a predicate (as a word, or backquoted)."""
    out = []
    for col in columns:
        if re.search(rf"(?<![\w`]){re.escape(col)}(?![\w`])", predicate, re.I) or f"`{col}`" in predicate:
            out.append(col)
    return out


def literal(value: Any, type_name: str) -> str:
    if type_name == "date":
        return "DATE " + sql.quote_string(str(value))
    if type_name.startswith("timestamp"):
        return "TIMESTAMP " + sql.quote_string(str(value))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return repr(value)
    return sql.quote_string(str(value))


def profile(df: DataFrame) -> tuple[int, dict[str, dict[str, Any]]]:
    """Row count, and per skippable column its approximate cardinality and a sample value, its minimum (one pass)."""
    from pyspark.sql import functions as F

    cols = [(f.name, f.dataType.simpleString()) for f in df.schema.fields if f.dataType.simpleString() in _SKIPPABLE]
    aggs = [F.count(F.lit(1)).alias("__rows")]
    for i, (name, _) in enumerate(cols):
        aggs.append(F.approx_count_distinct(F.col(sql.quote_ident(name))).alias(f"d{i}"))
        aggs.append(F.min(F.col(sql.quote_ident(name))).alias(f"v{i}"))  # not first(): the same on every target
    row = df.agg(*aggs).first()
    stats = {name: {"type": t, "approx_distinct": int(row[f"d{i}"] or 0), "sample": row[f"v{i}"]} for i, (name, t) in enumerate(cols)}
    return int(row["__rows"]), stats


def rank(rows: int, stats: dict[str, dict[str, Any]], predicates: list[str], ideal: int) -> list[dict[str, Any]]:
    """Candidates, best first: filtered-on columns by cardinality, then (without predicates) columns with
    enough distinct values to spread over the files but not unique per row (ids, timestamps)."""
    filtered = {c for p in predicates for c in referenced_columns(p, list(stats))}
    out = []
    for name, s in stats.items():
        distinct = s["approx_distinct"]
        if distinct <= 1:
            continue
        ratio = distinct / max(rows, 1)
        if name in filtered:
            score = 2.0 + min(ratio, 1.0)
        elif distinct >= max(ideal, 2) and ratio < 0.5:
            score = min(ratio * 10, 1.0)
        else:
            continue
        out.append({"column": name, "approx_distinct": distinct, "in_predicates": name in filtered, "score": round(score, 4)})
    return sorted(out, key=lambda c: -c["score"])


def simulate_layout(spark: SparkSession, df: DataFrame, rows: int, column: str, files: int, scratch: Path) -> str:
    """Write a sample sorted by `column` into `files` files as a scratch Delta table; returns its path."""
    from pyspark.sql import functions as F

    sample = df.sample(fraction=min(1.0, MAX_SIMULATED_ROWS / max(rows, 1)), seed=7) if rows > MAX_SIMULATED_ROWS else df
    path = str(scratch / f"advise-{uuid.uuid4().hex[:8]}")
    col = F.col(sql.quote_ident(column))
    sample.repartitionByRange(files, col).sortWithinPartitions(col).write.format("delta").save(path)
    return path


def advise(
    spark: SparkSession,
    ref: str,
    *,
    size_bytes: int,
    num_files: int,
    target_bytes: int,
    predicates: list[str],
    scratch: Path,
    plan_metrics: Literal["jvm", "connect"],
) -> dict[str, Any]:
    from pyspark.sql import functions as F

    df = spark.sql(f"SELECT * FROM {ref}")
    ideal = ideal_files(size_bytes, target_bytes)
    rows, stats = profile(df)
    candidates = rank(rows, stats, predicates, ideal)
    advice: dict[str, Any] = {"rows": rows, "ideal_files": ideal, "files": num_files, "candidates": candidates[:6]}
    if not candidates:
        advice["recommendation"] = "no column would make data skipping better (too few distinct values)"
        return advice
    if ideal <= 1:  # one file of the target size holds it all: no layout can skip a file
        advice["recommendation"] = (
            "the table fits in one file of the target size: no layout can read fewer files (compaction alone is enough)"
        )
        return advice
    top = [c["column"] for c in candidates[:4]]
    advice["recommend_zorder_by"] = top[:2]
    advice["recommend_cluster_by"] = top
    best = candidates[0]["column"]
    samples = list(predicates)
    value = stats[best]["sample"]
    if value is not None:
        samples.append(f"{sql.quote_ident(best)} = {literal(value, stats[best]['type'])}")
    sim = simulate_layout(spark, df, rows, best, ideal, scratch)
    try:
        sim_df = spark.read.format("delta").load(sim)
        sim_files = sim_df.inputFiles()
        measured = []
        for predicate in samples:
            now = files_read(df.where(predicate).agg(F.count(F.lit(1))), plan_metrics)["files"]
            after = files_read(sim_df.where(predicate).agg(F.count(F.lit(1))), plan_metrics)["files"]
            measured.append(
                {
                    "predicate": predicate,
                    "files_read_now": now,
                    "files_now": num_files,
                    "fraction_now": round(now / max(num_files, 1), 4),
                    "files_read_after": after,
                    "files_after": len(sim_files),
                    "fraction_after": round(after / max(len(sim_files), 1), 4),
                    "simulated_sort_by": best,
                }
            )
        advice["predicates"] = measured
        if not any(m["fraction_after"] < m["fraction_now"] for m in measured):
            for key in ("recommend_zorder_by", "recommend_cluster_by"):
                advice.pop(key)
            advice["recommendation"] = (
                f"no layout reads fewer files: sorted by {best} into {len(sim_files):,} file(s), "
                "the sample predicates read as large a share of the files as now"
            )
    finally:
        shutil.rmtree(sim, ignore_errors=True)
    return advice
