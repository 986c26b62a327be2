"""The contract server driven by the real WorkspaceClient: uploads, runs, idempotency, faults, jobs CRUD.

These runs name a wheel that was never uploaded, so they end at once (INTERNAL_ERROR) without Spark.
"""

from __future__ import annotations

import io
import time

import pytest

pytestmark = pytest.mark.databricks


def _wait_terminal(sdk, run_id: int, limit: float = 30):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        run = sdk.jobs.get_run(run_id)
        if run.state.life_cycle_state.value in ("TERMINATED", "INTERNAL_ERROR", "SKIPPED"):
            return run
        time.sleep(0.2)
    raise AssertionError(f"run {run_id} did not end")


def _task(wheel: str = "/Volumes/c/s/v/missing.whl"):
    from databricks.sdk.service import jobs

    return jobs.SubmitTask(
        task_key="t",
        existing_cluster_id="0101-abc",
        python_wheel_task=jobs.PythonWheelTask(package_name="lakectl", entry_point="lakectl-job", parameters=["x"]),
        libraries=[__import__("databricks.sdk.service.compute", fromlist=["Library"]).Library(whl=wheel)],
    )


def test_workspace_upload_is_stored_and_found(sdk, fake):
    from databricks.sdk.errors import NotFound
    from databricks.sdk.service.workspace import ImportFormat

    me = sdk.current_user.me().user_name
    folder = f"/Workspace/Users/{me}/.lakectl/wheels"
    with pytest.raises(NotFound):
        sdk.workspace.get_status(f"{folder}/x.whl")
    sdk.workspace.mkdirs(folder)
    sdk.workspace.upload(f"{folder}/x.whl", b"PK-wheel-bytes", format=ImportFormat.AUTO, overwrite=True)
    assert sdk.workspace.get_status(f"{folder}/x.whl").size == len(b"PK-wheel-bytes")
    assert fake.local_path(f"{folder}/x.whl").read_bytes() == b"PK-wheel-bytes"
    imports = fake.calls("POST", r"/workspace/import$")
    assert imports[0].body["format"] == "AUTO" and imports[0].body["content"] == {"bytes": 14}


def test_volume_upload_keeps_a_plus_in_the_name(sdk, fake):
    path = "/Volumes/main/ops/artifacts/lakectl/lakectl-0.1.0+abc123-py3-none-any.whl"
    sdk.files.upload(path, io.BytesIO(b"wheel"), overwrite=True)
    sdk.files.get_metadata(path)
    assert fake.local_path(path).read_bytes() == b"wheel"


@pytest.mark.parametrize("served", [True, False], ids=["endpoints-api", "no-endpoints-api"])
def test_file_endpoint_discovery_is_answered_as_the_sdk_asks_it(sdk, fake, served):
    """The installed SDK's own discovery path, not a copy of it: a newer SDK that asks elsewhere fails here."""
    from databricks.sdk.mixins.files import FilesExt

    fake.area("files")["endpoints_api"] = served
    try:
        path = f"/Volumes/main/ops/artifacts/probe/endpoints-{served}.bin"  # not a wheel: the target tests count those
        sdk.files.upload(path, io.BytesIO(b"wheel"), overwrite=True)
        assert fake.local_path(path).read_bytes() == b"wheel"
    finally:
        fake.area("files").pop("endpoints_api", None)
    discovery = FilesExt._ENDPOINTS_API_PATH
    if sdk.config.experimental_files_ext_enable_endpoints_api:
        assert [r.status for r in fake.calls("GET", "^" + discovery + "$")] == [200 if served else 404]
    assert [r.status for r in fake.calls("PUT", r"/fs/files/Volumes/")] == [204]


def test_unknown_and_missing_fields_are_contract_failures(sdk, fake):
    from databricks.sdk.errors import BadRequest

    with pytest.raises(BadRequest, match="'tagz' is not a parameter of the installed SDK"):
        sdk.api_client.do("POST", "/api/2.2/jobs/runs/submit", body={"tasks": [{"task_key": "t"}], "tagz": {}})
    with pytest.raises(BadRequest, match="missing required"):
        sdk.api_client.do("POST", "/api/2.2/jobs/runs/submit", body={"run_name": "x"})
    assert len(fake.failures) == 2
    fake.failures.clear()


