"""Upload the wheel and the config beside it, content-addressed: an existing name is the same bytes."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from lakectl.settings import DatabricksTarget, Settings

if TYPE_CHECKING:
    from databricks.sdk import WorkspaceClient


@dataclass(frozen=True)
class Artifacts:
    wheel: str   # workspace or volume path of the wheel
    config: str  # ... and of the config file beside it
    uploaded: tuple[str, ...] = ()


def artifact_dir(w: "WorkspaceClient", target: DatabricksTarget) -> str:
    if target.artifact_path:
        return target.artifact_path.rstrip("/")
    return f"/Workspace/Users/{w.current_user.me().user_name}/.lakectl/wheels"


def config_bytes(settings: Settings) -> bytes:
    """The config file as written (secrets stay ${VAR} references, resolved on the cluster)."""
    source = settings.source_file
    if not source or source.startswith("<") or not Path(source).is_file():
        from lakectl.errors import ConfigError

        raise ConfigError("a Databricks target needs its config in a file (the job reads it on the cluster)",
                          "pass --config PATH or set LAKECTL_CONFIG")
    return Path(source).read_bytes()


def upload(w: "WorkspaceClient", target: DatabricksTarget, settings: Settings, wheel: Path) -> Artifacts:
    directory = artifact_dir(w, target)
    config = config_bytes(settings)
    config_name = f"lakectl-config-{hashlib.sha256(config).hexdigest()[:12]}.yaml"
    wanted = {f"{directory}/{wheel.name}": wheel.read_bytes(), f"{directory}/{config_name}": config}
    uploaded = []
    on_volume = directory.startswith("/Volumes/")
    made_dir = False
    for path, data in wanted.items():
        if _exists(w, path, on_volume):
            continue
        if on_volume:
            w.files.upload(path, io.BytesIO(data), overwrite=True)
        else:
            from databricks.sdk.service.workspace import ImportFormat

            if not made_dir:
                w.workspace.mkdirs(directory)
                made_dir = True
            w.workspace.upload(path, data, format=ImportFormat.AUTO, overwrite=True)
        uploaded.append(path)
    wheel_path, config_path = wanted
    return Artifacts(wheel_path, config_path, tuple(uploaded))


def _exists(w: "WorkspaceClient", path: str, on_volume: bool) -> bool:
    from databricks.sdk.errors import NotFound

    try:
        if on_volume:
            w.files.get_metadata(path)
        else:
            w.workspace.get_status(path)
        return True
    except NotFound:
        return False
