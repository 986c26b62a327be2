"""lakectl as a user runs it: real subprocesses, real files, the shipped config."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.spark]
REPO = Path(__file__).resolve().parents[2]


def lakectl(*args: str, root: Path, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LAKECTL_ROOT": str(root), "LAKECTL_CONFIG": str(REPO / "configs" / "lakectl.yaml")}
    return subprocess.run(
        [sys.executable, "-m", "lakectl", *args], capture_output=True, text=True, timeout=timeout, env=env, cwd=root.parent
    )


def test_generate_then_ingest_files_exactly_once(tmp_path):
    from deltalake import DeltaTable

    root = tmp_path / "lake"
    gen = lakectl("generate", "--events", "20000", "--bad-fraction", "0.01", "--json", root=root)
    assert gen.returncode == 0, gen.stderr
    g = json.loads(gen.stdout)

    first = lakectl("ingest", "--source", "files", "--json", root=root)
    assert first.returncode == 0, first.stderr
    r = json.loads(first.stdout)
    assert r["rows_written"] == g["valid_events"] and r["rows_quarantined"] == g["bad_records"] > 0
    assert first.stderr.strip() == "", "a successful run prints nothing on stderr (JVM output goes to logs/)"

    ids = DeltaTable(str(root / "tables" / "bronze" / "events")).to_pyarrow_table(columns=["event_id"]).column("event_id").to_pylist()
    assert len(ids) == len(set(ids)) == g["valid_events"]

    second = lakectl("ingest", "--source", "files", "--json", root=root)
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout)["rows_written"] == 0


def test_demo_trains_scores_checks_and_reports_then_says_where_everything_is(tmp_path):
    """The whole product in one demo: the pipeline, the model trained and scoring every review, a check's
    verdict, the report under the storage root; `--json` reports the same figures. 12,000 events keep it
    bounded while giving the trainer its minimum of labelled reviews (about 1 event in 120 is a review)."""
    from deltalake import DeltaTable

    root = tmp_path / "lake"
    proc = lakectl("demo", "--events", "12000", root=root, timeout=1800)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = proc.stderr.splitlines()
    for stage in ("generate", "ingest", "transform", "aggregate", "train", "score", "check", "report"):
        assert f"lakectl: {stage} started" in lines, proc.stderr
        assert any(ln.startswith(f"lakectl: {stage} ") and " in " in ln for ln in lines if "started" not in ln), proc.stderr
    assert "demo: ok in 0.0s" not in proc.stdout and "demo: ok in 0 ms" not in proc.stdout  # the whole run's time

    report = root.absolute() / "reports" / "demo.html"
    assert f"  report   {report}" in lines and f"  lake     {root.absolute() / 'tables'}" in lines, proc.stderr
    assert f"  lineage  {root.absolute() / 'lineage' / 'events.jsonl'}" in lines, proc.stderr
    assert any(ln.startswith("  mlflow   sqlite:///") and str(root.absolute() / "mlflow") in ln for ln in lines), proc.stderr
    assert "next:" in lines and "  lakectl lineage gold.kpi_hourly --upstream --columns" in lines
    html = report.read_text()
    assert all(t in html for t in ("bronze.events", "silver.events", "silver.reviews", "gold.kpi_hourly")), html[:500]

    reviews = DeltaTable(str(root / "tables" / "silver" / "reviews")).to_pyarrow_table(columns=["event_id"]).num_rows
    scores = DeltaTable(str(root / "tables" / "silver" / "review_scores")).to_pyarrow_table().to_pylist()
    assert reviews > 50 and len(scores) == reviews and {s["model_version"] for s in scores} == {"1"}
    runs = DeltaTable(str(root / "tables" / "ops" / "runs")).to_pyarrow_table().to_pylist()
    parent = [r for r in runs if r["parent_run_id"] is None]
    assert [r["command"] for r in parent] == ["demo"] and {r["status"] for r in runs if r["command"] != "monitor"} == {"ok"}
    assert {r["status"] for r in runs if r["command"] == "monitor"} <= {"ok", "breach"}  # the check's verdict
    stages = sorted(r["command"] for r in runs if r["parent_run_id"])
    assert stages == ["aggregate", "generate", "ingest", "monitor", "monitor", "score", "train", "transform"]
    query_every_table_without_a_jvm(root)

    # a second demo on the same lake: the same files ingest once, the champion stands, nothing is scored twice
    again = lakectl("demo", "--events", "12000", "--json", root=root, timeout=1800)
    assert again.returncode == 0, again.stderr[-3000:]
    doc = json.loads(again.stdout)
    assert doc["status"] == "ok" and doc["champion"]["name"] == "sentiment" and doc["champion"]["version"] in ("1", "2")
    assert doc["model_version_trained"] == "2" and doc["report"] == str(report)
    assert doc["verdict"] in ("ok", "breach") and doc["checks"] > 0
    checked = next(d for d in doc["details"] if d["stage"] == "check")
    assert doc["verdict"] == checked["status"] and doc["breaches"] == sum(c["status"] == "breach" for c in checked["details"])
    scored = DeltaTable(str(root / "tables" / "silver" / "review_scores")).to_pyarrow_table().to_pylist()
    champion_rows = [s for s in scored if s["model_version"] == doc["champion"]["version"]]
    assert len(champion_rows) == reviews, "the champion has scored every review exactly once"
    assert doc["rows_scored"] == (0 if doc["champion"]["version"] == "1" else reviews)
    assert set(doc["where"]) == {"lake", "report", "lineage", "mlflow"} and doc["next"][0].startswith("lakectl lineage")


def query_every_table_without_a_jvm(root: Path) -> None:
    """`lakectl query` reads every table the demo wrote (silver.events has deletion vectors) on DuckDB, without
    importing pyspark, and counts the rows Spark counts."""
    from no_jvm import lakectl as watched
    from no_jvm import query_every_table

    env = {"LAKECTL_ROOT": str(root), "LAKECTL_CONFIG": str(REPO / "configs" / "lakectl.yaml")}
    counts = query_every_table(root / "tables", env=env)
    assert {"bronze.events", "silver.events", "silver.reviews", "silver.review_scores", "gold.kpi_hourly", "ops.runs"} <= set(counts)
    sql = " UNION ALL ".join(f"SELECT '{t}' AS t, count(*) AS n FROM {t}" for t in counts) + " ORDER BY t"
    spark = watched("query", sql, "--json", "--limit", "1000", "--engine", "spark", env=env, timeout=900)
    assert spark.returncode == 0 and spark.pyspark, spark.stderr
    assert counts == {t: n for t, n in spark.json()["rows"]}


def test_a_small_demo_without_enough_reviews_to_train_still_checks_and_reports(tmp_path):
    """-n 2000 gives the trainer too few labelled reviews: the demo says so and skips train and score, and
    still ends ok with the check's verdict and the report (it stopped with exit 1 at train)."""
    root = tmp_path / "lake"
    proc = lakectl("demo", "-n", "2000", "--json", root=root, timeout=1200)
    assert proc.returncode == 0, proc.stderr[-3000:]
    doc = json.loads(proc.stdout)
    assert doc["status"] == "ok" and doc["champion"] is None and doc["rows_scored"] == 0, doc
    assert any(w.startswith("train and score skipped: too few labelled reviews") for w in doc["warnings"]), doc["warnings"]
    assert [d["stage"] for d in doc["details"]] == ["generate", "ingest", "transform", "aggregate", "check", "report"]
    assert doc["verdict"] in ("ok", "breach") and (root / "reports" / "demo.html").is_file()


def test_demo_dry_run_writes_nothing_and_says_where_it_would(tmp_path):
    root = tmp_path / "lake"
    proc = lakectl("demo", "--dry-run", "--json", root=root)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["status"] == "dry_run" and doc["would_run"][-4:] == ["train", "score", "check", "report"]
    assert doc["where"]["report"] == str(root.absolute() / "reports" / "demo.html")
    assert not root.exists()
