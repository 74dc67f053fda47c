"""What the scale can weigh at all: an order outside its range is refused before weighing.

A 150 kg order on a 6 kg bench scale once showed "expect 150.035 kg": the packer could only
fail it. The station refuses such an order when it arrives, with a reason the packer can act
on. The range comes from `[scale] capacity` (Max) and `min_weight` (Min, below which the
scale's relative error is too large for a verdict; OIML R 76 calls it the minimum capacity).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from scale_agent.weights import format_grams

if TYPE_CHECKING:
    from decimal import Decimal

    from scale_agent.domain.verifier import Expectation


@dataclass(frozen=True)
class ScaleRange:
    """The weighing range of the station's scale, in grams; None where it is not known."""

    capacity_g: Decimal | None = None
    min_g: Decimal | None = None

    def problem(self, expectation: Expectation) -> str | None:
        """Why the scale cannot judge this order, or None when it can."""
        if self.capacity_g is not None and expectation.upper_g > self.capacity_g:
            return (
                f"expects up to {format_grams(expectation.upper_g)}, more than this scale "
                f"weighs ({format_grams(self.capacity_g)}): use a bigger scale or split the parcel"
            )
        if self.min_g is not None and expectation.lower_g < self.min_g:
            return (
                f"expects {format_grams(expectation.lower_g)} or more, below this scale's "
                f"minimum weight ({format_grams(self.min_g)}): weigh it on a finer scale"
            )
        return None
