"""Typed configuration: the models of configs/*.yaml, loading, ${ENV} interpolation and targets."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from msgspec import Meta, field

from lakectl.errors import ConfigError, UsageError
from lakectl.sql import path_ref, quote_name
from lakectl.typed import InvalidValue, Model, parse

DEFAULT_CONFIG = Path("configs/lakectl.yaml")
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_SECRET_KEY = re.compile(r"(password|secret|token|jaas|connection_string|sasl\.jaas|access_key)", re.I)
_URL_USERINFO = re.compile(r"(?<=://)[^/@\s]+@")  # user:password@ in a URL value (e.g. score's endpoint)
_URL_SECRET_QUERY = re.compile(r"(?i)([?&](?:token|password|secret|key|sig)[^=&\s]*=)[^&\s#]+")


# --- targets -----------------------------------------------------------------------------------

class _Target(Model):
    """A target; subclasses name their `kind` tag, which picks the class when the config is read."""

    @property
    def kind(self) -> str:
        return self.__struct_config__.tag


class LocalTarget(_Target, tag_field="kind", tag="local"):
    master: str = "local[*]"
    driver_memory: str = "2g"
    shuffle_partitions: Annotated[int, Meta(ge=1)] = 4
    spark_conf: dict[str, str] = field(default_factory=dict)


class SparkTarget(_Target, tag_field="kind", tag="spark"):
    """Any Spark 4 cluster: a Spark Connect URL (sc://host:15002) or a master URL."""

    remote: str | None = None
    master: str | None = None
    spark_conf: dict[str, str] = field(default_factory=dict)
    connect_timeout_s: Annotated[float, Meta(gt=0)] = 10.0  # bound on reaching a Spark Connect server before a job starts

    def __post_init__(self) -> None:
        if bool(self.remote) == bool(self.master):
            raise ValueError("set exactly one of `remote` (sc://host:15002) or `master`")
        if self.remote and not self.remote.startswith("sc://"):
            raise ValueError("`remote` must be a Spark Connect URL starting with sc://")


class DatabricksTarget(_Target, tag_field="kind", tag="databricks"):
    """A Databricks workspace, reached through databricks-sdk unified auth (profile or host + token env).

    Compute: `serverless: true`, an existing `cluster_id`, or a new job cluster (`spark_version` +
    `node_type_id`). See docs/targets.md.
    """

    profile: str | None = None
    host: str | None = None
    cluster_id: str | None = None
    serverless: bool = False
    spark_version: str | None = None
    node_type_id: str | None = None
    num_workers: Annotated[int, Meta(ge=0)] = 1
    environment_version: str = "4"  # serverless environment version
    artifact_path: str | None = None  # /Volumes/c/s/v/dir or /Workspace/...; default /Workspace/Users/<me>/.lakectl/wheels
    timeout_minutes: Annotated[float, Meta(gt=0)] = 60  # bound on one run, unless --timeout says otherwise
    poll_interval_s: Annotated[float, Meta(gt=0)] = 5.0
    connect_timeout_s: Annotated[int, Meta(ge=1)] = 30  # the SDK's retry budget per API call (its default is 300 s)
    warehouse_id: str | None = None  # `lakectl query` runs on this SQL warehouse instead of as a job

    def __post_init__(self) -> None:
        chosen = [n for n, on in (("serverless", self.serverless), ("cluster_id", self.cluster_id),
                                  ("spark_version", self.spark_version)) if on]
        if len(chosen) > 1:
            raise ValueError(f"choose one compute: serverless, cluster_id or spark_version + node_type_id (got {', '.join(chosen)})")
        if self.artifact_path and not self.artifact_path.startswith(("/Volumes/", "/Workspace/")):
            raise ValueError("`artifact_path` must start with /Volumes/ (a Unity Catalog volume) or /Workspace/")


Target = LocalTarget | SparkTarget | DatabricksTarget  # chosen by the `kind` key


# --- storage, sources, tables ---------------------------------------------------------------------

class StorageSettings(Model):
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


class FilesSource(Model):
    path: str | None = None  # default: <landing>/events
    # At most N files per micro-batch; without it batches are bounded in bytes (ingest.max_bytes_per_trigger).
    max_files_per_trigger: Annotated[int, Meta(ge=1)] | None = None


class KafkaSource(Model):
    bootstrap_servers: str = "127.0.0.1:9092"
    topics: list[str] = field(default_factory=lambda: ["lakectl.events"])
    topic_pattern: str | None = None
    starting_offsets: str = "earliest"
    max_offsets_per_trigger: Annotated[int, Meta(ge=1)] | None = None
    fail_on_data_loss: bool = True
    min_partitions: Annotated[int, Meta(ge=1)] | None = None  # Spark tasks per micro-batch; default: the session's parallelism
    options: dict[str, str] = field(default_factory=dict)  # kafka.* consumer options; secrets as ${ENV}
    connect_timeout_s: Annotated[float, Meta(gt=0)] = 10.0  # bound on the broker probe before a stream starts


class EventHubsSource(Model):
    namespace: str | None = None  # <namespace>.servicebus.windows.net:9093
    event_hub: str = "events"
    connection_string_env: str = "EVENTHUBS_CONNECTION_STRING"
    starting_offsets: str = "earliest"
    max_offsets_per_trigger: Annotated[int, Meta(ge=1)] | None = None
    min_partitions: Annotated[int, Meta(ge=1)] | None = None  # Spark tasks per micro-batch; default: the session's parallelism
    options: dict[str, str] = field(default_factory=dict)  # extra kafka.* options (timeouts)
    connect_timeout_s: Annotated[float, Meta(gt=0)] = 15.0


class KinesisSource(Model):
    stream_name: str = "lakectl-events"
    region: str = "us-east-1"
    initial_position: str = "trim_horizon"
    endpoint_url: str | None = None


class SourcesSettings(Model):
    files: FilesSource = field(default_factory=FilesSource)
    kafka: KafkaSource = field(default_factory=KafkaSource)
    eventhubs: EventHubsSource = field(default_factory=EventHubsSource)
    kinesis: KinesisSource = field(default_factory=KinesisSource)


class OptimizePolicy(Model):
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


class TableSla(Model):
    freshness_minutes: Annotated[float, Meta(gt=0)] | None = None
    max_lag_records: Annotated[int, Meta(ge=0)] | None = None
    min_pass_rate: Annotated[float, Meta(ge=0, le=1)] | None = None
    max_small_file_ratio: Annotated[float, Meta(ge=0, le=1)] | None = None


class TableConfig(Model):
    path: str | None = None  # default: <storage.tables>/<schema>/<name>
    partition_by: list[str] = field(default_factory=list)
    optimize: OptimizePolicy = field(default_factory=OptimizePolicy)
    sla: TableSla = field(default_factory=TableSla)


DEFAULT_TABLES = [
    "bronze.events", "bronze.quarantine",
    "silver.events", "silver.reviews", "silver.quarantine", "silver.customers", "silver.products",
    "gold.customer_behavior_daily", "gold.product_performance_daily", "gold.funnel_daily",
    "gold.kpi_hourly", "gold.sentiment_daily",
    "ops.runs", "ops.dq_metrics", "ops.stream_progress", "silver.review_scores",
]


class Expectation(Model):
    name: Annotated[str, Meta(min_length=1)]
    expr: Annotated[str, Meta(min_length=1)]  # a SQL predicate that is TRUE for a good row (NULL counts as failed)
    action: Literal["warn", "drop", "quarantine", "fail"] = "quarantine"
    table: Literal["silver.events"] = "silver.events"


def default_expectations() -> list[Expectation]:
    """The rules silver.events gets when the config names none (see docs/transform.md)."""
    rules = [
        ("event_type_known", "event_type IN ('page_view', 'click', 'add_to_cart', 'purchase', 'review')", "quarantine"),
        ("event_time_present", "event_time IS NOT NULL", "quarantine"),
        ("event_time_not_future", "event_time <= current_timestamp() + INTERVAL 1 DAY", "quarantine"),
        ("customer_id_present", "customer_id IS NOT NULL", "quarantine"),
        ("price_range", "price IS NULL OR (price >= 0 AND price <= 100000)", "quarantine"),
        ("price_present_for_sales", "event_type NOT IN ('add_to_cart', 'purchase') OR price IS NOT NULL", "quarantine"),
        ("quantity_range", "quantity IS NULL OR quantity BETWEEN 1 AND 1000", "quarantine"),
        ("rating_range", "rating IS NULL OR rating BETWEEN 1 AND 5", "quarantine"),
        ("review_has_rating", "event_type <> 'review' OR rating IS NOT NULL", "quarantine"),
        ("country_iso2", "country IS NULL OR country RLIKE '^[A-Z]{2}$'", "warn"),
        ("known_customer", "segment IS NOT NULL", "warn"),
        ("known_product", "product_id IS NULL OR category IS NOT NULL", "warn"),
    ]
    return [Expectation(name=n, expr=e, action=a) for n, e, a in rules]  # type: ignore[arg-type]


class TransformSettings(Model):
    expectations: list[Expectation] = field(default_factory=default_expectations)
    schema_drift: Literal["rescue", "add", "fail"] = "rescue"
    max_bytes_per_trigger: str | int | None = None  # bronze bytes per micro-batch; default: an eighth of the driver memory

    def __post_init__(self) -> None:
        _check_size(self.max_bytes_per_trigger)


class IngestSettings(Model):
    trigger_interval: str = "10 seconds"
    # Source bytes per micro-batch (files; Kafka and Event Hubs as records of ~1 KiB when
    # max_offsets_per_trigger is unset); default: an eighth of the driver memory.
    max_bytes_per_trigger: str | int | None = None

    def __post_init__(self) -> None:
        _check_size(self.max_bytes_per_trigger)


def _check_size(value: str | int | None) -> None:
    from lakectl.maintenance.file_stats import parse_size

    try:
        ok = value is None or (parse_size(value) or 0) >= 1
    except UsageError:
        ok = False
    if not ok:
        raise ValueError(f"max_bytes_per_trigger must be a size like 128m, 1g or 1048576, not {value!r}")


class AggregateSettings(Model):
    """`lakectl aggregate`: when an incremental refresh gives way to a full recompute."""

    full_refresh_threshold: Annotated[float, Meta(ge=0, le=1)] = 0.5  # share of all days touched by new silver rows


class MonitorSettings(Model):
    """`lakectl monitor`: alert channels, de-duplication and what counts as a small file."""

    webhook_url: str | None = None  # Slack-compatible incoming webhook; write ${LAKECTL_ALERT_WEBHOOK_URL:-}
    smtp_host: str | None = None
    smtp_port: Annotated[int, Meta(ge=1, le=65535)] = 25
    smtp_from: str = "lakectl@localhost"
    smtp_to: list[str] = field(default_factory=list)
    smtp_starttls: bool = False
    smtp_user: str | None = None
    smtp_password_env: str = "LAKECTL_SMTP_PASSWORD"
    renotify_minutes: Annotated[float, Meta(gt=0)] = 240.0  # a standing breach is re-alerted at most this often
    small_file_bytes: Annotated[int, Meta(ge=1)] = 32 * 1024 * 1024
    stream_stale_minutes: Annotated[float, Meta(gt=0)] = 10.0  # no progress for this long and no live pid: not running
    record_read_only: bool = False  # also record monitor, query and --dry-run runs in ops.runs
    small_file_min_files: Annotated[int, Meta(ge=1)] = 10  # max_small_file_ratio applies from this many files on


# --- schedules (lakectl deploy) ---------------------------------------------------------------------

class ScheduledTask(Model):
    """One task of a scheduled job: `lakectl-job JOB --params PARAMS` after the tasks it depends on."""

    job: Annotated[str, Meta(min_length=1)]
    params: dict[str, Any] = field(default_factory=dict)
    depends_on: list[str] = field(default_factory=list)
    retries: Annotated[int, Meta(ge=0)] = 0
    timeout_minutes: Annotated[float, Meta(gt=0)] | None = None


class ScheduleNotifications(Model):
    emails_on_failure: list[str] = field(default_factory=list)
    webhooks_on_failure: list[str] = field(default_factory=list)  # Databricks notification destination ids


class Schedule(Model):
    """A recurring job (`lakectl deploy`): tasks by key, a unix cron line, limits and notifications."""

    tasks: dict[str, ScheduledTask]
    cron: str | None = None  # 5 fields, e.g. "*/5 * * * *"; none: run on demand only
    timezone: str = "UTC"
    paused: bool = False
    max_concurrent_runs: Annotated[int, Meta(ge=1)] = 1
    timeout_minutes: Annotated[float, Meta(gt=0)] | None = None
    notifications: ScheduleNotifications = field(default_factory=ScheduleNotifications)

    def __post_init__(self) -> None:
        if not self.tasks:
            raise ValueError("a schedule needs at least one task")
        for key, task in self.tasks.items():
            unknown = [d for d in task.depends_on if d not in self.tasks]
            if unknown:
                raise ValueError(f"task {key!r} depends on unknown task(s) {unknown}")
        if self.cron is not None and len(self.cron.split()) != 5:
            raise ValueError(f"cron {self.cron!r} must have 5 fields: minute hour day-of-month month day-of-week")


class GrantSla(Model):
    grants_drift: Literal["off", "fail"] = "off"  # `monitor check`: grants that differ from the policy are a breach


class GrantSettings(Model):
    """`lakectl grant`: the policy file and the Unity Catalog server it is applied to (docs/grant.md)."""

    policy: str = "configs/grants.yaml"
    # auto: Databricks' Unity Catalog (databricks-sdk) on a `databricks` target, else the server at `url` over HTTP
    backend: Literal["auto", "uc_oss", "databricks"] = "auto"
    url: str = "http://127.0.0.1:8081"  # scripts/uc-local's API port (UC_PORT+1)
    token_env: str = "UC_TOKEN"  # the bearer token comes from this variable ...
    auth_file: str | None = None  # ... or from this file (the local server's etc/conf/token.txt); never printed
    admins: list[str] = field(default_factory=lambda: ["admin"])  # metastore admins: never revoked
    threads: Annotated[int, Meta(ge=1, le=32)] = 4  # parallel requests to the server
    timeout_s: Annotated[float, Meta(gt=0)] = 10.0
    sla: GrantSla = field(default_factory=GrantSla)


class MLSplit(Model):
    """The deterministic train / validation / test split by a hash of event_id (test gets the rest)."""

    train: Annotated[float, Meta(gt=0, lt=1)] = 0.7
    validation: Annotated[float, Meta(gt=0, lt=1)] = 0.15
    seed: int = 17

    def __post_init__(self) -> None:
        if self.train + self.validation >= 1:
            raise ValueError("train + validation must leave a share for the test split (sum < 1)")


class MLGate(Model):
    """When a newly trained version becomes `champion`."""

    metric: Literal["accuracy", "f1", "roc_auc"] = "accuracy"
    min_test_metric: Annotated[float, Meta(ge=0, le=1)] = 0.6
    tolerance: Annotated[float, Meta(ge=0, le=1)] = 0.0  # must beat the champion's metric minus this (equal does not)


class ModelSla(Model):
    """`lakectl monitor check` thresholds on a scored model version (docs/ml.md#monitoring)."""

    min_rating_agreement: Annotated[float, Meta(ge=0, le=1)] | None = None  # predicted label = rating label, share
    max_score_psi: Annotated[float, Meta(ge=0)] | None = None  # scores vs the training run's test split


class MLSla(ModelSla):
    """Model SLAs for every scored model (`models:` overrides them per model name)."""

    window_days: Annotated[float, Meta(gt=0)] = 7.0  # scores of the last N days are measured
    min_rows: Annotated[int, Meta(ge=1)] = 100  # fewer compared (agreement) or scored (PSI) rows: skipped
    models: dict[str, ModelSla] = field(default_factory=dict)

    def for_model(self, name: str) -> ModelSla:
        """The thresholds for model `name`: its own where set, else the global ones."""
        own = self.models.get(name) or ModelSla()
        return ModelSla(
            min_rating_agreement=self.min_rating_agreement if own.min_rating_agreement is None else own.min_rating_agreement,
            max_score_psi=self.max_score_psi if own.max_score_psi is None else own.max_score_psi,
        )

    @property
    def configured(self) -> bool:
        return any(s.min_rating_agreement is not None or s.max_score_psi is not None for s in [self, *self.models.values()])


class MLSettings(Model):
    """`lakectl train` / `score` / `model`: MLflow stores, the model, its labels, split and gate."""

    tracking_uri: str | None = None  # default: sqlite:///<storage.root>/mlflow/mlflow.db
    registry_uri: str | None = None  # default: the tracking URI
    artifact_location: str | None = None  # default: <storage.root>/mlflow/artifacts
    experiment: str = "lakectl-sentiment"
    model_name: str = "sentiment"  # on Databricks: <storage.catalog>.<model_schema>.<model_name> unless three-part
    model_schema: str = "ml"
    featurizer: Literal["encoder", "tfidf"] = "encoder"
    positive_min_rating: Annotated[int, Meta(ge=1, le=5)] = 4
    negative_max_rating: Annotated[int, Meta(ge=1, le=5)] = 2
    min_labelled_rows: Annotated[int, Meta(ge=2)] = 50
    split: MLSplit = field(default_factory=MLSplit)
    reg_params: Annotated[list[float], Meta(min_length=1)] | None = None  # default: the featurizer's grid (grid_for)
    num_features: Annotated[int, Meta(ge=16)] = 1 << 18
    gate: MLGate = field(default_factory=MLGate)
    sla: MLSla = field(default_factory=MLSla)  # `monitor check`: rating agreement and score drift

    def grid_for(self, featurizer: str) -> list[float]:
        """The regParam grid: ml.reg_params, else one measured for the featurizer's feature scale (docs/ml.md)."""
        if self.reg_params:
            return list(self.reg_params)
        return [0.03, 0.1, 0.3, 1.0] if featurizer == "encoder" else [0.003, 0.01, 0.03, 0.1]

    def __post_init__(self) -> None:
        if self.negative_max_rating >= self.positive_min_rating:
            raise ValueError("negative_max_rating must be below positive_min_rating")


class Settings(Model):
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

    def table(self, key: str) -> "TableHandle":
        """The table called `key` (schema.name); unconfigured tables get defaults."""
        schema, _, name = key.partition(".")
        if not name:
            raise ConfigError(f"table {key!r} must be written <schema>.<name>")
        return TableHandle(key=key, schema_name=schema, name=name, config=self.tables.get(key, TableConfig()), storage=self.storage,
                           by_path=self.tables_by_path)

    @property
    def spark_catalog(self) -> str | None:
        """The catalog Spark addresses tables in, or None: by path."""
        return None if self.tables_by_path else self.storage.catalog

    def for_target(self, name: str | None) -> "Settings":
        """These settings as jobs on target `name` use them. A local Spark has no Unity Catalog (no UC
        connector for Spark 4): unless its spark_conf declares spark.sql.catalog.<storage.catalog>, tables
        keep their path addresses there, and lakectl registers them in the catalog (docs/grant.md)."""
        catalog, target = self.storage.catalog, self.targets.get(name or self.default_target)
        if (not catalog or self.tables_by_path or not isinstance(target, LocalTarget) or catalog == "spark_catalog"
                or f"spark.sql.catalog.{catalog}" in target.spark_conf):
            return self
        from msgspec.structs import replace

        return replace(self, tables_by_path=True)

    def table_keys(self) -> list[str]:
        keys = list(DEFAULT_TABLES)
        keys += [k for k in self.tables if k not in keys]
        return keys


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


# --- loading ---------------------------------------------------------------------------------------

def config_path(explicit: str | os.PathLike[str] | None) -> Path:
    if explicit:
        return Path(explicit)
    env = os.environ.get("LAKECTL_CONFIG")
    return Path(env) if env else DEFAULT_CONFIG


def load_settings(path: str | os.PathLike[str] | None = None) -> Settings:
    """Load, interpolate and validate a config file; a missing default file gives built-in defaults."""
    file = config_path(path)
    if not file.exists():
        if path is None and "LAKECTL_CONFIG" not in os.environ:
            return Settings(source_file="<defaults>")
        raise ConfigError(f"config file not found: {file}", "pass --config PATH or set LAKECTL_CONFIG")
    from lakectl.cache import cached_config, store_config

    text = file.read_text()
    raw = cached_config(text)
    if raw is not None:
        return settings_from_dict(raw, str(file))
    raw = _read_yaml(file, text)
    settings = settings_from_dict(raw, str(file))
    store_config(text, raw)
    return settings


def _read_yaml(file: Path, text: str) -> dict[str, Any]:
    import yaml

    try:
        raw = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{file}{where}: invalid YAML: {problem}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{file}: the top level must be a mapping of keys")
    return raw


def settings_from_dict(raw: dict[str, Any], source: str = "<dict>") -> Settings:
    hint = "see the configuration reference in the README"
    for key in ("source_file", "tables_by_path"):
        if key in raw:
            raise ConfigError(f"{source}: {key}: unknown key", hint)
    try:
        _reject_inline_secrets(raw, source, ())
        data = _interpolate(raw, source, ())
        settings = parse(data, Settings)
    except InvalidValue as exc:
        raise ConfigError(f"{source}: {' '.join(str(exc).split())}", hint) from None
    except RecursionError:  # a YAML alias that contains itself (a: &x [*x]), or absurd nesting
        raise ConfigError(f"{source}: the configuration nests too deeply or refers to itself", hint) from None
    settings.source_file = source
    _check_table_keys(settings, source)
    return settings


def _check_table_keys(settings: Settings, source: str) -> None:
    """A key under `tables:` that is not a lakectl table but close to one is a typo: its policy
    would silently apply to nothing. Other new keys (a table of your own with a `path`) are kept."""
    import difflib

    for key in settings.tables:
        if key in DEFAULT_TABLES:
            continue
        schema = key.partition(".")[0]
        same_schema = [t for t in DEFAULT_TABLES if t.partition(".")[0] == schema]
        close = difflib.get_close_matches(key, same_schema, n=1, cutoff=0.8)
        if close:  # (a new table in another schema, e.g. gold.review_scores next to ops.review_scores, is fine)
            raise ConfigError(f"{source}: tables.{key}: unknown table", f"did you mean {close[0]}?")


def _interpolate(value: Any, source: str, path: tuple[str, ...]) -> Any:
    if isinstance(value, dict):
        return {k: _interpolate(v, source, path + (str(k),)) for k, v in value.items()}
    if isinstance(value, list):
        return [_interpolate(v, source, path + (str(i),)) for i, v in enumerate(value)]
    if isinstance(value, str):
        if "\x00" in value:
            raise ConfigError(f"{source}: {'.'.join(path)}: contains a NUL character", "remove it")
        if "${" in value:
            return _expand(value, 0, nested=False, where=f"{source}: {'.'.join(path)}")[0]
    return value


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _expand(text: str, i: int, *, nested: bool, where: str) -> tuple[str, int]:
    """Resolve ${VAR} and ${VAR:-default} (defaults may nest) from `text[i:]`; values from the
    environment are inserted as they are, never expanded again. Nested: stop at the closing brace
    of the enclosing reference. Anything else after `${` is an error, not a literal."""
    out: list[str] = []
    while i < len(text):
        if nested and text[i] == "}":
            return "".join(out), i + 1
        if not text.startswith("${", i):
            out.append(text[i])
            i += 1
            continue
        m = _NAME.match(text, i + 2)
        end = m.end() if m else i + 2
        if m and text.startswith("}", end):
            var, default, i = m.group(), None, end + 1
        elif m and text.startswith(":-", end):
            var = m.group()
            default, i = _expand(text, end + 2, nested=True, where=where)
        else:
            raise ConfigError(f"{where}: malformed environment reference at character {i + 1}",  # the value may be secret
                              "write ${VAR} or ${VAR:-default} (VAR: letters, digits, _)")
        if var in os.environ:
            out.append(os.environ[var])
        elif default is not None:
            out.append(default)
        else:
            raise ConfigError(f"{where}: environment variable {var} is not set",
                              f"export {var}=... or write ${{{var}:-default}}")
    if nested:
        raise ConfigError(f"{where}: unclosed environment reference", "close ${VAR:-default} with }")
    return "".join(out), i


def _reject_inline_secrets(value: Any, source: str, path: tuple[str, ...]) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _reject_inline_secrets(v, source, path + (str(k),))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _reject_inline_secrets(v, source, path + (str(i),))
    elif isinstance(value, str) and path and _SECRET_KEY.search(path[-1]) and not path[-1].endswith("_env"):
        if value and not _ENV_REF.search(value):
            raise ConfigError(
                f"{source}: {'.'.join(path)}: secrets must come from the environment",
                f"write ${{SOME_ENV_VAR}} instead of the value",
            )


def mask_secrets(value: Any, key: str = "") -> Any:
    """A copy with every secret-looking value replaced by '***' (for logs, ledgers and output)."""
    if isinstance(value, dict):
        return {k: mask_secrets(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_secrets(v, key) for v in value]
    if isinstance(value, str) and key and _SECRET_KEY.search(key) and not key.endswith("_env"):
        return "***"
    if isinstance(value, str) and "://" in value:
        return _URL_SECRET_QUERY.sub(r"\1***", _URL_USERINFO.sub("***@", value))
    return value
