"""The Spark engine: one class for a local session, a Spark Connect session and a Databricks runtime's.

They differ only in capabilities: over Connect, foreachBatch bodies run on the server and scan metrics
come with the result instead of from the JVM's plan. Also here: the Delta-on-Spark primitives the engine
answers with (existence, DESCRIBE DETAIL / HISTORY; lakectl/lake/delta.py builds writes on them) and
Spark settings scoped to a few statements.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lakectl.core import sql
from lakectl.core.errors import TableNotFound
from lakectl.engine.protocol import Capabilities, Rows

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from lakectl.config import Settings, TableHandle

# Error conditions that mean "no Delta table at this path" (not a failure to read one).
_NOT_A_TABLE = {
    "DELTA_TABLE_ONLY_OPERATION",
    "DELTA_MISSING_DELTA_TABLE",
    "DELTA_TABLE_NOT_FOUND",
    "PATH_NOT_FOUND",
    "DELTA_PATH_DOES_NOT_EXIST",
    "DELTA_EMPTY_DIRECTORY",
}
SNAPSHOT_PARTITIONS = "spark.databricks.delta.snapshotPartitions"
# VACUUM lists the table with this many tasks; Spark's default (10000) costs minutes on a small machine.
LISTING_PARALLELISM = "spark.sql.sources.parallelPartitionDiscovery.parallelism"


def is_connect(spark: SparkSession) -> bool:
    """True for a Spark Connect session (foreachBatch functions then run on the server)."""
    return type(spark).__module__.startswith("pyspark.sql.connect")


def on_databricks_runtime(spark: SparkSession | None = None) -> bool:
    """True inside a Databricks runtime (its clusters set DATABRICKS_RUNTIME_VERSION; with a session at hand,
    also when it reports a Databricks cluster version)."""
    if os.environ.get("DATABRICKS_RUNTIME_VERSION"):
        return True
    if spark is not None:
        try:
            return bool(spark.conf.get("spark.databricks.clusterUsageTags.sparkVersion", None))
        except Exception:
            return False
    return False


def spark_capabilities(*, connect: bool, databricks: bool) -> Capabilities:
    return Capabilities(
        dataframes=True,
        writes=True,
        session_settings=True,
        databricks_sql=databricks,
        plan_metrics="connect" if connect else "jvm",
        batches_on_server=connect,
        local_files=True,
    )


# --- Delta on Spark: existence, details, history -------------------------------------------------------


def history(spark: SparkSession, path: str, limit: int | None = None) -> DataFrame | None:
    """The table's DESCRIBE HISTORY (newest first), or None when there is no Delta table at `path`."""
    from pyspark.errors import AnalysisException

    try:
        return spark.sql(sql.describe_history_sql(sql.path_ref(path), limit=int(limit) if limit else None))
    except AnalysisException as exc:
        if (exc.getCondition() or "") in _NOT_A_TABLE:
            return None
        raise


def local_log_exists(path: str) -> bool | None:
    """Whether a local path holds a Delta log (no Spark job); None for a remote URL (ask Spark)."""
    if "://" in path:
        return None
    log = Path(path) / "_delta_log"
    return log.is_dir() and any(log.glob("*.json"))


def is_delta_table(spark: SparkSession, path: str) -> bool:
    local = local_log_exists(path)
    return local if local is not None else history(spark, path, 1) is not None


def exists(spark: SparkSession, handle: TableHandle) -> bool:
    """Whether the table exists: in its catalog when Spark addresses it there, else at its path."""
    if handle.spark_catalog:
        return bool(spark.catalog.tableExists(f"{handle.spark_catalog}.{handle.schema_name}.{handle.name}"))
    return is_delta_table(spark, handle.path)


def detail(spark: SparkSession, ref: str) -> dict[str, Any]:
    """DESCRIBE DETAIL as a dict (numFiles, sizeInBytes, properties, id, clusteringColumns, ...)."""
    row = spark.sql(sql.describe_detail_sql(ref)).first()
    return row.asDict(recursive=True) if row is not None else {}


# --- settings for a few statements ----------------------------------------------------------------------


@contextmanager
def scoped_conf(spark: SparkSession, conf: Mapping[str, str]) -> Iterator[SparkSession]:
    """A session to run statements with `conf` set. On classic Spark this is `spark.newSession()`: it
    shares the SparkContext, caches and Delta logs but has its own SQL conf, so the caller's session
    (and any stream running on it) never sees the setting. Where child sessions are unavailable
    (Spark Connect), the values are set on `spark` and restored in a finally."""
    if not conf:
        yield spark
        return
    try:
        child = spark.newSession()
    except Exception:  # Spark Connect has no newSession
        child = None
    if child is not None:
        for key, value in conf.items():
            child.conf.set(key, value)
        yield child
        return
    saved: dict[str, str | None] = {key: spark.conf.get(key, None) for key in conf}
    try:
        for key, value in conf.items():
            spark.conf.set(key, value)
        yield spark
    finally:
        for key, old in saved.items():
            if old is None:
                spark.conf.unset(key)
            else:
                spark.conf.set(key, old)


