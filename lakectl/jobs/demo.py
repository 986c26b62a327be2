"""demo: the whole product on a day of generated data, in one process and one session.

The pipeline (generate -> ingest -> transform -> aggregate, the stages `lakectl run` executes), then the
model (train the configured featurizer, the encoder by default, on the generated reviews; score every
review with the champion), a `monitor check` and its verdict, and the HTML report at a known path under
the storage root. Each stage is the ordinary job, recorded as a stage of the demo's run. The result says
where everything is (`where`) and what to try next (`next`). With `--with-services`, the local Kafka broker
and Unity Catalog server run around the stages (jobs/demo_services.py): the events go through a Kafka topic,
and a `grant apply` of the example policy runs before the check."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lakectl.core.errors import TooLittleTrainingData, translate
from lakectl.core.results import Result
from lakectl.core.sources import Source
from lakectl.core.typed import parse_params
from lakectl.engine.context import JobContext
from lakectl.jobs.params import DemoParams, RunParams

if TYPE_CHECKING:
    from lakectl.config import Settings
    from lakectl.jobs.run import StageEvent

REPORT = Path("reports") / "demo.html"  # under the storage root
ML_STAGES = ("train", "score")
LABELS = ("generate", "ingest", "transform", "aggregate", "train", "score", "check", "report")
LABELS_WITH_SERVICES = ("services", *LABELS[:6], "grant", *LABELS[6:])


def report_path(settings: Settings) -> Path:
    return settings.storage.root_dir.absolute() / REPORT


def pipeline(p: DemoParams) -> list[tuple[str, dict[str, Any]]]:
    """(job, params) of the data stages: generate, then the stages `lakectl run` executes."""
    from lakectl.jobs.run_plan import stages as run_stages

    generate = ("generate", {"events": p.events, "bad_fraction": p.bad_fraction, "seed": p.seed})
    return [generate, *run_stages(RunParams(source=Source.files))]


def labels(p: DemoParams) -> list[str]:
    return list(LABELS_WITH_SERVICES if p.with_services else LABELS)


def where(ctx: JobContext, with_services: bool = False, services: dict[str, Any] | None = None) -> dict[str, str]:
    """Where the demo's lake, report, lineage events and MLflow store are (and the services' data)."""
    from lakectl.ml.store import store_of

    s = ctx.settings
    root = s.storage.root_dir.absolute()
    lineage = s.lineage
    events = [str(lineage.file_path(root)) if t == "file" else f"{lineage.url}/{lineage.endpoint}" for t in lineage.transports]
    found = {
        "lake": str(s.storage.tables_dir.absolute()),
        "report": str(report_path(s)),
        "lineage": ", ".join(events) or "off (lineage.transports is empty)",
        "mlflow": store_of(s, ctx.target).display,
    }
    if with_services:
        from lakectl.jobs import demo_services

        found.update(demo_services.where(s, services))
    return found


def next_steps(ctx: JobContext, with_services: bool = False) -> list[str]:
    steps = [
        "lakectl lineage gold.kpi_hourly --upstream --columns",
        "lakectl monitor models",
        "lakectl model list",
        'lakectl query "SELECT * FROM gold.kpi_hourly ORDER BY event_hour DESC" --limit 24',
        "lakectl monitor tables",
        f"open {report_path(ctx.settings)}",
        "lakectl init myproject   # a config of your own",
    ]
    if with_services:
        from lakectl.jobs import demo_services

        steps[-1:-1] = demo_services.next_steps(ctx.settings)
    return steps


def run(ctx: JobContext, params: dict[str, Any], on_stage: StageEvent | None = None) -> Result:
    from time import perf_counter

    p = parse_params(params, DemoParams)
    if p.dry_run:  # no session, no file: what would run and where it would go
        return Result(
            job="demo",
            status="dry_run",
            dry_run=True,
            metrics={"would_run": labels(p), "where": where(ctx, p.with_services), "next": next_steps(ctx, p.with_services)},
        )
    notify = on_stage or (lambda *_: None)
    result = Result(job="demo")
    started = perf_counter()
    times: dict[str, float] = {}

    def stage(label: str, job: str, stage_params: dict[str, Any]) -> Result | None:
        """Run one stage; None when it did not end ok (the demo stops there with its status)."""
        from lakectl.jobs import run_job

        notify(label, "start", None)
        try:
            with _quiet_mlflow() if label in ML_STAGES else _nothing():
                done = run_job(ctx, job, stage_params)
        except Exception as exc:
            err = translate(exc)  # keep the stage's exit code, name the stage in the one-line message
            raise type(err)(f"stage {label}: {err.message}", err.hint) from exc
        notify(label, "done", done)
        times[label] = done.duration_s
        result.details.append({**done.to_dict(), "stage": label})
        result.tables_written += [t for t in done.tables_written if t not in result.tables_written]
        result.warnings += [f"{label}: {w}" for w in done.warnings]
        if done.status not in ("ok", "breach"):  # a breach is the check's verdict, not a failed stage
            result.status = done.status
            return None
        return done

    try:
        with _services(ctx, p, result, notify):
            _stages(ctx, p, result, stage, notify)
    finally:
        _summarise(ctx, result, times, perf_counter() - started, p.with_services)
    return result


@contextmanager
def _services(ctx: JobContext, p: DemoParams, result: Result, notify: StageEvent) -> Iterator[None]:
    if not p.with_services:
        yield
        return
    from lakectl.jobs import demo_services

    with demo_services.running(ctx, result, notify):
        yield


def _stages(
    ctx: JobContext, p: DemoParams, result: Result, stage: Callable[[str, str, dict[str, Any]], Result | None], notify: StageEvent
) -> None:
    """The stages in order; returns at the first that did not end ok (the result has its status)."""
    if p.with_services:
        from lakectl.jobs import demo_services

        data_stages = demo_services.stages(dict(pipeline(p)[0][1]), ctx.settings)
    else:
        data_stages = pipeline(p)
    for job, stage_params in data_stages:
        if stage(job, job, stage_params) is None:
            return
    try:
        trained = stage("train", "train", {})
    except TooLittleTrainingData as exc:  # a small day has too few reviews: show the rest of the product
        notify("train", "done", Result(job="train", status="skipped"))
        result.warnings.append(f"train and score skipped: {exc.message.removeprefix('stage train: ')} (try -n 10000 or more)")
        trained = None
    else:
        if trained is None:
            return
    champion, scored = None, None
    if trained is not None:
        champion, score_params = _champion(trained, result)
        scored = stage("score", "score", score_params)
        if scored is None:
            return
    if p.with_services and stage("grant", "grant", {"action": "apply"}) is None:
        return
    checked = stage("check", "monitor", {"action": "check", "alert": False})  # a demo pages nobody
    if checked is None:
        return
    reported = stage("report", "monitor", {"action": "report", "html": str(report_path(ctx.settings))})
    if reported is None:
        return
    result.metrics.update(
        {
            "champion": champion,
            "model_version_trained": trained.metrics.get("model_version") if trained else None,
            "rows_scored": scored.rows_written if scored else 0,
            "verdict": checked.status,
            "breaches": checked.metrics.get("breaches", 0),
            "checks": checked.metrics.get("checks", 0),
            "report": reported.metrics.get("html"),
        }
    )


def _champion(trained: Result, result: Result) -> tuple[dict[str, str] | None, dict[str, Any]]:
    """The champion after training ({name, version}) and the score stage's params: the champion's
    scores, or the version just trained when the gate left the registry without a champion."""
    m = trained.metrics
    name, version = m.get("model_name"), m.get("model_version")
    if m.get("promoted"):
        return {"name": name, "version": str(version)}, {}
    if m.get("champion_before"):
        result.warnings.append(f"train: the gate kept version {version} as challenger ({m.get('gate', {}).get('reason')})")
        return {"name": name, "version": str(m["champion_before"])}, {}
    result.warnings.append(f"train: the gate did not promote version {version} and there is no champion: the demo scored the challenger")
    return None, {"model": f"{name}/{version}"}


def _summarise(ctx: JobContext, result: Result, times: dict[str, float], seconds: float, with_services: bool = False) -> None:
    from lakectl.jobs.run_plan import rows_by_layer

    by_job = {d["stage"]: d for d in result.details}
    result.rows_written = by_job.get("ingest", {}).get("rows_written", 0)
    result.rows_quarantined = by_job.get("ingest", {}).get("rows_quarantined", 0)
    result.metrics.update({"rows_written_by_layer": rows_by_layer(result.details), "stages": times})
    if by_job.get("aggregate", {}).get("kpi"):
        result.metrics["kpi"] = by_job["aggregate"]["kpi"]
    try:
        found = where(ctx, with_services, result.metrics.get("services"))
        result.metrics.update({"where": found, "next": next_steps(ctx, with_services)})
    except Exception:  # noqa: BLE001  # a store that needs more config must not hide a stage's error
        result.metrics["next"] = next_steps(ctx)
    if with_services:
        from lakectl.jobs import demo_services

        result.metrics.update(demo_services.figures(result))
    result.duration_s = round(seconds, 3)  # the CLI calls this job directly, not through run_job


@contextmanager
def _quiet_mlflow() -> Iterator[None]:
    """MLflow's INFO lines and warnings about its own internals would bury the demo's stage lines."""
    import importlib.util

    if importlib.util.find_spec("mlflow") is not None:
        import mlflow  # noqa: F401  # it sets its loggers' level when first imported: import it before changing that

    logger = logging.getLogger("mlflow")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


@contextmanager
def _nothing() -> Iterator[None]:
    yield
