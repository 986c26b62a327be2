"""generate: synthetic customers, products and events as JSON-lines files in the landing folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lakectl.core.errors import UsageError
from lakectl.core.results import Result, Timer
from lakectl.core.typed import parse_params
from lakectl.datagen.events import GenerateResult, generate
from lakectl.engine.context import JobContext
from lakectl.jobs.params import GenerateParams


def run(ctx: JobContext, params: dict[str, Any]) -> Result:
    p = parse_params(params, GenerateParams)
    texts = _review_texts(p)
    if p.to == "kafka":
        return _to_kafka(ctx, p, texts)
    out = Path(p.out) if p.out else ctx.settings.storage.landing_dir
    # A dry run draws the same lines without writing them: its figures are the run's, duplicates included.
    g = generate(
        out,
        p.events,
        seed=p.seed,
        start=p.start,
        days=p.days,
        bad_fraction=p.bad_fraction,
        duplicate_fraction=p.duplicate_fraction,
        customers=p.customers,
        products=p.products,
        file_rows=p.file_rows,
        review_texts=texts,
        neutral_share=p.neutral_share,
        dry_run=p.dry_run,
    )
    return Result(
        job="generate",
        dry_run=p.dry_run,
        rows_written=g.events,
        metrics={**_figures(g), "files": len(g.files), "landing": str(out), **_texts_metrics(p, texts)},
    )


def _figures(g: GenerateResult) -> dict[str, Any]:
    """Lines written (events counts every line, duplicates included) and the dimension rows."""
    return {
        "events": g.events,
        "valid_events": g.valid_events,
        "bad_records": g.bad_records,
        "duplicates": g.duplicates,
        "bad_by_kind": g.bad_by_kind,
        "event_types": g.event_types,
        "customers": g.customers,
        "products": g.products,
    }


def _review_texts(p: GenerateParams) -> list[tuple[str, int]] | None:
    if p.review_texts is None:
        return None
    from lakectl.ml.corpus import load_review_texts

    return load_review_texts(p.review_texts)


def _texts_metrics(p: GenerateParams, texts: list[tuple[str, int]] | None) -> dict[str, Any]:
    if texts is None:
        return {}
    return {
        "review_texts": str(Path(p.review_texts or "").absolute()),
        "review_texts_rows": len(texts),
        "review_texts_positive": sum(label for _, label in texts),
        "neutral_share": p.neutral_share,
    }


def _to_kafka(ctx: JobContext, p: GenerateParams, texts: list[tuple[str, int]] | None = None) -> Result:
    """The same events as the files (same seed, same lines), produced into a topic, key = customer_id.
    The customers and products go to the landing folder as files, where transform reads them."""
    from lakectl.datagen.dimensions import dimension_rows, write_dimensions
    from lakectl.datagen.events import file_tag, iter_event_lines, resolve_start
    from lakectl.datagen.kafka import ensure_topic, produce_lines
    from lakectl.pipeline.sources.kafka import kafka_spec

    spec = kafka_spec(ctx.settings.sources.kafka, topics=[p.topic] if p.topic else None, bootstrap=p.bootstrap_servers)
    if spec.pattern or not spec.topics:
        raise UsageError("--to kafka needs a topic name", "pass --topic NAME")
    topic = spec.topics[0]
    out = Path(p.out) if p.out else ctx.settings.storage.landing_dir
    start = resolve_start(p.start, p.days)  # once: the dimension files and the events share the range
    kwargs: dict[str, Any] = dict(
        seed=p.seed,
        start=start,
        days=p.days,
        bad_fraction=p.bad_fraction,
        duplicate_fraction=p.duplicate_fraction,
        customers=p.customers,
        products=p.products,
        review_texts=texts,
        neutral_share=p.neutral_share,
    )
    if p.dry_run:
        g = generate(out, p.events, dry_run=True, **kwargs)
        return Result(
            job="generate",
            dry_run=True,
            rows_written=g.events,
            metrics={
                **_figures(g),
                "landing": str(out),
                "dimension_files": g.files[:2],
                "bootstrap": spec.bootstrap,
                "topic": topic,
                "create_partitions": p.partitions,
                **_texts_metrics(p, texts),
            },
        )
    conf = spec.client_conf()
    created, partitions = ensure_topic(conf, topic, p.partitions, timeout=spec.connect_timeout_s)
    cust, prod = dimension_rows(p.events, seed=p.seed, start=start, customers=p.customers, products=p.products)
    dimension_files = write_dimensions(out, file_tag(p.seed, start, p.events), cust, prod)
    g = GenerateResult()
    lines = iter_event_lines(p.events, result=g, **kwargs)
    with Timer() as t:
        sent = produce_lines(conf, topic, lines)
    warnings = []
    if p.partitions and not created and partitions != p.partitions:
        warnings.append(f"topic {topic} already existed with {partitions} partitions (asked for {p.partitions}); left as is")
    return Result(
        job="generate",
        rows_written=sent.produced,
        warnings=warnings,
        metrics={
            **_figures(g),
            "landing": str(out),
            "dimension_files": dimension_files,
            "bootstrap": spec.bootstrap,
            "topic": topic,
            "partitions": partitions,
            "topic_created": created,
            "produce_s": t.seconds,
            "events_per_s": round(sent.produced / t.seconds) if t.seconds else None,
            **_texts_metrics(p, texts),
        },
    )
