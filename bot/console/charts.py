"""Bar charts drawn on the server as SVG (no JavaScript): the geometry here, the markup in
templates/chart.html. The drawing is 280 units wide, so on a 320 px screen one unit is about one
pixel and the 11–12 unit labels stay readable; wider screens put several charts side by side."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

WIDTH, HEIGHT = 280, 190
LEFT, RIGHT, TOP, BOTTOM = 42, 6, 18, 40
# 3:1 or more against the white background (WCAG 1.4.11); blue and orange stay apart for
# colour-blind readers, and every bar carries its number
COLOURS = ("#0050a0", "#b34d00")


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    colour: str
    label: str  # the value as written above the bar ("—" when there is none)
    label_y: float


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    desc: str
    bars: list[Bar]
    categories: list[tuple[float, str, str]]  # x of the middle, first line, second line
    ticks: list[tuple[float, str]]  # y, label
    legend: list[tuple[str, str]]  # colour, series name
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right: int = WIDTH - RIGHT
    baseline: float = HEIGHT - BOTTOM


def nice_top(value: float) -> float:
    """The axis' top: 1, 2 or 5 times a power of ten at or above the largest value."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * power >= value:
            return float(step * power)
    return float(10 * power)


def bar_chart(chart_id: str, title: str, desc: str, categories: Sequence[tuple[str, str]],
              series: Sequence[tuple[str, Sequence[float | None]]], fmt: Callable[[float], str],
              top: float | None = None) -> Chart:
    """Grouped bars: one group per category (a week: two lines of label), one bar per series."""
    values = [v for _, vs in series for v in vs if v is not None]
    top = top or nice_top(max(values, default=0.0))
    plot_height = HEIGHT - BOTTOM - TOP
    slot = (WIDTH - RIGHT - LEFT) / max(1, len(categories))
    bar_width = min(22.0, (slot - 8) / max(1, len(series)))
    bars: list[Bar] = []
    for c in range(len(categories)):
        group_left = LEFT + c * slot + (slot - bar_width * len(series)) / 2
        for s, (_name, vs) in enumerate(series):
            value = vs[c] if c < len(vs) else None
            height = 0.0 if value is None else plot_height * min(value, top) / top
            y = HEIGHT - BOTTOM - height
            bars.append(Bar(x=round(group_left + s * bar_width, 1), y=round(y, 1), width=round(bar_width - 1, 1),
                            height=round(height, 1), colour=COLOURS[s % len(COLOURS)],
                            label="—" if value is None else fmt(value), label_y=round(y - 3, 1)))
    ticks = [(round(HEIGHT - BOTTOM - plot_height * share, 1), fmt(top * share)) for share in (0.0, 0.5, 1.0)]
    middles = [(round(LEFT + (c + 0.5) * slot, 1), first, second) for c, (first, second) in enumerate(categories)]
    legend = [(COLOURS[s % len(COLOURS)], name) for s, (name, _) in enumerate(series)]
    return Chart(id=chart_id, title=title, desc=desc, bars=bars, categories=middles, ticks=ticks, legend=legend)
