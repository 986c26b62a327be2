"""Serverless mode: a job submitted on serverless gets only a Spark Connect session (the project's local
Connect server, scripts/spark-connect-local), with no JVM and no py4j in its process, as on serverless
compute; its results equal a local run's."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.databricks.conftest import write_config

pytestmark = [pytest.mark.databricks, pytest.mark.e2e]
REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "spark-connect-local"
COUNTS = ("rows_read", "rows_written", "rows_quarantined")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def connect_url(tmp_path_factory):
    env = {
        **os.environ,
        "SPARK_CONNECT_DATA_DIR": str(tmp_path_factory.mktemp("spark-connect")),
        "SPARK_CONNECT_PORT": str(_free_port()),
        "SPARK_CONNECT_START_TIMEOUT": "300",
        "PYTHON": sys.executable,
    }
    proc = subprocess.run([str(SCRIPT), "start"], env=env, capture_output=True, text=True, timeout=360)
    if proc.returncode != 0:
        pytest.fail(f"spark-connect-local start failed:\n{proc.stderr[-3000:]}")
    yield proc.stdout.strip().splitlines()[-1]
    subprocess.run([str(SCRIPT), "stop"], env=env, capture_output=True, timeout=90)


def _json(proc) -> dict:
    assert proc.stdout.strip(), proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _same_through_connect(cli, fake, connect_url: str, tmp_path: Path, commands: list[list[str]]) -> None:
    fake.connect_url = connect_url
    landing = tmp_path / "landing"
    local = write_config(tmp_path / "local.yaml", tmp_path / "local-lake", landing / "events")
    dbx = write_config(tmp_path / "dbx.yaml", tmp_path / "dbx-lake", landing / "events")
    gen = cli(
        "-c", str(local), "--target", "local", "generate", "--events", "600", "--bad-fraction", "0.05", "--out", str(landing), "--json"
    )
    assert gen.returncode == 0, gen.stderr
    for command in commands:
        here = _json(cli("-c", str(local), "--target", "local", *command, "--json"))
        proc = cli("-c", str(dbx), *command, "--json")
        assert proc.returncode == 0, proc.stderr[-3000:]
        there = _json(proc)
        assert there["status"] == "ok", there
        assert {k: here.get(k) for k in COUNTS} == {k: there.get(k) for k in COUNTS}, (command, here, there)
        run = fake.area("jobs")["runs"][there["databricks_run_id"]]
        assert "SPARK_REMOTE" in run["env"] and "JAVA_HOME" not in run["env"]
        site = next(Path(run["venv"]).glob("lib/python*/site-packages"))
        assert (site / "pyspark" / "sql" / "connect").is_dir()
        assert not (site / "py4j").exists() and not (site / "pyspark" / "jars").exists()  # no JVM side at all


@pytest.mark.timeout(1800)  # six CLI runs, each a JVM or a job: 15 min were not enough at a load average of ~18
def test_ingest_and_optimize_on_serverless_run_through_a_connect_session_as_they_do_locally(cli, fake, connect_url, tmp_path):
    _same_through_connect(cli, fake, connect_url, tmp_path, [["ingest", "--source", "files"]])
    _optimize_same_as_local(cli, fake, tmp_path)  # the bounded sample of optimize: the bronze tables


@pytest.mark.slow
@pytest.mark.timeout(2400)
def test_ingest_transform_aggregate_optimize_on_serverless_run_through_a_connect_session_as_they_do_locally(
    cli, fake, connect_url, tmp_path
):
    _same_through_connect(cli, fake, connect_url, tmp_path, [["ingest", "--source", "files"], ["transform", "--batch"], ["aggregate"]])
    _optimize_same_as_local(cli, fake, tmp_path)


# train and score: the job's MLflow store is one the "cluster" reaches, set in the config's ml section as a user
# sets an external tracking server (here sqlite files under tmp_path); the local run keeps its default store.
ML = {"reg_params": [0.1, 0.3], "min_labelled_rows": 40}
FEATURIZERS = {"encoder": {"featurizer": "encoder"}, "tfidf": {"featurizer": "tfidf", "num_features": 4096}}
METRICS = ("validation_accuracy", "validation_f1", "validation_roc_auc", "test_accuracy", "test_f1", "test_roc_auc")


def _with_ml(config: Path, ml: dict) -> Path:
    import yaml

    data = yaml.safe_load(config.read_text())
    data["ml"] = ml
    config.write_text(yaml.safe_dump(data))
    return config


def _reviews(root: Path) -> int:
    """silver.reviews with the ML tests' labelled sentences, written with delta-rs (no JVM in the test)."""
    import pyarrow as pa
    from deltalake import write_deltalake

    sys.path.insert(0, str(REPO / "tests" / "integration"))
    from review_corpus import review_corpus

    data = [(f"e{i:05d}", text, 5 if label else 1) for i, (text, label) in enumerate(review_corpus(240))]
    table = pa.table(
        {"event_id": [d[0] for d in data], "review_text": [d[1] for d in data], "rating": pa.array([d[2] for d in data], pa.int32())}
    )
    write_deltalake(str(root / "tables" / "silver" / "reviews"), table)
    return len(data)


