"""Whether the scale's weights can be trusted now: faults, silence and zero drift.

Pure bookkeeping for `StationLogic`: it holds no state of the parcel, only of the scale. A
station starts faulted ("waiting for the scale") until a first usable weight arrives, so a
station whose scale never answers never shows READY.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scale_agent.station.effects import Effect, Note, ZeroScale
from scale_agent.weights import ReadingKind

if TYPE_CHECKING:
    from decimal import Decimal

    from scale_agent.domain.settle import SettleSection
    from scale_agent.weights import Reading

# Status frames that mean the weight cannot be read (out of range with no direction, or the
# scale's own error flags); they fault the station at once.
FAULT_STATUSES = frozenset({"out_of_range", "device_error"})


def unusable_reason(reading: Reading) -> str | None:
    """Why a frame that is not a weight faults the station, or None when it is only noise."""
    if reading.is_overload or reading.is_underload:
        return f"scale reports {'overload' if reading.is_overload else 'underload'}"
    if reading.kind is ReadingKind.STATUS and reading.error in FAULT_STATUSES:
        return f"scale reports {reading.error.replace('_', ' ')}"
    return None  # errors and garbage are counted by the runtime, never judged


class ScaleHealth:
    """The scale as the state machine sees it."""

    def __init__(self) -> None:
        self.is_faulted = True  # until the scale has sent a first usable reading
        self.fault_reason = "waiting for the scale"
        self.last_frame_at: float | None = None
        self.last_usable_at: float | None = None
        self.last_weight_g: Decimal | None = None
        self.faulted_at: float | None = None  # when the current fault began (monotonic)
        self._drift_since: float | None = None

    def fault(self, reason: str, now: float) -> bool:
        """Fault with this reason; True when the scale was not faulted before."""
        was_faulted = self.is_faulted
        self.is_faulted, self.fault_reason = True, reason
        if not was_faulted or self.faulted_at is None:
            self.faulted_at = now
        return not was_faulted

    def usable(self, grams: Decimal, now: float) -> bool:
        """A usable weight arrived; True when it ends a fault."""
        self.last_usable_at, self.last_weight_g = now, grams
        was_faulted, self.is_faulted = self.is_faulted, False
        return was_faulted

    def silent_for(self, now: float, started_at: float) -> float:
        """Seconds since the last usable weight (or since the station started)."""
        return now - (self.last_usable_at if self.last_usable_at is not None else started_at)

    def watch_zero(self, reading: Reading, now: float, settle: SettleSection) -> list[Effect]:
        """An empty platter that reads a few grams off zero for a while is zero drift."""
        assert reading.weight is not None  # noqa: S101 - only usable readings come here
        drift = reading.weight.in_grams
        if (
            not reading.is_stable
            or not settle.zero_drift_g <= abs(drift) < settle.empty_threshold_g
        ):
            if abs(drift) < settle.zero_drift_g / 2:
                self._drift_since = None  # back at zero: a new drift is a new episode
            return []
        if self._drift_since is None:
            self._drift_since = now
            return []
        if now - self._drift_since < settle.zero_drift_after_s or self._drift_since < 0:
            return []
        self._drift_since = -1.0  # reported; not again until the platter is back at zero
        effects: list[Effect] = [Note("zero_drift_detected", {"drift_g": str(drift)})]
        if settle.auto_zero:
            effects.append(ZeroScale(drift))
        return effects
