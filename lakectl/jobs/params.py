"""The parameters of every job, in one light module: what `lakectl-job NAME --params JSON` validates, and
what the command line derives its options from (names, types, choices, bounds, defaults: lakectl.cli.params).

Importing it costs msgspec and nothing else, so `lakectl --help` can read it; a job module imports its own
model from here. Annotations are evaluated (no `from __future__ import annotations`) so that the CLI reads them
without resolving strings. A bound the command line shows is a closed one (ge/le), printed as written here
(`Meta(ge=0.0, le=0.99)`: `[0.0<=x<=0.99]`)."""

from datetime import datetime
from typing import Annotated, Literal

from msgspec import Meta, field

from lakectl.core.sources import Source
from lakectl.core.typed import Struct

MAX_LIMIT = 2**31 - 1  # Spark's LIMIT takes a 32-bit int
Engine = Literal["auto", "duckdb", "spark"]  # auto: DuckDB for local tables (no JVM), else Spark
PipelineStage = Literal["ingest", "transform", "aggregate"]  # the stages of `lakectl run`, in their order


class GenerateParams(Struct):
    events: Annotated[int, Meta(ge=0)] = 100_000
    seed: int = 42
    start: datetime | None = None
    days: Annotated[float, Meta(ge=0.01)] = 1.0
    bad_fraction: Annotated[float, Meta(ge=0.0, le=0.99)] = 0.0
    duplicate_fraction: Annotated[float, Meta(ge=0.0, le=0.99)] = 0.0
    customers: Annotated[int, Meta(ge=1)] | None = None
    products: Annotated[int, Meta(ge=1)] | None = None
    out: str | None = None  # default: the configured landing folder
    file_rows: Annotated[int, Meta(ge=1)] = 100_000
    to: Literal["files", "kafka"] = "files"  # two of the Sources: where generated events go
    topic: str | None = None  # --to kafka: default the first of sources.kafka.topics
    partitions: Annotated[int, Meta(ge=1)] | None = None  # --to kafka: create the topic with N partitions if absent
    bootstrap_servers: str | None = None
    review_texts: str | None = None  # a labelled corpus (TSV/CSV text,label or JSON lines) for review texts
    neutral_share: Annotated[float, Meta(ge=0.0, le=1.0)] = 0.1  # with review_texts: share of reviews rated 3
    dry_run: bool = False


class IngestParams(Struct):
    source: Source = Source.files
    path: str | None = None
    continuous: bool = False
    trigger_interval: str | None = None
    checkpoint: str | None = None
    dry_run: bool = False
    allow_data_loss: bool = False
    # Kafka / Event Hubs overrides of the config
    topics: list[str] | None = None
    topic_pattern: str | None = None
    bootstrap_servers: str | None = None
    starting_offsets: str | None = None
    max_offsets_per_trigger: Annotated[int, Meta(ge=1)] | None = None


class TransformParams(Struct):
    batch: bool = False  # read the whole bronze table instead of streaming new rows
    continuous: bool = False
    trigger_interval: str | None = None
    checkpoint: str | None = None  # default: <checkpoints>/transform
    schema_drift: Literal["rescue", "add", "fail"] | None = None  # default: transform.schema_drift
    max_files_per_trigger: Annotated[int, Meta(ge=1)] | None = None
    dry_run: bool = False


class ReplayParams(Struct):
    layer: Literal["bronze", "silver"] = "silver"  # which quarantine: bronze.quarantine or silver.quarantine
    rule: Annotated[str, Meta(min_length=1)] | None = None  # only rows that failed this rule (bronze: this reason)
    since: Annotated[str, Meta(min_length=1)] | None = None  # only rows quarantined since: ISO date/time or 90m, 6h, 2d
    dry_run: bool = False


class AggregateParams(Struct):
    full_refresh: bool = False
    dry_run: bool = False
    export_format: Literal["csv", "parquet"] | None = None
    export_dir: str | None = None
    full_refresh_threshold: Annotated[float, Meta(ge=0, le=1)] | None = None  # default: settings.aggregate
    summary: bool = True
    continuous: bool = False  # refresh gold per micro-batch of silver's change feed until stopped
    trigger_interval: str | None = None  # with continuous; default ingest.trigger_interval


class RunParams(Struct):
    source: Source = Source.files
    full_refresh: bool = False  # aggregate: recompute gold in full
    skip: list[PipelineStage] = []
    dry_run: bool = False
    continuous: bool = False  # every stage as a stream in this one process, until stopped
    trigger_interval: str | None = None  # with continuous; default ingest.trigger_interval


class DemoParams(Struct):
    events: Annotated[int, Meta(ge=1)] = 50_000
    bad_fraction: Annotated[float, Meta(ge=0.0, le=0.99)] = 0.01
    seed: int = 42
    with_services: bool = False  # also the local Kafka broker (ingest from a topic) and Unity Catalog (grant apply)
    dry_run: bool = False


