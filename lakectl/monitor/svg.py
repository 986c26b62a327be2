"""Tiny inline-SVG charts (no scripts, no network): a time-series line chart and a bar chart.

Every point/bar carries data-series / data-x / data-y attributes and a <title> tooltip, so the
report is inspectable by people (hover) and by tests (parse)."""

from __future__ import annotations

from datetime import datetime, timezone
from html import escape

PALETTE = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#4d7c0f", "#be185d"]
W, H = 720, 260
L, R, T, B = 64, 160, 28, 36  # margins: left axis, right legend, title, bottom axis


def _ticks(lo: float, hi: float, n: int = 4) -> list[float]:
    if hi <= lo:
        return [lo]
    step = (hi - lo) / n
    return [lo + i * step for i in range(n + 1)]


def _fmt(v: float) -> str:
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if abs(v) >= 10:
        return f"{v:.0f}"
    return f"{v:.2f}".rstrip("0").rstrip(".") if v else "0"


def _time_label(epoch_s: float, span_s: float) -> str:
    t = datetime.fromtimestamp(epoch_s, tz=timezone.utc)
    return t.strftime("%H:%M:%S" if span_s < 3600 else "%m-%d %H:%M" if span_s < 3 * 86400 else "%Y-%m-%d")


def empty(title: str, note: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart empty" width="{W}" height="80" role="img">'
            f'<text x="8" y="20" font-weight="bold">{escape(title)}</text>'
            f'<text x="8" y="50" fill="#666">{escape(note)}</text></svg>')


def line_chart(title: str, series: dict[str, list[tuple[float, float]]], *, y_label: str = "", y_min: float | None = None,
               y_max: float | None = None, threshold: float | None = None) -> str:
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
    pw, ph = W - L - R, H - T - B

    def sx(x: float) -> float:
        return L + (x - x0) / (x1 - x0) * pw

    def sy(y: float) -> float:
        return T + ph - (y - lo) / (hi - lo) * ph

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart line" width="{W}" height="{H}" role="img" aria-label="{escape(title)}">',
           f'<text x="{L}" y="18" font-weight="bold">{escape(title)}</text>',
           f'<rect x="{L}" y="{T}" width="{pw}" height="{ph}" fill="#fafafa" stroke="#ccc"/>']
    for v in _ticks(lo, hi):
        y = sy(v)
        out.append(f'<line x1="{L}" x2="{L + pw}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eee"/>'
                   f'<text x="{L - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11">{_fmt(v)}</text>')
    for v in _ticks(x0, x1, 3):
        out.append(f'<text x="{sx(v):.1f}" y="{H - 14}" text-anchor="middle" font-size="11">{_time_label(v, x1 - x0)}</text>')
    if y_label:
        out.append(f'<text x="14" y="{T + ph / 2:.0f}" font-size="11" transform="rotate(-90 14 {T + ph / 2:.0f})" text-anchor="middle">{escape(y_label)}</text>')
    if threshold is not None:
        y = sy(threshold)
        out.append(f'<line class="threshold" x1="{L}" x2="{L + pw}" y1="{y:.1f}" y2="{y:.1f}" stroke="#dc2626" stroke-dasharray="5 4"/>'
                   f'<text x="{L + pw - 4}" y="{y - 4:.1f}" text-anchor="end" font-size="10" fill="#dc2626">SLA {_fmt(threshold)}</text>')
    for i, (name, pts) in enumerate(sorted(series.items())):
        color = PALETTE[i % len(PALETTE)]
        pts = sorted(p for p in pts if p[1] is not None)
        if len(pts) > 1:
            path = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in pts)
            out.append(f'<polyline fill="none" stroke="{color}" stroke-width="1.8" points="{path}"/>')
        for x, y in pts:
            when = datetime.fromtimestamp(x, tz=timezone.utc).isoformat(timespec="seconds")
            out.append(f'<circle class="point" data-series="{escape(name)}" data-x="{when}" data-y="{y:g}" cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="3" fill="{color}">'
                       f'<title>{escape(name)} {when}: {y:g}</title></circle>')
        ly = T + 12 + i * 16
        out.append(f'<rect x="{W - R + 10}" y="{ly - 9}" width="10" height="10" fill="{color}"/>'
                   f'<text x="{W - R + 24}" y="{ly}" font-size="11">{escape(name[:24])}</text>')
    out.append("</svg>")
    return "".join(out)


def bar_chart(title: str, bars: list[tuple[str, float | None, float | None]], *, unit: str = "") -> str:
    """bars: (label, value, threshold or None); horizontal bars, red when over the threshold."""
    bars = [b for b in bars if b[1] is not None]
    if not bars:
        return empty(title, "no data yet")
    hi = max([b[1] for b in bars] + [b[2] for b in bars if b[2] is not None]) or 1.0
    row, left, width = 22, 170, W - 170 - 90
    height = T + row * len(bars) + 10
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart bar" width="{W}" height="{height}" role="img" aria-label="{escape(title)}">',
           f'<text x="8" y="18" font-weight="bold">{escape(title)}</text>']
    for i, (label, value, threshold) in enumerate(bars):
        y = T + i * row
        over = threshold is not None and value > threshold
        color = "#dc2626" if over else "#2563eb"
        w = max(1.0, value / hi * width)
        out.append(f'<text x="{left - 6}" y="{y + 14}" text-anchor="end" font-size="11">{escape(label)}</text>'
                   f'<rect class="bar" data-series="{escape(label)}" data-y="{value:g}" x="{left}" y="{y + 3}" width="{w:.1f}" height="{row - 8}" fill="{color}">'
                   f'<title>{escape(label)}: {value:g}{unit}</title></rect>'
                   f'<text x="{left + w + 4:.1f}" y="{y + 14}" font-size="11">{_fmt(value)}{escape(unit)}</text>')
        if threshold is not None:
            tx = left + threshold / hi * width
            out.append(f'<line class="threshold" x1="{tx:.1f}" x2="{tx:.1f}" y1="{y + 1}" y2="{y + row - 3}" stroke="#111" stroke-width="2"><title>SLA {threshold:g}{escape(unit)}</title></line>')
    out.append("</svg>")
    return "".join(out)
