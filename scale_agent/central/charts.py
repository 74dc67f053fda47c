"""Bar charts as geometry for the pages' inline SVG (pure: the template draws, and escapes).

Inline SVG prints sharply, needs no script and no image route, renders Chinese labels with the
page's fonts, and is small enough that a plotting library would be all weight and no gain.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

WIDTH = 760.0
HEIGHT = 230.0
LEFT, RIGHT, TOP, BOTTOM = 8.0, 8.0, 22.0, 46.0  # room for values above, labels below


@dataclass(frozen=True)
class Bar:
    """One bar: its label, the value written above it, where it stands."""

    label: str
    text: str
    x: float
    y: float
    width: float
    height: float
    is_alarm: bool  # drawn in the alarm colour (over the chart's threshold)

    @property
    def middle(self) -> float:
        """The bar's centre line, for its texts."""
        return self.x + self.width / 2


@dataclass(frozen=True)
class BarChart:
    """Bars in a `width` x `height` box; `baseline` is the y of the zero line."""

    title: str
    width: float
    height: float
    baseline: float
    bars: tuple[Bar, ...]
    is_rotated: bool  # many bars: their labels stand at an angle

    @property
    def is_empty(self) -> bool:
        """Nothing to draw (no bar has a value)."""
        return not self.bars


def bar_chart(
    title: str,
    values: Sequence[tuple[str, float, str]],
    *,
    alarm_above: float | None = None,
    width: float = WIDTH,
    height: float = HEIGHT,
) -> BarChart:
    """A chart of (label, value, text shown above) bars; values above `alarm_above` stand out."""
    baseline = height - BOTTOM
    if not values:
        return BarChart(title, width, height, baseline, (), is_rotated=False)
    top = max(value for _, value, _ in values) or 1.0
    slot = (width - LEFT - RIGHT) / len(values)
    bar_width = max(slot * 0.7, 1.0)
    bars = tuple(
        Bar(
            label=label,
            text=text,
            x=LEFT + index * slot + (slot - bar_width) / 2,
            y=baseline - (baseline - TOP) * value / top,
            width=bar_width,
            height=(baseline - TOP) * value / top,
            is_alarm=alarm_above is not None and value > alarm_above,
        )
        for index, (label, value, text) in enumerate(values)
    )
    return BarChart(title, width, height, baseline, bars, is_rotated=slot < 60)  # noqa: PLR2004
