"""Runs a submitted python_wheel_task for real, as a cluster would.

The uploaded wheel is installed into an isolated virtualenv (a cluster's library environment) that holds
only what a cluster would have: the runtime's packages (pyspark, delta-spark, pandas, pyarrow), the
wheel's declared dependencies and the task's other libraries (PyPI libraries on a cluster, the
environment's other dependencies on serverless), each with its own dependencies, taken from what is
installed here (runtime_env.py: no network, from a virtualenv or the system Python alike). A dependency
the wheel forgets to declare is then missing on the "cluster" as it would be on Databricks. The task's
entry point runs with the submitted parameters in a clean environment: nothing of the caller's, only
what a runtime sets (its Spark, its credentials) and the job's own environment variables (a new
cluster's `spark_env_vars`, with {{secrets/scope/key}} resolved as a cluster does when it starts; the
serverless task's `environment_variables` entry as given).

Classic compute: a Delta-enabled local Spark (PYSPARK_SUBMIT_ARGS). Serverless with `fake.connect_url`:
the job's environment has the Spark Connect client only (pyspark without its JVM side, no py4j, no Java
on PATH) and SPARK_REMOTE pointing at that server, so `SparkSession.builder.getOrCreate()` is a Connect
session as on serverless compute. Uploaded /Workspace and /Volumes files are at local paths (the FUSE
mount): parameters naming such paths are rewritten to them.
"""

from __future__ import annotations

import hashlib
import os
import re
import shlex
import shutil
import signal
import subprocess
import threading
import time
import traceback
from pathlib import Path
from typing import Any

from tests.databricks_fake import runtime_env

_venv_locks: dict[str, threading.Lock] = {}
_global = threading.Lock()


def start(fake, run: dict[str, Any]) -> None:
    threading.Thread(target=_execute, args=(fake, run), name=f"run-{run['run_id']}", daemon=True).start()


def cancel(fake, run: dict[str, Any]) -> None:
    with fake.lock:
        if run["life_cycle_state"] in ("TERMINATED", "SKIPPED", "INTERNAL_ERROR"):
            return
        run["cancelled"] = True
        run["life_cycle_state"] = "TERMINATING"
        run["state_message"] = "Run cancellation requested"
        proc = run["process"]
    if proc is not None and proc.poll() is None:
        _kill(proc)


