"""Tolerance policies, the legal tolerable-negative-error table and the scale's own error.

Facts from reference/metrology.md: the TNE table of OIML R 87 / JJF 1070 / EU e-mark
(section 1), class III maximum permissible errors of OIML R 76 (section 6.1), and guard banding
(section 6.3): PASS only when the weight clears a limit by the guard band w = U = 2 u_scale,
FAIL only when it misses it by w, RECHECK in between, so a too-close call is re-weighed
instead of guessed.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from typing import Annotated, Literal

from pydantic import Field, model_validator

from scale_agent.models import StrictModel

Grams = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=4)]
Percent = Annotated[Decimal, Field(ge=0, le=100)]
_SQRT3 = Decimal(3).sqrt()
_TENTH = Decimal("0.1")


class Band(StrictModel):
    """One row of a weight-band table: the limits for expected weights up to `up_to_g`."""

    up_to_g: Grams
    under_g: Grams | None = None
    under_pct: Percent | None = None
    over_g: Grams | None = None
    over_pct: Percent | None = None


class Policy(StrictModel):
    """How a parcel's weight is judged (the `[tolerance]` section, or a named `[policies.X]`).

    `kind` picks the rule: `limits` (absolute and/or percent, under and over separately,
    combined as the larger or smaller), `bands` (a table of limits by expected weight),
    `sigma` (k times the combined spread), or `legal` (the tolerable negative error of OIML
    R 87 on the net content of a single-SKU parcel; T2 always fails). The upper limit of
    `legal` comes from the `limits` keys: the law sets no maximum.
    """

    kind: Literal["limits", "bands", "sigma", "legal"] = "limits"
    name: str = "default"
    version: str = "1"
    under_g: Grams | None = Decimal(20)
    under_pct: Percent | None = Decimal(2)
    over_g: Grams | None = Decimal(30)
    over_pct: Percent | None = Decimal(3)
    combine: Literal["larger", "smaller"] = "larger"
    bands: list[Band] = Field(default_factory=list)
    k_under: Annotated[Decimal, Field(gt=0, le=10)] = Decimal(3)
    k_over: Annotated[Decimal, Field(gt=0, le=10)] = Decimal(3)
    legal_t1: Literal["fail", "recheck"] = "fail"
    guard: Literal["scale", "none"] = "scale"
    scale_interval_g: Annotated[Decimal, Field(gt=0, le=1000)] = Decimal(1)
    scale_class: Literal["I", "II", "III", "IIII"] = "III"
    scale_in_service: bool = True
    explain_fit_sigma: Annotated[Decimal, Field(gt=0, le=10)] = Decimal(3)

    @model_validator(mode="after")
    def _complete(self) -> Policy:
        if self.kind == "bands":
            if not self.bands:
                raise ValueError("kind = 'bands' needs at least one [[bands]] row")
            edges = [band.up_to_g for band in self.bands]
            if edges != sorted(edges) or len(set(edges)) != len(edges):
                raise ValueError("bands must be listed by rising up_to_g")
        elif self.kind in {"limits", "legal"} and self.over_g is None and self.over_pct is None:
            raise ValueError("give over_g and/or over_pct (the upper limit)")
        if self.kind == "limits" and self.under_g is None and self.under_pct is None:
            raise ValueError("give under_g and/or under_pct (the lower limit)")
        return self

    @property
    def label(self) -> str:
        """`name@version`, written into every verdict."""
        return f"{self.name}@{self.version}"


@dataclass(frozen=True)
class Limits:
    """Tolerance limits around the expected weight, in grams below and above it."""

    under_g: Decimal
    over_g: Decimal


def _combine(
    absolute: Decimal | None, pct: Decimal | None, expected: Decimal, mode: str
) -> Decimal:
    present = [
        v for v in (absolute, None if pct is None else expected * pct / 100) if v is not None
    ]
    if not present:
        return Decimal(0)
    return max(present) if mode == "larger" else min(present)


def limits(policy: Policy, expected_g: Decimal, sigma_g: Decimal) -> Limits:
    """The tolerance limits of a policy for a parcel (legal: see `legal_limits`)."""
    over = _combine(policy.over_g, policy.over_pct, expected_g, policy.combine)
    if policy.kind == "sigma":
        return Limits(policy.k_under * sigma_g, policy.k_over * sigma_g)
    if policy.kind == "bands":
        band = next((b for b in policy.bands if expected_g <= b.up_to_g), policy.bands[-1])
        return Limits(
            _combine(band.under_g, band.under_pct, expected_g, policy.combine),
            _combine(band.over_g, band.over_pct, expected_g, policy.combine),
        )
    return Limits(_combine(policy.under_g, policy.under_pct, expected_g, policy.combine), over)


def tne_g(nominal_g: Decimal) -> Decimal:
    """The tolerable negative error T for a nominal quantity (OIML R 87 table, grams).

    Percentages are rounded up to 0.1 g for nominal quantities up to 1 kg and to whole grams
    above (R 87; the UK rounds up to 0.1 g throughout). The table is continuous at every band
    edge, so it does not matter which side an edge belongs to. It ends at 50 kg.

    Raises:
        ValueError: for a nominal quantity outside 0 to 50 kg.
    """
    q = nominal_g
    if q <= 0 or q > 50_000:  # noqa: PLR2004 - the table's range
        raise ValueError(f"the TNE table covers 0 to 50 kg, not {q} g")
    table: list[tuple[int, Decimal | None, Decimal | None]] = [  # (up to, percent, fixed grams)
        (50, Decimal(9), None),
        (100, None, Decimal("4.5")),
        (200, Decimal("4.5"), None),
        (300, None, Decimal(9)),
        (500, Decimal(3), None),
        (1000, None, Decimal(15)),
        (10_000, Decimal("1.5"), None),
        (15_000, None, Decimal(150)),
        (50_000, Decimal(1), None),
    ]
    for up_to, pct, fixed in table:
        if q <= up_to:
            if fixed is not None:
                return fixed
            assert pct is not None  # noqa: S101 - each row has one or the other
            step = _TENTH if q <= 1000 else Decimal(1)  # noqa: PLR2004 - R 87 rounding
            return (q * pct / 100 / step).to_integral_value(ROUND_CEILING) * step
    raise AssertionError("unreachable")  # pragma: no cover


# Class III (and others) maximum permissible error on initial verification, as multiples of
# e, by load in e (R 76 Table 6). In service the MPE is twice this.
_MPE_STEPS: dict[str, tuple[tuple[int, Decimal], ...]] = {
    "I": ((50_000, Decimal("0.5")), (200_000, Decimal(1))),
    "II": ((5_000, Decimal("0.5")), (20_000, Decimal(1)), (100_000, Decimal("1.5"))),
    "III": ((500, Decimal("0.5")), (2_000, Decimal(1)), (10_000, Decimal("1.5"))),
    "IIII": ((50, Decimal("0.5")), (200, Decimal(1)), (1_000, Decimal("1.5"))),
}


def scale_mpe_g(
    load_g: Decimal, interval_g: Decimal, accuracy_class: str, *, in_service: bool
) -> Decimal:
    """The scale's maximum permissible error at a load (OIML R 76), in grams."""
    load_e = abs(load_g) / interval_g
    multiple = Decimal("1.5")
    for up_to, mpe in _MPE_STEPS[accuracy_class]:
        if load_e <= up_to:
            multiple = mpe
            break
    return multiple * interval_g * (2 if in_service else 1)


def scale_uncertainty_g(policy: Policy, load_g: Decimal) -> Decimal:
    """Standard uncertainty of one reading: the MPE read as a rectangular distribution."""
    mpe = scale_mpe_g(
        load_g, policy.scale_interval_g, policy.scale_class, in_service=policy.scale_in_service
    )
    return mpe / _SQRT3


def guard_g(policy: Policy, load_g: Decimal) -> Decimal:
    """The guard band around each limit: U = 2 u (k = 2), or nothing when turned off."""
    if policy.guard == "none":
        return Decimal(0)
    return 2 * scale_uncertainty_g(policy, load_g)
