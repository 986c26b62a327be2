"""Values for people: counts, sizes, durations, times, shares and flags. One place, used by the CLI's
renderers, its messages and the HTML report alike; `--json` and `-o csv` keep the raw values."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any


def human_bytes(n: int | None) -> str:
    """1536 -> '1.5 KiB'; None -> ''."""
    if n is None:
        return ""
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:,.0f} {unit}" if unit == "B" else f"{size:,.1f} {unit}"
        size /= 1024
    return f"{n} B"


def duration(seconds: float | None) -> str:
    """Seconds for people: 0.042 -> '42 ms', 12.34 -> '12.3 s', 245 -> '4 min 05 s', 7380 -> '2 h 03 min'."""
    if seconds is None:
        return ""
    s = float(seconds)
    if s < 0:
        return f"-{duration(-s)}"
    if s < 1:
        return f"{s * 1000:,.0f} ms"
    if s < 60:
        return f"{s:.1f} s"
    if s < 3600:
        m, rest = divmod(round(s), 60)
        return f"{m} min {rest:02d} s" if rest else f"{m} min"
    if s < 86400 * 2:
        h, rest = divmod(round(s) // 60, 60)
        return f"{h} h {rest:02d} min" if rest else f"{h} h"
    d, rest = divmod(round(s) // 3600, 24)
    return f"{d:,} d {rest:02d} h" if rest else f"{d:,} d"


def minutes(value: float | None) -> str:
    """Minutes for people (an age, an SLA): 0.5 -> '30 s', 95 -> '1 h 35 min'."""
    return "" if value is None else duration(value * 60)


def percent(share: float | None, digits: int = 1) -> str:
    """A share 0..1 for people: 0.9834 -> '98.3%'; a share that is not whole never shows as 100% or 0%."""
    if share is None:
        return ""
    text = f"{share * 100:.{digits}f}%"
    if text == f"{100:.{digits}f}%" and share < 1:
        return f">{99.9 if digits else 99}%"
    if text == f"{0:.{digits}f}%" and share > 0:
        return f"<{0.1 if digits else 1}%"
    return text


_ISO = re.compile(r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]00:?00)?$")


def when(value: datetime | date | str | None) -> str:
    """A timestamp for people, in UTC: '2026-12-01 14:03:22' (ISO text, naive = UTC, other zones converted)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(UTC) if value.tzinfo else value
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    m = _ISO.match(value)
    if m:
        return f"{m.group(1)} {m.group(2)}"
    try:
        return when(datetime.fromisoformat(value))
    except ValueError:
        return value


def when_short(text: str) -> str:
    """'2026-12-01 14:03:22' -> '12-01 14:03' (a table's short form: month, day, minutes)."""
    m = re.match(r"^\d{4}-(\d{2}-\d{2}) (\d{2}:\d{2})", text)
    return f"{m.group(1)} {m.group(2)}" if m else text


_ID_KEY = re.compile(r"(^|_)(id|version|seed|port|year|pid)$")  # identifiers: 2026, not 2,026
_MONEY_KEY = re.compile(r"revenue|amount|price|cost|spend|order_value")
_BYTES_KEY = re.compile(r"(^|_)bytes(_|$)")
_SECONDS_KEY = re.compile(r"(^|_)(s|seconds|duration|duration_s|timeout_s)$")
_MINUTES_KEY = re.compile(r"(^|_)minutes$")
_SHARE_KEY = re.compile(r"(^|_)(ratio|share|fraction|pass_rate|agreement|conversion|rate_of_\w+)$")
_TIME_KEY = re.compile(r"(^|_)(at|time|timestamp|since|last_write|started|ended)$|(^|_)(started|ended)_at$")


def fmt_value(value: Any, key: str | None = None) -> str:
    """A value for people. The key (a metric or column name) says what a value is: identifiers stay as they
    are, `*bytes` become KiB/MiB/GiB, `*_s` durations, `*_minutes` ages, ratios and shares percentages,
    `*_at`/`*_time` timestamps, money two decimals, other numbers thousands separators, flags yes/no."""
    name = (key or "").lower().replace(" ", "_")
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (datetime, date)):
        return when(value)
    if isinstance(value, str) and _TIME_KEY.search(name):
        return when(value)
    if isinstance(value, (int, float, Decimal)) and _ID_KEY.search(name):
        return str(value)
    if isinstance(value, int) and _BYTES_KEY.search(name):
        return human_bytes(value)
    if isinstance(value, (int, float)) and _SECONDS_KEY.search(name):
        return duration(value)
    if isinstance(value, (int, float)) and _MINUTES_KEY.search(name):
        return minutes(value)
    if isinstance(value, float) and _SHARE_KEY.search(name) and 0 <= value <= 1:
        return percent(value)
    if isinstance(value, (int, float, Decimal)) and _MONEY_KEY.search(name):
        return f"{value:,.2f}"
    if isinstance(value, (int, Decimal)):  # a decimal keeps its scale: 1,234.50
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.3f}".rstrip("0").rstrip(".")
    if isinstance(value, dict):
        return ", ".join(f"{k}={fmt_value(v, str(k))}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(fmt_value(v, key) for v in value)
    return str(value)


def count(value: int | None) -> str:
    """A count for people: 12,345; None -> ''."""
    return "" if value is None else f"{value:,}"
