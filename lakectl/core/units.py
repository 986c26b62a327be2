"""Sizes and intervals as people write them in configs and flags: 128m, 1g, 1048576; '30 seconds'."""

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


# A trigger interval as Spark's IntervalUtils.stringToInterval reads it (lower-cased, an optional `interval`
# prefix, `<number> <unit>` pairs, a unit with or without its plural `s`, a fraction only on seconds), less
# what a processing-time trigger refuses: months, years and a negative total.
_INTERVAL_SECONDS = {
    "week": 7 * 86400.0,
    "day": 86400.0,
    "hour": 3600.0,
    "minute": 60.0,
    "second": 1.0,
    "millisecond": 1e-3,
    "microsecond": 1e-6,
}
_PAIR = r"([+-]?\d+(?:\.\d+)?)\s+([a-z]+)"
_INTERVAL = re.compile(rf"(?:interval\s+)?{_PAIR}(?:\s+{_PAIR})*")
_INTERVAL_HINT = "write it as Spark does, e.g. '30 seconds', '1 minute 30 seconds' or '500 milliseconds'"


def parse_interval(text: str) -> float:
    """'30 seconds', '1 minute 30 seconds', 'interval 2 hours' -> seconds; what Spark would refuse only when the
    stream starts (`5 secs`, `10s`, `1 month`) is a UsageError now."""
    s = str(text).strip().lower()
    if not _INTERVAL.fullmatch(s):
        raise UsageError(f"bad trigger interval {text!r}", _INTERVAL_HINT)
    total = 0.0
    for number, unit in re.findall(_PAIR, s.removeprefix("interval")):
        name = unit[:-1] if unit.endswith("s") and unit[:-1] in (*_INTERVAL_SECONDS, "month", "year") else unit
        if name in ("month", "year"):
            raise UsageError(f"bad trigger interval {text!r}: a trigger takes no months or years", _INTERVAL_HINT)
        if name not in _INTERVAL_SECONDS:
            raise UsageError(f"bad trigger interval {text!r}: unknown unit {unit!r}", _INTERVAL_HINT)
        if "." in number and name != "second":
            raise UsageError(f"bad trigger interval {text!r}: only seconds take a fraction", _INTERVAL_HINT)
        total += float(number) * _INTERVAL_SECONDS[name]
    if total < 0:
        raise UsageError(f"bad trigger interval {text!r}: negative", _INTERVAL_HINT)
    return total