def _scores(root: Path) -> dict[str, tuple[int, float]]:
    from lakectl.lake.deltars import read_rows

    return {r["event_id"]: (r["label"], r["score"]) for r in read_rows(str(root / "tables" / "silver" / "review_scores"))}


def _train_and_score_same_as_local(cli, fake, connect_url: str, tmp_path: Path, featurizer: str) -> None:
    fake.connect_url = connect_url
    ml = {**ML, **FEATURIZERS[featurizer]}
    local = _with_ml(write_config(tmp_path / "local.yaml", tmp_path / "local-lake", tmp_path / "landing"), ml)
    store = tmp_path / "dbx-mlflow"
    dbx_ml = {**ml, "tracking_uri": f"sqlite:///{store / 'mlflow.db'}", "artifact_location": (store / "artifacts").as_uri()}
    dbx = _with_ml(write_config(tmp_path / "dbx.yaml", tmp_path / "dbx-lake", tmp_path / "landing"), dbx_ml)
    n = _reviews(tmp_path / "local-lake")
    assert _reviews(tmp_path / "dbx-lake") == n

    def both(*command: str) -> tuple[dict, dict]:
        here = cli("-c", str(local), "--target", "local", *command, "--json")
        assert here.returncode == 0, here.stderr[-3000:]
        proc = cli("-c", str(dbx), *command, "--json")
        assert proc.returncode == 0, proc.stderr[-3000:]
        there = _json(proc)
        run = fake.area("jobs")["runs"][there["databricks_run_id"]]
        assert "SPARK_REMOTE" in run["env"] and "JAVA_HOME" not in run["env"]  # a Connect session, no JVM
        return _json(here), there

    train_local, train_dbx = both("train")
    assert train_dbx["status"] == "ok" and train_dbx["featurizer"] == featurizer
    assert train_dbx["rows"] == train_local["rows"] and train_dbx["labelled_rows"] == train_local["labelled_rows"] == n
    assert train_dbx["model_version"] == train_local["model_version"] == "1"
    assert train_dbx["alias"] == train_local["alias"] == "champion"
    assert train_dbx["reg_param"] == train_local["reg_param"]
    off = {k: (train_local[k], train_dbx[k]) for k in METRICS if not abs(train_local[k] - train_dbx[k]) <= 1e-3}
    assert not off, off  # LBFGS adds partitions up in another order per session: equal within 1e-3
    assert train_dbx["tracking_uri"] == f"sqlite:///{store / 'mlflow.db'}" and (store / "mlflow.db").is_file()

    score_local, score_dbx = both("score")
    assert score_dbx["status"] == "ok"
    assert score_local["rows_written"] == score_dbx["rows_written"] == score_dbx["rows_read"] == n
    assert score_dbx["model_version"] == "1"
    a, b = _scores(tmp_path / "local-lake"), _scores(tmp_path / "dbx-lake")
    assert a.keys() == b.keys() and len(a) == n
    assert max(abs(a[k][1] - b[k][1]) for k in a) < 1e-3
    assert sum(a[k][0] != b[k][0] for k in a) <= 2  # a label flips only for a score within 1e-3 of 0.5


