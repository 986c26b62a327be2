"""Where run events go: the transports of `lineage.transports`, each an openlineage-python transport.

`file` appends JSON lines to one file (under an exclusive lock, so concurrent runs never interleave a
line); `http` posts to a lineage server with a short retry budget. A transport that fails only warns:
lineage never fails a job (as the run ledger never does)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lakectl.config import Settings

if TYPE_CHECKING:
    from openlineage.client import OpenLineageClient
    from openlineage.client.event_v2 import RunEvent

_HTTP_RETRY = {"total": 2, "read": 2, "connect": 2, "backoff_factor": 0.2, "status_forcelist": [500, 502, 503, 504]}


class Transports:
    """The configured transports, made on the first event (openlineage-python costs ~0.35 s to import)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.file = settings.lineage.file_path(settings.storage.root_dir) if "file" in settings.lineage.transports else None
        self._clients: list[tuple[str, OpenLineageClient]] | None = None

    @property
    def enabled(self) -> bool:
        return bool(self.settings.lineage.transports) and os.environ.get("OPENLINEAGE_DISABLED", "").lower() != "true"

    def missing_client(self) -> str | None:
        """Why no event can be sent (the optional client is not installed), or None."""
        import importlib.util

        if importlib.util.find_spec("openlineage.client") is None:
            return (
                "lineage events not sent: openlineage-python is not installed "
                "(pip install 'lakectl[lineage]', or set lineage.transports: [] to turn lineage off)"
            )
        return None

    def clients(self) -> list[tuple[str, OpenLineageClient]]:
        if self._clients is None:
            from openlineage.client import OpenLineageClient

            # An explicit config: the client reads no openlineage.yml from the working directory and no OPENLINEAGE_* variable.
            self._clients = [(name, OpenLineageClient(config={"transport": conf})) for name, conf in self._configs()]
        return self._clients

    def _configs(self) -> list[tuple[str, dict[str, Any]]]:
        lin = self.settings.lineage
        out: list[tuple[str, dict[str, Any]]] = []
        for name in lin.transports:
            if name == "file":
                assert self.file is not None
                out.append(("file", {"type": "file", "log_file_path": str(self.file), "append": True}))
            else:
                conf: dict[str, Any] = {
                    "type": "http",
                    "url": lin.url,
                    "endpoint": lin.endpoint,
                    "timeout": lin.timeout_s,
                    "retry": _HTTP_RETRY,
                }
                key = os.environ.get(lin.api_key_env)
                if key:
                    conf["auth"] = {"type": "api_key", "apiKey": key}
                out.append(("http", conf))
        return out

    def emit(self, event: RunEvent) -> list[str]:
        """Send `event` through every transport; one line per transport that failed (never raised)."""
        problems = []
        for name, client in self.clients():
            try:
                if name == "file":
                    assert self.file is not None
                    with _locked(self.file):
                        client.emit(event)
                else:
                    client.emit(event)
            except Exception as exc:  # a server down, a disk full: the job's own work stands
                first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
                where = self.file if name == "file" else self.settings.lineage.url
                problems.append(f"could not send the lineage event to {name} transport ({where}): {first}")
        return problems


class _locked:
    """An exclusive lock on <file>.lock while one event line is appended."""

    def __init__(self, file: Path) -> None:
        self.path = file.with_name(file.name + ".lock")

    def __enter__(self) -> None:
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(self.fd, fcntl.LOCK_EX)

    def __exit__(self, *exc: object) -> None:
        import fcntl

        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)
