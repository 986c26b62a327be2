"""ingest: a source stream -> bronze.events (+ bronze.quarantine), checkpointed and exactly-once."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from lakectl.core.errors import DataLossDetected, Interrupted, SourceUnavailable, UsageError
from lakectl.core.results import Result
from lakectl.core.sources import Source
from lakectl.core.typed import parse_params
from lakectl.engine.context import JobContext
from lakectl.governance.autoregister import after_first_batch
from lakectl.jobs.params import IngestParams
from lakectl.lake.batch_report import BatchReports
from lakectl.lake.batch_size import kafka_records_per_batch, micro_batch_bytes
from lakectl.lake.checkpoints import checkpoint_app_id, checkpoint_lock
from lakectl.lake.delta import ensure_table, exists, rows_committed, table_version
from lakectl.lake.streaming import run_query, stoppable
from lakectl.monitor.progress import recorder as progress_recorder
from lakectl.pipeline.bronze.writer import BRONZE_COLUMNS, QUARANTINE_COLUMNS, BronzeWriter, shape

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from lakectl.pipeline.sources.kafka import KafkaSpec


def checkpoint_dir(ctx: JobContext, p: IngestParams) -> Path:
    return Path(p.checkpoint) if p.checkpoint else ctx.settings.storage.checkpoints_dir / "ingest" / p.source


def batch_bytes(ctx: JobContext) -> int:
    """Source bytes per micro-batch (configured, or a share of the target's driver memory)."""
    return micro_batch_bytes(ctx.settings.ingest.max_bytes_per_trigger, ctx.target)


def kafka_source(ctx: JobContext, p: IngestParams) -> KafkaSpec | None:
    """The Kafka-protocol source spec (kafka or eventhubs), or None for other sources. No Spark needed.
    Without a configured maxOffsetsPerTrigger, batches are bounded by the byte budget in records."""
    spec: KafkaSpec | None = None
    if p.source == Source.kafka:
        from lakectl.pipeline.sources.kafka import kafka_spec

        spec = kafka_spec(
            ctx.settings.sources.kafka,
            topics=p.topics,
            pattern=p.topic_pattern,
            bootstrap=p.bootstrap_servers,
            starting_offsets=p.starting_offsets,
            max_offsets_per_trigger=p.max_offsets_per_trigger,
        )
    elif p.source == Source.eventhubs:
        from lakectl.pipeline.sources.eventhubs import eventhubs_spec

        spec = eventhubs_spec(
            ctx.settings.sources.eventhubs,
            event_hub=(p.topics or [None])[0],
            starting_offsets=p.starting_offsets,
            max_offsets_per_trigger=p.max_offsets_per_trigger,
        )
    if spec is not None and spec.max_offsets_per_trigger is None:
        spec.max_offsets_per_trigger = kafka_records_per_batch(batch_bytes(ctx))
    return spec


def source_identity(ctx: JobContext, p: IngestParams, spec: KafkaSpec | None) -> dict[str, Any]:
    """What the checkpoint is made for; another identity on the same checkpoint is refused."""
    if spec is not None:
        return spec.identity()
    if p.source == Source.kinesis:
        from lakectl.pipeline.sources import kinesis

        kinesis.require_databricks()
        return kinesis.identity(ctx.settings.sources.kinesis)
    if p.source == Source.files:
        from lakectl.pipeline.sources import files

        path = p.path or files.events_path(ctx.settings)
        return {"source": "files", "path": str(Path(path).absolute()) if "://" not in path else path}
    raise UsageError(f"source {p.source.value!r} is not available in this version", "use --source files or kafka")


def open_source(ctx: JobContext, p: IngestParams, spec: KafkaSpec | None) -> DataFrame:
    """The source's streaming DataFrame: `value` (the raw record) plus the bronze source columns."""
    if spec is not None:
        from lakectl.pipeline.sources import kafka

        return kafka.read_stream(ctx.spark, spec)
    if p.source == Source.kinesis:
        from lakectl.pipeline.sources import kinesis

        return kinesis.read_stream(ctx.spark, ctx.settings.sources.kinesis)
    from lakectl.pipeline.sources import files

    return files.read_stream(ctx.spark, ctx.settings, p.path or files.events_path(ctx.settings), batch_bytes=batch_bytes(ctx))


def record_data_loss(ctx: JobContext, checkpoint: Path, identity: dict[str, Any], ranges: list[dict[str, Any]]) -> Path:
    """Append the skipped offset ranges to <root>/ops/data_loss.jsonl (one line per run that skipped)."""
    import json
    import time

    ops = ctx.settings.storage.root_dir / "ops"
    ops.mkdir(parents=True, exist_ok=True)
    path = ops / "data_loss.jsonl"
    with path.open("a") as f:
        f.write(
            json.dumps(
                {
                    "run_id": ctx.run_id,
                    "recorded_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    "checkpoint": str(checkpoint),
                    "source": identity,
                    "skipped": ranges,
                }
            )
            + "\n"
        )
    return path


def _data_loss_during_run(exc: BaseException) -> bool:
    text = str(exc)
    return "failOnDataLoss" in text or "data may have been lost" in text or "OffsetOutOfRange" in text


def _pending_offsets(spec: KafkaSpec, spark_checkpoint: Path) -> dict[str, Any]:
    """What a run would read from the broker now: records per partition from the checkpoint's next offsets
    (a new stream: from its starting offsets) to the end offsets. Asks the broker (SourceUnavailable when it
    does not answer); {} when the lightweight client cannot say (a topic pattern, no confluent-kafka)."""
    from lakectl.pipeline.sources.kafka import probe
    from lakectl.pipeline.sources.kafka_offsets import checkpoint_offsets, watermarks

    available = probe(spec)
    if spec.pattern or not available:
        return {}
    parts = [(t, n) for t, count in sorted(available.items()) for n in range(count)]
    marks = watermarks(spec, parts)
    committed = checkpoint_offsets(spark_checkpoint) or {}
    pending = {}
    for (t, n), (low, high) in marks.items():
        start = committed.get((t, n))
        if start is None:
            start = high if spec.starting_offsets == "latest" else low  # a JSON start: counted from the earliest
        pending[f"{t}-{n}"] = max(0, high - max(start, low))
    return {"pending_records": sum(pending.values()), "pending_by_partition": pending}


def run(ctx: JobContext, params: dict[str, Any]) -> Result:
    p = parse_params(params, IngestParams)
    bronze = ctx.settings.table("bronze.events")
    quarantine = ctx.settings.table("bronze.quarantine")
    checkpoint = checkpoint_dir(ctx, p)
    spec = kafka_source(ctx, p)
    if p.dry_run:
        warnings: list[str] = []
        metrics: dict[str, Any] = {
            "source": p.source,
            "checkpoint": str(checkpoint),
            "trigger": "continuous" if p.continuous else "availableNow",
        }
        if spec is not None:
            metrics.update(source_identity=spec.identity(), source_options=spec.redacted_options())
            if p.source == Source.kafka:  # an Event Hubs dry run stays offline: it shows the options it would use
                try:
                    metrics.update(_pending_offsets(spec, checkpoint / "offsets"))  # asks the broker
                except SourceUnavailable as exc:  # the plan still shows: a warning says what a run would do
                    metrics["broker"] = "unreachable"
                    warnings.append(f"{exc.one_line()}; a run would exit {exc.exit_code}")
        elif p.source == Source.files:
            from lakectl.monitor.streams import files_backlog
            from lakectl.pipeline.sources.files import batch_limit, events_path

            landing = p.path or events_path(ctx.settings)
            metrics.update(batch_limit=batch_limit(ctx.settings, batch_bytes(ctx)))
            if "://" not in landing:  # an object store is listed by Spark only
                metrics["pending_files"] = files_backlog(landing, checkpoint / "offsets")
        return Result(job="ingest", dry_run=True, tables_written=[bronze.display, quarantine.display], metrics=metrics, warnings=warnings)
    identity = source_identity(ctx, p, spec)
    if p.source == Source.files:
        from lakectl.pipeline.sources import files

        files.require_landing(p.path or files.events_path(ctx.settings))  # before the JVM starts
    with checkpoint_lock(checkpoint):
        why = None if p.continuous else nothing_to_do(ctx, p, spec, identity, checkpoint)
        if why:
            return Result(
                job="ingest",
                metrics={
                    "source": p.source,
                    "batches": 0,
                    "checkpoint": str(checkpoint),
                    "note": f"nothing to do: {why} (no Spark started)",
                },
            )
        return _ingest(ctx, p, spec, identity, checkpoint)


def nothing_to_do(ctx: JobContext, p: IngestParams, spec: KafkaSpec | None, identity: dict[str, Any], checkpoint: Path) -> str | None:
    """Why a one-shot run would read nothing (then no JVM starts), or None whenever unsure: Spark decides."""
    if p.source == Source.files:
        from lakectl.pipeline.sources import files

        return (
            "no new landing files since the last run"
            if files.nothing_new(p.path or files.events_path(ctx.settings), checkpoint / "offsets")
            else None
        )
    if spec is None:
        return None
    from lakectl.pipeline.sources import kafka_offsets

    checkpoint_app_id(checkpoint, identity)  # a checkpoint made for another source is refused first, no-op or not
    caught_up = kafka_offsets.nothing_new(spec, checkpoint / "offsets")
    if caught_up is None:
        return None
    return f"no new records in {', '.join(spec.topics)} since the last run, all {len(caught_up)} partitions read to their end"


def _ingest(ctx: JobContext, p: IngestParams, spec: KafkaSpec | None, identity: dict[str, Any], checkpoint: Path) -> Result:
    bronze = ctx.settings.table("bronze.events")
    quarantine = ctx.settings.table("bronze.quarantine")
    app_id = checkpoint_app_id(checkpoint, identity)
    skipped: list[dict[str, Any]] = []
    warnings: list[str] = []
    if spec is not None:
        from lakectl.pipeline.sources.kafka_offsets import check_source

        skipped = check_source(spec, checkpoint / "offsets", allow_data_loss=p.allow_data_loss)
        if p.allow_data_loss:
            spec.fail_on_data_loss = False
        if skipped:
            where = record_data_loss(ctx, checkpoint, identity, skipped)
            warnings.append(f"data loss allowed: skipped {len(skipped):,} offset range(s), recorded in {where}")
    spark = ctx.spark
    stream = open_source(ctx, p, spec)
    versions = {bronze.path: table_version(spark, bronze.path), quarantine.path: table_version(spark, quarantine.path)}

    # Both tables exist with their schema and policy properties before the first batch writes.
    for handle, columns in ((bronze, BRONZE_COLUMNS), (quarantine, QUARANTINE_COLUMNS)):
        if not exists(spark, handle):  # an existing local table costs no Spark call, not even analysis
            ensure_table(spark, handle, shape(stream, ctx.run_id, 0).select(*columns).schema)

    # What each batch held and committed: its progress line, ops.stream_progress and the result read these.
    reports = BatchReports.for_job(ctx, "ingest")
    body = BronzeWriter({bronze.display: bronze.path, quarantine.display: quarantine.path}, app_id, ctx.run_id, reports)
    writer = (
        stream.writeStream.foreachBatch(stoppable(body))
        .option("checkpointLocation", str(checkpoint / "offsets"))
        .queryName(f"ingest-{p.source}")
    )
    interval = p.trigger_interval or ctx.settings.ingest.trigger_interval
    try:
        # each batch's progress goes to ops.stream_progress for `lakectl monitor streams` as it finishes
        run_query(
            writer,
            continuous=p.continuous,
            interval=interval,
            on_progress=after_first_batch(ctx, progress_recorder(ctx, checkpoint.name, str(checkpoint))),
            reports=reports.lookup(spark),
        )
    except Interrupted as exc:  # stopped after the batch in flight: the ledger records what was committed
        written = rows_committed(spark, bronze.path, ctx.run_id, versions[bronze.path])
        quarantined = rows_committed(spark, quarantine.path, ctx.run_id, versions[quarantine.path])
        exc.result = Result(
            job="ingest",
            status="interrupted",
            rows_written=written,
            rows_quarantined=quarantined,
            rows_read=written + quarantined,
            tables_written=[t for t, n in ((bronze.display, written), (quarantine.display, quarantined)) if n],
        )
        raise
    except Exception as exc:
        if spec is not None and _data_loss_during_run(exc):
            raise DataLossDetected(
                f"{spec.kind} data loss during the run: offsets the stream needed were deleted from the broker",
                "re-run with --allow-data-loss to skip them (the skipped ranges are recorded)",
            ) from exc
        raise
    batches = [r for _, r, _ in reports.collect(spark)]
    written = rows_committed(spark, bronze.path, ctx.run_id, versions[bronze.path])
    quarantined = rows_committed(spark, quarantine.path, ctx.run_id, versions[quarantine.path])
    return Result(
        job="ingest",
        rows_read=sum(r.rows for r in batches),
        rows_written=written,
        rows_quarantined=quarantined,
        tables_written=[t for t, n in ((bronze.display, written), (quarantine.display, quarantined)) if n],  # those that got rows
        warnings=warnings,
        metrics={
            "source": p.source,
            "batches": len(batches),
            "checkpoint": str(checkpoint),
            **({"skipped_offsets": skipped} if skipped else {}),
        },
    )
