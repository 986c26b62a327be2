"""JobContext: what every job receives. The SparkSession is built on first use, never at import."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lakectl.core.errors import UsageError
from lakectl.config import DatabricksTarget, Settings

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


@dataclass
class JobContext:
    settings: Settings
    target_name: str | None = None
    verbose: bool = False
    on_cluster: bool = False  # lakectl-job inside a Databricks run: use the runtime's own session
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    _spark: "SparkSession | None" = None
    # registers the tables this run creates in storage.catalog (governance/autoregister.py); set by run_job
    catalog_registrar: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.settings = self.settings.for_target(self.target_name)

    @property
    def target(self):
        return self.settings.target(self.target_name)

    @property
    def spark(self) -> "SparkSession":
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
