"""Table properties from the optimize policy, and Databricks bloom filter indexes."""

from __future__ import annotations

from lakectl.core import sql

BLOOM_FPP = 0.1
BLOOM_NUM_ITEMS = 50_000_000


def changed_properties(wanted: dict[str, str], current: dict[str, str]) -> dict[str, str]:
    """Only what differs (so a re-run changes nothing and writes no commit)."""
    return {k: str(v) for k, v in wanted.items() if str(current.get(k, "")).lower() != str(v).lower()}


def properties_statement(ref: str, wanted: dict[str, str], current: dict[str, str]) -> str | None:
    changes = changed_properties(wanted, current)
    return sql.set_properties_sql(ref, changes) if changes else None


def bloom_filter_statement(ref: str, columns: list[str]) -> str | None:
    return sql.bloom_filter_sql(ref, columns, fpp=BLOOM_FPP, num_items=BLOOM_NUM_ITEMS) if columns else None


def bloom_filter_note(table: str, columns: list[str]) -> str:
    cols = ",".join(columns)
    return (
        f"{table}: bloom filter index on {cols} is Databricks-only (CREATE BLOOMFILTER INDEX); skipped here — "
        f"use --zorder {cols} (or cluster_by) for data skipping on these columns"
    )
