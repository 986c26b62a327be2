"""The whole configuration file: `Settings` and the target it is used on."""

from __future__ import annotations

from msgspec import field

from lakectl.config.grant import GrantSettings
from lakectl.config.lineage import LineageSettings
from lakectl.config.ml import MLSettings
from lakectl.config.monitor import MonitorSettings
from lakectl.config.pipeline import AggregateSettings, IngestSettings, TransformSettings
from lakectl.config.schedules import Schedule
from lakectl.config.sources import SourcesSettings
from lakectl.config.storage import DEFAULT_TABLES, StorageSettings, TableConfig, TableHandle
from lakectl.config.targets import DatabricksTarget, LocalTarget, SparkTarget, Target
from lakectl.core.errors import ConfigError
from lakectl.core.typed import Struct


class Settings(Struct):
    """The whole configuration file."""

    project: str = "lakectl"
    default_target: str = "local"
    targets: dict[str, Target] = field(default_factory=lambda: {"local": LocalTarget()})
    storage: StorageSettings = field(default_factory=StorageSettings)
    sources: SourcesSettings = field(default_factory=SourcesSettings)
    tables: dict[str, TableConfig] = field(default_factory=dict)
    ingest: IngestSettings = field(default_factory=IngestSettings)
    transform: TransformSettings = field(default_factory=TransformSettings)
    monitor: MonitorSettings = field(default_factory=MonitorSettings)
    aggregate: AggregateSettings = field(default_factory=AggregateSettings)
    schedules: dict[str, Schedule] = field(default_factory=dict)  # recurring jobs for `lakectl deploy`
    grant: GrantSettings = field(default_factory=GrantSettings)
    ml: MLSettings = field(default_factory=MLSettings)
    lineage: LineageSettings = field(default_factory=LineageSettings)

    # Where the file came from, for messages; not part of the YAML (settings_from_dict refuses it there).
    source_file: str | None = None
    # Set by for_target, never in the YAML: Spark cannot resolve storage.catalog on the target in use,
    # so jobs address tables by path and the catalog only registers them.
    tables_by_path: bool = False

    def __post_init__(self) -> None:
        if self.default_target not in self.targets:
            raise ValueError(f"default_target {self.default_target!r} is not one of targets: {sorted(self.targets)}")
        for key in self.tables:
            if key.count(".") != 1:
                raise ValueError(f"table key {key!r} must be <schema>.<name>")

    def target(self, name: str | None = None) -> LocalTarget | SparkTarget | DatabricksTarget:
        name = name or self.default_target
        if name not in self.targets:
            raise ConfigError(
                f"{self.source_file or 'config'}: unknown target {name!r}",
                f"choose one of: {', '.join(sorted(self.targets))}",
            )
        return self.targets[name]

    def table(self, key: str) -> TableHandle:
        """The table called `key` (schema.name); unconfigured tables get defaults."""
        schema, _, name = key.partition(".")
        if not name:
            raise ConfigError(f"table {key!r} must be written <schema>.<name>")
        return TableHandle(
            key=key,
            schema_name=schema,
            name=name,
            config=self.tables.get(key, TableConfig()),
            storage=self.storage,
            by_path=self.tables_by_path,
        )

    @property
    def spark_catalog(self) -> str | None:
        """The catalog Spark addresses tables in, or None: by path."""
        return None if self.tables_by_path else self.storage.catalog

    def for_target(self, name: str | None) -> Settings:
        """These settings as jobs on target `name` use them. A local Spark has no Unity Catalog (no UC
        connector for Spark 4): unless its spark_conf declares spark.sql.catalog.<storage.catalog>, tables
        keep their path addresses there, and lakectl registers them in the catalog (docs/grant.md)."""
        catalog, target = self.storage.catalog, self.targets.get(name or self.default_target)
        if (
            not catalog
            or self.tables_by_path
            or not isinstance(target, LocalTarget)
            or catalog == "spark_catalog"
            or f"spark.sql.catalog.{catalog}" in target.spark_conf
        ):
            return self
        from msgspec.structs import replace

        return replace(self, tables_by_path=True)

    def table_keys(self) -> list[str]:
        keys = list(DEFAULT_TABLES)
        keys += [k for k in self.tables if k not in keys]
        return keys
