"""`lakectl deploy` against the contract server: idempotent, finds its jobs by tag, leaves others alone."""

from __future__ import annotations

import json

import pytest
import yaml
from typer.testing import CliRunner

from tests.databricks.conftest import CANARY

pytestmark = pytest.mark.databricks


def _config(tmp_path, cron: str = "*/5 * * * *", project: str = "dbxtest", **extra) -> str:
    schedules = {
        "pipeline": {
            "cron": cron,
            "max_concurrent_runs": 1,
            "notifications": {"emails_on_failure": ["ops@example.com"]},
            "tasks": {
                "ingest": {"job": "ingest", "params": {"source": "files"}},
                "transform": {"job": "transform", "depends_on": ["ingest"], "retries": 2, "timeout_minutes": 30},
                "aggregate": {"job": "aggregate", "depends_on": ["ingest", "transform"]},
            },
        },
        "nightly_optimize": {"cron": "0 2 * * *", "tasks": {"optimize": {"job": "optimize"}}},
        **extra,
    }
    path = tmp_path / f"{project}.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "project": project,
                "storage": {"root": str(tmp_path / "lake")},
                "schedules": schedules,
                "targets": {"local": {"kind": "local"}, "dbx": {"kind": "databricks", "serverless": True, "connect_timeout_s": 10}},
            }
        )
    )
    return str(path)