class LineageParams(Struct):
    table: Annotated[str, Meta(min_length=1)]
    upstream: bool = False  # neither flag: both directions
    downstream: bool = False
    columns: bool = False
    days: Annotated[int, Meta(ge=1, le=3660)] = 365  # Databricks: lineage events of the last N days


class QueryParams(Struct):
    sql: Annotated[str, Meta(min_length=1)]
    limit: Annotated[int, Meta(ge=0, le=MAX_LIMIT)] = 100  # 0 = no limit
    engine: Engine = "auto"


class MonitorParams(Struct):
    action: Literal["runs", "tables", "streams", "quality", "check", "report", "models"]
    tables: list[str] = field(default_factory=list)  # tables: only these (default: every configured table)
    history: Annotated[int, Meta(ge=0, le=100)] = 5  # tables: last operations to show
    command: str | None = None  # runs: filter
    status: str | None = None  # runs: filter
    since_hours: Annotated[float, Meta(ge=0.001)] | None = None  # runs/quality: only newer
    limit: Annotated[int, Meta(ge=1)] = 20  # runs: newest N
    include_stages: bool = False  # runs: also stages of nested runs
    junit: str | None = None  # check: write JUnit XML here
    alert: bool = True  # check: send alerts for due breaches
    dry_run: bool = False  # check: evaluate and say who would be alerted, send nothing
    html: str | None = None  # report: output file
    kafka_timeout: Annotated[float, Meta(ge=0.1, le=60)] = 5.0
    days: Annotated[float, Meta(ge=0.001, le=3660)] = 7.0  # models: scores of the last N days
    model: str | None = None  # models: only this model name
    engine: Engine = "auto"  # models: as `lakectl query --engine`


class OptimizeParams(Struct):
    tables: list[str] = []  # msgspec copies an empty-collection default per instance
    zorder: list[str] = []
    cluster_by: Annotated[list[str], Meta(max_length=4)] = []
    where: str | None = None
    vacuum: bool = False
    retain: str | None = None  # e.g. 168h, 7d; default: the policy's vacuum_retain_hours, else the table's retention
    force: bool = False
    analyze: bool = False
    advise: bool = False
    apply_policy: bool = False  # set the policy's table properties also when --zorder/--cluster-by is given
    target_file_size: str | None = None
    dry_run: bool = False
    max_attempts: Annotated[int, Meta(ge=1)] = 5
    backoff_s: Annotated[float, Meta(ge=0)] = 1.0
    databricks: bool | None = None  # None: detect the Databricks runtime


class GrantParams(Struct):
    action: Literal["plan", "apply", "drift", "export", "show", "register"]
    policy: str | None = None  # default: grant.policy from the config
    url: str | None = None  # default: grant.url
    out: str | None = None  # plan: save the plan here (for apply --plan); export: the policy file
    plan_file: str | None = None  # apply: apply this saved plan, refusing if the server changed since
    skip_unsupported: bool = False  # apply: go ahead although parts of the policy cannot be held
    allow_self_lockout: bool = False  # apply: allow revoking the caller's own MANAGE
    dry_run: bool = False
    securables: list[str] = field(default_factory=list)  # export / show; register: table keys (schema.name)


class TrainParams(Struct):
    promote: bool | None = None  # None: the gate decides; True: force champion; False: stay challenger
    featurizer: Literal["encoder", "tfidf"] | None = None  # default: ml.featurizer
    reg_params: list[Annotated[float, Meta(ge=0)]] | None = None  # default: ml.reg_params
    version: Annotated[int, Meta(ge=0)] | None = None  # silver.reviews version to read (default: the latest)
    dry_run: bool = False


class ScoreParams(Struct):
    model: str | None = None  # NAME@ALIAS | NAME/VERSION | VERSION; default <ml.model_name>@champion
    rescore: bool = False
    continuous: bool = False  # stream silver.reviews and score each new review as it lands
    trigger_interval: str | None = None  # with continuous; default ingest.trigger_interval
    checkpoint: str | None = None  # with continuous; default <checkpoints>/score/<model>-v<version>
    dry_run: bool = False
    # --via endpoint URL|NAME / --via ai_query NAME: scored by a served model (lakectl.ml.served)
    via: Literal["endpoint", "ai_query"] | None = None
    endpoint: str | None = None
    batch_size: int = 256
    concurrency: int = 4
    max_attempts: int = 5
    request_timeout_s: float = 60.0


class ModelParams(Struct):
    action: Literal["list", "show", "promote", "rollback"]
    name: str | None = None
    version: str | None = None
    dry_run: bool = False
