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


def test_ingest_on_serverless_runs_through_a_connect_session_as_it_does_locally(cli, fake, connect_url, tmp_path):
    _same_through_connect(cli, fake, connect_url, tmp_path, [["ingest", "--source", "files"]])


@pytest.mark.slow
def test_ingest_transform_aggregate_on_serverless_run_through_a_connect_session_as_they_do_locally(cli, fake, connect_url, tmp_path):
    _same_through_connect(cli, fake, connect_url, tmp_path, [["ingest", "--source", "files"], ["transform", "--batch"], ["aggregate"]])
