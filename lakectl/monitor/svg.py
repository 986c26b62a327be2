"""Tiny inline-SVG charts (no scripts, no network): a time-series line chart and a per-row SLA bar chart.

Every point/bar carries data-series / data-x / data-y attributes and a <title> tooltip, so the
report is inspectable by people (hover) and by tests (parse). Charts have a viewBox and are scaled
by CSS to the page width; legends are wrapped below the plot, never truncated."""

from __future__ import annotations

import colorsys
import math
from datetime import UTC, datetime
from html import escape

# Distinct on white, in an order where neighbours differ in hue (Kelly / Tableau inspired).
PALETTE = [
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#9467bd",
    "#ff7f0e",
    "#17becf",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#0b3d91",
    "#f4a6a6",
    "#0f7b5a",
    "#c8a2e8",
    "#a65e00",
    "#005f73",
    "#ffbb78",
    "#5c2d91",
    "#98df8a",
    "#7a0019",
]
W = 1100  # viewBox width; CSS scales every chart to the page width
PLOT_H = 240
L, R, T, B = 64, 16, 28, 36  # margins: left axis, right, title, bottom axis
CHAR_W = 6.6  # average glyph width of the 11px legend font, for wrapping


def colors(n: int) -> list[str]:
    """n distinct colours: the palette, then golden-angle hues (never a repeat)."""
    out = PALETTE[:n]
    i = 0
    while len(out) < n:
        h = (i * 0.618033988749895 + 0.07) % 1.0
        r, g, b = colorsys.hls_to_rgb(h, 0.35 + 0.15 * (i % 3), 0.75)
        c = f"#{int(r * 255):02x}{int(g * 255):02x}{int(b * 255):02x}"
        if c not in out:
            out.append(c)
        i += 1
    return out


def _ticks(lo: float, hi: float, n: int = 4) -> list[float]:
    if hi <= lo:
        return [lo]
    step = (hi - lo) / n
    return [lo + i * step for i in range(n + 1)]


def nice_ticks(lo: float, hi: float, n: int = 4) -> tuple[list[float], int]:
    """Round y-axis ticks (a step of 1, 2 or 5 x 10^k, n+1 of them or so) within [lo, hi], and the
    decimals that show the step: 0.95..1 gets 0.95, 0.96, ... instead of 0.9625-style labels."""
    if hi <= lo:
        return [lo], 2
    raw = (hi - lo) / n
    mag = 10 ** math.floor(math.log10(raw))
    step = min((m * mag for m in (1, 2, 5, 10)), key=lambda c: abs(c - raw))
    first = math.ceil(lo / step - 1e-9) * step
    decimals = max(0, -math.floor(math.log10(step) + 1e-9))
    return [round(first + i * step, decimals) for i in range(int((hi - first) / step + 1e-9) + 1)], decimals


def _fmt(v: float) -> str:
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if abs(v) >= 10:
        return f"{v:.0f}"
    return f"{v:.2f}".rstrip("0").rstrip(".") if v else "0"


def _time_label(epoch_s: float, span_s: float) -> str:
    t = datetime.fromtimestamp(epoch_s, tz=UTC)
    return t.strftime("%H:%M:%S" if span_s < 3600 else "%m-%d %H:%M" if span_s < 3 * 86400 else "%Y-%m-%d")


def _open(kind: str, title: str, height: float) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart {kind}" viewBox="0 0 {W} {height:.0f}" width="{W}" '
        f'height="{height:.0f}" preserveAspectRatio="xMinYMin meet" role="img" aria-label="{escape(title)}">'
    )


def empty(title: str, note: str) -> str:
    return (
        _open("empty", title, 60) + f'<text x="8" y="20" font-weight="bold">{escape(title)}</text>'
        f'<text x="8" y="46" fill="#666">{escape(note)}</text></svg>'
    )


def legend_rows(names: list[str], width: float) -> list[list[tuple[str, float]]]:
    """Legend entries wrapped into rows that fit `width`: [(name, x offset)] per row, full names."""
    rows: list[list[tuple[str, float]]] = [[]]
    x = 0.0
    for name in names:
        w = 18 + len(name) * CHAR_W + 18
        if rows[-1] and x + w > width:
            rows.append([])
            x = 0.0
        rows[-1].append((name, x))
        x += w
    return rows if rows[0] else []