@pytest.mark.timeout(1800)  # train and score twice each: 13.5 min at a load average of ~17
def test_train_and_score_on_serverless_run_through_a_connect_session_as_they_do_locally(cli, fake, connect_url, tmp_path):
    """The default featurizer (encoder): the bounded sample of the ML jobs in the default run."""
    _train_and_score_same_as_local(cli, fake, connect_url, tmp_path, "encoder")


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_train_and_score_with_tfidf_on_serverless_run_through_a_connect_session_as_they_do_locally(cli, fake, connect_url, tmp_path):
    _train_and_score_same_as_local(cli, fake, connect_url, tmp_path, "tfidf")


# What differs between any two runs of one command: timings, run ids, the run's page, paths under each lake.
VOLATILE = {"duration_s", "seconds", "run_id", "databricks_run_id", "lakectl_run_id", "run_page_url", "paths", "checkpoint"}
# How writes fell into files (timing decides it, not the rows), and what follows from it.
LAYOUT = {"files_before", "files_after", "bytes_before", "bytes_after", "files_removed", "files_added", "ideal_files"}


def _comparable(value, drop: set[str], lakes: tuple[Path, ...]):  # noqa: ANN001, ANN202
    if isinstance(value, dict):
        return {k: _comparable(v, drop, lakes) for k, v in value.items() if k not in drop}
    if isinstance(value, list):
        return [_comparable(v, drop, lakes) for v in value]
    if isinstance(value, str):
        for lake in lakes:
            value = value.replace(str(lake), "<lake>")
    return value


def _without_layout(result: dict, tables: set[str] | None = None) -> dict:
    """`result` without the file layout of `tables` (all when None), nor the totals that add it up."""
    details = [
        {k: v for k, v in d.items() if k not in LAYOUT} if tables is None or d.get("table") in tables else d for d in result["details"]
    ]
    return {**{k: v for k, v in result.items() if k not in LAYOUT}, "details": details}


def _table_rows(lake: Path) -> dict[str, list]:
    """Every Delta table of the lake but the ops ledger (each run adds to it), its rows sorted; read with
    delta-rs: no JVM in the test."""
    from lakectl.lake.deltars import read_rows

    tables = sorted((lake / "tables").glob("*/*/_delta_log"))
    keys = {f"{log.parent.parent.name}.{log.parent.name}": str(log.parent) for log in tables if log.parent.parent.name != "ops"}
    return {k: sorted((sorted(r.items()) for r in read_rows(path)), key=repr) for k, path in keys.items()}


def _optimize_same_as_local(cli, fake, tmp_path: Path) -> None:
    """optimize --vacuum on serverless: its dry-run plan equals a local run's on the same lake, it changes no
    table's rows, and its result equals the local lake's optimize but for file layouts (timing decides those)."""
    local, dbx = tmp_path / "local.yaml", tmp_path / "dbx.yaml"
    lakes = (tmp_path / "local-lake", tmp_path / "dbx-lake")
    before = [_table_rows(lake) for lake in lakes]
    assert before[0].keys() == before[1].keys() and before[0], before[0].keys()
    assert {k: len(v) for k, v in before[0].items()} == {k: len(v) for k, v in before[1].items()}

    def serverless(*command: str) -> dict:
        proc = cli("-c", str(dbx), *command, "--json")
        assert proc.returncode == 0, proc.stderr[-3000:]
        there = _json(proc)
        assert "SPARK_REMOTE" in fake.area("jobs")["runs"][there["databricks_run_id"]]["env"]
        return there

    plan_here = _json(cli("-c", str(dbx), "--target", "local", "optimize", "--vacuum", "--dry-run", "--json"))
    plan_there = serverless("optimize", "--vacuum", "--dry-run")
    assert plan_there["status"] == "dry_run" and plan_there["details"]
    # each run adds its ledger row (a commit) to ops.runs in between: its files are not the same twice
    ledger = {"ops.runs"}
    assert _comparable(_without_layout(plan_here, ledger), VOLATILE, lakes) == _comparable(
        _without_layout(plan_there, ledger), VOLATILE, lakes
    )

    here = _json(cli("-c", str(local), "--target", "local", "optimize", "--vacuum", "--json"))
    there = serverless("optimize", "--vacuum")
    assert there["status"] == "ok" and {d["table"] for d in there["details"]} == {d["table"] for d in here["details"]}
    assert _comparable(_without_layout(here), VOLATILE, lakes) == _comparable(_without_layout(there), VOLATILE, lakes)
    assert [_table_rows(lake) for lake in lakes] == before  # compaction and VACUUM move files, never rows
