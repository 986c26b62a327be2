"""Model monitoring (`lakectl monitor models`): per scored model version, the daily score distribution,
the agreement of predicted labels with rating-derived ones (a proxy accuracy), and the drift of the
scores against the training run's test split as a population stability index (PSI).

The figures come from ONE grouped query over silver.review_scores LEFT JOIN silver.reviews, run the
way `lakectl query` runs a SELECT: DuckDB over delta-rs for local tables (no JVM, so `monitor check`
stays JVM-free), one Spark action otherwise. The PSI reference is the `score_histogram_test.json`
artifact `lakectl train` logs in the version's MLflow run, read through the MLflow client per call.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lakectl.ml.metrics import psi, psi_reading

if TYPE_CHECKING:
    from lakectl.engine.context import JobContext

BINS = 10
SCORES, REVIEWS = "silver.review_scores", "silver.reviews"
REFERENCE_ARTIFACT = "score_histogram_test.json"


@dataclass
class DayFigures:
    day: str  # scored_at's UTC date
    rows: int = 0
    score_sum: float = 0.0
    positive: int = 0
    rated_rows: int = 0
    agreeing_rows: int = 0
    histogram: list[int] = field(default_factory=lambda: [0] * BINS)

    def to_dict(self) -> dict[str, Any]:
        return {
            "day": self.day,
            "rows": self.rows,
            "mean_score": _ratio(self.score_sum, self.rows),
            "positive_share": _ratio(self.positive, self.rows),
            "rated_rows": self.rated_rows,
            "rating_agreement": _ratio(self.agreeing_rows, self.rated_rows),
            "histogram": self.histogram,
        }


@dataclass
class VersionFigures:
    """One (model_name, model_version) over the window."""

    model_name: str
    model_version: str
    mlflow_run_id: str | None = None
    days: dict[str, DayFigures] = field(default_factory=dict)
    psi: float | None = None
    psi_reason: str | None = None  # why the PSI is unknown
    reference_rows: int | None = None
    aliases: list[str] = field(default_factory=list)  # the version's aliases in the registry now

    def total(self, attr: str) -> Any:
        return sum(getattr(d, attr) for d in self.days.values())

    @property
    def rows(self) -> int:
        return self.total("rows")

    @property
    def rated_rows(self) -> int:
        return self.total("rated_rows")

    @property
    def rating_agreement(self) -> float | None:
        return _ratio(self.total("agreeing_rows"), self.rated_rows)

    @property
    def histogram(self) -> list[int]:
        return [sum(d.histogram[i] for d in self.days.values()) for i in range(BINS)]

    def to_dict(self) -> dict[str, Any]:
        days = sorted(self.days)
        return {
            "model_name": self.model_name,
            "model_version": self.model_version,
            "aliases": self.aliases,
            "mlflow_run_id": self.mlflow_run_id,
            "rows": self.rows,
            "days": len(days),
            "first_day": days[0] if days else None,
            "last_day": days[-1] if days else None,
            "mean_score": _ratio(self.total("score_sum"), self.rows),
            "positive_share": _ratio(self.total("positive"), self.rows),
            "rated_rows": self.rated_rows,
            "agreeing_rows": self.total("agreeing_rows"),
            "rating_agreement": self.rating_agreement,
            "histogram": self.histogram,
            "psi": self.psi,
            "psi_reading": psi_reading(self.psi),
            "psi_reason": self.psi_reason,
            "reference_rows": self.reference_rows,
            "per_day": [self.days[d].to_dict() for d in days],
        }


@dataclass
class ModelsReport:
    since: datetime
    versions: list[VersionFigures]
    engine: str | None = None
    warnings: list[str] = field(default_factory=list)
    missing: str | None = None  # why there is nothing to show (no scores table yet)


def _ratio(a: float, b: float) -> float | None:
    return a / b if b else None


def aggregate_sql(since: datetime, *, with_reviews: bool) -> str:
    """Counts per (model, version, UTC day, score bin): rows, score sum, predicted positives, rows whose
    review has a rating label and rows whose predicted label equals it. Spark SQL and DuckDB alike.
    Nothing a user typed goes into it (the two dialects escape string literals differently): the
    cutoff is formatted here, and a --model filter is applied to the grouped rows."""
    cutoff = since.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    rated = "r.label" if with_reviews else "CAST(NULL AS INT)"
    join = f" LEFT JOIN {REVIEWS} r ON r.event_id = s.event_id" if with_reviews else ""
    where = f"s.scored_at >= TIMESTAMP '{cutoff}' AND s.score IS NOT NULL"
    return (
        "WITH scored AS ("
        "SELECT s.model_name, s.model_version, s.mlflow_run_id, CAST(s.scored_at AS DATE) AS score_day, "
        f"LEAST(GREATEST(CAST(FLOOR(s.score * {BINS}) AS INT), 0), {BINS - 1}) AS score_bin, "
        f"s.score, s.label AS predicted, {rated} AS rated "
        f"FROM {SCORES} s{join} WHERE {where}) "
        "SELECT model_name, model_version, score_day, score_bin, COUNT(*) AS scored, SUM(score) AS score_sum, "
        "SUM(CASE WHEN predicted = 1 THEN 1 ELSE 0 END) AS positive, "
        "SUM(CASE WHEN rated IS NOT NULL THEN 1 ELSE 0 END) AS rated_rows, "
        "SUM(CASE WHEN rated IS NOT NULL AND predicted = rated THEN 1 ELSE 0 END) AS agreeing_rows, "
        "MAX(mlflow_run_id) AS mlflow_run_id "
        "FROM scored GROUP BY model_name, model_version, score_day, score_bin"
    )


def model_report(ctx: JobContext, *, days: float, model: str | None = None, engine: str = "auto") -> ModelsReport:
    """The figures of every model version scored in the last `days` days (optionally one model's)."""
    from lakectl.lake import preflight
    from lakectl.lake.query import plain, read_only

    since = datetime.now(UTC) - timedelta(days=days)
    scores, reviews = ctx.settings.table(SCORES), ctx.settings.table(REVIEWS)
    if preflight.checkable(scores) and not preflight.exists(scores):
        return ModelsReport(
            since, [], missing=f"no model scores yet: {scores.display} is written by `lakectl score` (after `lakectl train`)"
        )
    with_reviews = not preflight.checkable(reviews) or preflight.exists(reviews)
    out = read_only(ctx, aggregate_sql(since, with_reviews=with_reviews), limit=0, engine=engine)
    found = _versions(out.columns, [[plain(v) for v in r] for r in out.rows])
    versions = [v for v in found if model is None or v.model_name == model]
    report = ModelsReport(since, versions, engine=out.engine, warnings=list(out.warnings))
    if found and not versions:
        report.missing = (
            f"no scores of model {model} in the last {days:g} day(s); scored models: {', '.join(sorted({v.model_name for v in found}))}"
        )
    if not with_reviews:
        report.warnings.append(f"{reviews.display} does not exist: no rating agreement")
    if report.versions:
        _reference_psi(ctx, report.versions)
    return report


def _versions(columns: list[str], rows: list[list[Any]]) -> list[VersionFigures]:
    found: dict[tuple[str, str], VersionFigures] = {}
    for values in rows:
        r = dict(zip(columns, values))
        key = (str(r["model_name"]), str(r["model_version"]))
        v = found.setdefault(key, VersionFigures(*key))
        v.mlflow_run_id = v.mlflow_run_id or r["mlflow_run_id"]
        d = v.days.setdefault(str(r["score_day"]), DayFigures(str(r["score_day"])))
        n = int(r["scored"])
        d.rows += n
        d.score_sum += float(r["score_sum"] or 0.0)
        d.positive += int(r["positive"] or 0)
        d.rated_rows += int(r["rated_rows"] or 0)
        d.agreeing_rows += int(r["agreeing_rows"] or 0)
        d.histogram[int(r["score_bin"])] += n
    return sorted(found.values(), key=lambda v: (v.model_name, _version_key(v.model_version)))


def _version_key(version: str) -> tuple[int, str]:
    return (int(version), "") if version.isdigit() else (1 << 62, version)


def _reference_psi(ctx: JobContext, versions: list[VersionFigures]) -> None:
    """Fill each version's PSI from its training run's histogram; a reason instead when it has none."""
    from lakectl.core.errors import LakectlError
    from lakectl.ml.store import connect, store_of

    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")  # no progress bar on stderr for a small JSON
    try:
        client = connect(store_of(ctx.settings, ctx.target), create=False)
    except LakectlError as exc:
        for v in versions:
            v.psi_reason = f"no training histogram: {exc.one_line()}"
        return
    for v in versions:
        try:
            reference = _reference(client, v)
        except Exception as exc:  # one unreadable run must not hide the other versions' figures
            v.psi_reason = f"training histogram unreadable: {(str(exc).splitlines() or [type(exc).__name__])[0][:200]}"
            continue
        if isinstance(reference, str):
            v.psi_reason = reference
            continue
        counts = reference.get("counts") or []
        if len(counts) != BINS or sum(counts) <= 0:
            v.psi_reason = f"run {v.mlflow_run_id}: {REFERENCE_ARTIFACT} has {len(counts)} bins / {sum(counts)} rows, not {BINS} bins"
            continue
        v.reference_rows = int(sum(counts))
        v.psi = psi(counts, v.histogram)


def _reference(client, v: VersionFigures) -> dict[str, Any] | str:  # noqa: ANN001
    """The version's training histogram, or a sentence saying why there is none."""
    try:
        mv = client.get_model_version(v.model_name, v.model_version)
        v.aliases = sorted(getattr(mv, "aliases", None) or [])
        v.mlflow_run_id = v.mlflow_run_id or mv.run_id
    except Exception:
        if not v.mlflow_run_id:
            return f"model {v.model_name} version {v.model_version} is not in the registry"
    if not v.mlflow_run_id:
        return f"model {v.model_name} version {v.model_version} has no MLflow run"
    names = {Path(a.path).name for a in client.list_artifacts(v.mlflow_run_id)}
    if REFERENCE_ARTIFACT not in names:
        return f"run {v.mlflow_run_id} has no {REFERENCE_ARTIFACT} (trained before lakectl logged it): retrain to get a drift reference"
    with tempfile.TemporaryDirectory() as tmp:
        path = client.download_artifacts(v.mlflow_run_id, REFERENCE_ARTIFACT, tmp)
        return json.loads(Path(path).read_text())


def to_details(report: ModelsReport) -> list[dict[str, Any]]:
    return [v.to_dict() for v in report.versions]
