"""`lakectl --target dbx ...` end to end: the wheel is uploaded, submitted, executed for real by the
contract server against local Spark, and its Result printed as on --target local."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest
import yaml

from tests.databricks.conftest import write_config

pytestmark = [pytest.mark.databricks, pytest.mark.e2e]
COUNTS = ("rows_read", "rows_written", "rows_quarantined")


@pytest.fixture
def configs(tmp_path, cli):
    landing = tmp_path / "landing"
    local = write_config(tmp_path / "local.yaml", tmp_path / "local-lake", landing / "events")
    dbx = write_config(tmp_path / "dbx.yaml", tmp_path / "dbx-lake", landing / "events")
    gen = cli(
        "-c", str(local), "--target", "local", "generate", "--events", "1500", "--bad-fraction", "0.05", "--out", str(landing), "--json"
    )
    assert gen.returncode == 0, gen.stderr
    return local, dbx


def _json(proc) -> dict:
    assert proc.stdout.strip(), proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _same_on_both(cli, fake, configs, commands: list[list[str]]) -> dict:
    local, dbx = configs
    results = {}
    before = dict(fake.area("uploads"))
    for name, config in (("local", local), ("dbx", dbx)):
        for command in commands:
            proc = cli("-c", str(config), "--target", name, *command, "--json")
            assert proc.returncode == 0, proc.stderr[-3000:]
            results[(name, command[0])] = _json(proc)
    for command in commands:
        here, there = results[("local", command[0])], results[("dbx", command[0])]
        assert {k: here[k] for k in COUNTS} == {k: there[k] for k in COUNTS}, (here, there)
        assert there["status"] == "ok" and isinstance(there["databricks_run_id"], int) and there["run_page_url"]
        assert isinstance(there["run_id"], str) and there["run_id"] != here["run_id"]  # lakectl's own: the ledger key
    # a wheel is uploaded at most once per hash: not again when the workspace has it (the fake is shared)
    wheels = {p: n for p, n in fake.area("uploads").items() if p.endswith(".whl")}
    assert wheels and all(n - before.get(p, 0) in (0, 1) for p, n in wheels.items()), (before, wheels)
    submits = fake.calls("POST", r"/jobs/runs/submit$")
    assert len(submits) == len(commands)
    assert all(s.body["environments"][0]["spec"]["dependencies"][0] in wheels for s in submits)
    uploaded = [yaml.safe_load(p.read_text()) for p in _uploaded_configs(fake.root)]
    assert "${LAKECTL_TEST_PROJECT:-dbxtest}" in dbx.read_text()
    assert {"project": "dbxtest"}.items() <= next(u for u in uploaded if u["storage"] == yaml.safe_load(dbx.read_text())["storage"]).items()
    return results


def _uploaded_configs(root: Path) -> list[Path]:
    """The uploaded config files. Not rglob over the whole fake: the "cluster"'s Spark creates and deletes
    its block-manager folders under runtime/ while other runs end, and rglob fails on a folder that vanishes
    mid-walk (FileNotFoundError, seen once in CI); os.walk skips it, and runtime/ is not searched."""
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not (Path(folder) == root and d in ("runtime", "venvs"))]
        found += [Path(folder) / f for f in files if f.startswith("lakectl-config-") and f.endswith(".yaml")]
    return found


def test_ingest_on_databricks_prints_what_local_prints(cli, fake, configs):
    results = _same_on_both(cli, fake, configs, [["ingest", "--source", "files"]])
    assert results[("dbx", "ingest")]["rows_written"] > 0


@pytest.mark.slow
def test_ingest_then_run_on_databricks_print_what_local_prints(cli, fake, configs):
    results = _same_on_both(cli, fake, configs, [["ingest", "--source", "files"], ["run"]])
    assert results[("dbx", "run")]["status"] == "ok"


def test_a_failed_job_exits_with_its_own_code_and_error(cli, fake, configs):
    _, dbx = configs
    # the fake is not Databricks Runtime, so the job itself refuses the kinesis source (a usage error, exit 2)
    proc = cli("-c", str(dbx), "ingest", "--source", "kinesis", "--json")
    assert proc.returncode == 2, proc.stderr
    doc = _json(proc)
    assert doc["status"] == "error" and "kinesis" in doc["error"]["message"] and "Databricks run" in doc["error"]["message"]
    assert "lakectl: error:" in proc.stderr and "Traceback" not in proc.stderr


def test_no_wait_then_runs_status_and_logs(cli, fake, configs):
    _, dbx = configs
    proc = cli("-c", str(dbx), "--no-wait", "ingest", "--source", "kinesis", "--json")
    assert proc.returncode == 0, proc.stderr
    run_id = _json(proc)["databricks_run_id"]
    assert _json(proc)["status"] == "submitted" and isinstance(_json(proc)["run_id"], str)
    deadline = time.monotonic() + 120
    while True:
        status = _json(cli("-c", str(dbx), "runs", "status", str(run_id), "--json"))
        if status["state"] == "TERMINATED" or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert status["result_state"] == "FAILED"
    logs = cli("-c", str(dbx), "runs", "logs", str(run_id))
    assert logs.returncode == 0 and "LAKECTL_RESULT" in logs.stdout
    cancel = _json(cli("-c", str(dbx), "runs", "cancel", str(run_id), "--json"))
    assert cancel["cancelled"] is False and not fake.calls("POST", r"/jobs/runs/cancel$")


def _wait_ended(fake, run_ids: list[int], limit: float = 300) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        runs = fake.area("jobs").get("runs", {})
        if all(runs[r]["life_cycle_state"] in ("TERMINATED", "INTERNAL_ERROR") for r in run_ids):
            return
        time.sleep(0.5)
    raise AssertionError(f"runs {run_ids} did not end")


def test_two_runs_of_a_project_with_a_60_character_name_are_two_databricks_runs(cli, fake, configs):
    """The token was `lakectl-<project>-<run id>` cut at 64 characters: with a long project name the run id
    was cut off, and the second submit got the first run back (same run, exit 0, nothing started)."""
    _, dbx = configs
    cli.env["LAKECTL_TEST_PROJECT"] = ("lakehouse-" * 6)[:60]
    docs = []
    for _ in range(2):
        proc = cli("-c", str(dbx), "--no-wait", "ingest", "--source", "kinesis", "--json")
        assert proc.returncode == 0, proc.stderr
        docs.append(_json(proc))
    assert docs[0]["run_id"] != docs[1]["run_id"]  # lakectl's own run ids
    assert docs[0]["databricks_run_id"] != docs[1]["databricks_run_id"]
    tokens = [r.body["idempotency_token"] for r in fake.calls("POST", r"/jobs/runs/submit$")]
    assert len(set(tokens)) == 2 and all(len(t) <= 64 for t in tokens)
    assert len(fake.area("jobs")["runs"]) >= 2
    _wait_ended(fake, [d["databricks_run_id"] for d in docs])


def test_the_job_environment_is_clean_and_has_the_targets_env_and_secrets(cli, fake, configs, tmp_path, monkeypatch):
    """A ${VAR} set only on the client is resolved there; the target's env: reaches the job (a new cluster's
    spark_env_vars), a {{secrets/scope/key}} reference is resolved by the cluster, never sent or uploaded
    as a value; nothing of the caller's environment is inherited."""
    import yaml

    _, dbx = configs
    monkeypatch.setenv("CALLER_CANARY", "the fake's own process environment")  # what a job must not inherit
    secret = f"jaas-secret-{os.getpid()}"
    fake.put_secret("kafka", "jaas", secret)
    raw = yaml.safe_load(dbx.read_text())
    landing = raw["sources"]["files"]["path"]
    raw["project"] = "${CLIENT_ONLY_PROJECT}"  # set for lakectl here, never on the "cluster"
    raw["sources"]["files"]["path"] = "${LANDING_DIR:-/nowhere}"  # the default here, the job's env there
    raw["sources"]["kafka"] = {"options": {"kafka.sasl.jaas.config": "${KAFKA_JAAS}"}}  # a secret: resolved by the job only
    raw["targets"]["dbx"] = {
        **{k: v for k, v in raw["targets"]["dbx"].items() if k != "serverless"},
        "spark_version": "16.4.x-scala2.12",
        "node_type_id": "m5d.large",
        "env": {"LANDING_DIR": landing, "KAFKA_JAAS": "{{secrets/kafka/jaas}}"},
    }
    config = tmp_path / "env.yaml"
    config.write_text(yaml.safe_dump(raw))
    cli.env.update(CLIENT_ONLY_PROJECT="envproject", KAFKA_JAAS="the client's own value")
    proc = cli("-c", str(config), "ingest", "--source", "files", "--json")
    assert proc.returncode == 0, proc.stderr[-3000:]
    doc = _json(proc)
    assert doc["status"] == "ok" and doc["rows_read"] > 0  # read from LANDING_DIR as the job's env set it

    (submit,) = fake.calls("POST", r"/jobs/runs/submit$")
    cluster = submit.body["tasks"][0]["new_cluster"]
    assert cluster["spark_env_vars"] == {"LANDING_DIR": landing, "KAFKA_JAAS": "{{secrets/kafka/jaas}}"}
    assert cluster["data_security_mode"] == "DATA_SECURITY_MODE_AUTO"
    uploaded = next(p for p in _uploaded_configs(fake.root) if "envproject" in p.read_text())
    text = uploaded.read_text()
    assert yaml.safe_load(text)["project"] == "envproject"
    assert "${LANDING_DIR:-/nowhere}" in text and "${KAFKA_JAAS}" in text
    assert secret not in text and "the client's own value" not in text
    assert all(secret not in json.dumps(r.body) for r in fake.requests if isinstance(r.body, dict))
    run = fake.area("jobs")["runs"][doc["databricks_run_id"]]
    assert {"LANDING_DIR", "KAFKA_JAAS"} <= set(run["env"])
    assert not {"CALLER_CANARY", "CLIENT_ONLY_PROJECT", "PYTHONPATH", "VIRTUAL_ENV"} & set(run["env"])


