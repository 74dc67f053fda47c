"""What the scales say the SKUs really weigh: robust estimates from judged parcels (pure).

Every judged parcel is one equation: measured - carton tare = sum(qty x unit weight), with a
variance that adds the declared spreads. The unit weights are estimated together by weighted
least squares (Gauss-Seidel over the sparse normal equations, so 100,000 parcels of a few
lines each take seconds in plain Python), with iteratively reweighted Tukey bisquare weights:
a mis-packed parcel (a whole unit missing or extra) sits far off and is weighted out, while a
declared weight that is simply wrong shifts every parcel with that SKU and is what the fit
finds. Spreads are estimated from parcels holding one SKU only.

A SKU is flagged when the 95 % confidence interval of its estimate excludes the declared
weight by more than `min_relative` (the practical threshold: a 0.3 % difference is real but
not worth a catalog change), or when its spread is clearly wider than declared.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from statistics import median

Z95 = 1.96
TUKEY_C = 4.685  # bisquare: ~95 % efficiency for normal noise; a residual past c*s weighs 0
ITERATIONS = 12  # robust reweighting rounds at most
SWEEPS = 2  # Gauss-Seidel sweeps per round (warm-started: few are needed)
TOLERANCE_G = 0.005  # done when no weight moves more than this in a round
# Verdicts that weighed nothing worth fitting (no order, no stable weight, a photo record).
NOT_A_WEIGHING = frozenset({"NO_JOB", "SCALE_FAULT", "UNSTABLE", "UNKNOWN_SKU", "PHOTO"})
SCALE_FLOOR_G2 = 0.25  # a reading's own resolution, so no parcel has zero variance


@dataclass(frozen=True)
class Parcel:
    """One judged parcel: what was in it and what it weighed, net of the carton."""

    lines: tuple[tuple[str, int], ...]  # (sku, qty)
    net_g: float  # measured minus the carton's tare
    variance_g2: float  # declared spreads and the carton's, added in quadrature


def weighed_parcel(
    lines: list[tuple[str, int, float]], measured_g: float, carton_g: float, carton_spread_g: float
) -> Parcel:
    """A parcel from its lines (sku, qty, declared spread), its weight and its carton."""
    variance = carton_spread_g**2 + SCALE_FLOOR_G2
    variance += sum(qty * spread**2 for _, qty, spread in lines)
    return Parcel(tuple((sku, qty) for sku, qty, _ in lines), measured_g - carton_g, variance)


@dataclass(frozen=True)
class Declared:
    """A SKU as the catalog declares it."""

    unit_g: float
    spread_g: float
    name: str = ""


@dataclass(frozen=True)
class Finding:
    """One SKU: declared against measured, and whether the catalog should change."""

    sku: str
    name: str
    samples: int  # parcels that contained it (weighted in)
    single_samples: int  # parcels with this SKU only (the spread comes from these)
    declared_g: float
    estimated_g: float
    ci_low_g: float
    ci_high_g: float
    declared_spread_g: float
    estimated_spread_g: float | None
    is_weight_off: bool
    is_spread_off: bool

    @property
    def is_determined(self) -> bool:
        """False when the fit could not pin this SKU down (a non-finite estimate or bound)."""
        values = (self.estimated_g, self.ci_low_g, self.ci_high_g, self.declared_g)
        return all(math.isfinite(value) for value in values) and self.declared_g != 0

    @property
    def difference_pct(self) -> float:
        """Measured minus declared, in % of the declared weight."""
        return (self.estimated_g - self.declared_g) / self.declared_g * 100

    @property
    def is_flagged(self) -> bool:
        """The catalog entry should be reviewed."""
        return self.is_weight_off or self.is_spread_off


def audit(
    parcels: list[Parcel],
    declared: dict[str, Declared],
    *,
    min_samples: int = 20,
    min_relative: float = 0.02,
) -> list[Finding]:
    """Findings for every SKU seen in at least `min_samples` parcels, worst first."""
    fit = _Fit(parcels, declared)
    fit.run()
    findings = []
    for sku, members in fit.members.items():
        if sku not in declared:
            continue
        used = [(i, q) for i, q in members if fit.robust[i] > 0]
        if len(used) < min_samples:
            continue
        item = declared[sku]
        information = sum(fit.robust[i] * q * q * fit.inverse_variance[i] for i, q in used)
        se = fit.scale / math.sqrt(information)
        estimate = fit.weights[sku]
        low, high = estimate - Z95 * se, estimate + Z95 * se
        excluded = item.unit_g < low or item.unit_g > high
        relevant = abs(estimate - item.unit_g) >= min_relative * item.unit_g
        spread, singles, is_spread_off = _spread(parcels, fit, sku, item)
        findings.append(
            Finding(
                sku,
                item.name,
                len(used),
                singles,
                item.unit_g,
                estimate,
                low,
                high,
                item.spread_g,
                spread,
                excluded and relevant,
                is_spread_off and singles >= min_samples,
            )
        )
    return sorted(findings, key=lambda f: (not f.is_flagged, -abs(f.difference_pct), f.sku))


class _Fit:
    """Robust weighted least squares over the parcels, kept in flat lists for speed."""

    def __init__(self, parcels: list[Parcel], declared: dict[str, Declared]) -> None:
        self.net = [p.net_g for p in parcels]
        self.inverse_variance = [1 / p.variance_g2 for p in parcels]
        self.robust = [1.0] * len(parcels)
        self.weights = {sku: item.unit_g for sku, item in declared.items()}
        self.members: dict[str, list[tuple[int, int]]] = {}  # sku -> (parcel, qty)
        for index, parcel in enumerate(parcels):
            quantities: dict[str, int] = {}
            for sku, qty in parcel.lines:
                quantities[sku] = quantities.get(sku, 0) + qty
            for sku, qty in quantities.items():
                self.members.setdefault(sku, []).append((index, qty))
                self.weights.setdefault(sku, 0.0)
        self.totals = [0.0] * len(parcels)
        for sku, members in self.members.items():
            for i, q in members:
                self.totals[i] += q * self.weights[sku]
        self.scale = 1.0

    def run(self) -> None:
        """Alternate Gauss-Seidel sweeps and bisquare reweighting until the weights settle."""
        for _ in range(ITERATIONS):
            moved = max((self._sweep() for _ in range(SWEEPS)), default=0.0)
            residuals = [
                (net - total) * math.sqrt(w)
                for net, total, w in zip(self.net, self.totals, self.inverse_variance, strict=True)
            ]
            if not residuals:
                return
            self.scale = max(1.4826 * median(abs(r) for r in residuals), 1e-9)
            self.robust = [_bisquare(r / self.scale) for r in residuals]
            if moved < TOLERANCE_G:
                return

    def _sweep(self) -> float:
        """One Gauss-Seidel pass over the SKUs; returns the largest change of a weight."""
        largest = 0.0
        net, totals, robust, inverse = self.net, self.totals, self.robust, self.inverse_variance
        for sku, members in self.members.items():
            current = self.weights[sku]
            numerator = denominator = 0.0
            for i, q in members:
                w = robust[i] * inverse[i]
                if w:
                    numerator += w * q * (net[i] - totals[i] + q * current)
                    denominator += w * q * q
            if not denominator:
                continue
            shift = numerator / denominator - current
            if shift:
                for i, q in members:
                    totals[i] += q * shift
                self.weights[sku] = current + shift
                largest = max(largest, abs(shift))
        return largest

    def residual(self, index: int) -> float:
        """Measured minus fitted, for one parcel."""
        return self.net[index] - self.totals[index]


def _bisquare(u: float) -> float:
    if abs(u) >= TUKEY_C:
        return 0.0
    return (1 - (u / TUKEY_C) ** 2) ** 2


def _spread(
    parcels: list[Parcel], fit: _Fit, sku: str, item: Declared
) -> tuple[float | None, int, bool]:
    """The unit spread from single-SKU parcels, and whether it is clearly wider than declared.

    A parcel of n units of one SKU varies by n x unit variance plus the carton's; the carton's
    part is its declared variance minus the declared units' part. A mis-pack moves the weight
    by a whole unit, so a parcel half a unit off is left out (the robust weights would also
    cut the wide tail that is being measured).
    """
    unit_variances = []
    for i, n in fit.members[sku]:
        r = fit.residual(i)
        if len(parcels[i].lines) != 1 or abs(r) >= item.unit_g / 2:
            continue
        carton_var = max(parcels[i].variance_g2 - n * item.spread_g**2, 0.0)
        unit_variances.append(max(r * r - carton_var, 0.0) / n)
    if len(unit_variances) < 3:  # noqa: PLR2004 - a spread needs a few parcels
        return None, len(unit_variances), False
    variance = sum(unit_variances) / (len(unit_variances) - 1)
    spread = math.sqrt(variance)
    dof = len(unit_variances) - 1
    # Lower 95 % bound of the spread (chi-square by Wilson-Hilferty): wider than declared
    # only when even that bound is, and by half again.
    chi_upper = dof * (1 - 2 / (9 * dof) + Z95 * math.sqrt(2 / (9 * dof))) ** 3
    lower = math.sqrt(dof * variance / chi_upper)
    return spread, len(unit_variances), spread >= 1.5 * item.spread_g and lower > item.spread_g


def corrected(value_g: float) -> Decimal:
    """A weight as the catalog writes it: 0.1 g below a kilogram, 1 g above."""
    step = Decimal(1) if value_g >= 1000 else Decimal("0.1")  # noqa: PLR2004
    return Decimal(str(value_g)).quantize(step)
