"""`lineage`: where lakectl sends the OpenLineage run events of its jobs (docs/lineage.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from msgspec import Meta, field

from lakectl.core.typed import Struct


class LineageSettings(Struct):
    """OpenLineage run events (START, then COMPLETE or FAIL) of every job run. `transports`: `file` keeps
    JSON lines under the storage root (what `lakectl lineage` reads), `http` posts them to a lineage
    server (Marquez, DataHub, OpenMetadata, ...); both, or `[]` for off."""

    transports: list[Literal["file", "http"]] = field(default_factory=lambda: ["file"])
    file: str | None = None  # default: <storage.root>/lineage/events.jsonl
    url: str | None = None  # http: the server's base URL, e.g. http://127.0.0.1:5000
    endpoint: str = "api/v1/lineage"  # http: the path events are posted to (Marquez's)
    api_key_env: str = "OPENLINEAGE_API_KEY"  # http: a bearer token from this variable when it is set; never printed
    timeout_s: Annotated[float, Meta(gt=0)] = 5.0  # http: per event; a server that does not answer only warns
    namespace: str | None = None  # the jobs' namespace; default: the config's `project`

    def __post_init__(self) -> None:
        if "http" in self.transports and not self.url:
            raise ValueError("lineage.transports names http but lineage.url is not set")
        if len(set(self.transports)) != len(self.transports):
            raise ValueError("lineage.transports names a transport twice")

    def file_path(self, root: Path) -> Path:
        return Path(self.file).absolute() if self.file else root / "lineage" / "events.jsonl"
