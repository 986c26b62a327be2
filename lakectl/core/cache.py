"""lakectl's cache folder, and the parsed-config cache that spares a command the YAML import.

Importing PyYAML costs ~13 ms (it compiles its scanner's regular expressions), about a tenth of a
JVM-free command such as `lakectl monitor tables` (and of each `lakectl grant` run, for its policy
file, under "policy"). A config text that parsed and validated before is
read back from JSON, found by the SHA-256 of the text itself, so any edit is a miss. Only the raw
mapping is stored: `${ENV}` references stay unresolved and inline secrets never pass validation, so
no secret reaches the cache.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any


def cache_dir() -> Path:
    return Path(os.environ.get("LAKECTL_CACHE", Path.home() / ".cache" / "lakectl"))


def _entry(text: str, kind: str) -> Path:
    return cache_dir() / kind / f"{hashlib.sha256(text.encode()).hexdigest()}.json"


def cached_config(text: str, kind: str = "config") -> dict[str, Any] | None:
    """The raw mapping stored for exactly this text of a config (or of a `kind` of file: "policy"), or None."""
    try:
        raw = json.loads(_entry(text, kind).read_text())
    except (OSError, ValueError):
        return None
    return raw if isinstance(raw, dict) else None


def store_config(text: str, raw: dict[str, Any], kind: str = "config") -> None:
    """Remember a validated raw mapping; silently skipped when JSON cannot hold it exactly
    (YAML dates, non-string keys) or the cache folder is not writable."""
    path = _entry(text, kind)
    try:
        data = json.dumps(raw)
        if json.loads(data) != raw:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(data)
        os.replace(tmp, path)
    except (OSError, TypeError, ValueError):
        return
