"""demo --with-services: the local Kafka broker and Unity Catalog server around the demo's stages.

Both start first (before any JVM of the pipeline: a missing prerequisite stops the demo at once, in one
line), the catalog is seeded with what the example policy names, and for the demo's run the settings point
at them: generate produces the day's events into the configured Kafka topic, ingest reads them from there,
and a `grant apply` of the policy runs against the server. Both stop when the demo ends, also on an error
or Ctrl-C, and the result says where their data is and how to start them again.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from lakectl.core.errors import ConfigError
from lakectl.core.results import Result
from lakectl.core.sources import Source
from lakectl.engine.context import JobContext

if TYPE_CHECKING:
    from lakectl.config import Settings
    from lakectl.services.local import LocalServices


def services_root(settings: Settings) -> Path:
    """The storage root: the services' data goes in its kafka/ and uc/ (scripts/uc-local's default, which
    the shipped config's grant.auth_file reads)."""
    return settings.storage.root_dir.absolute()


def topic(settings: Settings) -> str:
    topics = settings.sources.kafka.topics
    if not topics:
        raise ConfigError("demo --with-services needs a Kafka topic", "name one in sources.kafka.topics")
    return topics[0]


def policy_path(settings: Settings) -> Path:
    """grant.policy as given; a relative one not found from here, from the checkout the scripts are in."""
    given = Path(settings.grant.policy)
    if given.is_absolute() or given.exists():
        return given
    from lakectl.services.scripts import scripts_dir

    beside = scripts_dir().parent / given
    return beside if beside.exists() else given


def stages(params: dict[str, Any], settings: Settings) -> list[tuple[str, dict[str, Any]]]:
    """The data stages when the events go through Kafka: generate into the topic, ingest from it."""
    generate = ("generate", {**params, "to": "kafka", "topic": topic(settings)})
    return [generate, ("ingest", {"source": Source.kafka}), ("transform", {}), ("aggregate", {"full_refresh": False})]


def where(settings: Settings, services: dict[str, dict[str, Any]] | None = None) -> dict[str, str]:
    """The services' data folders, with their state once the demo ran them (`services`: LocalServices.describe())."""
    root = services_root(settings)
    found = {"kafka": str(root / "kafka"), "catalog": str(root / "uc")}
    for key, name in (("kafka", "kafka"), ("catalog", "unity_catalog")):
        if services and name in services:
            found[key] += f" ({services[name]['state']})"
    return found


def next_steps(settings: Settings) -> list[str]:
    """How to bring the demo's services back, on the ports the shipped config expects, and use them."""
    from lakectl.services.scripts import script

    root = services_root(settings)
    return [
        f"KAFKA_DATA_DIR={root / 'kafka'} {script('kafka-local')} start   # the demo's topic again, on 127.0.0.1:9092",
        f"lakectl ingest --source kafka --topics {topic(settings)}",
        f"UC_DATA_DIR={root / 'uc'} {script('uc-local')} start   # the demo's catalog again, API on 127.0.0.1:8081",
        "lakectl grant drift   # the policy against the catalog (token: grant.auth_file)",
    ]


@contextmanager
def running(ctx: JobContext, result: Result, notify: Callable[[str, str, Any], None]) -> Iterator[LocalServices]:
    """Both services up and the context's settings pointing at them for the block; stopped afterwards,
    with what they were and their final state in result.metrics["services"]."""
    from time import perf_counter

    from lakectl.governance.policy import load_policy
    from lakectl.governance.uc_seed import seed
    from lakectl.services.local import local_services
    from lakectl.services.scripts import check_java

    settings = ctx.settings
    policy = load_policy(policy_path(settings))  # a bad policy or no java stops the demo before anything starts
    check_java(os.environ)
    notify("services", "start", None)
    started = perf_counter()
    services_ref: list[LocalServices] = []
    try:
        with local_services(services_root(settings)) as services:
            services_ref.append(services)
            assert services.kafka is not None and services.uc is not None
            seeded = seed(policy, services.uc.admin(), services.uc.data_dir)
            ctx.settings = _pointing_at(settings, services.kafka.bootstrap, services.uc.url, services.uc.token_file, policy.file)
            result.metrics["seeded"] = seeded
            took = round(perf_counter() - started, 3)
            result.metrics["services_start_s"] = took
            notify("services", "done", Result(job="services", duration_s=took))
            try:
                yield services
            finally:
                ctx.settings = settings
    finally:
        if services_ref:
            result.metrics["services"] = services_ref[0].describe()
            result.warnings += [f"services: {p}" for p in services_ref[0].problems]


def _pointing_at(settings: Settings, bootstrap: str, url: str, token_file: Path, policy: str) -> Settings:
    """A copy of the settings whose Kafka source and grant server are the demo's services."""
    replace = msgspec.structs.replace
    kafka = replace(settings.sources.kafka, bootstrap_servers=bootstrap, options={})
    grant = replace(settings.grant, url=url, auth_file=str(token_file), token_env="LAKECTL_DEMO_NO_TOKEN_ENV", policy=policy)
    return replace(settings, sources=replace(settings.sources, kafka=kafka), grant=grant)


def figures(result: Result) -> dict[str, Any]:
    """What the JSON reports of the services' part: the Kafka rows (produced, ingested) and the grants applied."""
    by_stage = {d["stage"]: d for d in result.details}
    generated, ingested, granted = by_stage.get("generate", {}), by_stage.get("ingest", {}), by_stage.get("grant", {})
    return {
        "kafka": {
            "topic": generated.get("topic"),
            "bootstrap": generated.get("bootstrap"),
            "produced": generated.get("rows_written", 0),
            "rows_ingested": ingested.get("rows_written", 0),
            "rows_quarantined": ingested.get("rows_quarantined", 0),
        },
        "grants": {
            "policy": granted.get("policy"),
            "changes_applied": granted.get("changes_applied", 0),
            "seeded": result.metrics.pop("seeded", []),
        },
    }
