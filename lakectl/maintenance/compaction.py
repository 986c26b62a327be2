"""OPTIMIZE (bin-packing, Z-order, liquid clustering) with a target file size and conflict retries."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, TypeVar

from lakectl.core import sql
from lakectl.maintenance.session_conf import scoped_conf, small_cluster_conf

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

T = TypeVar("T")
MAX_FILE_SIZE = "spark.databricks.delta.optimize.maxFileSize"
MIN_FILE_SIZE = "spark.databricks.delta.optimize.minFileSize"
# Delta's optimistic-concurrency conflicts: the other commit won, retrying on a fresh snapshot is safe.
CONFLICTS = (
    "ConcurrentModificationException", "ConcurrentAppendException", "ConcurrentDeleteReadException",
    "ConcurrentDeleteDeleteException", "ConcurrentTransactionException", "MetadataChangedException",
    "ProtocolChangedException", "DELTA_CONCURRENT_",
)


@dataclass
class Attempts:
    conflicts: list[str] = field(default_factory=list)

    @property
    def retries(self) -> int:
        return len(self.conflicts)


def is_conflict(exc: BaseException) -> bool:
    text = f"{type(exc).__name__} {str(exc)[:2000]}"
    return any(name in text for name in CONFLICTS)


def with_retries(fn: Callable[[], T], attempts: Attempts, *, max_attempts: int = 5, backoff_s: float = 1.0,
                 max_backoff_s: float = 30.0, sleep: Callable[[float], None] = time.sleep) -> T:
    """Call fn; on a Delta concurrency conflict wait backoff_s * 2^n (at most max_backoff_s) and retry."""
    for attempt in range(1, max_attempts + 1):
        try:
            return fn()
        except Exception as exc:
            if not is_conflict(exc) or attempt == max_attempts:
                raise
            attempts.conflicts.append(_conflict_name(exc))
            sleep(min(max_backoff_s, backoff_s * 2 ** (attempt - 1)))
    raise AssertionError("unreachable")


def _conflict_name(exc: BaseException) -> str:
    text = f"{type(exc).__name__} {exc}"
    for name in CONFLICTS:
        if name in text:
            i = text.index(name)
            return text[i:].split()[0].strip("[]:,.")
    return type(exc).__name__


def size_conf(target_file_size: int | None) -> dict[str, str]:
    """OPTIMIZE writes files up to maxFileSize and only rewrites files smaller than minFileSize."""
    if not target_file_size:
        return {}
    return {MAX_FILE_SIZE: str(target_file_size), MIN_FILE_SIZE: str(target_file_size)}


def optimize_statements(ref: str, *, where: str | None, zorder_by: list[str], cluster_by: list[str],
                        current_clustering: list[str]) -> list[str]:
    """The SQL that OPTIMIZE runs for this policy (also what --dry-run prints)."""
    out = []
    if cluster_by and list(cluster_by) != list(current_clustering):
        out.append(sql.cluster_by_sql(ref, cluster_by))
    out.append(sql.optimize_sql(ref, where=where, zorder_by=[] if cluster_by else zorder_by))
    return out


def run_optimize(spark: "SparkSession", statements: list[str], *, target_file_size: int | None,
                 attempts: Attempts, max_attempts: int, backoff_s: float) -> dict[str, Any]:
    """Run the statements (each retried on conflicts); returns OPTIMIZE's metrics row as a dict."""
    metrics: dict[str, Any] = {}
    with scoped_conf(spark, {**size_conf(target_file_size), **small_cluster_conf(spark)}) as session:
        for text in statements:
            def once(text: str = text) -> list:
                return session.sql(text).collect()
            rows = with_retries(once, attempts, max_attempts=max_attempts, backoff_s=backoff_s)
            if text.startswith("OPTIMIZE") and rows:
                metrics = rows[0]["metrics"].asDict(recursive=True) if rows[0]["metrics"] is not None else {}
    return metrics