def _kill(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _finish(
    fake,
    run: dict[str, Any],
    result_state: str,
    message: str,
    *,
    life_cycle: str = "TERMINATED",
    error: str | None = None,
    trace: str | None = None,
) -> None:
    with fake.lock:
        if run["cancelled"]:
            result_state, message, life_cycle = "CANCELED", "Run cancelled.", "TERMINATED"
        run.update(
            life_cycle_state=life_cycle,
            result_state=result_state,
            state_message=message,
            end_time=int(time.time() * 1000),
            error=error if result_state != "CANCELED" else None,
            error_trace=trace if result_state != "CANCELED" else None,
        )


def _execute(fake, run: dict[str, Any]) -> None:
    task = run["body"]["tasks"][0]
    try:
        wheel = _wheel_of(fake, run["body"], task)
        if wheel is None:
            _finish(
                fake,
                run,
                "FAILED",
                "Library installation failed: the wheel was not found in the workspace",
                life_cycle="INTERNAL_ERROR",
                error="Library installation failed",
            )
            return
        serverless = bool(task.get("environment_key")) and fake.connect_url is not None
        try:
            venv = _venv_with(fake, wheel, _packages(run["body"], task), serverless=serverless)
        except runtime_env.LibraryInstallFailed as exc:
            _finish(
                fake,
                run,
                "FAILED",
                f"Library installation failed: {exc}",
                life_cycle="INTERNAL_ERROR",
                error=f"Library installation failed: {exc}",
            )
            return
        if run["cancelled"]:
            _finish(fake, run, "CANCELED", "Run cancelled.")
            return
        wheel_task = task["python_wheel_task"]
        script = venv / "bin" / wheel_task["entry_point"]
        if not script.exists():
            _finish(
                fake,
                run,
                "FAILED",
                "entry point not found",
                error=f"Entry point {wheel_task['entry_point']} not found in package {wheel_task['package_name']}",
            )
            return
        args = [_mounted(fake, a) for a in wheel_task.get("parameters", [])]
        try:
            env = {**_runtime_env(fake, venv, serverless=serverless), **_job_env(fake, run["body"], task)}
        except KeyError as exc:
            _finish(fake, run, "FAILED", f"Cluster launch failed: secret {exc.args[0]} does not exist", life_cycle="INTERNAL_ERROR")
            return
        run["env"], run["venv"] = sorted(env), str(venv)
        log = fake.root / "runs" / f"{run['run_id']}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        with fake.lock:
            if run["cancelled"]:
                _finish(fake, run, "CANCELED", "Run cancelled.")
                return
            with open(log, "wb") as out:
                run["process"] = subprocess.Popen(
                    [str(script), *args],
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    cwd=fake.root,
                    start_new_session=True,
                )
            run.update(life_cycle_state="RUNNING", state_message="In run")
        proc: subprocess.Popen = run["process"]
        timeout = task.get("timeout_seconds") or run["body"].get("timeout_seconds") or None
        try:
            code = proc.wait(timeout)
        except subprocess.TimeoutExpired:
            _kill(proc)
            run["logs"] = log.read_text(errors="replace")
            _finish(fake, run, "TIMEDOUT", f"Run timed out after {timeout} seconds")
            return
        if fake.runtime_log_bytes:
            _runtime_log(log, fake.runtime_log_bytes)
        run["logs"] = log.read_text(errors="replace")
        if code == 0:
            _finish(fake, run, "SUCCESS", "")
        else:
            tail = "\n".join(run["logs"].splitlines()[-20:])
            _finish(fake, run, "FAILED", "Task lakectl failed with message: Workload failed", error=f"SystemExit: {code}", trace=tail)
    except Exception as exc:  # noqa: BLE001 - the fake reports its own breakage as the platform would
        _finish(
            fake, run, "FAILED", f"fake executor error: {exc}", life_cycle="INTERNAL_ERROR", error=str(exc), trace=traceback.format_exc()
        )


def _wheel_of(fake, body: dict[str, Any], task: dict[str, Any]) -> Path | None:
    candidates: list[str] = [lib["whl"] for lib in task.get("libraries", []) if lib.get("whl")]
    for env in body.get("environments", []):
        if env["environment_key"] == task.get("environment_key"):
            candidates += [d for d in env.get("spec", {}).get("dependencies", []) if d.endswith(".whl")]
    for path in candidates:
        local = fake.local_path(path if path.startswith(("/Volumes/", "/Workspace/")) else "/Workspace" + path)
        if local.is_file():
            return local
    return None


def _packages(body: dict[str, Any], task: dict[str, Any]) -> list[str]:
    """The task's libraries beyond the wheel: PyPI libraries, or the environment's other dependencies."""
    out = [lib["pypi"]["package"] for lib in task.get("libraries", []) if lib.get("pypi")]
    for env in body.get("environments", []):
        if env["environment_key"] == task.get("environment_key"):
            out += [d for d in env.get("spec", {}).get("dependencies", []) if not d.endswith(".whl")]
    return out


def _venv_with(fake, wheel: Path, packages: list[str], *, serverless: bool) -> Path:
    """A virtualenv with the wheel and the packages installed, one per content (a cluster's library cache)."""
    digest = hashlib.sha256(wheel.read_bytes() + repr((sorted(packages), serverless)).encode()).hexdigest()[:16]
    with _global:
        lock = _venv_locks.setdefault(digest, threading.Lock())
    venv = fake.root / "venvs" / digest
    with lock:
        if not (venv / ".installed").exists():
            shutil.rmtree(venv, ignore_errors=True)
            runtime_env.build(venv, wheel, packages, connect_only=serverless)
            (venv / ".installed").touch()
    return venv


def _runtime_log(log: Path, size: int) -> None:
    """What a runtime writes after the task's own output (its shutdown, its Spark): `size` bytes of lines."""
    line = b"26/11/02 12:00:00 INFO runtime: lakectl contract server: runtime log line after the task's output\n"
    with open(log, "ab") as out:
        out.write(line * (size // len(line) + 1))


def _mounted(fake, arg: str) -> str:
    if arg.startswith(("/Workspace/", "/Volumes/")):
        return str(fake.local_path(arg))
    return arg


def _job_env(fake, body: dict[str, Any], task: dict[str, Any]) -> dict[str, str]:
    """The job's own environment variables: a new cluster's spark_env_vars (secret references resolved, as a
    cluster does when it starts: KeyError names a missing one), or the serverless task's entry as given."""
    if task.get("new_cluster"):
        out = {}
        for name, value in (task["new_cluster"].get("spark_env_vars") or {}).items():
            ref = re.fullmatch(r"\{\{secrets/([^/{}]+)/([^/{}]+)\}\}", value)
            if ref:
                secret = fake.area("secrets").get((ref.group(1), ref.group(2)))
                if secret is None:
                    raise KeyError(f"{ref.group(1)}/{ref.group(2)}")
                value = secret
            out[name] = value
        return out
    key = task.get("environment_variables_key")
    for entry in body.get("environment_variables", []):
        if key is not None and entry["environment_variables_key"] == key:
            return dict((entry.get("spec") or {}).get("variables") or {})
    return {}


def _runtime_env(fake, venv: Path, *, serverless: bool) -> dict[str, str]:
    """The environment a runtime gives a job: nothing inherited from whoever runs the fake. A classic
    cluster has Java and a Delta-ready Spark; serverless has only a Spark Connect session. No
    DATABRICKS_RUNTIME_VERSION: lakectl would take the fake for Databricks Runtime (its SQL, its sources)."""
    home = fake.root / "home"
    (home / "tmp").mkdir(parents=True, exist_ok=True)
    python = str(venv / "bin" / "python")
    env = {
        "HOME": str(home),
        "TMPDIR": str(home / "tmp"),
        "LANG": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
        "PYTHONSAFEPATH": "1",
        # A real cluster's SDK authenticates through the runtime; here, as the fake's own run-scoped token
        # (never the caller's), so code on the "cluster" can call the workspace (secrets, serving endpoints).
        "DATABRICKS_HOST": fake.url,
        "DATABRICKS_TOKEN": fake.runtime_token,
    }
    if serverless:
        # only the environment's own scripts: no `java` to start a JVM with
        env.update(PATH=str(venv / "bin"), SPARK_REMOTE=fake.connect_url)
        return env
    java = shutil.which("java")
    java_home = os.environ.get("JAVA_HOME") or (str(Path(java).resolve().parent.parent) if java else "")
    env.update(
        PATH=os.pathsep.join([str(venv / "bin"), f"{java_home}/bin", "/usr/local/bin", "/usr/bin", "/bin"]),
        JAVA_HOME=java_home,
        PYSPARK_PYTHON=python,
        PYSPARK_DRIVER_PYTHON=python,
    )
    from lakectl.config import LocalTarget, settings_from_dict
    from lakectl.engine.local import local_conf

    runtime = settings_from_dict({"storage": {"root": str(fake.root / "runtime")}}, "<fake-runtime>")
    conf = local_conf(runtime, LocalTarget(master="local[2]", driver_memory="1g", shuffle_partitions=2))
    conf.pop("spark.master", None)
    driver_memory = conf.pop("spark.driver.memory", "1g")
    parts = ["--master", "local[2]", "--driver-memory", driver_memory]
    for key, value in conf.items():
        parts += ["--conf", f"{key}={value}"]
    env["PYSPARK_SUBMIT_ARGS"] = " ".join(shlex.quote(p) for p in parts) + " pyspark-shell"
    return env
