from __future__ import annotations

import sys
from typing import Any

import typer

from lakectl.cli.boundary import OK_STATUSES, run_job
from lakectl.cli.help import command
from lakectl.cli.params import DRY_RUN, option, options_from
from lakectl.jobs.params import DemoParams


@command(
    panel="Pipeline",
    examples=[
        ("lakectl demo", "a day of synthetic data through the pipeline, the model, a check and a report"),
        ("lakectl demo -n 20000 --bad-fraction 0.05", "smaller, with more bad records to quarantine"),
        ("lakectl demo --with-services", "also a local Kafka broker and Unity Catalog: ingest from a topic, apply grants"),
        ("lakectl demo --dry-run", "the stages it would run and where everything would go"),
    ],
    exits=(1, 3),
)
@options_from(
    DemoParams,
    events=option("-n", help="Events to generate for the day."),
    bad_fraction=option(help="Share of malformed records."),
    with_services=option(
        help="Also start the local Kafka broker and Unity Catalog server (Java 17, cached jars): ingest the events from a "
        "Kafka topic, apply the example grants policy; both are stopped at the end."
    ),
    dry_run=DRY_RUN,
)
def demo(ctx: typer.Context, params: dict[str, Any], json_out: bool) -> None:
    """Show the whole product on the local default: generate a day of data; ingest, transform and aggregate it;
    train the sentiment model on its reviews and score them; run `monitor check` and write the HTML report
    under the storage root. Ends with where everything is and the next commands to try. With --with-services, the
    events go through a local Kafka broker and the example grants policy is applied on a local Unity Catalog server."""
    run_job(ctx, "demo", params, json_out, remote=False, progress="stages", present=_with_next_steps)


def _with_next_steps(result: Any, fmt: str) -> None:
    from dataclasses import replace

    from lakectl.cli.render import render_result

    as_lines = ("where", "next", "services", "kafka", "grants")  # printed below, as lines
    shown = {k: v for k, v in result.metrics.items() if k not in as_lines}
    render_result(result if fmt == "json" else replace(result, metrics=shown), fmt=fmt)
    if fmt == "json":
        return
    services = _services_lines(result.metrics)
    if result.status not in OK_STATUSES:
        if services:  # also after a failure: the services are stopped
            print(services[0], file=sys.stderr)
        return
    lines = []
    if "verdict" in result.metrics:
        m = result.metrics
        lines.append(f"monitor check: {m['verdict']} ({m['breaches']} breach(es) in {m['checks']} checks)")
    lines += services
    where = result.metrics.get("where", {})
    lines += ["where:"] + [f"  {k:<8} {v}" for k, v in where.items()]
    lines += ["next:"] + [f"  {step}" for step in result.metrics.get("next", [])]
    print("\n".join(lines), file=sys.stderr)


def _services_lines(m: dict[str, Any]) -> list[str]:
    """--with-services: the services and their state, the Kafka rows, the grants applied."""
    services = m.get("services")
    if not services:
        return []
    kafka, uc = services.get("kafka", {}), services.get("unity_catalog", {})
    states = {s.get("state") for s in (kafka, uc) if s}
    lines = [f"services: Kafka ({kafka.get('bootstrap', '-')}) and Unity Catalog ({uc.get('url', '-')}) {'/'.join(sorted(states))}"]
    if "kafka" in m:
        k = m["kafka"]
        lines.append(
            f"kafka: {k['produced']:,} events produced to topic {k['topic']}, "
            f"{k['rows_ingested']:,} ingested into bronze.events, {k['rows_quarantined']:,} quarantined"
        )
    if "grants" in m and m["grants"].get("policy"):
        g = m["grants"]
        lines.append(f"grants: {g['changes_applied']:,} change(s) applied from {g['policy']}")
    return lines
