"""What each job run read and wrote, for its OpenLineage events: the datasets (lake tables by path with
their schemas from the Delta log, sources outside the lake by their own names) and, where lakectl knows
it, which input columns feed each output column (the maps live beside the code they describe:
pipeline/bronze, silver and gold lineage.py)."""

from __future__ import annotations

from typing import Any

from lakectl.core.results import Result
from lakectl.core.sources import Source
from lakectl.engine.context import JobContext
from lakectl.lake.deltars import schema_fields
from lakectl.lineage.model import ColumnSource, Dataset, JobLineage, Output, path_dataset
from lakectl.pipeline.bronze.lineage import BRONZE_EVENTS, BRONZE_QUARANTINE, SOURCE, ColumnMap
from lakectl.pipeline.gold.lineage import GOLD_COLUMNS
from lakectl.pipeline.silver.lineage import LANDING_CUSTOMERS, LANDING_PRODUCTS, TRANSFORM_OUTPUTS

SCORE_COLUMNS: ColumnMap = {
    "event_id": [("silver.reviews", "event_id", "IDENTITY")],
    "score": [("silver.reviews", "review_text", "TRANSFORMATION")],
    "label": [("silver.reviews", "review_text", "TRANSFORMATION")],
}


def table_dataset(ctx: JobContext, display: str) -> Dataset:
    """A dataset named in a Result: a lake table (by its path, with its schema), or something else
    (an MLflow model `mlflow:name/version`) under its own name."""
    s = ctx.settings
    for key in s.table_keys():
        handle = s.table(key)
        if display in (handle.display, key):
            return path_dataset(handle.path, handle.display, schema_fields(handle.path) if "://" not in handle.path else ())
    scheme, _, rest = display.partition(":")
    return Dataset(scheme if rest else "lakectl", rest or display, table=display)


def source_datasets(ctx: JobContext, params: dict[str, Any]) -> list[Dataset]:
    """What an ingest read: the landing folder, or the topics of a Kafka or Event Hubs source."""
    source = params.get("source") or Source.files
    s = ctx.settings
    if source == Source.files:
        from lakectl.pipeline.sources.files import events_path

        return [path_dataset(str(params.get("path") or events_path(s)))]
    if source == Source.kafka:
        servers = str(params.get("bootstrap_servers") or s.sources.kafka.bootstrap_servers).split(",")[0]
        return [Dataset(f"kafka://{servers}", t) for t in (params.get("topics") or s.sources.kafka.topics)]
    if source == Source.eventhubs:
        return [Dataset(f"eventhubs://{s.sources.eventhubs.namespace}", str((params.get("topics") or [s.sources.eventhubs.event_hub])[0]))]
    return [Dataset(str(source), str(source))]


def job_lineage(ctx: JobContext, name: str, params: dict[str, Any], result: Result) -> JobLineage:
    inputs = [table_dataset(ctx, t) for t in result.tables_read if not t.startswith("/")]
    outputs = [table_dataset(ctx, t) for t in result.tables_written]
    named: dict[str, Dataset] = {d.table or d.name: d for d in inputs}
    maps: dict[str, ColumnMap] = {}
    if name == "ingest":
        sources = source_datasets(ctx, params)
        inputs += sources
        named.update({SOURCE: sources[0]} if len(sources) == 1 else {})
        maps = {"bronze.events": BRONZE_EVENTS, "bronze.quarantine": BRONZE_QUARANTINE}
    elif name == "transform":
        landing = ctx.settings.storage.landing_dir
        for key, folder in ((LANDING_CUSTOMERS, "customers"), (LANDING_PRODUCTS, "products")):
            if (landing / folder).is_dir():
                named[key] = path_dataset(str(landing / folder))
                inputs.append(named[key])
        maps = TRANSFORM_OUTPUTS
    elif name == "aggregate":
        maps = GOLD_COLUMNS
    elif name == "score":
        maps = {"silver.review_scores": SCORE_COLUMNS}
    return JobLineage(inputs=inputs, outputs=[Output(d, _columns(d, maps, named, ctx)) for d in outputs])


def _columns(out: Dataset, maps: dict[str, ColumnMap], named: dict[str, Dataset], ctx: JobContext) -> dict[str, list[ColumnSource]]:
    key = next((k for k in maps if out.table in (k, ctx.settings.table(k).display)), None) if out.table else None
    if key is None:
        return {}
    have = {c for c, _ in out.fields}
    columns: dict[str, list[ColumnSource]] = {}
    for column, sources in maps[key].items():
        if have and column not in have:
            continue
        found = [ColumnSource(d, c, sub) for src, c, sub in sources if (d := _dataset(src, named, ctx)) is not None]
        if found:
            columns[column] = found
    return columns


def _dataset(key: str, named: dict[str, Dataset], ctx: JobContext) -> Dataset | None:
    """The input dataset a map's source key names, when the run read it."""
    if key in named:
        return named[key]
    if not key.startswith("<"):
        display = ctx.settings.table(key).display
        return named.get(display)
    return None
