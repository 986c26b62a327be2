"""Runs a submitted python_wheel_task for real, as a cluster would.

The uploaded wheel is installed into an isolated virtualenv (a cluster's library environment) that holds
only what a cluster would have: the runtime's packages (pyspark, delta-spark, pandas, pyarrow) and the
wheel's declared dependencies, each with its own dependencies, taken from what is installed here
(runtime_env.py: no network, from a virtualenv or the system Python alike). A dependency the wheel
forgets to declare is then missing on the "cluster" as it would be on Databricks. The task's entry
point runs with the submitted parameters. Like Databricks Runtime, the fake provides a Delta-enabled Spark
session configuration (through PYSPARK_SUBMIT_ARGS) and exposes uploaded /Workspace and /Volumes
files at local paths (its FUSE mount): parameters naming such paths are rewritten to them.
"""

from __future__ import annotations

import hashlib
import os
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
        try:
            venv = _venv_with(fake, wheel)
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
        env = _runtime_env(fake, venv)
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


def _venv_with(fake, wheel: Path) -> Path:
    """A virtualenv with the wheel installed, one per wheel content (a cluster's library cache)."""
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()[:16]
    with _global:
        lock = _venv_locks.setdefault(digest, threading.Lock())
    venv = fake.root / "venvs" / digest
    with lock:
        if not (venv / ".installed").exists():
            shutil.rmtree(venv, ignore_errors=True)
            runtime_env.build(venv, wheel)
            (venv / ".installed").touch()
    return venv


def _mounted(fake, arg: str) -> str:
    if arg.startswith(("/Workspace/", "/Volumes/")):
        return str(fake.local_path(arg))
    return arg


def _runtime_env(fake, venv: Path) -> dict[str, str]:
    """The environment of a job on the "cluster": the wheel's code only, and a Delta-ready Spark."""
    from lakectl.config import LocalTarget, settings_from_dict
    from lakectl.engine.local import local_conf

    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABRICKS_", "LAKECTL_")) and k != "PYTHONPATH"}
    python = str(venv / "bin" / "python")
    env.update(PYSPARK_PYTHON=python, PYSPARK_DRIVER_PYTHON=python, PYTHONUNBUFFERED="1", PYTHONSAFEPATH="1")
    # A real cluster's SDK authenticates through the runtime; here, as the fake's own run-scoped token
    # (never the caller's), so code on the "cluster" can call the workspace (serving endpoints).
    env.update(DATABRICKS_HOST=fake.url, DATABRICKS_TOKEN=fake.runtime_token)
    runtime = settings_from_dict({"storage": {"root": str(fake.root / "runtime")}}, "<fake-runtime>")
    conf = local_conf(runtime, LocalTarget(master="local[2]", driver_memory="1g", shuffle_partitions=2))
    conf.pop("spark.master", None)
    driver_memory = conf.pop("spark.driver.memory", "1g")
    parts = ["--master", "local[2]", "--driver-memory", driver_memory]
    for key, value in conf.items():
        parts += ["--conf", f"{key}={value}"]
    env["PYSPARK_SUBMIT_ARGS"] = " ".join(shlex.quote(p) for p in parts) + " pyspark-shell"
    return env
