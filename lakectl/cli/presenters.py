"""How a job's Result is shown to people (-o table / wide): `render_result` unless the command registered a
presenter of its own for the Result's job name (`@presents("monitor runs")`). One registry, so that a new
command's output is found by rule (tests/unit/test_table_width.py renders every presenter at 80 and 120 columns)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Present = Callable[[Any, str], None]

PRESENTERS: dict[str, Present] = {}


def presents(*jobs: str) -> Callable[[Present], Present]:
    """Register the decorated function as the human rendering of the Results of `jobs` (Result.job)."""

    def register(fn: Present) -> Present:
        for job in jobs:
            PRESENTERS[job] = fn
        return fn

    return register


def presenter_for(job: str) -> Present:
    from lakectl.cli.render import render_result

    return PRESENTERS.get(job) or (lambda result, fmt: render_result(result, fmt=fmt))


def show(result: Any, fmt: str) -> None:
    """A Result in any output format: JSON and CSV raw (render_result), table and wide by its presenter."""
    from lakectl.cli.render import render_result

    if fmt in ("json", "csv"):
        render_result(result, fmt=fmt)
    else:
        presenter_for(result.job)(result, fmt)
