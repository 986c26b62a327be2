"""Property tests over the value domain of every numeric and duration option (issue 31, item 14): whatever
hypothesis draws, a value outside an option's range is refused when the command line is parsed (exit 2) and a
value inside it is accepted; nan and infinities never pass. Options are found by walking the CLI."""

from __future__ import annotations

import math

import pytest
import typer
from hypothesis import given, settings
from hypothesis import strategies as st
from typer._click import exceptions, types
from typer.core import TyperOption

from lakectl.cli.app import build


def _options() -> list[tuple[str, TyperOption]]:
    found = []

    def walk(cmd, path):  # noqa: ANN001, ANN202
        for p in cmd.params:
            if isinstance(p, TyperOption) and isinstance(p.type, (types._NumberRangeBase, types.FloatParamType, types.IntParamType)):
                found.append((f"{' '.join(path) or 'lakectl'} {p.opts[-1]}", p))
        for name, sub in sorted(getattr(cmd, "commands", {}).items()):
            walk(sub, [*path, name])

    walk(typer.main.get_command(build()), [])
    return found


OPTIONS = _options()


def test_numeric_options_are_found():
    names = {n for n, _ in OPTIONS}
    assert {"generate --bad-fraction", "monitor check --kafka-timeout", "lakectl --timeout"} <= names and len(OPTIONS) > 20


def _accepts(option: TyperOption, text: str) -> bool:
    try:
        option.type.convert(text, option, None)
    except exceptions.BadParameter:
        return False
    return True


@pytest.mark.parametrize(("name", "option"), OPTIONS, ids=[n for n, _ in OPTIONS])
@settings(max_examples=60, deadline=None)
@given(value=st.one_of(st.integers(-(10**12), 10**12), st.floats(allow_nan=True, allow_infinity=True, width=64)))
def test_a_value_is_accepted_exactly_when_it_is_in_the_options_range(name, option, value):
    kind = option.type
    is_int = isinstance(kind, types.IntParamType)
    if is_int and isinstance(value, float):
        return  # an int option's parse of '1.5' is Click's own refusal
    text = repr(value) if isinstance(value, float) else str(value)
    lo, hi = getattr(kind, "min", None), getattr(kind, "max", None)
    inside = (
        not (isinstance(value, float) and not math.isfinite(value))
        and (lo is None or value >= lo)
        and (hi is None or value <= hi)
        and not getattr(kind, "min_open", False)
        and not getattr(kind, "max_open", False)
    )
    assert _accepts(option, text) == inside, f"{name} {text}: range {lo}..{hi}"


@settings(max_examples=200, deadline=None)
@given(
    number=st.decimals(min_value=-1000, max_value=1000, places=2, allow_nan=False, allow_infinity=False),
    unit=st.sampled_from(["second", "seconds", "minute", "hours", "day", "weeks", "millisecond", "month", "years", "secs", "s"]),
)
def test_a_trigger_interval_is_accepted_exactly_when_spark_would_run_it(number, unit):
    from lakectl.core.errors import UsageError
    from lakectl.core.units import parse_interval

    text = f"{number} {unit}"
    valid = (
        number >= 0
        and unit in {"second", "seconds", "minute", "hours", "day", "weeks", "millisecond"}
        and ("." not in str(number) or unit.startswith("second"))  # Spark: only seconds take a fraction, even '.00'
    )
    try:
        seconds = parse_interval(text)
    except UsageError:
        assert not valid, text
    else:
        assert valid and seconds >= 0, text
