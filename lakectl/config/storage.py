"""Where the lake lives (`storage`), its tables (`tables."schema.name"`: path, partitions, optimize policy, SLA)
and how SQL names a table."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from msgspec import Meta, field

from lakectl.core.sql import path_ref, quote_name
from lakectl.core.typed import Struct


class StorageSettings(Struct):
    root: str = ".lakectl"
    tables: str | None = None
    checkpoints: str | None = None
    landing: str | None = None
    # when set, tables are addressed catalog.schema.name (Unity Catalog); on a local target without a Spark
    # catalog of that name they stay addressed by path and are registered in the catalog (Settings.for_target)
    catalog: str | None = None

    def _under_root(self, value: str | None, default: str) -> Path:
        return Path(value) if value else Path(self.root) / default

    @property
    def tables_dir(self) -> Path:
        return self._under_root(self.tables, "tables").absolute()

    @property
    def checkpoints_dir(self) -> Path:
        return self._under_root(self.checkpoints, "checkpoints").absolute()

    @property
    def landing_dir(self) -> Path:
        return self._under_root(self.landing, "landing").absolute()

    @property
    def root_dir(self) -> Path:
        return Path(self.root).absolute()


class OptimizePolicy(Struct):
    zorder_by: list[str] = field(default_factory=list)
    cluster_by: Annotated[list[str], Meta(max_length=4)] = field(default_factory=list)
    target_file_size: str | None = None
    vacuum_retain_hours: Annotated[float, Meta(ge=0)] | None = None
    properties: dict[str, str] = field(default_factory=dict)
    bloom_filter_columns: list[str] = field(default_factory=list)
    predicates: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.zorder_by and self.cluster_by:
            raise ValueError("zorder_by and cluster_by cannot both be set (liquid clustering replaces Z-order)")


class TableSla(Struct):
    freshness_minutes: Annotated[float, Meta(gt=0)] | None = None
    max_lag_records: Annotated[int, Meta(ge=0)] | None = None
    min_pass_rate: Annotated[float, Meta(ge=0, le=1)] | None = None
    max_small_file_ratio: Annotated[float, Meta(ge=0, le=1)] | None = None
    # now - the newest event time the table reflects (lakectl.monitor.freshness): how late it is behind the source
    max_end_to_end_lag_seconds: Annotated[float, Meta(gt=0)] | None = None


class TableConfig(Struct):
    path: str | None = None  # default: <storage.tables>/<schema>/<name>
    partition_by: list[str] = field(default_factory=list)
    optimize: OptimizePolicy = field(default_factory=OptimizePolicy)
    sla: TableSla = field(default_factory=TableSla)


DEFAULT_TABLES = [
    "bronze.events",
    "bronze.quarantine",
    "silver.events",
    "silver.reviews",
    "silver.quarantine",
    "silver.customers",
    "silver.products",
    "gold.customer_behavior_daily",
    "gold.product_performance_daily",
    "gold.funnel_daily",
    "gold.kpi_hourly",
    "gold.sentiment_daily",
    "ops.runs",
    "ops.dq_metrics",
    "ops.stream_progress",
    "silver.review_scores",
]


@dataclass(frozen=True)
class TableHandle:
    """A resolved table: where it lives and how SQL refers to it."""

    key: str
    schema_name: str
    name: str
    config: TableConfig
    storage: StorageSettings
    by_path: bool = False  # storage.catalog names where the table is registered, not how Spark reaches it

    @property
    def spark_catalog(self) -> str | None:
        """The catalog Spark addresses this table in, or None: by its path."""
        return None if self.by_path else self.storage.catalog

    @property
    def path(self) -> str:
        if self.config.path:
            return str(Path(self.config.path).absolute()) if "://" not in self.config.path else self.config.path
        return str(self.storage.tables_dir / self.schema_name / self.name)

    @property
    def ref(self) -> str:
        """How SQL names this table: catalog.schema.name when Spark has the catalog, else delta.`path`."""
        if self.spark_catalog:
            return quote_name(self.spark_catalog, self.schema_name, self.name)
        return path_ref(self.path)

    @property
    def display(self) -> str:
        return f"{self.storage.catalog}.{self.key}" if self.storage.catalog else self.key