def maintenance_sizing(spark: SparkSession) -> dict[str, str]:
    """Delta's maintenance work sized to this Spark: it rebuilds table state with 50 partitions and VACUUM
    lists files with 10000 tasks unless told otherwise, most of a statement's time on a small local[*]
    session. Sized to the cores (a Connect client cannot see them: the listing gets 16 tasks, the state
    rebuild is the server's); a value the user set is kept."""
    try:
        cores: int | None = int(spark.sparkContext.defaultParallelism)
    except Exception:  # Spark Connect: no SparkContext
        cores = None
    conf = {LISTING_PARALLELISM: str(max(2, (cores or 8) * 2))}
    try:
        if cores is not None and not spark.conf.get(SNAPSHOT_PARTITIONS, None):
            conf[SNAPSHOT_PARTITIONS] = str(max(2, cores * 2))
    except Exception:  # a session that cannot read its conf: leave Delta's default
        pass
    return conf


# --- the engine -----------------------------------------------------------------------------------------


class SparkEngine:
    """SQL on a SparkSession that is built on first use (`session()`), never when the engine is made.

    `connect` says whether the session will be a Spark Connect one when the target tells (a `spark` target
    with `remote`); None asks the session itself (one handed in, or a Databricks runtime's)."""

    name = "spark"
    label = "Spark"

    def __init__(self, settings: Settings, session: Callable[[], SparkSession], *, connect: bool | None = None) -> None:
        self.settings = settings
        self._session = session
        self._connect = connect
        self._capabilities: Capabilities | None = None

    @property
    def spark(self) -> SparkSession:
        return self._session()

    @property
    def capabilities(self) -> Capabilities:
        if self._capabilities is None:
            if self._connect is None:  # the session is at hand (handed in, or the runtime's): ask it
                spark = self.spark
                self._capabilities = spark_capabilities(connect=is_connect(spark), databricks=on_databricks_runtime(spark))
            else:  # known from the target, without starting a session
                self._capabilities = spark_capabilities(connect=self._connect, databricks=on_databricks_runtime())
        return self._capabilities

    @property
    def labels(self) -> dict[str, Any]:
        return {"engine": self.name}

    def rows(self, statement: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        return [r.asDict(recursive=True) for r in self._sql(statement, params).collect()]

    def query(
        self, statement: str, params: Mapping[str, Any] | None = None, *, limit: int | None = None, tables: Sequence[str] = ()
    ) -> Rows:
        self._expose(tables)
        df = self._sql(statement, params)
        rows = (df.limit(limit + 1) if limit else df).collect()
        truncated = bool(limit) and len(rows) > limit  # type: ignore[operator]
        return Rows(list(df.columns), list(rows[:limit] if truncated else rows), truncated)

    def detail(self, handle: TableHandle) -> dict[str, Any] | None:
        return detail(self.spark, handle.ref) if self.exists(handle) else None

    def history(self, handle: TableHandle, limit: int | None = None) -> list[dict[str, Any]]:
        return self.rows(sql.describe_history_sql(handle.ref, limit=limit))

    def columns(self, handle: TableHandle) -> list[str]:
        return [f.name for f in self.spark.sql(sql.columns_probe_sql(handle.ref)).schema.fields]

    def exists(self, handle: TableHandle) -> bool:
        local = None if handle.spark_catalog else local_log_exists(handle.path)  # a local path: no Spark call
        return local if local is not None else exists(self.spark, handle)

    @contextmanager
    def with_settings(self, settings: Mapping[str, str]) -> Iterator[SparkEngine]:
        """Statements with `settings` (and Delta's maintenance work sized to this Spark) in a child session,
        or over Connect set on the session and restored afterwards."""
        spark = self.spark
        with scoped_conf(spark, {**maintenance_sizing(spark), **settings}) as session:
            scoped = SparkEngine(self.settings, lambda: session, connect=self._connect)
            scoped._capabilities = self._capabilities
            yield scoped

    def _sql(self, statement: str, params: Mapping[str, Any] | None) -> DataFrame:
        if params:  # checked: `spark.sql(q, args=...)` fails with UNBOUND_SQL_PARAMETER under Delta's session extension
            raise ValueError("the Spark engine binds no statement parameters (Spark 4.2 with Delta 4.4 leaves them unbound)")
        return self.spark.sql(statement)

    def _expose(self, keys: Sequence[str]) -> None:
        """Make `schema.name` resolve to each configured table: the real catalog when Spark has it, else a
        session view per table."""
        spark = self.spark
        if self.settings.spark_catalog:
            spark.catalog.setCurrentCatalog(self.settings.spark_catalog)  # names resolve in the real catalog
            return
        for key in keys:
            table = self.settings.table(key)
            if not is_delta_table(spark, table.path):
                raise TableNotFound(f"table {key} does not exist yet ({table.path})", "run the stage that writes it first")
            spark.sql(f"CREATE DATABASE IF NOT EXISTS {sql.quote_ident(table.schema_name)}")
            spark.sql(f"CREATE OR REPLACE VIEW {sql.quote_name(table.schema_name, table.name)} AS SELECT * FROM {table.ref}")
