"""The mechanics of weighing one parcel: confirming a load, settling, and watching it after.

`StationLogic` decides what a settled weight means; `Weighing` only says when there is one.
A load must hold above the threshold for `load_confirm_s` (the platter bounces through it
when a parcel is lifted off). After a verdict, readings within the settle band of the judged
weight are the same parcel; a different settled weight (an item added or taken out) is
reported as a new one, to be judged again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scale_agent.domain.settle import Settled, Settler

if TYPE_CHECKING:
    from decimal import Decimal

    from scale_agent.domain.settle import SettleSection
    from scale_agent.weights import Reading


class Weighing:
    """Load confirmation, the settler, and the weight last judged."""

    def __init__(self, settle: SettleSection) -> None:
        self.settle = settle
        self._settler = Settler(settle)
        self.since = 0.0  # when the current settling began
        self.judged_g: Decimal | None = None
        self._load_since: float | None = None

    def reconfigure(self, settle: SettleSection) -> None:
        """New settle rules (a reload); a settling in progress starts over."""
        self.settle = settle
        self._settler = Settler(settle)

    def is_confirmed_load(self, grams: Decimal, now: float) -> bool:
        """True once a weight above the load threshold has held for `load_confirm_s`."""
        if grams < self.settle.load_threshold_g:
            self._load_since = None
            return False
        if self._load_since is None:
            self._load_since = now
        return now - self._load_since >= self.settle.load_confirm_s

    def cancel_load(self) -> None:
        """A load that does not count (item-by-item packing holds the check)."""
        self._load_since = None

    def start(self, now: float) -> None:
        """Settle from scratch."""
        self._load_since = None
        self.since = now
        self._settler.reset()

    def is_timed_out(self, now: float) -> bool:
        """No settled weight within the timeout."""
        return now - self.since > self.settle.timeout_s

    def settle_reading(self, reading: Reading) -> Settled | None:
        """Feed a reading while settling; the settled weight once there is one."""
        return self._settler.feed(reading)

    def changed_after_verdict(self, reading: Reading, now: float) -> Settled | None:
        """After a verdict: a new settled weight outside the band of the judged one, or None."""
        assert reading.weight is not None  # noqa: S101 - only usable readings come here
        judged = self.judged_g
        if judged is not None and abs(reading.weight.in_grams - judged) <= self.settle.band_g:
            self._settler.reset()
            return None
        settled = self._settler.feed(reading)
        if settled is not None:
            self.since = now
        return settled

    def stop(self) -> None:
        """Drop what was being settled (a fault or an unload)."""
        self._settler.reset()

    def judged(self, grams: Decimal | None) -> None:
        """A verdict was given for this weight (None: judge any later settled weight)."""
        self.judged_g = grams
        self._settler.reset()
