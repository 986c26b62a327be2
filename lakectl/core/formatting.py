"""Numbers and sizes for people: one place, used by the CLI's renderers and the HTML report alike."""

from __future__ import annotations

import re
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


_ID_KEY = re.compile(r"(^|_)(id|version|seed|port|year|pid)$")  # identifiers: 2026, not 2,026
_MONEY_KEY = re.compile(r"revenue|amount|price|cost|spend|order_value")
_BYTES_KEY = re.compile(r"(^|_)bytes(_|$)")


def fmt_value(value: Any, key: str | None = None) -> str:
    """A value for people. The key (a metric or column name) says what a number is: identifiers
    stay as they are, `*bytes` become KiB/MiB/GiB, money gets two decimals, other numbers thousands separators."""
    name = (key or "").lower().replace(" ", "_")
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float, Decimal)) and _ID_KEY.search(name):
        return str(value)
    if isinstance(value, int) and _BYTES_KEY.search(name):
        return human_bytes(value)
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
