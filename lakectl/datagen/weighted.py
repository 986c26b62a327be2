"""Weighted draws for the generator: cumulative weight tables and the search that draws from them."""

from __future__ import annotations


def choice_table(pairs: tuple[tuple[str, float], ...] | tuple[tuple[int, float], ...]) -> tuple[list, list[float]]:
    """The values and their cumulative weights (normalised to end at 1.0), for `bisect_cum`."""
    values = [v for v, _ in pairs]
    total = sum(w for _, w in pairs)
    acc, cum = 0.0, []
    for _, w in pairs:
        acc += w / total
        cum.append(acc)
    return values, cum


def bisect_cum(cum: list[float], x: float) -> int:
    """The first index whose cumulative weight is >= x: a weighted draw when x is uniform in [0, total)."""
    lo, hi = 0, len(cum) - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if cum[mid] < x:
            lo = mid + 1
        else:
            hi = mid
    return lo