def test_a_job_with_more_than_5_mb_of_output_still_returns_its_result(cli, fake, configs):
    """get-output serves the last 5 MB of a run's logs, as the service does: after a runtime writes 6 MB
    more, the job's LAKECTL_RESULT line is gone from them. The result comes back from the file the job
    wrote beside the artifacts (read, then removed), not from the log."""
    local, dbx = configs
    fake.runtime_log_bytes = 6 * 1024 * 1024
    proc = cli("-c", str(dbx), "ingest", "--source", "files", "--json")
    assert proc.returncode == 0, proc.stderr[-3000:]
    there = _json(proc)
    assert there["status"] == "ok" and there["rows_written"] > 0
    here = _json(cli("-c", str(local), "--target", "local", "ingest", "--source", "files", "--json"))
    assert {k: here[k] for k in COUNTS} == {k: there[k] for k in COUNTS}
    run = fake.area("jobs")["runs"][there["databricks_run_id"]]
    assert len(run["logs"].encode()) > 6 * 1024 * 1024 and "LAKECTL_RESULT" not in run["logs"][-5 * 1024 * 1024 :]
    read = [r for r in fake.calls("GET", r"/workspace/export$") if "/results/lakectl-result-" in r.query.get("path", "")]
    assert [r.status for r in read] == [200], read
    removed = [r.body["path"] for r in fake.calls("POST", r"/workspace/delete$")]
    assert removed == [read[0].query["path"]] and not fake.local_path(removed[0]).exists()


