"""JobContext: what every job receives. Its engines are made on first use, its SparkSession on the first
statement that needs it, never at import.

`engine` is where the job's SQL runs: the target's SQL warehouse for a `databricks` target with
`warehouse_id` outside a cluster, else Spark (local, Connect, or the Databricks runtime's own session).
`duckdb` reads local tables in process. A job never asks which one it has; it reads their capabilities.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from lakectl.config import DatabricksTarget, Settings, SparkTarget, Target
from lakectl.core.errors import ConfigError, UsageError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from lakectl.engine.duck import DuckEngine
    from lakectl.engine.protocol import SqlEngine


@dataclass
class JobContext:
    settings: Settings
    target_name: str | None = None
    verbose: bool = False
    on_cluster: bool = False  # lakectl-job inside a Databricks run: use the runtime's own session
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    _spark: SparkSession | None = None
    # registers the tables this run creates in storage.catalog (governance/autoregister.py); set by run_job
    catalog_registrar: Any = field(default=None, repr=False)
    statement_timeout_s: float = 600.0  # bound on one statement on a SQL warehouse (a run's --timeout)

    def __post_init__(self) -> None:
        self.settings = self.settings.for_target(self.target_name)

    @property
    def target(self) -> Target:
        return self.settings.target(self.target_name)

    @property
    def spark(self) -> SparkSession:
        if self._spark is None:
            target = self.target
            if isinstance(target, DatabricksTarget):
                if not self.on_cluster:
                    raise UsageError("a Databricks target cannot run jobs in this process", "run the job through the Databricks runner")
                from lakectl.engine.runtime import runtime_session

                self._spark = runtime_session()
                return self._spark
            from lakectl.engine.local import get_session

            self._spark = get_session(self.settings, target, verbose=self.verbose)
        return self._spark

    @property
    def has_spark(self) -> bool:
        return self._spark is not None

    @cached_property
    def engine(self) -> SqlEngine:
        target = self.target
        if isinstance(target, DatabricksTarget) and target.warehouse_id and not self.on_cluster:
            from lakectl.engine.warehouse import WarehouseEngine

            if not self.settings.storage.catalog:
                raise ConfigError(
                    "a SQL warehouse works on Unity Catalog tables: storage.catalog is not set",
                    "set storage.catalog in the config, or remove warehouse_id to run the job on a cluster",
                )
            return WarehouseEngine(target, catalog=self.settings.storage.catalog, timeout_s=self.statement_timeout_s)
        from lakectl.engine.spark import SparkEngine

        # Connect or not, known from the target without starting a session; a session handed in, or a
        # Databricks runtime's (classic or serverless), says itself.
        ask_session = self._spark is not None or isinstance(target, DatabricksTarget)
        connect = None if ask_session else isinstance(target, SparkTarget) and bool(target.remote)
        return SparkEngine(self.settings, lambda: self.spark, connect=connect)

    @cached_property
    def duckdb(self) -> DuckEngine:
        from lakectl.engine.duck import DuckEngine

        return DuckEngine(self.settings)

    def __getstate__(self) -> dict[str, Any]:
        """A foreachBatch body that holds the context travels to a Spark Connect server: without the engines,
        which the server's process makes again if it asks (a warehouse client does not pickle)."""
        return {k: v for k, v in self.__dict__.items() if k not in ("engine", "duckdb")}
