"""Typed models of configs/*.yaml (targets, storage, sources, tables, stages, monitor, schedules, grant,
ml), `${ENV}` interpolation and the loader. Everything a caller needs is importable from here."""

from lakectl.config.grant import GrantSettings, GrantSla
from lakectl.config.lineage import LineageSettings
from lakectl.config.loader import DEFAULT_CONFIG, config_path, load_settings, settings_from_dict
from lakectl.config.ml import MLGate, MLSettings, MLSla, MLSplit, ModelSla
from lakectl.config.monitor import MonitorSettings
from lakectl.config.pipeline import AggregateSettings, Expectation, IngestSettings, TransformSettings, default_expectations
from lakectl.config.schedules import Schedule, ScheduledTask, ScheduleNotifications
from lakectl.config.secrets import mask_secrets
from lakectl.config.settings import Settings
from lakectl.config.sources import EventHubsSource, FilesSource, KafkaSource, KinesisSource, SourcesSettings
from lakectl.config.storage import DEFAULT_TABLES, OptimizePolicy, StorageSettings, TableConfig, TableHandle, TableSla
from lakectl.config.targets import DatabricksTarget, LocalTarget, SparkTarget, Target

__all__ = [
    "DEFAULT_CONFIG",
    "DEFAULT_TABLES",
    "AggregateSettings",
    "DatabricksTarget",
    "EventHubsSource",
    "Expectation",
    "FilesSource",
    "GrantSettings",
    "GrantSla",
    "IngestSettings",
    "KafkaSource",
    "KinesisSource",
    "LineageSettings",
    "LocalTarget",
    "MLGate",
    "MLSettings",
    "MLSla",
    "MLSplit",
    "ModelSla",
    "MonitorSettings",
    "OptimizePolicy",
    "Schedule",
    "ScheduleNotifications",
    "ScheduledTask",
    "Settings",
    "SourcesSettings",
    "SparkTarget",
    "StorageSettings",
    "TableConfig",
    "TableHandle",
    "TableSla",
    "Target",
    "TransformSettings",
    "config_path",
    "default_expectations",
    "load_settings",
    "mask_secrets",
    "settings_from_dict",
]
