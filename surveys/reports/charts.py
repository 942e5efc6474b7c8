"""Charts drawn on the server as SVG: no script, no CDN, readable offline and at 375 px.

Colour-blind safe: the Okabe-Ito palette, and each series also has its own dash pattern
and marker shape, so lines part without colour. Every chart is drawn beside a table of
the same numbers (the table is what screen readers and copying use); the SVG itself is
``aria-hidden``.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

# Okabe & Ito (2008): distinguishable with every common colour-vision deficiency.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
DASHES = ("", "6 3", "2 3", "8 3 2 3", "1 2", "10 4", "4 2 1 2")
MARKERS = ("circle", "square", "diamond", "triangle", "circle", "square", "diamond")
# At most this many series are drawn; the table beside the chart lists them all.
MAX_SERIES = len(PALETTE)

WIDTH, HEIGHT = 640, 300
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 12, 36


@dataclass(frozen=True)
class Point:
    period: str
    value: float | None
    low: float | None = None
    high: float | None = None


@dataclass(frozen=True)
class Series:
    label: str
    points: Sequence[Point]


def _x(index: int, count: int) -> float:
    inner = WIDTH - LEFT - RIGHT
    return LEFT + (inner / 2 if count == 1 else inner * index / (count - 1))


def _y(value: float, low: float, high: float) -> float:
    inner = HEIGHT - TOP - BOTTOM
    return TOP + inner * (high - value) / (high - low)


def _marker(shape: str, x: float, y: float, colour: str) -> str:
    if shape == "square":
        return f'<rect x="{x - 3.5:.1f}" y="{y - 3.5:.1f}" width="7" height="7" fill="{colour}"/>'
    if shape == "diamond":
        return (
            f'<polygon points="{x:.1f},{y - 4.5:.1f} {x + 4.5:.1f},{y:.1f} {x:.1f},{y + 4.5:.1f} '
            f'{x - 4.5:.1f},{y:.1f}" fill="{colour}"/>'
        )
    if shape == "triangle":
        return (
            f'<polygon points="{x:.1f},{y - 4.5:.1f} {x + 4.5:.1f},{y + 3.5:.1f} '
            f'{x - 4.5:.1f},{y + 3.5:.1f}" fill="{colour}"/>'
        )
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}"/>'


def nps_chart(periods: Sequence[str], series: Sequence[Series], *, title: str) -> Markup:
    """NPS per period for each series: a line through the values and a shaded band for
    each point's 95% interval. The axis runs from -100 to +100 with 0 marked."""
    low, high = -100.0, 100.0
    count = len(periods)
    index = {period: position for position, period in enumerate(periods)}
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-hidden="true" '
        f'preserveAspectRatio="xMidYMid meet" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for tick in (-100, -50, 0, 50, 75, 100):
        y = _y(tick, low, high)
        weight = "axis-zero" if tick == 0 else "grid"
        parts.append(
            f'<line class="{weight}" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="tick" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{'0' if tick == 0 else f'{tick:+d}'}</text>"
        )
    step = max(1, count // 8)  # at most about eight period labels
    for position, period in enumerate(periods):
        if position % step and position != count - 1:
            continue
        parts.append(
            f'<text class="tick" x="{_x(position, count):.1f}" y="{HEIGHT - BOTTOM + 18}" '
            f'text-anchor="middle">{escape(period)}</text>'
        )
    for number, one in enumerate(series[:MAX_SERIES]):
        colour, dash, shape = PALETTE[number], DASHES[number], MARKERS[number]
        points = [point for point in one.points if point.value is not None]
        band = [point for point in points if point.low is not None and point.high is not None]
        if len(band) > 1:
            upper = " ".join(
                f"{_x(index[p.period], count):.1f},{_y(p.high, low, high):.1f}" for p in band
            )
            lower = " ".join(
                f"{_x(index[p.period], count):.1f},{_y(p.low, low, high):.1f}"
                for p in reversed(band)
            )
            parts.append(
                f'<polygon class="band" points="{upper} {lower}" fill="{colour}" '
                f'fill-opacity="0.15"/>'
            )
        for point in band:
            x = _x(index[point.period], count)
            parts.append(
                f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{_y(point.low, low, high):.1f}" '
                f'y2="{_y(point.high, low, high):.1f}" stroke="{colour}" stroke-opacity="0.5"/>'
            )
        if len(points) > 1:
            line = " ".join(
                f"{_x(index[p.period], count):.1f},{_y(p.value, low, high):.1f}" for p in points
            )
            dashes = f' stroke-dasharray="{dash}"' if dash else ""
            parts.append(
                f'<polyline points="{line}" fill="none" stroke="{colour}" stroke-width="2"'
                f"{dashes}/>"
            )
        for point in points:
            parts.append(
                _marker(shape, _x(index[point.period], count), _y(point.value, low, high), colour)
            )
    parts.append("</svg>")
    return Markup("".join(parts))


def legend(series: Sequence[Series]) -> Markup:
    """The key of ``nps_chart``: each series' colour, dash and marker, in words too."""
    items = []
    for number, one in enumerate(series[:MAX_SERIES]):
        colour, dash, shape = PALETTE[number], DASHES[number], MARKERS[number]
        dashes = f' stroke-dasharray="{dash}"' if dash else ""
        items.append(
            '<li><svg class="key" viewBox="0 0 36 12" aria-hidden="true" '
            'xmlns="http://www.w3.org/2000/svg">'
            f'<line x1="2" x2="34" y1="6" y2="6" stroke="{colour}" stroke-width="2"{dashes}/>'
            f"{_marker(shape, 18, 6, colour)}</svg> {escape(one.label)}</li>"
        )
    return Markup('<ul class="legend">' + "".join(items) + "</ul>")
