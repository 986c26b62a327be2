"""`monitor models` and the model SLAs without a JVM: Delta tables written with delta-rs, read by DuckDB,
and a real MLflow sqlite store holding the training runs' score histograms. Figures are computed here
by hand from the rows the test writes."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from lakectl.config import settings_from_dict
from lakectl.engine.context import JobContext
from lakectl.jobs import run_job
from lakectl.ml.metrics import psi, psi_reading, score_bin, score_histogram

NOW = datetime.now(UTC).replace(microsecond=0)
REFERENCE = [1, 2, 3, 4, 10, 10, 4, 3, 2, 1]  # the training run's test-split histogram (40 rows)


# --- pure functions ------------------------------------------------------------------------------


def test_score_histogram_fixed_bins_and_edges():
    h = score_histogram([0.0, 0.05, 0.1, 0.35, 0.999, 1.0, 0.5])
    assert h["edges"] == [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
    assert h["counts"] == [2, 1, 0, 1, 0, 1, 0, 0, 0, 2] and h["rows"] == 7  # 1.0 closes the last bin
    assert score_histogram([], bins=4) == {"edges": [0.0, 0.25, 0.5, 0.75, 1.0], "counts": [0, 0, 0, 0], "rows": 0}
    assert [score_bin(x) for x in (0.3, 0.7, 0.6, 0.2)] == [3, 7, 6, 2]  # float products round down to their bin


def test_psi_by_hand_epsilon_and_reading():
    assert psi([10, 20, 30], [1, 2, 3]) == pytest.approx(0.0)  # counts are turned into shares
    expected = (0.5 - 0.25) * math.log(0.5 / 0.25) + (0.5 - 0.75) * math.log(0.5 / 0.75)
    assert psi([1, 3], [2, 2]) == pytest.approx(expected)
    empty = (1e-4 - 0.5) * math.log(1e-4 / 0.5) + (1.0 - 0.5) * math.log(1.0 / 0.5)
    assert psi([5, 5], [0, 8]) == pytest.approx(empty)  # an empty bin counts as epsilon, so PSI stays finite
    assert [psi_reading(x) for x in (None, 0.0, 0.099, 0.1, 0.25, 0.26)] == [None, "stable", "stable", "moderate", "moderate", "shift"]
    with pytest.raises(ValueError, match="same bins"):
        psi([1, 2], [1, 2, 3])
    with pytest.raises(ValueError, match="at least one row"):
        psi([0, 0], [1, 1])


# --- a small lake and MLflow store --------------------------------------------------------------


def _settings(root: Path, sla: dict | None = None):
    return settings_from_dict({"storage": {"root": str(root)}, "ml": {"sla": {"min_rows": 5, **(sla or {})}}}, "<test>")


def _runs(settings) -> tuple[str, str]:
    """Two finished runs in the real sqlite store: one with the histogram artifact, one from before it."""
    from lakectl.ml.store import connect, ensure_experiment, store_of

    store = store_of(settings)
    client = connect(store)
    exp = ensure_experiment(client, store)
    with_hist, without = client.create_run(exp).info.run_id, client.create_run(exp).info.run_id
    client.log_dict(
        with_hist, {"edges": [i / 10 for i in range(11)], "counts": REFERENCE, "rows": sum(REFERENCE)}, "score_histogram_test.json"
    )
    for run_id in (with_hist, without):
        client.set_terminated(run_id)
    return with_hist, without


def _rows():
    """30 reviews (ratings 1..5: 3-star ones have no label); version 1 scored all of them over two days,
    version 2 (no histogram) ten of them today, plus one version-1 row scored long ago (out of window)."""
    reviews = [
        {"event_id": f"e{i:02d}", "rating": 1 + i % 5, "label": 1 if 1 + i % 5 >= 4 else 0 if 1 + i % 5 <= 2 else None} for i in range(30)
    ]
    scores = []
    for i in range(30):
        s = round((i * 0.037) % 1.0, 4)
        scores.append(
            {
                "event_id": f"e{i:02d}",
                "score": s,
                "label": int(s >= 0.5),
                "version": "1",
                "scored_at": NOW - timedelta(days=1 if i < 12 else 0, minutes=1),
            }
        )
    for i in range(10):
        s = 0.9 if i % 2 else 0.2
        scores.append(
            {"event_id": f"e{i:02d}", "score": s, "label": int(s >= 0.5), "version": "2", "scored_at": NOW - timedelta(minutes=1)}
        )
    scores.append({"event_id": "e00", "score": 0.99, "label": 1, "version": "old", "scored_at": NOW - timedelta(days=40)})
    return reviews, scores


def _write_lake(settings, runs: dict[str, str | None]) -> tuple[list[dict], list[dict]]:
    import pyarrow as pa
    from deltalake import write_deltalake

    reviews, scores = _rows()
    write_deltalake(
        settings.table("silver.reviews").path,
        pa.Table.from_pylist(reviews, schema=pa.schema([("event_id", pa.string()), ("rating", pa.int32()), ("label", pa.int32())])),
    )
    table = pa.Table.from_pylist(
        [
            {
                "event_id": r["event_id"],
                "score": r["score"],
                "label": r["label"],
                "model_name": "sentiment",
                "model_version": r["version"],
                "model_alias": "champion",
                "scored_at": r["scored_at"],
                "mlflow_run_id": runs.get(r["version"]),
                "run_id": "t",
            }
            for r in scores
        ],
        schema=pa.schema(
            [
                ("event_id", pa.string()),
                ("score", pa.float64()),
                ("label", pa.int32()),
                ("model_name", pa.string()),
                ("model_version", pa.string()),
                ("model_alias", pa.string()),
                ("scored_at", pa.timestamp("us", tz="UTC")),
                ("mlflow_run_id", pa.string()),
                ("run_id", pa.string()),
            ]
        ),
    )
    write_deltalake(settings.table("silver.review_scores").path, table)
    return reviews, scores


@pytest.fixture(scope="module")
def lake(tmp_path_factory):
    root = tmp_path_factory.mktemp("monmodels") / "lake"
    settings = _settings(root)
    with_hist, without = _runs(settings)
    reviews, scores = _write_lake(settings, {"1": with_hist, "2": without, "old": with_hist})
    return settings, reviews, scores, with_hist, without


def _by_hand(reviews, scores, version: str) -> dict:
    labels = {r["event_id"]: r["label"] for r in reviews}
    mine = [s for s in scores if s["version"] == version]
    rated = [s for s in mine if labels[s["event_id"]] is not None]
    hist = [0] * 10
    for s in mine:
        hist[min(int(s["score"] * 10), 9)] += 1
    e = [max(c / sum(REFERENCE), 1e-4) for c in REFERENCE]
    a = [max(c / len(mine), 1e-4) for c in hist]
    return {
        "rows": len(mine),
        "rated_rows": len(rated),
        "hist": hist,
        "agreement": sum(s["label"] == labels[s["event_id"]] for s in rated) / len(rated),
        "mean": sum(s["score"] for s in mine) / len(mine),
        "positive": sum(s["label"] for s in mine) / len(mine),
        "psi": sum((ai - ei) * math.log(ai / ei) for ai, ei in zip(a, e)),
    }


def test_models_figures_agree_with_a_hand_count(lake):
    settings, reviews, scores, with_hist, _ = lake
    result = run_job(JobContext(settings=settings), "monitor", {"action": "models", "days": 7})
    assert result.metrics["engine"] == "duckdb" and result.metrics["versions"] == 2  # "old" is out of the window
    v1, v2 = result.details
    want = _by_hand(reviews, scores, "1")
    assert (v1["model_version"], v1["rows"], v1["days"], v1["mlflow_run_id"]) == ("1", 30, 2, with_hist)
    assert v1["histogram"] == want["hist"] and v1["rated_rows"] == want["rated_rows"] == 24
    assert v1["rating_agreement"] == pytest.approx(want["agreement"])
    assert v1["mean_score"] == pytest.approx(want["mean"]) and v1["positive_share"] == pytest.approx(want["positive"])
    assert v1["psi"] == pytest.approx(want["psi"]) and v1["psi_reading"] == psi_reading(want["psi"]) and v1["psi_reason"] is None
    assert v1["reference_rows"] == sum(REFERENCE)
    yesterday, today = v1["per_day"]
    assert (yesterday["rows"], today["rows"]) == (12, 18) and sum(yesterday["histogram"]) == 12
    assert yesterday["day"] == (NOW - timedelta(days=1, minutes=1)).date().isoformat()

    want2 = _by_hand(reviews, scores, "2")
    assert v2["rows"] == 10 and v2["rating_agreement"] == pytest.approx(want2["agreement"])
    assert v2["psi"] is None and "has no score_histogram_test.json" in v2["psi_reason"]

    wide = run_job(JobContext(settings=settings), "monitor", {"action": "models", "days": 60, "model": "sentiment"})
    assert [d["model_version"] for d in wide.details] == ["1", "2", "old"]
    other = run_job(JobContext(settings=settings), "monitor", {"action": "models", "model": "other"})
    assert other.details == [] and "scored models: sentiment" in other.metrics["message"]


def test_models_cli_table_json_and_missing_scores(lake, tmp_path):
    from typer.testing import CliRunner

    from lakectl.cli.app import app

    settings = lake[0]
    cfg = tmp_path / "lakectl.yaml"
    cfg.write_text(json.dumps({"storage": {"root": str(settings.storage.root)}}))
    res = CliRunner().invoke(app, ["--config", str(cfg), "monitor", "models", "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert {"versions", "rows", "days", "since", "details"} <= set(doc) and doc["details"][0]["psi_reading"] in (
        "stable",
        "moderate",
        "shift",
    )
    res = CliRunner().invoke(app, ["--config", str(cfg), "monitor", "models", "--days", "3"])
    assert res.exit_code == 0, res.output
    assert "sentiment" in res.stdout and "no PSI: run" in res.stdout

    empty = tmp_path / "empty.yaml"
    empty.write_text(json.dumps({"storage": {"root": str(tmp_path / "nothing")}}))
    res = CliRunner().invoke(app, ["--config", str(empty), "monitor", "models"])
    assert res.exit_code == 0 and "lakectl score" in res.stdout


def test_model_slas_breach_exit_7_and_pass(lake, tmp_path):
    from typer.testing import CliRunner

    from lakectl.cli.app import app

    settings, reviews, scores, _, _ = lake
    want = _by_hand(reviews, scores, "1")
    cfg = tmp_path / "lakectl.yaml"

    def check(sla: dict, *flags: str):
        cfg.write_text(
            json.dumps(
                {
                    "storage": {"root": str(settings.storage.root)},
                    "ml": {"sla": {"min_rows": 5, **sla}},
                    "monitor": {"webhook_url": "http://127.0.0.1:9/hook"},
                }
            )
        )
        res = CliRunner().invoke(app, ["--config", str(cfg), "monitor", "check", *(flags or ("--no-alert",)), "--json"])
        doc = json.loads(res.stdout)
        return res.exit_code, {c["name"]: c for c in doc["details"]}, doc

    code, checks, doc = check({"min_rating_agreement": round(want["agreement"] + 0.01, 4)}, "--dry-run")
    assert code == 7
    assert checks["min_rating_agreement:sentiment/1"]["fingerprint"] in doc["alerts"]["alerted"]  # the alert channels see it
    c = checks["min_rating_agreement:sentiment/1"]
    assert c["status"] == "breach" and c["value"] == pytest.approx(want["agreement"]) and "24 rated" in c["message"]
    assert checks["min_rating_agreement:sentiment/2"]["status"] in ("pass", "breach")

    code, checks, _ = check({"max_score_psi": round(want["psi"] - 0.01, 4)})
    assert code == 7 and checks["max_score_psi:sentiment/1"]["status"] == "breach"
    assert checks["max_score_psi:sentiment/1"]["value"] == pytest.approx(want["psi"])
    assert checks["max_score_psi:sentiment/2"]["status"] == "skipped"  # no histogram: not a breach

    code, checks, _ = check(
        {"max_score_psi": 10, "min_rating_agreement": 0.0, "models": {"sentiment": {"max_score_psi": round(want["psi"] + 0.01, 4)}}}
    )
    assert code == 0 and checks["max_score_psi:sentiment/1"]["status"] == "pass"
    code, checks, _ = check({"min_rating_agreement": 0.0, "min_rows": 1000})
    assert code == 0 and {c["status"] for c in checks.values()} == {"skipped"}


def test_model_checks_in_the_html_report_speak_their_units():
    from lakectl.config import ModelSla
    from lakectl.monitor.model_health import DayFigures, VersionFigures
    from lakectl.monitor.report import breaches_block
    from lakectl.monitor.sla import model_checks

    day = DayFigures("2026-11-30", rows=200, rated_rows=150, agreeing_rows=105, histogram=[20] * 10)
    v = VersionFigures("sentiment", "3", days={day.day: day}, psi=0.3125)
    checks = model_checks(v, ModelSla(min_rating_agreement=0.8, max_score_psi=0.25), min_rows=100)
    assert [(c.name, c.status) for c in checks] == [("min_rating_agreement:sentiment/3", "breach"), ("max_score_psi:sentiment/3", "breach")]
    html = breaches_block(checks)
    assert "70.00%" in html and "≥ 80.00%" in html and "0.312" in html and "≤ 0.250" in html
