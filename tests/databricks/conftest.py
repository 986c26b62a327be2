"""Fixtures for the Databricks target: one contract server per test session (its wheel virtualenvs
are reused), cleared between tests, and a CLI runner pointed at it with a token canary."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

pytest.importorskip("databricks.sdk")
CANARY = f"dapi-canary-{uuid.uuid4().hex}"


@pytest.fixture(scope="session")
def fake_session():
    from tests.databricks_fake import FakeWorkspace

    fake = FakeWorkspace().start()
    yield fake
    fake.stop()
    fake.cleanup()


@pytest.fixture
def fake(fake_session):
    with fake_session.lock:
        fake_session.requests.clear()
        fake_session.failures.clear()
        fake_session.faults.clear()
        fake_session.warehouse = None
        fake_session.chunk_rows = 0
        fake_session.accepted_token = None
        fake_session.connect_url = None
        fake_session.runtime_log_bytes = 0
        fake_session.state.pop("secrets", None)
    yield fake_session
    assert not fake_session.failures, f"contract failures: {fake_session.failures}"


@pytest.fixture
def sdk(fake, monkeypatch):
    """A real WorkspaceClient on the fake."""
    from databricks.sdk import WorkspaceClient
    from databricks.sdk.config import Config

    monkeypatch.setenv("DATABRICKS_CONFIG_FILE", str(REPO / "does-not-exist.cfg"))
    return WorkspaceClient(config=Config(host=fake.url, token=CANARY, retry_timeout_seconds=20))


@dataclass
class Cli:
    env: dict[str, str]
    cwd: Path
    outputs: list[str]

    def __call__(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [sys.executable, "-m", "lakectl", *args], env=self.env, cwd=self.cwd, capture_output=True, text=True, timeout=timeout
        )
        self.outputs += [proc.stdout, proc.stderr]
        return proc

    def popen(self, *args: str) -> subprocess.Popen[str]:
        # SIGINT at its default: a test run started in the background (nohup, `&` in a script) passes
        # SIGINT on ignored, and Python then never raises KeyboardInterrupt for it
        return subprocess.Popen(
            [sys.executable, "-m", "lakectl", *args],
            env=self.env,
            cwd=self.cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )


def warehouse_of(sdk, warehouse_id: str | None):  # noqa: ANN001, ANN201 (databricks-sdk imported lazily)
    """The warehouse engine on `warehouse_id` through the client `sdk` (None without an id), as a target has it."""
    if warehouse_id is None:
        return None
    from lakectl.config import DatabricksTarget
    from lakectl.engine.warehouse import WarehouseEngine

    target = DatabricksTarget(host=sdk.config.host, serverless=True, warehouse_id=warehouse_id, poll_interval_s=0.2)
    return WarehouseEngine(target, catalog=None, timeout_s=120.0, client=sdk)


def sdk_env(monkeypatch, fake, tmp_path: Path) -> None:  # noqa: ANN001
    """The SDK's environment pointed at the fake: its host and token only, no caller's DATABRICKS_* or config file."""
    import os

    for key in [k for k in os.environ if k.startswith("DATABRICKS_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("DATABRICKS_HOST", fake.url)
    monkeypatch.setenv("DATABRICKS_TOKEN", CANARY)
    monkeypatch.setenv("DATABRICKS_CONFIG_FILE", str(tmp_path / "none.cfg"))


def write_config(path: Path, root: Path, landing: Path, **dbx: object) -> Path:
    import yaml

    target = {"kind": "databricks", "serverless": True, "poll_interval_s": 0.5, "connect_timeout_s": 10, **dbx}
    path.write_text(
        yaml.safe_dump(
            {
                "project": "${LAKECTL_TEST_PROJECT:-dbxtest}",  # travels unresolved, resolved where the job runs
                "storage": {"root": str(root)},
                "sources": {"files": {"path": str(landing)}},
                "targets": {"local": {"kind": "local", "master": "local[2]", "shuffle_partitions": 2}, "dbx": target},
            }
        )
    )
    return path


def encoded(*parts: str) -> str:
    """A Unity Catalog full name as one URL-encoded path segment, the way lakectl must send it."""
    from urllib.parse import quote

    return quote(".".join(parts), safe="")


def write_grant_config(tmp_path: Path, policy: Path) -> Path:
    """A config naming the grant policy, with a serverless Databricks target `dbx` on warehouse `wh-1`."""
    import yaml

    cfg = tmp_path / "lakectl.yaml"
    cfg.write_text(
        yaml.safe_dump(
            {
                "storage": {"root": str(tmp_path / "lake")},
                "grant": {"policy": str(policy)},
                "targets": {"local": {"kind": "local"}, "dbx": {"kind": "databricks", "serverless": True, "warehouse_id": "wh-1"}},
            }
        )
    )
    return cfg


@pytest.fixture
def cli(fake, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DATABRICKS_")}
    env.update(
        DATABRICKS_HOST=fake.url,
        DATABRICKS_TOKEN=CANARY,
        DATABRICKS_CONFIG_FILE=str(tmp_path / "none.cfg"),
        PYTHONPATH=str(REPO),
        LAKECTL_TARGET="dbx",
    )
    env.pop("LAKECTL_CONFIG", None)
    env.pop("UC_TOKEN", None)
    runner = Cli(env=env, cwd=tmp_path, outputs=[])
    yield runner
    leaked = [o for o in runner.outputs if CANARY in o]
    assert not leaked, "the token appeared in lakectl's output"
    for r in fake.requests:
        assert CANARY not in repr(r.body) and CANARY not in repr(r.query)
