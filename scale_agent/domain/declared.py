"""What a declared weight may be: one rule for the catalog, inline job weights and `verify`.

A carton tare of -300 g once made an order expect 0 g, and a 25 g empty box then showed PASS
with the seal enabled. Declared weights are therefore positive (spreads non-negative) and
below a limit no packing bench reaches, wherever they come from.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field

from scale_agent.weights import Weight, format_grams

if TYPE_CHECKING:
    from collections.abc import Callable

MAX_DECLARED_G = Decimal(1_000_000)  # 1 t: far beyond any bench scale, short of nonsense
Role = Literal["weight", "spread"]

# Weights are text with a unit ("150g"); a bare number would leave the unit to a guess.
# The pattern admits no sign, so the schema says what the validators check: weights (unit
# weight, tare, capacity) are above zero, spreads zero or more, each at most 1,000 kg.
WeightText = Annotated[
    str,
    Field(
        strict=True,
        max_length=32,
        # In the schema only: the validators say "must be above zero", not "match ^\s*...".
        json_schema_extra={"pattern": r"^\s*\+?(\d+(\.\d*)?|\.\d+)\s*[a-zA-Z]+\s*$"},
        description="a mass with its unit, e.g. 150g, 1.28kg, 6.2oz; at most 1000 kg",
    ),
]


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


def declared_check(role: Role) -> Callable[[str | None], str | None]:
    """A pydantic field validator for `WeightText` that applies `declared_problem`."""

    def check(value: str | None) -> str | None:
        if value is not None and (problem := declared_problem(role, Weight.parse(value))):
            raise ValueError(problem)  # Weight.parse raises WeightFormatError, a ValueError too
        return value

    return check


MAX_PRICE = Decimal(1_000_000)  # per unit, in the site's currency
PriceText = Annotated[
    str,
    Field(
        strict=True,
        max_length=16,
        json_schema_extra={"pattern": r"^\s*(\d+(\.\d{1,4})?)\s*$"},
        description="a unit price in the site's currency, e.g. 12.50 (no currency sign)",
    ),
]


def parse_price(text: str) -> Decimal:
    """A unit price: a plain non-negative number with at most 4 decimals, below a million."""
    stripped = text.strip()
    parts = stripped.split(".")
    if (
        not stripped
        or len(parts) > 2  # noqa: PLR2004 - whole and fraction
        or not all(part.isdigit() and part.isascii() for part in parts)
        or (len(parts) == 2 and len(parts[1]) > 4)  # noqa: PLR2004
    ):
        raise ValueError(f"{stripped[:20]!r} is not a price (a number like 12.50, no sign)")
    price = Decimal(stripped)
    if price > MAX_PRICE:
        raise ValueError(f"must be at most {MAX_PRICE}")
    return price


def price_check(value: str | None) -> str | None:
    """A pydantic field validator for `PriceText`."""
    if value is not None:
        parse_price(value)
    return value
