"""The contract server's "cluster" holds what a cluster would: the runtime and the wheel's declared dependencies.

Built offline from what is installed here, so it works from a virtualenv and from the system Python alike,
and a dependency the wheel forgets to declare is missing there as it would be on Databricks.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.databricks


@pytest.fixture
def wheel_with(tmp_path, monkeypatch):
    """lakectl's wheel, built with the given Requires-Dist lines instead of its own."""
    from lakectl.runners.databricks import wheel as wheel_module

    def build(requirements: list[str]) -> Path:
        monkeypatch.setenv("LAKECTL_CACHE", str(tmp_path / f"cache-{len(list(tmp_path.iterdir()))}"))
        monkeypatch.setattr(wheel_module, "requirements", lambda: requirements)
        return wheel_module.build_wheel()

    return build


def _imports(venv: Path, module: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(venv / "bin" / "python"), "-c", f"import {module}"], capture_output=True, text=True, timeout=120)


def test_the_job_environment_has_the_declared_dependencies_and_nothing_of_the_callers(tmp_path):
    from lakectl.runners.databricks.wheel import build_wheel, requirements
    from tests.databricks_fake import runtime_env

    assert any(r.startswith("msgspec") for r in requirements())
    venv = tmp_path / "cluster"
    runtime_env.build(venv, build_wheel())
    for module in ("lakectl.runners.jobentry", "msgspec", "pyspark", "delta", "deltalake"):
        assert _imports(venv, module).returncode == 0, module
    # pytest is installed where the tests run, but no wheel or runtime package asks for it
    assert "No module named 'pytest'" in _imports(venv, "pytest").stderr


def test_a_dependency_missing_from_the_wheel_metadata_is_missing_on_the_cluster(tmp_path, wheel_with):
    from lakectl.runners.databricks.wheel import requirements
    from tests.databricks_fake import runtime_env

    declared = [r for r in requirements() if not r.startswith("msgspec")]
    venv = tmp_path / "cluster"
    runtime_env.build(venv, wheel_with(declared))
    job = subprocess.run(
        [str(venv / "bin" / "lakectl-job"), "ingest", "--params", "{}"], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert job.returncode != 0
    assert "No module named 'msgspec'" in job.stdout + job.stderr


def test_a_dependency_that_is_not_installed_fails_the_library_installation(tmp_path, wheel_with):
    from tests.databricks_fake import runtime_env

    with pytest.raises(runtime_env.LibraryInstallFailed, match="no-such-package-lakectl"):
        runtime_env.build(tmp_path / "cluster", wheel_with(["no-such-package-lakectl>=1"]))
