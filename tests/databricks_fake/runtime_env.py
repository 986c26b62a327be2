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


# Serverless compute's Python has the Spark Connect client only: pyspark without its JVM side (the
# `pyspark-client` layout: no pyspark/core, no jars), with the connect extra's packages, and no py4j.
CONNECT_RUNTIME = ["pyspark[connect]", "pandas", "pyarrow"]
NOT_ON_SERVERLESS = {"py4j", "delta-spark"}
_JVM_SIDE = ("pyspark/core/", "pyspark/jars/", "pyspark/bin/", "pyspark/sbin/")


def build(venv: Path, wheel: Path, packages: list[str] = (), *, connect_only: bool = False) -> None:  # type: ignore[assignment]
    """Create `venv` with the runtime, the wheel's dependencies, the task's other packages and the wheel.
    `connect_only`: serverless compute's runtime (the Spark Connect client, no JVM side, no py4j)."""
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
    runtime = CONNECT_RUNTIME if connect_only else sorted(RUNTIME_PROVIDED)
    wanted = [Requirement(r) for r in [*runtime, *packages]] + wheel_requirements(wheel)
    skip = NOT_ON_SERVERLESS if connect_only else set()
    for dist in closure(wanted, skip=skip):
        _link(dist, site, skip_prefixes=_JVM_SIDE if connect_only else ())
    _pip(python, "install", "-q", "--no-deps", "--no-index", str(wheel))
    _pip(python, "check", ignore=skip)


def wheel_requirements(wheel: Path) -> list[Requirement]:
    """The Requires-Dist lines of a wheel's METADATA (no extras requested)."""
    with zipfile.ZipFile(wheel) as zf:
        name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        meta = Parser().parsestr(zf.read(name).decode())
    return [Requirement(r) for r in meta.get_all("Requires-Dist") or []]


def closure(requirements: list[Requirement], *, skip: set[str] = frozenset()) -> list[metadata.Distribution]:  # type: ignore[assignment]
    """The installed distributions that satisfy `requirements`, with everything they require in turn
    (but the distributions named in `skip`)."""
    found: dict[str, metadata.Distribution] = {}
    todo: list[tuple[Requirement, str]] = [(r, "") for r in requirements]
    while todo:
        req, extra = todo.pop()
        if req.marker is not None and not req.marker.evaluate({**default_environment(), "extra": extra}):
            continue
        key = canonicalize_name(req.name)
        if key in skip:
            continue
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


def _link(dist: metadata.Distribution, site: Path, *, skip_prefixes: tuple[str, ...] = ()) -> None:
    files = dist.files
    if not files:
        raise LibraryInstallFailed(f"{dist.metadata['Name']} has no RECORD of its files")
    for entry in files:
        parts = Path(entry).parts
        if not parts or parts[0] == ".." or "__pycache__" in parts or str(entry).startswith(skip_prefixes):
            continue  # console scripts outside site-packages; bytecode is rebuilt
        source = Path(dist.locate_file(entry))
        target = site / entry
        if target.exists() or not source.exists():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.symlink_to(source)


def _pip(python: Path, *args: str, ignore: set[str] = frozenset()) -> None:  # type: ignore[assignment]
    """pip on the virtualenv; `ignore`: distributions left out on purpose, whose absence pip check reports."""
    done = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "--disable-pip-version-check", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )
    lines = [ln for ln in (done.stdout + done.stderr).strip().splitlines() if ln.strip()]
    problems = [ln for ln in lines if not any(f"requires {name}," in ln.lower() for name in ignore)]
    if done.returncode != 0 and (problems or not ignore):
        raise LibraryInstallFailed(f"pip {args[0]}: {problems[-1:] or lines[-1:]}")