def line_chart(
    title: str,
    series: dict[str, list[tuple[float, float]]],
    *,
    y_label: str = "",
    y_min: float | None = None,
    y_max: float | None = None,
    threshold: float | None = None,
) -> str:
    """series: name -> [(epoch seconds, value)]."""
    points = [p for pts in series.values() for p in pts if p[1] is not None]
    if not points:
        return empty(title, "no data yet")
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    x0, x1 = min(xs), max(xs)
    if x1 == x0:
        x0, x1 = x0 - 30, x1 + 30
    lo = min(ys + ([threshold] if threshold is not None else [])) if y_min is None else y_min
    hi = max(ys + ([threshold] if threshold is not None else [])) if y_max is None else y_max
    if hi == lo:
        hi = lo + 1
    pw, ph = W - L - R, PLOT_H - T - B
    names = sorted(series)
    legend = legend_rows(names, pw)
    height = PLOT_H + 16 * len(legend) + 6

    def sx(x: float) -> float:
        return L + (x - x0) / (x1 - x0) * pw

    def sy(y: float) -> float:
        return T + ph - (y - lo) / (hi - lo) * ph

    out = [
        _open("line", title, height),
        f'<text x="{L}" y="18" font-weight="bold">{escape(title)}</text>',
        f'<rect x="{L}" y="{T}" width="{pw}" height="{ph}" fill="#fafafa" stroke="#ccc"/>',
    ]
    yticks, decimals = nice_ticks(lo, hi)
    for v in yticks:
        y = sy(v)
        out.append(
            f'<line x1="{L}" x2="{L + pw}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eee"/>'
            f'<text x="{L - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11">{v:,.{decimals}f}</text>'
        )
    ticks = _ticks(x0, x1, 4)
    for i, v in enumerate(ticks):  # the end labels inside the plot's edges, not cut by the viewBox
        anchor = "start" if i == 0 else "end" if i == len(ticks) - 1 else "middle"
        out.append(f'<text x="{sx(v):.1f}" y="{PLOT_H - 14}" text-anchor="{anchor}" font-size="11">{_time_label(v, x1 - x0)}</text>')
    if y_label:
        out.append(
            f'<text x="14" y="{T + ph / 2:.0f}" font-size="11" transform="rotate(-90 14 {T + ph / 2:.0f})" text-anchor="middle">{escape(y_label)}</text>'
        )
    if threshold is not None:
        y = sy(threshold)
        out.append(
            f'<line class="threshold" x1="{L}" x2="{L + pw}" y1="{y:.1f}" y2="{y:.1f}" stroke="#dc2626" stroke-dasharray="5 4">'
            f"<title>SLA {_fmt(threshold)}</title></line>"
            f'<text x="{L + pw - 4}" y="{y - 4:.1f}" text-anchor="end" font-size="10" fill="#dc2626">SLA {_fmt(threshold)}</text>'
        )
    palette = dict(zip(names, colors(len(names))))
    for name in names:
        color = palette[name]
        pts = sorted(p for p in series[name] if p[1] is not None)
        if len(pts) > 1:
            path = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in pts)
            out.append(
                f'<polyline fill="none" stroke="{color}" stroke-width="1.8" points="{path}"><title>{escape(name)}</title></polyline>'
            )
        for x, y in pts:
            when = datetime.fromtimestamp(x, tz=UTC).isoformat(timespec="seconds")
            out.append(
                f'<circle class="point" data-series="{escape(name)}" data-x="{when}" data-y="{y:g}" cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="3" fill="{color}">'
                f"<title>{escape(name)} {when}: {y:g}</title></circle>"
            )
    for r, entries in enumerate(legend):
        ly = PLOT_H + 4 + r * 16
        for name, dx in entries:
            out.append(
                f'<g class="legend"><rect x="{L + dx:.1f}" y="{ly}" width="10" height="10" fill="{palette[name]}"/>'
                f'<text x="{L + dx + 14:.1f}" y="{ly + 9}" font-size="11">{escape(name)}</text></g>'
            )
    out.append("</svg>")
    return "".join(out)


