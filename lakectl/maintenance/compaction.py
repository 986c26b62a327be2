"""OPTIMIZE (bin-packing, Z-order, liquid clustering) with a target file size and conflict retries."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from lakectl.core import sql
from lakectl.core.errors import DELTA_CONFLICTS

if TYPE_CHECKING:
    from lakectl.engine.protocol import SqlEngine

T = TypeVar("T")
MAX_FILE_SIZE = "spark.databricks.delta.optimize.maxFileSize"
MIN_FILE_SIZE = "spark.databricks.delta.optimize.minFileSize"


@dataclass
class Attempts:
    conflicts: list[str] = field(default_factory=list)

    @property
    def retries(self) -> int:
        return len(self.conflicts)


def is_conflict(exc: BaseException) -> bool:
    text = f"{type(exc).__name__} {str(exc)[:2000]}"
    return any(name in text for name in DELTA_CONFLICTS)


def with_retries(
    fn: Callable[[], T],
    attempts: Attempts,
    *,
    max_attempts: int = 5,
    backoff_s: float = 1.0,
    max_backoff_s: float = 30.0,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
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
    for name in DELTA_CONFLICTS:
        if name in text:
            i = text.index(name)
            return text[i:].split()[0].strip("[]:,.")
    return type(exc).__name__


def size_conf(target_file_size: int | None) -> dict[str, str]:
    """OPTIMIZE writes files up to maxFileSize and only rewrites files smaller than minFileSize."""
    if not target_file_size:
        return {}
    return {MAX_FILE_SIZE: str(target_file_size), MIN_FILE_SIZE: str(target_file_size)}


def optimize_statements(
    ref: str, *, where: str | None, zorder_by: list[str], cluster_by: list[str], current_clustering: list[str]
) -> list[str]:
    """The SQL that OPTIMIZE runs for this policy (also what --dry-run prints)."""
    out = []
    if cluster_by and list(cluster_by) != list(current_clustering):
        out.append(sql.cluster_by_sql(ref, cluster_by))
    out.append(sql.optimize_sql(ref, where=where, zorder_by=[] if cluster_by else zorder_by))
    return out


def run_optimize(
    engine: SqlEngine, statements: list[str], *, target_file_size: int | None, attempts: Attempts, max_attempts: int, backoff_s: float
) -> dict[str, Any]:
    """Run the statements (each retried on conflicts), with the target file size where the engine takes
    session settings; returns OPTIMIZE's metrics row as a dict."""
    metrics: dict[str, Any] = {}
    with engine.with_settings(size_conf(target_file_size)) as session:
        for text in statements:
            rows = with_retries(lambda text=text: session.rows(text), attempts, max_attempts=max_attempts, backoff_s=backoff_s)
            if text.startswith("OPTIMIZE") and rows:
                metrics = rows[0].get("metrics") or {}
    return metrics
