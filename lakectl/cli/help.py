"""What `--help` says beyond the docstrings: the panels of the command list, each command's Examples and exit
codes, metavars that say what a value is (FILE, N, SECONDS), and ranges written as people write them.

A command declares its own panel, examples and exit codes (`@command(...)` on a top-level function, `PANEL`
in a module of subcommands, `epilog(...)` on a subcommand), so a new command finds its place by rule."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from typer._click import types as click_types

# The panels of `lakectl --help`, in the order of the pipeline and of an operator's day.
PANELS = ("Pipeline", "Models", "Governance", "Operations", "Deployment", "Setup")
OTHER_PANEL = "More"  # a command that declares no panel (tests/unit/test_help.py says which)

# Every command may end in these; a command adds the codes of its own failures (lakectl.core.errors).
COMMON_EXITS = (0, 2, 130)


def exit_codes_text(codes: Sequence[int]) -> str:
    """One line per exit code given, in order: ' 2  usage or configuration error'."""
    from lakectl.core.errors import EXIT_CODES

    return "\n".join(f"  {c:>3}  {EXIT_CODES[c]}" for c in sorted(set(codes)))


def epilog(examples: Sequence[tuple[str, str]] = (), exits: Sequence[int] = ()) -> str:
    """The end of a command's help: Examples (a command line and what it does) and its exit codes. Typer keeps
    the single line breaks of an epilog and puts a blank line between its paragraphs (the two sections)."""
    parts = []
    if examples:
        lines = [(f"  [dim]# {_escape(what)}[/]\n" if what else "") + f"  [cyan]$ {_escape(line)}[/]" for line, what in examples]
        parts.append("[bold]Examples[/]\n" + "\n".join(lines))  # what it does above the line: both fit 80 columns
    codes = sorted(set(COMMON_EXITS) | set(exits))
    parts.append("[bold]Exit codes[/]\n" + exit_codes_text(codes))
    return "\n\n".join(parts)


def _escape(text: str) -> str:
    return text.replace("[", r"\[")


def command(
    *, panel: str, examples: Sequence[tuple[str, str]] = (), exits: Sequence[int] = ()
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare a top-level command's panel, examples and exit codes (read by lakectl.cli.app.build)."""
    if panel not in PANELS:
        raise ValueError(f"panel {panel!r} is not one of {PANELS}")

    def mark(fn: Callable[..., Any]) -> Callable[..., Any]:
        fn.help_panel = panel  # type: ignore[attr-defined]
        fn.help_epilog = epilog(examples, exits)  # type: ignore[attr-defined]
        return fn

    return mark


def panel_of(obj: Any) -> str:
    return getattr(obj, "help_panel", None) or getattr(obj, "PANEL", None) or OTHER_PANEL


# --- values --------------------------------------------------------------------------------------------


def _number(value: float) -> str:
    if isinstance(value, int) or float(value).is_integer() and abs(value) >= 1000:
        return f"{int(value):,}"
    return f"{value:g}"


class _Readable:
    """A closed range described as people say it ('1 to 100', 'at least 1'), refusing nan and infinities."""

    def _describe_range(self) -> str:
        lo, hi = self.min, self.max  # type: ignore[attr-defined]
        if lo is not None and hi is not None:
            return f"{_number(lo)} to {_number(hi)}"
        if lo is not None:
            return f"at least {_number(lo)}"
        return f"at most {_number(hi)}"

    def convert(self, value: Any, param: Any, ctx: Any) -> Any:
        rv = super().convert(value, param, ctx)  # type: ignore[misc]
        if isinstance(rv, float) and not math.isfinite(rv):
            self.fail(f"{value} is not a number in the range {self._describe_range()}.", param, ctx)  # type: ignore[attr-defined]
        return rv


class IntRange(_Readable, click_types.IntRange):
    pass


class FloatRange(_Readable, click_types.FloatRange):
    def convert(self, value: Any, param: Any, ctx: Any) -> Any:
        if isinstance(value, str) and value.strip().lower().lstrip("+-") in ("nan", "inf", "infinity"):
            self.fail(f"{value} is not a number in the range {self._describe_range()}.", param, ctx)
        return super().convert(value, param, ctx)


class Finite(click_types.FloatParamType):
    """A float without bounds that still refuses nan and infinities."""

    def convert(self, value: Any, param: Any, ctx: Any) -> Any:
        rv = super().convert(value, param, ctx)
        if not math.isfinite(rv):
            self.fail(f"{value} is not a finite number.", param, ctx)
        return rv


class _Unlabelled:
    """An argument's type that --help does not print: its name says what it is (Typer would add `<str>`)."""

    def get_metavar(self, *args: Any, **kwargs: Any) -> str:
        return ""


class Text(_Unlabelled, click_types.StringParamType):
    pass


class Int(_Unlabelled, click_types.IntParamType):
    pass


def argument_type(kind: type) -> Any:
    """The click type of a positional argument of `kind` (None: Typer's own, e.g. a choice)."""
    return Text() if kind is str else Int() if kind is int else None


def range_type(kind: type, lo: float | None, hi: float | None) -> Any:
    return IntRange(lo, hi) if kind is int else FloatRange(lo, hi)


_METAVARS = (  # (the field name contains, metavar) for text options, first match wins
    (("html", "junit", "policy", "plan_file", "review_texts", "config"), "FILE"),
    (("checkpoint", "dir", "landing"), "DIR"),
    (("url",), "URL"),
    (("interval",), "INTERVAL"),
    (("retain",), "DURATION"),
    (("size",), "SIZE"),
    (("bootstrap",), "HOST:PORT"),
    (("topic",), "TOPIC"),
    (("model",), "MODEL"),
    (("where",), "PREDICATE"),
    (("path",), "PATH"),
    (("out",), "FILE"),
    (("command",), "COMMAND"),
    (("status",), "STATUS"),
    (("starting_offsets",), "OFFSETS"),
)


def metavar_for(name: str, kind: type) -> str | None:
    """What a value is, from the field's name and type: FILE, DIR, N, SECONDS, DAYS, SHARE... (None: Typer's)."""
    from datetime import datetime

    if kind is bool:
        return None
    if kind is datetime:
        return "DATE"
    if kind is int:
        return "N"
    if kind is float:
        if name.endswith("_s") or "timeout" in name:
            return "SECONDS"
        for unit in ("hours", "days", "minutes"):
            if name.endswith(unit):
                return unit.upper()
        if name.endswith(("fraction", "share")):
            return "SHARE"
        if name.endswith("threshold"):
            return "SHARE"
        return "N"
    if kind is str:
        for words, metavar in _METAVARS:
            if any(w in name for w in words):
                return metavar
        return "TEXT"
    return None
