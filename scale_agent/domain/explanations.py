"""Which whole units missing (or extra) explain a weight difference, and how well (pure).

A bounded search over multisets of one to three units from the order's lines: fast enough
for 100-line orders (bench/verifier.py), deterministic, and ranked with an Occam penalty so
that "one book missing" beats "a mug and a case missing" unless the pair fits far better.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from scale_agent.weights import format_grams

if TYPE_CHECKING:
    from collections.abc import Iterator

    from scale_agent.domain.expectation import Expectation

MAX_EXPLAINED_UNITS = 3
MAX_EXPLANATIONS = 3


@dataclass(frozen=True)
class Hypothesis:
    """One explanation of a difference: some units missing (or extra), and how well it fits.

    `parts` holds (sku, qty, unit grams) per SKU involved; `fit_sigma` is how far the measured
    difference lies from the hypothesis, in the hypothesis's own combined sigma.
    """

    parts: tuple[tuple[str, int, Decimal], ...]
    direction: str  # "missing" | "extra"
    fit_sigma: Decimal

    @property
    def units(self) -> int:
        """How many units the hypothesis moves."""
        return sum(qty for _, qty, _ in self.parts)

    def describe(self) -> str:
        """`1 x SKU-1023 (150 g) missing`."""
        items = " and ".join(
            f"{qty} x {sku} ({format_grams(grams)})" for sku, qty, grams in self.parts
        )
        return f"{items} {self.direction}"


def _unit_sets(
    size: int, weights: list[float], available: list[int], low: float, high: float
) -> Iterator[tuple[int, ...]]:
    """Index multisets of exactly `size` (1 to 3) units whose summed weight lies in [low, high].

    `weights` are the distinct lines' unit weights in ascending order and `available[i]` how
    many units of line i may be used. The last unit of a set is found by bisection, so the work
    grows at most with the square of the line count. Floats are fine here: this only
    shortlists candidates, whose fit is then computed exactly.
    """
    count = len(weights)
    if size == 1:
        yield from (
            (i,) for i in range(bisect.bisect_left(weights, low), count) if weights[i] <= high
        )
        return
    for i in range(count):
        if weights[i] * size > high:  # every later set is heavier still
            return
        inner = [(i, j) for j in range(i, count)] if size == 3 else [(i,)]  # noqa: PLR2004
        for prefix in inner:
            partial = sum(weights[n] for n in prefix)
            if partial + weights[prefix[-1]] > high:
                break
            start = bisect.bisect_left(weights, low - partial, lo=prefix[-1])
            for k in range(start, count):
                if partial + weights[k] > high:
                    break
                chosen = (*prefix, k)
                if all(chosen.count(n) <= available[n] for n in chosen):
                    yield chosen


def _rank(hypothesis: Hypothesis) -> tuple[Decimal, list[str]]:
    # An Occam penalty of one sigma per unit beyond the first: "one book missing" beats
    # "a mug and a case missing" unless the pair fits far better.
    return hypothesis.fit_sigma + (hypothesis.units - 1), [part[0] for part in hypothesis.parts]


def explain(
    expectation: Expectation, difference_g: Decimal, fit_sigma: Decimal
) -> list[Hypothesis]:
    """The best explanations of a difference by up to three whole units missing or extra.

    Candidates are multisets of one to three units from the order's lines (missing at most what
    was ordered), searched by size. Because ranking penalises every extra unit by one sigma,
    larger sets are only searched as far as they could still beat the third-best hypothesis:
    the search stays bounded even for 100-line orders. Ties break on SKU ids, so the output is
    deterministic. Hypotheses that fit worse than `fit_sigma` are not reported.
    """
    direction = "missing" if difference_g < 0 else "extra"
    target = abs(difference_g)
    sigma0_sq = expectation.sigma_g**2
    lines = sorted(expectation.lines, key=lambda planned: (planned.unit_g, planned.sku))
    if direction == "missing":
        available = [min(line.qty, MAX_EXPLAINED_UNITS) for line in lines]
        sigma_bound = expectation.sigma_g  # removing units only removes spread
    else:
        available = [MAX_EXPLAINED_UNITS] * len(lines)
        widest = max(line.spread_g for line in lines)
        sigma_bound = (sigma0_sq + MAX_EXPLAINED_UNITS * widest**2).sqrt()
    weights = [float(line.unit_g) for line in lines]
    best: list[Hypothesis] = []
    for size in range(1, MAX_EXPLAINED_UNITS + 1):
        limit = fit_sigma
        if len(best) == MAX_EXPLANATIONS:
            limit = min(limit, _rank(best[-1])[0] - (size - 1))
        if limit < 0:
            break  # no larger set can rank among the best
        window = float(limit * sigma_bound) + 1e-6
        low, high = float(target) - window, float(target) + window
        for chosen in _unit_sets(size, weights, available, low, high):
            units = [lines[index] for index in chosen]
            shift = sum(unit.unit_g for unit in units)
            spread_sq = sum(unit.spread_g**2 for unit in units)
            adjusted = sigma0_sq - spread_sq if direction == "missing" else sigma0_sq + spread_sq
            fit = abs(target - shift) / max(adjusted, Decimal("1e-12")).sqrt()
            if fit <= fit_sigma:
                parts = tuple(
                    (lines[index].sku, chosen.count(index), lines[index].unit_g)
                    for index in sorted(set(chosen))
                )
                best.append(Hypothesis(parts, direction, fit))
        best = sorted(best, key=_rank)[:MAX_EXPLANATIONS]
    return best
