"""What a declared weight may be: one rule for the catalog, inline job weights and `verify`.

A carton tare of -300 g once made an order expect 0 g, and a 25 g empty box then showed PASS
with the seal enabled. Declared weights are therefore positive (spreads non-negative) and
below a limit no packing bench reaches, wherever they come from.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Literal

from scale_agent.weights import format_grams

if TYPE_CHECKING:
    from scale_agent.weights import Weight

MAX_DECLARED_G = Decimal(1_000_000)  # 1 t: far beyond any bench scale, short of nonsense
Role = Literal["weight", "spread"]


def declared_problem(role: Role, weight: Weight) -> str | None:
    """Why `weight` cannot be a declared unit weight / tare (`weight`) or spread, or None."""
    grams = weight.in_grams
    if not grams.is_finite():
        return "must be a finite number"
    if abs(grams) > MAX_DECLARED_G:  # first: format_grams cannot round a 40-digit number
        return f"must be at most {format_grams(MAX_DECLARED_G)}"
    if role == "weight" and grams <= 0:
        return f"must be above zero, not {format_grams(grams)}"
    if role == "spread" and grams < 0:
        return f"must not be negative, not {format_grams(grams)}"
    return None
