"""\"Did you mean\" hints for names a user mistyped."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def did_you_mean(name: str, known: Iterable[str]) -> str | None:
    """The closest known name, as a hint fragment, or None when nothing is close."""
    known = list(known)
    lower = {k.lower(): k for k in known}
    close = difflib.get_close_matches(name.lower(), list(lower), n=1, cutoff=0.6)
    return f"did you mean {lower[close[0]]}?" if close else None