@pytest.mark.parametrize(
    "task",
    [
        {"task_key": "t", "existing_cluster_id": "c", "python_wheel_task": {"package_name": "p", "entrypoint": "main"}},  # misspelt
        {"task_key": "t", "new_cluster": {"spark_version": "16.4.x", "data_security_mode": "NOT_A_MODE"}},  # not an enum value
        {"task_key": "t", "environment_key": "e", "libraries": [{"whl": "/x.whl", "wheel": "/y.whl"}]},  # unknown, nested
    ],
    ids=["misspelt", "bad-enum", "unknown-nested"],
)
def test_a_body_that_does_not_round_trip_through_the_sdk_is_a_contract_failure(sdk, fake, task):
    """The installed SDK's dataclasses judge every body: what its from_dict/as_dict would lose fails."""
    from databricks.sdk.errors import BadRequest

    with pytest.raises(BadRequest, match="does not round-trip through"):
        sdk.api_client.do("POST", "/api/2.2/jobs/runs/submit", body={"tasks": [task]})
    assert len(fake.failures) == 1 and "SubmitTask" in fake.failures[0]
    fake.failures.clear()


def test_lost_submit_response_retried_with_the_same_token_is_one_run(sdk, fake):
    fake.inject("POST", r"/jobs/runs/submit$", 503, after=True, retry_after=1)
    run_id = sdk.jobs.submit(run_name="idem", tasks=[_task()], idempotency_token="lakectl-test-token-1").run_id
    submits = fake.calls("POST", r"/jobs/runs/submit$")
    assert [r.status for r in submits] == [503, 200]
    assert len(fake.area("jobs")["runs"]) >= 1
    assert sum(1 for r in fake.area("jobs")["runs"].values() if r["body"].get("idempotency_token") == "lakectl-test-token-1") == 1
    again = sdk.jobs.submit(run_name="idem", tasks=[_task()], idempotency_token="lakectl-test-token-1").run_id
    assert again == run_id
    run = _wait_terminal(sdk, run_id)
    assert run.state.life_cycle_state.value == "INTERNAL_ERROR"  # the wheel was never uploaded


def test_429_and_503_are_retried(sdk, fake):
    fake.inject("GET", r"/scim/v2/Me$", 429, retry_after=1)
    fake.inject("GET", r"/scim/v2/Me$", 503, retry_after=1)
    assert sdk.current_user.me().user_name == fake.user_name
    assert [r.status for r in fake.calls("GET", r"/scim/v2/Me$")] == [429, 503, 200]


def test_get_output_wants_the_task_run_id(sdk, fake):
    from databricks.sdk.errors import BadRequest

    run = _wait_terminal(sdk, sdk.jobs.submit(run_name="out", tasks=[_task()]).run_id)
    with pytest.raises(BadRequest):
        sdk.jobs.get_run_output(run.run_id)
    fake.failures.clear()
    out = sdk.jobs.get_run_output(run.tasks[0].run_id)
    assert "Library installation failed" in out.error


@pytest.mark.parametrize(
    "compute",
    [
        {"serverless": True},
        {"serverless": True, "environment_version": "5", "env": {"REGION": "eu", "KAFKA_PASSWORD": "{{secrets/kafka/password}}"}},
        {"cluster_id": "0101-abc"},
        {"spark_version": "16.4.x-scala2.12", "node_type_id": "m5d.large"},
        {"spark_version": "16.4.x-scala2.12", "node_type_id": "m5d.large", "policy_id": "P0LICY", "env": {"REGION": "eu"}},
    ],
    ids=["serverless", "serverless-env", "cluster", "new-cluster", "new-cluster-policy-env"],
)
def test_lakectls_submit_request_meets_the_contract(sdk, fake, compute):
    from lakectl.config import settings_from_dict
    from lakectl.runners.databricks.remote import Submission, idempotency_token, submit_request

    settings = settings_from_dict({"project": "p", "targets": {"local": {"kind": "local"}, "dbx": {"kind": "databricks", **compute}}})
    sub = Submission(
        settings=settings,
        target_name="dbx",
        target=settings.target("dbx"),
        job="ingest",
        params={"source": "files"},
        run_id="abc123",
        timeout_s=600,
    )
    request = submit_request(sub, "/Volumes/c/s/v/nope.whl", "/Volumes/c/s/v/cfg.yaml")
    run_id = sdk.jobs.submit(**request).run_id
    body = fake.calls("POST", r"/jobs/runs/submit$")[-1].body
    assert body["idempotency_token"] == idempotency_token("p", "abc123") and len(body["idempotency_token"]) == 64
    task = body["tasks"][0]
    params = task["python_wheel_task"]["parameters"]
    assert params[:2] == ["ingest", "--params"] and "--on-cluster" in params
    env = compute.get("env")
    if "spark_version" in compute:  # a new job cluster reaches Unity Catalog whatever the workspace default
        cluster = task["new_cluster"]
        assert cluster["data_security_mode"] == "DATA_SECURITY_MODE_AUTO"
        assert cluster.get("policy_id") == compute.get("policy_id")
        assert cluster.get("spark_env_vars") == env
    elif compute.get("serverless"):
        assert task.get("environment_variables_key") == ("lakectl" if env else None)
        entries = body.get("environment_variables", [])
        assert [e["spec"]["variables"] for e in entries] == ([env] if env else [])
    _wait_terminal(sdk, run_id)


