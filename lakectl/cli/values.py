"""Flag values checked when the command line is parsed (exit 2 at once), not when a job reaches them: a trigger
interval Spark would refuse only as the stream starts, a retention, a file size, Kafka starting offsets, broker
addresses and a catalog URL. One click type per kind of value, chosen by the Params field's name."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from typer._click import types as click_types


class _Checked(click_types.StringParamType):
    """A text value that `check` accepts (it raises lakectl's UsageError); the text is kept as typed."""

    name = "str"  # what Click calls its text type (tests/unit/test_cli_params.py compares)

    def __init__(self, check: Callable[[str], object]) -> None:
        self.check = check

    def convert(self, value: Any, param: Any, ctx: Any) -> Any:
        from lakectl.core.errors import UsageError

        text = super().convert(value, param, ctx)
        try:
            self.check(text)
        except UsageError as exc:
            self.fail(f"{exc.message}; {exc.hint}" if exc.hint else exc.message, param, ctx)
        return text


def _interval(text: str) -> None:
    from lakectl.core.units import parse_interval

    parse_interval(text)


def _retention(text: str) -> None:
    from lakectl.maintenance.vacuum import parse_hours

    parse_hours(text)


def _size(text: str) -> None:
    from lakectl.core.errors import UsageError
    from lakectl.core.units import parse_size

    if (parse_size(text) or 0) < 1:
        raise UsageError(f"bad file size {text!r}", "write a size like 128m, 1g or 1048576")


def _starting_offsets(text: str) -> None:
    from lakectl.core.errors import UsageError

    if text in ("earliest", "latest"):
        return
    try:
        doc = json.loads(text)
    except ValueError:
        doc = None
    if not isinstance(doc, dict):
        raise UsageError(
            f"bad starting offsets {text!r}",
            'write earliest, latest or JSON like \'{"topic": {"0": 42, "1": -2}}\' (-2 earliest, -1 latest)',
        )


_HOST_PORT = re.compile(r"^(\w+://)?\[?[A-Za-z0-9._:%-]+\]?:\d{1,5}$")


def _bootstrap(text: str) -> None:
    from lakectl.core.errors import UsageError

    bad = [a for a in text.split(",") if not _HOST_PORT.match(a.strip()) or not 0 < int(a.strip().rsplit(":", 1)[1]) < 65536]
    if bad:
        raise UsageError(f"bad broker address {bad[0].strip()!r}", "write HOST:PORT, several separated by commas")


def _url(text: str) -> None:
    from urllib.parse import urlparse

    from lakectl.core.errors import UsageError

    parsed = urlparse(text)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise UsageError(f"bad URL {text!r}", "write it as http://HOST:PORT or https://HOST")


CHECKS: dict[str, Callable[[str], None]] = {
    "trigger_interval": _interval,
    "retain": _retention,
    "target_file_size": _size,
    "starting_offsets": _starting_offsets,
    "bootstrap_servers": _bootstrap,
    "url": _url,
}


def checked_type(field: str) -> Any:
    """The click type that checks a text option named `field`, or None when any text will do."""
    check = CHECKS.get(field)
    return None if check is None else _Checked(check)
