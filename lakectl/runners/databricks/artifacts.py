"""Upload the wheel and the config beside it, content-addressed: an existing name is the same bytes."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from lakectl.config import DatabricksTarget, Settings

if TYPE_CHECKING:
    from databricks.sdk import WorkspaceClient


@dataclass(frozen=True)
class Artifacts:
    wheel: str  # workspace or volume path of the wheel
    config: str  # ... and of the config file beside it
    directory: str = ""  # where both are (a job's result file goes under it)
    uploaded: tuple[str, ...] = ()


def artifact_dir(w: WorkspaceClient, target: DatabricksTarget) -> str:
    if target.artifact_path:
        return target.artifact_path.rstrip("/")
    return f"/Workspace/Users/{w.current_user.me().user_name}/.lakectl/wheels"


def config_bytes(settings: Settings, target: DatabricksTarget) -> bytes:
    """The config as the job reads it: ${VAR}s resolved here, except secrets and the job's own `env:`
    (config/for_job.py), so a variable set only on this machine still reaches the job and no secret
    leaves it."""
    source = settings.source_file
    if not source or source.startswith("<") or not Path(source).is_file():
        from lakectl.core.errors import ConfigError

        raise ConfigError(
            "a Databricks target needs its config in a file (the job reads it on the cluster)", "pass --config PATH or set LAKECTL_CONFIG"
        )
    from lakectl.config.for_job import config_for_job

    return config_for_job(Path(source), job_env=set(target.env))


def planned(w: WorkspaceClient, target: DatabricksTarget, settings: Settings, wheel: Path) -> Artifacts:
    """Where the wheel and the config go (content-addressed names); nothing is uploaded."""
    directory = artifact_dir(w, target)
    config = config_bytes(settings, target)
    config_name = f"lakectl-config-{hashlib.sha256(config).hexdigest()[:12]}.yaml"
    return Artifacts(f"{directory}/{wheel.name}", f"{directory}/{config_name}", directory)


def upload(w: WorkspaceClient, target: DatabricksTarget, settings: Settings, wheel: Path) -> Artifacts:
    """Upload the wheel and the config unless a file of that (content-addressed) name is there."""
    plan = planned(w, target, settings, wheel)
    config = config_bytes(settings, target)
    uploaded = [path for path, data in ((plan.wheel, wheel.read_bytes()), (plan.config, config)) if ensure(w, path, data)]
    return Artifacts(plan.wheel, plan.config, plan.directory, tuple(uploaded))


def ensure(w: WorkspaceClient, path: str, data: bytes) -> bool:
    """Upload `data` to a content-addressed `path` unless it exists; True when uploaded."""
    if _exists(w, path):
        return False
    write(w, path, data)
    return True


def write(w: WorkspaceClient, path: str, data: bytes) -> None:
    if path.startswith("/Volumes/"):
        w.files.upload(path, io.BytesIO(data), overwrite=True)
        return
    from databricks.sdk.service.workspace import ImportFormat

    w.workspace.mkdirs(path.rsplit("/", 1)[0])
    w.workspace.upload(path, data, format=ImportFormat.AUTO, overwrite=True)


def read(w: WorkspaceClient, path: str) -> bytes | None:
    """The file's bytes, or None when there is none."""
    from databricks.sdk.errors import NotFound

    try:
        if path.startswith("/Volumes/"):
            return w.files.download(path).contents.read()
        return w.workspace.download(path).read()
    except NotFound:
        return None


def delete(w: WorkspaceClient, path: str) -> None:
    if path.startswith("/Volumes/"):
        w.files.delete(path)
    else:
        w.workspace.delete(path)


def _exists(w: WorkspaceClient, path: str) -> bool:
    from databricks.sdk.errors import NotFound

    try:
        if path.startswith("/Volumes/"):
            w.files.get_metadata(path)
        else:
            w.workspace.get_status(path)
        return True
    except NotFound:
        return False
