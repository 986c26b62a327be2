"""lakectl's cache folder, and the parsed-config cache that spares a command the YAML import.

Importing PyYAML costs ~13 ms (it compiles its scanner's regular expressions), about a tenth of a
JVM-free command such as `lakectl monitor tables`. A config file that parsed and validated before
is read back from JSON, keyed on the file's path, size, mtime and inode. Only the raw mapping is
stored: `${ENV}` references stay unresolved and inline secrets never pass validation, so no secret
reaches the cache.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any


def cache_dir() -> Path:
    return Path(os.environ.get("LAKECTL_CACHE", Path.home() / ".cache" / "lakectl"))


def _entry(file: Path) -> tuple[Path, list[int]] | None:
    try:
        st = file.stat()
        real = file.resolve()
    except OSError:
        return None
    name = hashlib.sha256(str(real).encode()).hexdigest()[:24]
    return cache_dir() / "config" / f"{name}.json", [st.st_size, st.st_mtime_ns, st.st_ino]


def cached_config(file: Path) -> dict[str, Any] | None:
    """The raw mapping stored for this exact file version, or None."""
    entry = _entry(file)
    if entry is None:
        return None
    path, key = entry
    try:
        stored = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(stored, dict) or stored.get("key") != key or not isinstance(stored.get("raw"), dict):
        return None
    return stored["raw"]


def store_config(file: Path, raw: dict[str, Any]) -> None:
    """Remember a validated raw mapping; silently skipped when JSON cannot hold it exactly
    (YAML dates, non-string keys) or the cache folder is not writable."""
    entry = _entry(file)
    if entry is None:
        return
    path, key = entry
    try:
        text = json.dumps({"key": key, "raw": raw})
        if json.loads(text)["raw"] != raw:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(text)
        os.replace(tmp, path)
    except (OSError, TypeError, ValueError):
        return