@pytest.fixture
def deploy(fake, monkeypatch, tmp_path):
    from lakectl.cli.app import app

    for key in [k for k in list(__import__("os").environ) if k.startswith("DATABRICKS_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("DATABRICKS_HOST", fake.url)
    monkeypatch.setenv("DATABRICKS_TOKEN", CANARY)
    monkeypatch.setenv("DATABRICKS_CONFIG_FILE", str(tmp_path / "none.cfg"))

    def run(config: str, *args: str, target: str = "dbx", code: int = 0) -> dict:
        result = CliRunner().invoke(app, ["-c", config, "--target", target, "deploy", *args, "--json"])
        assert result.exit_code == code, result.output
        assert CANARY not in result.output
        return json.loads(result.stdout.strip().splitlines()[-1]) if result.stdout.strip() else {}

    return run


def test_dry_run_then_deploy_then_deploy_again_changes_nothing(deploy, fake, tmp_path):
    config = _config(tmp_path)
    plan = deploy(config, "--dry-run", code=8)  # changes pending: the CI gate
    assert plan["summary"] == {"create": 2, "update": 0, "unchanged": 0, "delete": 0}
    assert not fake.calls("POST", r"/jobs/create$") and not fake.calls("POST", r"/workspace/import$")
    first = deploy(config)
    assert first["summary"]["create"] == 2 and len(fake.calls("POST", r"/jobs/create$")) == 2
    assert len(first["uploaded"]) == 2 and first["config"] == "create"  # the wheel and the config
    created = next(r.body for r in fake.calls("POST", r"/jobs/create$") if r.body["name"] == "dbxtest pipeline")
    assert created["schedule"] == {"quartz_cron_expression": "0 */5 * * * ?", "timezone_id": "UTC", "pause_status": "UNPAUSED"}
    assert [t["task_key"] for t in created["tasks"]] == ["ingest", "transform", "aggregate"]
    assert created["tasks"][1]["depends_on"] == [{"task_key": "ingest"}] and created["tasks"][1]["max_retries"] == 2
    second = deploy(config)
    assert second["summary"] == {"create": 0, "update": 0, "unchanged": 2, "delete": 0}
    assert second["config"] == "unchanged" and second["uploaded"] == []
    assert len(fake.calls("POST", r"/jobs/create$")) == 2 and not fake.calls("POST", r"/jobs/reset$")
    assert deploy(config, "--dry-run")["summary"]["unchanged"] == 2  # nothing pending: exit 0 (the CI gate passes)
    assert deploy(config, "--dry-run")["changes"][0]["fields"] == []
    deploy(config, "--destroy")


def test_a_changed_schedule_is_one_update(deploy, fake, tmp_path):
    deploy(_config(tmp_path))
    changed = deploy(_config(tmp_path, cron="*/10 * * * *"))
    assert changed["summary"] == {"create": 0, "update": 1, "unchanged": 1, "delete": 0}
    update = next(c for c in changed["changes"] if c["action"] == "update")
    assert update["schedule"] == "pipeline" and update["fields"] == ["schedule"]
    assert changed["config"] == "update"
    resets = fake.calls("POST", r"/jobs/reset$")
    assert len(resets) == 1 and resets[0].body["new_settings"]["schedule"]["quartz_cron_expression"] == "0 */10 * * * ?"
    deploy(_config(tmp_path, cron="*/10 * * * *"), "--destroy")


def test_the_service_answers_with_defaults_and_its_own_order(deploy, fake, sdk, tmp_path):
    """What makes a naive comparison fail: jobs/get and jobs/list answer with defaults never sent and
    with tasks and depends_on in another order than submitted."""
    deploy(_config(tmp_path))
    sent = next(r.body for r in fake.calls("POST", r"/jobs/create$") if r.body["name"] == "dbxtest pipeline")
    job_id = next(j.job_id for j in sdk.jobs.list(name="dbxtest pipeline"))
    for got in (
        sdk.jobs.get(job_id).settings.as_dict(),
        next(iter(sdk.jobs.list(name="dbxtest pipeline", expand_tasks=True))).settings.as_dict(),
    ):
        assert got["timeout_seconds"] == 0 and "timeout_seconds" not in sent
        assert got["email_notifications"]["no_alert_for_skipped_runs"] is False
        assert got["run_as"] and got["queue"] and got["format"] == "MULTI_TASK"
        assert [t["task_key"] for t in got["tasks"]] != [t["task_key"] for t in sent["tasks"]]
        aggregate = next(t for t in got["tasks"] if t["task_key"] == "aggregate")
        assert aggregate["depends_on"] == [{"task_key": "transform"}, {"task_key": "ingest"}]  # sent: ingest, transform
    deploy(_config(tmp_path), "--destroy")


def test_foreign_jobs_are_never_touched_and_destroy_removes_ours(deploy, fake, sdk, tmp_path):
    from databricks.sdk.service import compute, jobs

    task = jobs.Task(
        task_key="x",
        existing_cluster_id="c-1",
        libraries=[compute.Library(whl="/Volumes/a/b/c/x.whl")],
        python_wheel_task=jobs.PythonWheelTask(package_name="other", entry_point="main"),
    )
    lookalike = sdk.jobs.create(name="dbxtest pipeline", tasks=[task]).job_id  # same name, no tag
    other_project = sdk.jobs.create(
        name="other pipeline", tasks=[task], tags={"lakectl_project": "other", "lakectl_schedule": "pipeline"}
    ).job_id
    config = _config(tmp_path)
    deploy(config)
    fewer = _config(tmp_path, project="dbxtest")
    doc = yaml.safe_load(open(fewer))
    del doc["schedules"]["nightly_optimize"]
    open(fewer, "w").write(yaml.safe_dump(doc))
    pruned = deploy(fewer)
    assert pruned["summary"] == {"create": 0, "update": 0, "unchanged": 1, "delete": 1}
    gone = deploy(config, "--destroy")
    assert gone["summary"]["delete"] == 1
    deleted = {r.body["job_id"] for r in fake.calls("POST", r"/jobs/delete$")}
    assert lookalike not in deleted and other_project not in deleted
    names = sorted(j.settings.name for j in sdk.jobs.list())
    assert "dbxtest pipeline" in names and "other pipeline" in names and "dbxtest nightly_optimize" not in names
    sdk.jobs.delete(lookalike)
    sdk.jobs.delete(other_project)


def test_local_target_plans_and_prints_crontab_lines(deploy, tmp_path):
    config = _config(tmp_path)
    plan = deploy(config, "--dry-run", "--crontab", target="local", code=8)
    assert plan["summary"]["create"] == 2
    line = next(ln for ln in plan["crontab"] if "transform" in ln)
    assert line.startswith("*/5 * * * * cd ")
    assert line.index(" ingest ") < line.index(" transform ") < line.index(" aggregate ") and "timeout 1800 " in line
    deploy(config, target="local", code=2)


@pytest.mark.parametrize(
    "unix, quartz",
    [
        ("*/5 * * * *", "0 */5 * * * ?"),
        ("0 2 * * *", "0 0 2 * * ?"),
        ("30 6 * * 1-5", "0 30 6 ? * 2-6"),
        ("0 0 1 * *", "0 0 0 1 * ?"),
        ("0 9 * * SUN", "0 0 9 ? * SUN"),
    ],
)
def test_unix_cron_to_quartz(unix, quartz):
    from lakectl.deploy.cron import to_quartz

    assert to_quartz(unix) == quartz


@pytest.mark.parametrize(
    "compute", [{"serverless": True}, {"spark_version": "16.4.x-scala2.12", "node_type_id": "m5d.large", "env": {"REGION": "eu"}}]
)
def test_a_bundle_holds_the_jobs_deploy_sends_and_loads_in_databricks_bundles(deploy, fake, tmp_path, compute):
    """`deploy --bundle DIR` writes the same jobs as an Asset Bundle: loaded back through databricks-bundles'
    Job resource they equal what `lakectl deploy` sent, but for where the wheel and the config live."""
    from lakectl.deploy.bundle import RESOURCES, load_jobs

    # a schedule of the model jobs too: their MLflow (and encoder) packages must be in the bundle as deploy sends them
    models = {"cron": "0 3 * * *", "tasks": {"train": {"job": "train"}, "score": {"job": "score", "depends_on": ["train"]}}}
    config = _config(tmp_path, models=models)
    raw = yaml.safe_load(open(config))
    raw["targets"]["dbx"] = {"kind": "databricks", "connect_timeout_s": 10, **compute}
    open(config, "w").write(yaml.safe_dump(raw))
    out = tmp_path / "bundle"
    deploy(config, "--bundle", str(out), "--destroy", code=2)  # a bundle's jobs are destroyed by the bundle CLI
    deploy(config, "--bundle", str(out), target="local", code=2)
    planned = deploy(config, "--bundle", str(out), "--dry-run")
    assert planned["jobs"] == ["lakectl_models", "lakectl_nightly_optimize", "lakectl_pipeline"] and not out.exists()
    before = len(fake.requests)
    written = deploy(config, "--bundle", str(out))
    assert len(fake.requests) == before  # a bundle touches no workspace
    assert written["files"] == planned["files"] and all((out / f).is_file() for f in written["files"])
    manifest = yaml.safe_load((out / "databricks.yml").read_text())
    assert manifest["include"] == [RESOURCES] and manifest["bundle"]["name"] == "lakectl-dbxtest"
    assert manifest["targets"]["dbx"]["default"] is True

    deploy(config)
    sent = {r.body["tags"]["lakectl_schedule"]: r.body for r in fake.calls("POST", r"/jobs/create$")}
    assert "mlflow" in json.dumps(sent["models"]).lower()  # the model jobs' packages are sent, so the bundle must hold them
    bundled = load_jobs(out)
    assert set(bundled) == {f"lakectl_{k}" for k in sent}
    wheel = next(f for f in written["files"] if f.endswith(".whl"))
    for key, body in sent.items():
        params = body["tasks"][0]["python_wheel_task"]["parameters"]
        deployed_config = params[params.index("--config") + 1]
        deployed_wheel = deployed_config.rsplit("/", 1)[0] + "/" + wheel.rsplit("/", 1)[1]
        text = json.dumps(bundled[f"lakectl_{key}"])
        assert f"./{wheel}" in text and "${workspace.file_path}/dist/lakectl-deploy-dbxtest.yaml" in text
        text = text.replace(f"./{wheel}", deployed_wheel).replace(
            "${workspace.file_path}/dist/lakectl-deploy-dbxtest.yaml", deployed_config
        )
        assert json.loads(text) == body
        assert (out / "dist" / "lakectl-deploy-dbxtest.yaml").read_bytes() == fake.local_path(deployed_config).read_bytes()
    deploy(config, "--destroy")