def _wait_running(fake, limit: float = 300) -> dict:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        runs = list(fake.area("jobs").get("runs", {}).values())
        if runs and runs[-1]["life_cycle_state"] == "RUNNING":
            return runs[-1]
        time.sleep(0.2)
    raise AssertionError("the run never started")


@pytest.mark.parametrize("sig", [signal.SIGINT, pytest.param(signal.SIGTERM, marks=pytest.mark.slow)])
def test_ctrl_c_while_running_cancels_the_remote_run(cli, fake, configs, sig):
    _, dbx = configs
    before = len(fake.area("jobs").get("runs", {}))
    proc = cli.popen("-c", str(dbx), "ingest", "--source", "files", "--json")
    try:
        run = _wait_running(fake)
        assert len(fake.area("jobs")["runs"]) == before + 1
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    cli.outputs += [out, err]
    assert proc.returncode == 130, err
    assert [r.body for r in fake.calls("POST", r"/jobs/runs/cancel$")] == [{"run_id": run["run_id"]}]
    assert run["result_state"] == "CANCELED"
    assert "cancelled Databricks run" in err


def test_timeout_cancels_the_run(cli, fake, configs):
    _, dbx = configs
    proc = cli("-c", str(dbx), "--timeout", "2", "ingest", "--source", "files", "--json")
    assert proc.returncode == 1, proc.stderr
    assert "did not finish within 2 s" in proc.stderr
    assert len(fake.calls("POST", r"/jobs/runs/cancel$")) == 1


