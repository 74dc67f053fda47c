"""What the parcel of one order should weigh, line by line, and how sure we can be (pure data).

Made by `scale_agent.domain.verifier.plan`; read by the verifier and by the explanations of a
difference (`scale_agent.domain.explanations`), which is why it sits below both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from scale_agent.domain.jobs import References

if TYPE_CHECKING:
    from scale_agent.domain.policies import Policy

# A missing unit is provable only when it stands clear of the combined spread; 5 sigma0 is the
# detectability margin of reference/metrology.md Example B.
DETECTABLE_SIGMAS = Decimal(5)


@dataclass(frozen=True)
class PlannedLine:
    """An order line with the weights that will be used for it."""

    sku: str
    name: str
    qty: int
    unit_g: Decimal
    spread_g: Decimal
    is_counted: bool = False
    names: tuple[tuple[str, str], ...] = ()  # the name in other languages, from the catalog
    unit_price: Decimal | None = None  # the job's, else the catalog's


@dataclass(frozen=True)
class Expectation:
    """What the parcel of one order should weigh, and how sure we can be.

    `lower_g`/`upper_g` are the tolerance limits; `guard_g` the band around each in which the
    answer is RECHECK. `t2_g` is set under the legal policy: below it a unit is short by more
    than twice the tolerable negative error (a T2 error).
    """

    order_id: str
    lines: tuple[PlannedLine, ...]
    carton_id: str | None
    carton_g: Decimal
    carton_spread_g: Decimal
    expected_g: Decimal
    sigma_g: Decimal
    lower_g: Decimal
    upper_g: Decimal
    policy: Policy
    guard_g: Decimal = Decimal(0)
    t2_g: Decimal | None = None
    # What the WMS also calls the parcel, and its packer: passed on to the verdict, never judged.
    references: References = field(default_factory=References)

    @property
    def counted_skus(self) -> list[str]:
        """SKUs flagged as counted goods: weight checks the packs, not what is inside."""
        return [line.sku for line in self.lines if line.is_counted]

    @property
    def lightest_unit_g(self) -> Decimal:
        """The lightest single unit in the order."""
        return min(line.unit_g for line in self.lines)

    @property
    def is_detectable(self) -> bool:
        """True when one missing lightest unit would be caught and stands clear of the noise."""
        lightest = self.lightest_unit_g
        return lightest >= DETECTABLE_SIGMAS * self.sigma_g and (
            self.expected_g - lightest < self.lower_g
        )