def sla_bars(title: str, bars: list[tuple[str, float | None, float | None]], *, unit: str = "") -> str:
    """bars: (label, value, SLA or None). Each row is scaled against its own SLA: the SLA mark sits at
    the same x on every row (the middle of the track), so a table 2 minutes into a 60-minute SLA and
    one 2 days into a 7-day SLA read alike; a bar past 2x its SLA is clipped (marked). Rows without
    an SLA show their figure only: there is nothing to scale them against."""
    bars = [b for b in bars if b[1] is not None]
    if not bars:
        return empty(title, "no data yet")
    row = 24
    left = 12 + max(len(b[0]) for b in bars) * CHAR_W
    text_w = 260
    track = W - left - text_w - 10
    mid = left + track / 2
    height = T + 14 + row * len(bars) + 6
    out = [
        _open("bar", title, height),
        f'<text x="8" y="18" font-weight="bold">{escape(title)}</text>',
        f'<text x="{left}" y="{T + 8}" font-size="10" fill="#666">0</text>'
        f'<text x="{mid:.1f}" y="{T + 8}" font-size="10" fill="#111" text-anchor="middle">SLA</text>'
        f'<text x="{left + track:.1f}" y="{T + 8}" font-size="10" fill="#666" text-anchor="end">2× SLA</text>',
    ]
    for i, (label, value, sla) in enumerate(bars):
        y = T + 14 + i * row
        out.append(
            f'<text x="{left - 6:.1f}" y="{y + 15}" text-anchor="end" font-size="11">{escape(label)}</text>'
            f'<rect x="{left:.1f}" y="{y + 3}" width="{track:.1f}" height="{row - 8}" fill="#f5f5f5"/>'
        )
        if sla is None or sla <= 0:
            out.append(
                f'<text class="bar nosla" data-series="{escape(label)}" data-y="{value:g}" x="{left + 6:.1f}" y="{y + 15}" font-size="11" fill="#666">'
                f"<title>{escape(label)}: {value:g}{escape(unit)} (no SLA)</title>no SLA</text>"
                f'<text x="{left + track + 8:.1f}" y="{y + 15}" font-size="11">{_fmt(value)}{escape(unit)}</text>'
            )
            continue
        share = value / sla
        pct = "<1%" if 0 < share < 0.01 else f"{share:.0%}"
        over, clipped = value > sla, share > 2
        color = "#dc2626" if over else "#2563eb"
        w = max(1.0, min(share, 2.0) / 2 * track)
        out.append(
            f'<rect class="bar" data-series="{escape(label)}" data-y="{value:g}" data-sla="{sla:g}" x="{left:.1f}" y="{y + 3}" '
            f'width="{w:.1f}" height="{row - 8}" fill="{color}">'
            f"<title>{escape(label)}: {value:g}{escape(unit)} (SLA {sla:g}{escape(unit)}, {escape(pct)} of it)</title></rect>"
        )
        if clipped:  # a break mark: the bar goes on past the track
            x = left + track
            out.append(
                f'<path d="M{x - 10:.1f},{y + 1} l6,{row / 2 - 1:.0f} l-6,{row / 2 - 1:.0f}" stroke="#fff" stroke-width="3" fill="none"/>'
            )
        emphasis = ' fill="#b91c1c" font-weight="bold"' if over else ""
        out.append(
            f'<line class="threshold" x1="{mid:.1f}" x2="{mid:.1f}" y1="{y}" y2="{y + row - 2}" stroke="#111" stroke-width="2">'
            f"<title>{escape(label)} SLA {sla:g}{escape(unit)}</title></line>"
            f'<text x="{left + track + 8:.1f}" y="{y + 15}" font-size="11"{emphasis}>'
            f"{_fmt(value)}{escape(unit)} of {_fmt(sla)}{escape(unit)} SLA ({escape(pct)})</text>"
        )
    out.append("</svg>")
    return "".join(out)