def test_unreachable_workspace_is_exit_4(cli, tmp_path):
    config = write_config(tmp_path / "gone.yaml", tmp_path / "lake", tmp_path / "landing", connect_timeout_s=2)
    cli.env["DATABRICKS_HOST"] = "http://127.0.0.1:9"
    started = time.monotonic()
    proc = cli("-c", str(config), "ingest", "--json", timeout=120)
    assert proc.returncode == 4, proc.stderr
    assert "is not reachable" in proc.stderr and "127.0.0.1:9" in proc.stderr
    assert time.monotonic() - started < 60


def test_a_host_that_accepts_connections_and_never_answers_is_bounded_by_connect_timeout(cli, tmp_path):
    """A listening socket that never answers: the SDK alone waited its 60 s per request, printed its own
    warning and went on (65 s with connect_timeout_s 30). One line of lakectl's, within the timeout."""
    import socket

    silent = socket.create_server(("127.0.0.1", 0))  # the kernel completes the handshake; no one ever reads
    try:
        config = write_config(tmp_path / "silent.yaml", tmp_path / "lake", tmp_path / "landing", connect_timeout_s=2)
        cli.env["DATABRICKS_HOST"] = f"http://127.0.0.1:{silent.getsockname()[1]}"
        started = time.monotonic()
        proc = cli("-c", str(config), "ingest", "--json", timeout=120)
        elapsed = time.monotonic() - started
    finally:
        silent.close()
    assert proc.returncode == 4, proc.stderr
    assert "accepts connections but did not answer within 2 s" in proc.stderr
    assert elapsed < 20, elapsed  # the CLI's start-up, a connect and one 2 s read
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert not [ln for ln in lines if "WARNING" in ln or "databricks.sdk" in ln or "Traceback" in ln], lines


def test_a_rejected_token_is_exit_2_and_never_printed(cli, fake, configs):
    from tests.databricks.conftest import CANARY

    _, dbx = configs
    fake.accepted_token = "dapi-the-right-one"
    proc = cli("-c", str(dbx), "--verbose", "ingest", "--json", timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "authentication failed" in proc.stderr
    assert CANARY not in proc.stdout + proc.stderr  # not even in --verbose's trace
    assert not fake.calls("POST", r"/jobs/runs/submit$")


def test_an_unreachable_host_without_credentials_is_unreachable_not_a_credentials_error(monkeypatch):
    """The SDK's own probe retried for connect_timeout_s, then blamed credentials; a TCP probe answers at once."""
    from lakectl.config import DatabricksTarget
    from lakectl.core.errors import SourceUnavailable
    from lakectl.engine.workspace import workspace_client

    for var in ("DATABRICKS_TOKEN", "DATABRICKS_CONFIG_PROFILE", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("DATABRICKS_HOST", "http://127.0.0.1:9")
    started = time.monotonic()
    with pytest.raises(SourceUnavailable, match=r"not reachable while connecting \(127\.0\.0\.1:9: "):
        workspace_client(DatabricksTarget(connect_timeout_s=30))
    assert time.monotonic() - started < 5
