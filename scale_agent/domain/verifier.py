"""Pure verdict rules: (order, catalog, policy) -> expectation; (expectation, weight) -> verdict.

Expected gross weight E = sum(qty x unit weight) + carton tare. The combined spread sigma0 adds
in quadrature every unit's spread, the carton's spread and the scale's own uncertainty (its
maximum permissible error at that load, by class and interval, read as a rectangular
distribution; reference/metrology.md sections 6.1 and 6.3).

The policy (`scale_agent.domain.policies`) sets the tolerance limits. A guard band around each limit
turns a too-close call into RECHECK. Outside the limits the verifier searches a bounded set of
explanations (up to three units missing or extra across the order's lines, in
`scale_agent.domain.explanations`) and names the ones that fit within `explain_fit_sigma`;
when none fits it says UNDER or OVER, unexplained. What an order should weigh is an
`Expectation` (`scale_agent.domain.expectation`, which the explanations read too).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING

from scale_agent.domain.expectation import Expectation, PlannedLine
from scale_agent.domain.explanations import explain
from scale_agent.domain.policies import Policy, guard_g, limits, scale_uncertainty_g, tne_g
from scale_agent.errors import JobError, UnknownItemError
from scale_agent.signals import Signal
from scale_agent.weights import format_grams

if TYPE_CHECKING:
    from collections.abc import Mapping

    from scale_agent.domain.catalog import Catalog
    from scale_agent.domain.explanations import Hypothesis
    from scale_agent.domain.jobs import Job
    from scale_agent.weights import Weight


class VerdictKind(StrEnum):
    """Every answer the verifier or the station can give about a parcel."""

    PASS = "PASS"  # noqa: S105 - a verdict, not a password
    UNDER = "UNDER"
    OVER = "OVER"
    MISSING_ITEM = "MISSING_ITEM"
    EXTRA_ITEM = "EXTRA_ITEM"
    RECHECK = "RECHECK"
    UNVERIFIABLE = "UNVERIFIABLE"
    UNSTABLE = "UNSTABLE"
    SCALE_FAULT = "SCALE_FAULT"
    NO_JOB = "NO_JOB"
    UNKNOWN_SKU = "UNKNOWN_SKU"

    @property
    def signal(self) -> Signal:
        """The light this verdict shows."""
        if self is VerdictKind.PASS:
            return Signal.PASS
        if self in {VerdictKind.RECHECK, VerdictKind.UNSTABLE, VerdictKind.UNVERIFIABLE}:
            return Signal.RECHECK
        if self is VerdictKind.SCALE_FAULT:
            return Signal.FAULT
        return Signal.FAIL


@dataclass(frozen=True)
class Verdict:
    """The judgment of one parcel, with everything needed to defend it."""

    kind: VerdictKind
    order_id: str | None
    reason: str
    expected_g: Decimal | None = None
    lower_g: Decimal | None = None
    upper_g: Decimal | None = None
    measured_g: Decimal | None = None
    sigma_g: Decimal | None = None
    policy: str = ""
    explanation: tuple[Hypothesis, ...] = field(default_factory=tuple)
    is_detectable: bool | None = None
    guard_g: Decimal | None = None

    @property
    def difference_g(self) -> Decimal | None:
        """Measured minus expected, in grams."""
        if self.measured_g is None or self.expected_g is None:
            return None
        return self.measured_g - self.expected_g

    @property
    def is_flagged(self) -> bool:
        """True for every verdict but PASS: these go to the supervisors."""
        return self.kind is not VerdictKind.PASS


def plan(
    job: Job,
    catalog: Catalog,
    policy: Policy,
    overrides: Mapping[str, Policy] | None = None,
) -> Expectation:
    """Work out the expected weight, spread and limits of an order.

    A SKU may name its own policy in the catalog (`overrides` holds the named policies); when
    the order's SKUs name several, the strictest (the highest lower limit) judges the parcel.

    Raises:
        JobError: when a SKU or carton is neither declared in the job nor in the catalog, or
            the legal policy is asked to judge a parcel of several SKUs.
    """
    lines = []
    unknown = []
    named: set[str] = set()
    for line in job.lines:
        item = catalog.skus.get(line.sku)
        unit = line.unit_weight or (item.weight if item else None)
        spread = line.spread or (item.spread if item else None)
        if unit is None:
            unknown.append(line.sku)
            continue
        if item is not None and item.policy:
            named.add(item.policy)
        lines.append(
            PlannedLine(
                line.sku,
                item.name if item else line.sku,
                line.qty,
                unit.in_grams,
                spread.in_grams if spread is not None else Decimal(0),
                is_counted=item.is_counted if item else False,
                names=item.names if item else (),
                unit_price=line.unit_price
                if line.unit_price is not None
                else (item.price if item else None),
            )
        )
    if unknown:
        raise UnknownItemError(f"unknown SKU: {', '.join(unknown)}", order_id=job.order_id)
    carton_g = carton_spread_g = Decimal(0)
    if job.carton_tare is not None:
        carton_g = job.carton_tare.in_grams
        carton_spread_g = job.carton_spread.in_grams if job.carton_spread else Decimal(0)
    elif job.carton_id is not None:
        carton = catalog.cartons.get(job.carton_id)
        if carton is None:
            raise UnknownItemError(f"unknown carton: {job.carton_id}", order_id=job.order_id)
        carton_g, carton_spread_g = carton.weight.in_grams, carton.spread.in_grams
    candidates = [(overrides or {})[name] for name in sorted(named) if name in (overrides or {})]
    plans = [
        _expect(job, tuple(lines), carton_g, carton_spread_g, chosen)
        for chosen in candidates or [policy]
    ]
    return max(plans, key=lambda planned: planned.lower_g)


def _expect(
    job: Job,
    lines: tuple[PlannedLine, ...],
    carton_g: Decimal,
    carton_spread_g: Decimal,
    policy: Policy,
) -> Expectation:
    expected = sum((line.qty * line.unit_g for line in lines), carton_g)
    scale_u = scale_uncertainty_g(policy, expected)
    variance = sum((line.qty * line.spread_g**2 for line in lines), carton_spread_g**2)
    sigma = (variance + scale_u**2).sqrt()
    tolerance = limits(policy, expected, sigma)
    lower, t2 = expected - tolerance.under_g, None
    if policy.kind == "legal":
        if len(lines) != 1:
            raise JobError(
                "the legal policy judges single-SKU parcels (one prepackage kind); "
                f"this order has {len(lines)} SKUs",
                order_id=job.order_id,
            )
        # The tolerable negative error applies to each prepackage's net content: the
        # parcel's units may each be short by T (T1) but never by 2T (T2).
        [line] = lines
        tne = tne_g(line.unit_g)
        lower = carton_g + line.qty * (line.unit_g - tne)
        t2 = carton_g + line.qty * (line.unit_g - 2 * tne)
    return Expectation(
        order_id=job.order_id,
        lines=lines,
        carton_id=job.carton_id,
        carton_g=carton_g,
        carton_spread_g=carton_spread_g,
        expected_g=expected,
        sigma_g=sigma,
        lower_g=lower,
        upper_g=expected + tolerance.over_g,
        policy=policy,
        guard_g=guard_g(policy, expected),
        t2_g=t2,
        references=job.references,
    )


def judge(expectation: Expectation, measured: Weight, fit_sigma: Decimal | None = None) -> Verdict:
    """Judge a settled weight against an expectation.

    Inside the limits by more than the guard band: PASS (or UNVERIFIABLE when a missing unit
    would not show). Within the guard band of a limit: RECHECK. Beyond it: MISSING_ITEM or
    EXTRA_ITEM when whole units explain the difference, else UNDER or OVER; under the legal
    policy a T2 shortfall is always UNDER, and a T1 shortfall follows `legal_t1`.
    """
    measured_g = measured.in_grams
    difference = measured_g - expectation.expected_g
    policy = expectation.policy
    guard = expectation.guard_g

    def verdict(
        kind: VerdictKind, reason: str, explanation: tuple[Hypothesis, ...] = ()
    ) -> Verdict:
        return Verdict(
            kind,
            expectation.order_id,
            reason,
            expected_g=expectation.expected_g,
            lower_g=expectation.lower_g,
            upper_g=expectation.upper_g,
            measured_g=measured_g,
            sigma_g=expectation.sigma_g,
            policy=policy.label,
            explanation=explanation,
            is_detectable=expectation.is_detectable,
            guard_g=guard,
        )

    lower, upper = expectation.lower_g, expectation.upper_g
    if lower - guard <= measured_g <= upper + guard:
        kind, reason = _inside(expectation, measured_g)
        return verdict(kind, reason)
    is_light = difference < 0
    amount = f"{'light' if is_light else 'heavy'} by {abs(difference).quantize(Decimal('0.1'))} g"
    hypotheses = tuple(explain(expectation, difference, fit_sigma or policy.explain_fit_sigma))
    if hypotheses:
        best = hypotheses[0]
        return verdict(
            VerdictKind.MISSING_ITEM if is_light else VerdictKind.EXTRA_ITEM,
            f"{amount}: {best.describe()} explains it within "
            f"{best.fit_sigma.quantize(Decimal('0.1'))} sigma",
            hypotheses,
        )
    if is_light and expectation.t2_g is not None:
        return verdict(*_legal_shortfall(expectation, measured_g, amount))
    return verdict(
        VerdictKind.UNDER if is_light else VerdictKind.OVER,
        f"{amount}: no whole number of the order's units explains it",
    )


def _inside(expectation: Expectation, measured_g: Decimal) -> tuple[VerdictKind, str]:
    """Within the limits widened by the guard band: PASS, UNVERIFIABLE or RECHECK."""
    guard = expectation.guard_g
    if measured_g < expectation.lower_g + guard or measured_g > expectation.upper_g - guard:
        side = "lower" if measured_g < expectation.lower_g + guard else "upper"
        return VerdictKind.RECHECK, (
            f"{format_grams(measured_g)} is within {format_grams(guard)} of the {side} limit, "
            "inside the scale's own uncertainty: re-seat the parcel and weigh again"
        )
    if not expectation.is_detectable:
        lightest = format_grams(expectation.lightest_unit_g)
        return VerdictKind.UNVERIFIABLE, (
            f"weight fits, but a missing {lightest} unit would not show: count the items"
        )
    counted = ", ".join(expectation.counted_skus)
    note = f" (counted goods: check the count of {counted} by eye)" if counted else ""
    return VerdictKind.PASS, f"weight within limits{note}"


def _legal_shortfall(
    expectation: Expectation, measured_g: Decimal, amount: str
) -> tuple[VerdictKind, str]:
    """Below the legal limit: T2 always fails; T1 follows the policy's `legal_t1`."""
    assert expectation.t2_g is not None  # noqa: S101 - only the legal policy sets it
    if measured_g < expectation.t2_g - expectation.guard_g:
        return VerdictKind.UNDER, (
            f"{amount}: T2 shortfall (short by more than twice the tolerable negative error), "
            "never allowed"
        )
    t1 = f"{amount}: T1 shortfall (short by more than the tolerable negative error)"
    if expectation.policy.legal_t1 == "recheck":
        return VerdictKind.RECHECK, f"{t1}: legal only in small numbers, check it"
    return VerdictKind.UNDER, t1


__all__ = ["Expectation", "PlannedLine", "Verdict", "VerdictKind", "judge", "plan"]
