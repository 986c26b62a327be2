"""What a job asks of the engine that runs its SQL, and what that engine can do.

A job is written once against `SqlEngine`; `JobContext.engine` hands out the implementation that fits
the target: a Spark session (local or Connect, engine/spark.py), a Databricks SQL warehouse
(engine/warehouse.py), DuckDB over delta-rs for local reads (engine/duck.py). Where engines differ,
the job reads `Capabilities` (data, as dlt's destination capabilities are), never the target's kind.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, Protocol

if TYPE_CHECKING:
    from lakectl.config import TableHandle


@dataclass(frozen=True)
class Capabilities:
    """What an engine can do beyond running a statement and returning its rows."""

    dataframes: bool = False
    """A Spark session is there: DataFrames, streams, Spark ML (`ctx.spark`)."""
    writes: bool = False
    """Statements may change tables (DuckDB over delta-rs only reads)."""
    session_settings: bool = False
    """Spark settings can hold for one statement only: VACUUM's retention check off, OPTIMIZE's target file size."""
    databricks_sql: bool = False
    """Databricks-only SQL runs: CREATE BLOOMFILTER INDEX, ANALYZE ... COMPUTE DELTA STATISTICS."""
    plan_metrics: Literal["jvm", "connect"] | None = None
    """Where a query's scan metrics come from (optimize --advise): the JVM's executed plan, the metrics a Spark
    Connect server sends with a result, or nowhere."""
    batches_on_server: bool = False
    """foreachBatch bodies run in another process (the Spark Connect server): what they count comes back
    through ops.batch_figures, not through the job's objects."""
    local_files: bool = False
    """The lake's paths are files this process reads and writes too: checkpoint locks, VACUUM's stream guard,
    DuckDB over delta-rs."""
    system_lineage: bool = False
    """Unity Catalog's lineage system tables (system.access.table_lineage, column_lineage) answer queries."""
    catalog_names: bool = False
    """Statements may name any table of the catalog (a warehouse resolves names in Unity Catalog), so names are
    not checked against lakectl's configured tables before it runs."""


class Rows(NamedTuple):
    """A query's answer: column names, rows (each a sequence of values), and whether `limit` cut it."""

    columns: list[str]
    rows: list[Sequence[Any]]
    truncated: bool


class SqlEngine(Protocol):
    """Where a job's SQL runs. Names reach statements only through lakectl.core.sql; values go in `params`
    where the engine binds them (`:name` on a warehouse, `$name` on DuckDB; Spark 4.2 with Delta's extension
    leaves markers unbound, so the Spark engine takes none)."""

    name: str  # spark | warehouse | duckdb
    label: str  # how messages name it: "Spark", "a SQL warehouse", "DuckDB"

    @property
    def capabilities(self) -> Capabilities:
        """What this engine can do (decided without starting it where that is possible)."""
        ...

    @property
    def labels(self) -> dict[str, Any]:
        """What a query's Result says about where it ran ({"engine": "spark"}, {"warehouse_id": ...})."""
        ...

    def rows(self, statement: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Run one statement; its rows as dicts keyed by column name (nested structs as dicts)."""
        ...

    def query(
        self, statement: str, params: Mapping[str, Any] | None = None, *, limit: int | None = None, tables: Sequence[str] = ()
    ) -> Rows:
        """Run one statement; at most `limit` rows (None or 0: all). `tables` are configured table keys
        (schema.name) the statement names by their logical names: the engine makes them resolve."""
        ...

    def detail(self, handle: TableHandle) -> dict[str, Any] | None:
        """DESCRIBE DETAIL as a dict (numFiles, sizeInBytes, properties, id, location, clusteringColumns, ...),
        or None when the table does not exist."""
        ...

    def history(self, handle: TableHandle, limit: int | None = None) -> list[dict[str, Any]]:
        """DESCRIBE HISTORY, newest first (version, operation, operationParameters, operationMetrics, ...)."""
        ...

    def columns(self, handle: TableHandle) -> list[str]:
        """The table's column names (no rows read)."""
        ...

    def exists(self, handle: TableHandle) -> bool: ...

    def with_settings(self, settings: Mapping[str, str]) -> AbstractContextManager[SqlEngine]:
        """This engine with Spark `settings` for the statements run through it, never leaked to other
        statements. An engine without `session_settings` takes only `{}`."""
        ...


class NoSessionSettings:
    """`with_settings` of an engine without session settings: `{}` is the engine itself; anything else comes
    from a job that did not read the capabilities."""

    label: str

    @contextmanager
    def with_settings(self, settings: Mapping[str, str]) -> Iterator[Any]:
        if settings:
            raise ValueError(f"{self.label} takes no per-statement session settings (asked: {', '.join(sorted(settings))})")
        yield self
