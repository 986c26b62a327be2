"""The fake cluster's library environment, built offline from the distributions installed here.

A new virtualenv (no site-packages of the caller's: `venv` from inside a virtualenv would otherwise see
the *base* interpreter's packages, not the caller's) gets the runtime's packages and the wheel's declared
dependencies, resolved transitively against this interpreter's installed distributions, linked file by
file from their RECORDs; then pip installs the wheel itself without touching an index and `pip check`
proves every requirement is met. Nothing is downloaded, so it works the same in CI and on a laptop.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from email.parser import Parser
from importlib import metadata
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

# What Databricks Runtime brings before any library is installed (lakectl's wheel leaves them out).
from lakectl.runners.databricks.wheel import RUNTIME_PROVIDED


class LibraryInstallFailed(Exception):
    """The wheel cannot be installed on the "cluster" (a dependency is not available)."""


def build(venv: Path, wheel: Path) -> None:
    """Create `venv` with the runtime, the wheel's dependencies and the wheel."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, capture_output=True, timeout=120)
    python = venv / "bin" / "python"
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout.strip()
    )
    wanted = [Requirement(r) for r in sorted(RUNTIME_PROVIDED)] + wheel_requirements(wheel)
    for dist in closure(wanted):
        _link(dist, site)
    _pip(python, "install", "-q", "--no-deps", "--no-index", str(wheel))
    _pip(python, "check")


def wheel_requirements(wheel: Path) -> list[Requirement]:
    """The Requires-Dist lines of a wheel's METADATA (no extras requested)."""
    with zipfile.ZipFile(wheel) as zf:
        name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        meta = Parser().parsestr(zf.read(name).decode())
    return [Requirement(r) for r in meta.get_all("Requires-Dist") or []]


def closure(requirements: list[Requirement]) -> list[metadata.Distribution]:
    """The installed distributions that satisfy `requirements`, with everything they require in turn."""
    found: dict[str, metadata.Distribution] = {}
    todo: list[tuple[Requirement, str]] = [(r, "") for r in requirements]
    while todo:
        req, extra = todo.pop()
        if req.marker is not None and not req.marker.evaluate({**default_environment(), "extra": extra}):
            continue
        key = canonicalize_name(req.name)
        dist = found.get(key)
        if dist is None:
            try:
                dist = metadata.distribution(req.name)
            except metadata.PackageNotFoundError:
                raise LibraryInstallFailed(f"{req} is not available (not installed where the fake runs)") from None
            found[key] = dist
            todo += [(Requirement(r), "") for r in dist.requires or []]
        if req.specifier and not req.specifier.contains(dist.version, prereleases=True):
            raise LibraryInstallFailed(f"{req} is required but {dist.metadata['Name']} {dist.version} is installed")
        for wanted_extra in req.extras:
            todo += [(Requirement(r), wanted_extra) for r in dist.requires or [] if "extra" in r]
    return list(found.values())


def _link(dist: metadata.Distribution, site: Path) -> None:
    files = dist.files
    if not files:
        raise LibraryInstallFailed(f"{dist.metadata['Name']} has no RECORD of its files")
    for entry in files:
        parts = Path(entry).parts
        if not parts or parts[0] == ".." or "__pycache__" in parts:
            continue  # console scripts outside site-packages; bytecode is rebuilt
        source = Path(dist.locate_file(entry))
        target = site / entry
        if target.exists() or not source.exists():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.symlink_to(source)


def _pip(python: Path, *args: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "--disable-pip-version-check", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0:
        raise LibraryInstallFailed(f"pip {args[0]}: {(done.stdout + done.stderr).strip().splitlines()[-1:]}")
