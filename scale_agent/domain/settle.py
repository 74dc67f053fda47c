"""Settled-weight detection over a stream of readings (pure).

Three modes, per config:

- `device`: trust the scale's own stable flag;
- `window`: N readings within a band, spanning at least a minimum time;
- `both` (default): the window must agree with the device's stable flag, so a "stable" frame
  the window contradicts (a scale with a lazy motion detector) is not taken.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field

from scale_agent.models import StrictModel

MAX_WINDOW = 2000
PositiveGrams = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=4)]

if TYPE_CHECKING:
    from scale_agent.weights import Reading, Weight


class SettleSection(StrictModel):
    """How a settled weight is recognised in the stream of readings."""

    mode: Literal["device", "window", "both"] = "both"
    window_readings: int = Field(default=5, ge=2, le=200)
    band_g: PositiveGrams = Decimal(2)
    min_time_s: float = Field(default=0.3, ge=0, le=30)
    timeout_s: float = Field(default=10.0, gt=0, le=300)
    load_threshold_g: PositiveGrams = Decimal(20)
    load_confirm_s: float = Field(default=0.15, ge=0, le=5)
    empty_threshold_g: PositiveGrams = Decimal(10)
    fault_after_s: float = Field(default=2.0, gt=0, le=60)
    zero_drift_g: PositiveGrams = Decimal(3)
    zero_drift_after_s: float = Field(default=5.0, ge=0, le=600)
    auto_zero: bool = True


@dataclass(frozen=True)
class Settled:
    """A settled weight and the readings that prove it."""

    weight: Weight
    readings: tuple[Reading, ...]


class Settler:
    """Feed it usable weight readings; it answers with a `Settled` once the rule is met."""

    def __init__(self, rule: SettleSection) -> None:
        self._rule = rule
        # Bounded so a very fast stream with a long minimum time cannot grow without end.
        self._window: deque[Reading] = deque(maxlen=MAX_WINDOW)

    def reset(self) -> None:
        """Forget the window (the load changed, or a new parcel began)."""
        self._window.clear()

    def feed(self, reading: Reading) -> Settled | None:
        """Add one reading that carries a weight; return the settled weight or None."""
        weight = reading.weight
        if weight is None:
            return None
        window = self._window
        window.append(reading)
        # Keep the latest readings that cover both N readings and the minimum time.
        while (
            len(window) > self._rule.window_readings
            and window[-1].received_at - window[1].received_at >= self._rule.min_time_s
        ):
            window.popleft()
        mode = self._rule.mode
        if mode == "device":
            return Settled(weight, (reading,)) if reading.is_stable else None
        if not self._window_is_steady():
            return None
        if mode == "both" and not reading.is_stable:
            return None
        return Settled(weight, tuple(self._window))

    def _window_is_steady(self) -> bool:
        window = self._window
        if len(window) < self._rule.window_readings:
            return False
        if window[-1].received_at - window[0].received_at < self._rule.min_time_s:
            return False
        grams = [reading.weight.in_grams for reading in window if reading.weight is not None]
        return max(grams) - min(grams) <= Decimal(self._rule.band_g)
