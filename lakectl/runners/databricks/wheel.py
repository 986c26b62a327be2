"""lakectl's own wheel, built from the running code, once per version + source hash (cached).

The local version `0.1.0+<hash>` makes every changed build a new version: clusters and serverless
environments do not reinstall a wheel whose version they already have.
"""

from __future__ import annotations

import base64
import hashlib
import os
import zipfile
from importlib import metadata
from pathlib import Path

import lakectl
from lakectl.core.cache import cache_dir

# Provided by Databricks Runtime (and pinned differently there): never pulled in by the wheel.
RUNTIME_PROVIDED = {"pyspark", "delta-spark", "pandas", "pyarrow"}
ENTRY_POINTS = "[console_scripts]\nlakectl = lakectl.cli.main:main\nlakectl-job = lakectl.runners.jobentry:main\n"


def source_files() -> list[tuple[str, Path]]:
    """(name in the wheel, file) for every module and resource of the running lakectl package."""
    root = Path(lakectl.__file__).resolve().parent
    files = []
    for path in sorted(root.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix not in (".pyc", ".pyo"):
            files.append((f"lakectl/{path.relative_to(root).as_posix()}", path))
    return files


def source_hash(files: list[tuple[str, Path]]) -> str:
    digest = hashlib.sha256()
    for name, path in files:
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def requirements() -> list[str]:
    """lakectl's dependencies minus what the runtime provides and minus extras."""
    try:
        declared = metadata.requires("lakectl") or []
    except metadata.PackageNotFoundError:
        return []
    out = []
    for req in declared:
        if "extra ==" in req:
            continue
        name = req.split(";")[0].strip()
        bare = name.split("[")[0]
        for sep in "<>=!~ ":
            bare = bare.split(sep)[0]
        if bare.lower() not in RUNTIME_PROVIDED:
            out.append(name)
    return out


def build_wheel() -> Path:
    """The wheel of the running code (built on first use for this source hash)."""
    files = source_files()
    version = f"{lakectl.__version__}+{source_hash(files)}"
    out_dir = cache_dir() / "wheels"
    wheel = out_dir / f"lakectl-{version}-py3-none-any.whl"
    if wheel.exists():
        return wheel
    out_dir.mkdir(parents=True, exist_ok=True)
    dist_info = f"lakectl-{version}.dist-info"
    meta = (
        "\n".join(
            [
                "Metadata-Version: 2.1",
                "Name: lakectl",
                f"Version: {version}",
                "Requires-Python: >=3.11",
                *(f"Requires-Dist: {r}" for r in requirements()),
            ]
        )
        + "\n"
    )
    extra = {
        f"{dist_info}/METADATA": meta.encode(),
        f"{dist_info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: lakectl\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        f"{dist_info}/entry_points.txt": ENTRY_POINTS.encode(),
        f"{dist_info}/top_level.txt": b"lakectl\n",
    }
    record: list[str] = []
    partial = wheel.with_name(f"{wheel.name}.{os.getpid()}.partial")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in [*((n, p.read_bytes()) for n, p in files), *extra.items()]:
            zf.writestr(zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0)), data, zipfile.ZIP_DEFLATED)
            sha = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            record.append(f"{name},sha256={sha},{len(data)}")
        record.append(f"{dist_info}/RECORD,,")
        zf.writestr(zipfile.ZipInfo(f"{dist_info}/RECORD", date_time=(2020, 1, 1, 0, 0, 0)), "\n".join(record) + "\n")
    partial.replace(wheel)  # atomic: a concurrent lakectl never sees half a wheel
    return wheel