def test_idempotency_tokens_are_64_characters_and_differ_per_run_whatever_the_project_name():
    """A token cut at 64 characters once made the second run of a long-named project return the first's result."""
    from lakectl.runners.databricks.remote import idempotency_token

    project = "p" * 60
    tokens = {idempotency_token(project, run) for run in ("0123456789ab", "0123456789ac")}
    assert len(tokens) == 2 and all(len(t) == 64 for t in tokens)
    assert idempotency_token("a", "bc") != idempotency_token("ab", "c")  # the separator keeps the parts apart


def test_when_get_output_fails_after_internal_error_the_clusters_message_is_kept(sdk, fake):
    """The run's own state message (here: its library could not be installed) is what a user needs; an
    unreadable output once replaced it with "reading the output of run N"."""
    from lakectl.config import DatabricksTarget
    from lakectl.core.errors import JobFailed
    from lakectl.runners.databricks.remote import outcome

    run = _wait_terminal(sdk, sdk.jobs.submit(run_name="lost output", tasks=[_task()]).run_id)
    assert run.state.life_cycle_state.value == "INTERNAL_ERROR"
    fake.inject("GET", r"/jobs/runs/get-output$", 500, times=5)
    with pytest.raises(JobFailed) as failed:
        outcome(sdk, DatabricksTarget(serverless=True, connect_timeout_s=5), run)
    assert f"Databricks run {run.run_id} failed: Library installation failed: the wheel was not found" in failed.value.message
    assert "its output could not be read" in failed.value.message
    assert len(fake.calls("GET", r"/jobs/runs/get-output$")) == 1


def test_a_successful_run_whose_result_cannot_be_read_says_so(sdk, fake):
    """A run that ended SUCCESS with no result file and no result line in the last 5 MB of its logs was
    reported as 'failed: ended SUCCESS'."""
    from lakectl.config import DatabricksTarget
    from lakectl.core.errors import JobFailed
    from lakectl.runners.databricks.remote import outcome

    run_id = sdk.jobs.submit(run_name="no result", tasks=[_task()]).run_id
    _wait_terminal(sdk, run_id)
    with fake.lock:  # as if the job had run and its result line had scrolled out of the served logs
        fake.area("jobs")["runs"][run_id].update(
            life_cycle_state="TERMINATED", result_state="SUCCESS", state_message="", error=None, logs="runtime log line\n" * 3
        )
    with pytest.raises(JobFailed) as failed:
        outcome(sdk, DatabricksTarget(serverless=True, connect_timeout_s=5), sdk.jobs.get_run(run_id))
    message = failed.value.message
    assert f"Databricks run {run_id} ended SUCCESS but lakectl could not read its result" in message, message
    assert "failed: ended SUCCESS" not in message


def test_jobs_crud_and_exact_name_listing(sdk, fake):
    from databricks.sdk.service import jobs

    settings = dict(
        name="Nightly Optimize",
        tags={"lakectl_project": "p"},
        tasks=[_task()],
        schedule=jobs.CronSchedule(quartz_cron_expression="0 0 2 * * ?", timezone_id="UTC"),
    )
    job_id = sdk.jobs.create(**settings).job_id
    sdk.jobs.create(name="Nightly Optimize (copy)", tasks=[_task()])
    assert [j.job_id for j in sdk.jobs.list(name="nightly optimize")] == [job_id]
    sdk.jobs.reset(job_id, new_settings=jobs.JobSettings(name="Nightly Optimize", tasks=[_task()], max_concurrent_runs=2))
    assert sdk.jobs.get(job_id).settings.max_concurrent_runs == 2
    sdk.jobs.delete(job_id)
    assert [j.settings.name for j in sdk.jobs.list()].count("Nightly Optimize") == 0
