"""Sizes as people write them in configs and flags: 128m, 1g, 512kb, 1048576."""

from __future__ import annotations

import re

from lakectl.core.errors import UsageError

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?i?b?)?\s*$", re.I)
_UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}


def parse_size(text: str | int | None) -> int | None:
    """'128m', '1g', '512kb', '1048576' -> bytes."""
    if text is None:
        return None
    if isinstance(text, int):
        return text
    m = _SIZE.match(str(text))
    if not m:
        raise UsageError(f"bad file size {text!r}", "write a size like 128m, 1g or 1048576")
    unit = (m.group(2) or "").lower()[:1]
    return int(float(m.group(1)) * _UNITS[unit])
