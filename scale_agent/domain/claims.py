"""A customer's claim against the packing record, and the remedy a site's rule suggests.

A claim is "short 150g" (the parcel arrived lighter than it should) or "missing 1 x SKU-7001".
The record answers it with one argument a marketplace accepts: had the parcel been short by S
when it was packed, the scale would have read W - S. If that is below the lower limit the
verdict used, the station would have flagged it, so a parcel that passed CONTRADICTS the
claim. If the parcel left below its lower limit (an override, or a flagged parcel shipped
anyway), the record SUPPORTS it. A shortfall smaller than the room between W and the lower
limit is INCONCLUSIVE: the weight can neither confirm nor rule it out.

The remedy follows merchants' own compensation rules, one per site: re-ship the missing units,
refund by the shortfall (units x unit price, or grams x the order's price per gram), or a
voucher worth the refund times a rate, with a floor. Money is Decimal, rounded to cents.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from scale_agent.domain.phrases import Grams, ItemName, Phrase, phrase
from scale_agent.errors import UsageError
from scale_agent.weights import Weight

CENT = Decimal("0.01")
_MISSING = re.compile(r"^\s*missing\s+(?:(\d{1,5})\s*[x\u00d7*]\s*)?(\S{1,128})\s*$", re.IGNORECASE)
_SHORT = re.compile(r"^\s*(?:short|underweight|light)\s+(?:by\s+)?(\S{1,32})\s*$", re.IGNORECASE)


class Finding(StrEnum):
    """What the record says about a claim."""

    SUPPORTED = "supported"
    CONTRADICTED = "contradicted"
    INCONCLUSIVE = "inconclusive"


class RemedyRule(StrEnum):
    """A site's compensation rule."""

    RESHIP = "reship"
    REFUND = "refund"
    VOUCHER = "voucher"


@dataclass(frozen=True)
class Claim:
    """What the customer says: a weight shortfall, or units of one SKU missing."""

    text: str
    shortfall_g: Decimal | None = None  # "short 150g"
    sku: str | None = None  # "missing 1 x SKU"
    qty: int = 0


@dataclass(frozen=True)
class PackedLine:
    """An order line as the record holds it."""

    sku: str
    name: ItemName
    qty: int
    unit_g: Decimal
    unit_price: Decimal | None


@dataclass(frozen=True)
class PackedParcel:
    """What the packing record says about the parcel that was shipped."""

    order_id: str
    verdict: str
    measured_g: Decimal
    expected_g: Decimal
    lower_g: Decimal
    upper_g: Decimal
    lines: tuple[PackedLine, ...]


@dataclass(frozen=True)
class Assessment:
    """The record's answer to a claim."""

    finding: Finding
    shortfall_g: Decimal
    implied_g: Decimal  # what the scale would have read had the shortfall been there
    because: Phrase


@dataclass(frozen=True)
class RemedySettings:
    """A site's rule and its money settings."""

    rule: RemedyRule = RemedyRule.REFUND
    currency: str = "CNY"
    voucher_rate: Decimal = Decimal(1)
    voucher_minimum: Decimal = Decimal(0)


@dataclass(frozen=True)
class Remedy:
    """What to offer: a sentence, and the money when there is any."""

    rule: RemedyRule
    offer: Phrase
    amount: Decimal | None = None


def parse_claim(text: str) -> Claim:
    """`short 150g`, `short by 0.15 kg`, `missing 1 x SKU-7001`, `missing SKU-7001`."""
    if match := _MISSING.match(text):
        qty = int(match.group(1) or 1)
        if qty < 1:
            raise UsageError(f"claim {text!r}: the number of missing units must be 1 or more")
        return Claim(text.strip(), sku=match.group(2), qty=qty)
    if match := _SHORT.match(text.replace(" g", "g").replace(" kg", "kg")):
        try:
            grams = Weight.parse(match.group(1)).in_grams
        except ValueError as exc:
            raise UsageError(f"claim {text!r}: {exc}") from exc
        if not grams.is_finite() or grams <= 0:
            raise UsageError(f"claim {text!r}: the shortfall must be above zero")
        return Claim(text.strip(), shortfall_g=grams)
    raise UsageError(
        f"claim {text[:60]!r} not understood: write 'short 150g' or 'missing 1 x SKU-ID'"
    )


def packed_parcel(body: dict[str, Any]) -> PackedParcel:
    """The facts a claim is judged on, from a verdict record's body."""

    def grams(key: str) -> Decimal:
        value = body.get(key)
        if value is None:
            raise UsageError(f"the record of order {body.get('order_id')} has no {key} weight")
        return Decimal(str(value["value"]))

    return PackedParcel(
        str(body.get("order_id")),
        str(body["verdict"]),
        grams("measured"),
        grams("expected"),
        grams("lower_limit"),
        grams("upper_limit"),
        packed_lines(body),
    )


def packed_lines(body: dict[str, Any]) -> tuple[PackedLine, ...]:
    """The order lines a verdict record holds (names in every language, unit prices)."""
    order = body.get("order") or {}
    return tuple(
        PackedLine(
            str(line["sku"]),
            ItemName(str(line["name"]), tuple((line.get("names") or {}).items())),
            int(line["qty"]),
            Decimal(str(line["unit_g"])),
            None if line.get("unit_price") is None else Decimal(str(line["unit_price"])),
        )
        for line in order.get("lines") or []
    )


def assess(claim: Claim, parcel: PackedParcel) -> Assessment:
    """Whether the packing record supports, contradicts or cannot decide a claim."""
    measured, lower = parcel.measured_g, parcel.lower_g
    if claim.sku is not None:
        line = _line(parcel, claim.sku)
        if line is None:
            return Assessment(
                Finding.CONTRADICTED,
                Decimal(0),
                measured,
                phrase("The order did not contain {sku}.", sku=claim.sku),
            )
        if claim.qty > line.qty:
            return Assessment(
                Finding.CONTRADICTED,
                Decimal(0),
                measured,
                phrase(
                    "The order had {qty} x {item}, fewer than the {claimed} claimed missing.",
                    qty=line.qty,
                    item=line.name,
                    claimed=claim.qty,
                ),
            )
        shortfall = line.unit_g * claim.qty
    else:
        shortfall = claim.shortfall_g or Decimal(0)
    implied = measured - shortfall
    values: dict[str, Grams] = {
        "measured": Grams(measured),
        "lower": Grams(lower),
        "upper": Grams(parcel.upper_g),
        "shortfall": Grams(shortfall),
        "implied": Grams(implied),
    }
    if measured < lower:
        return Assessment(
            Finding.SUPPORTED,
            shortfall,
            implied,
            phrase(
                "At packing the parcel weighed {measured}, below its lower limit {lower}: "
                "it left the station light.",
                **values,
            ),
        )
    if implied < lower:
        return Assessment(
            Finding.CONTRADICTED,
            shortfall,
            implied,
            phrase(
                "At packing the parcel weighed {measured}, within its limits {lower} to "
                "{upper}. Short by {shortfall} it would have weighed {implied}, below the "
                "lower limit, and the station would have stopped it.",
                **values,
            ),
        )
    return Assessment(
        Finding.INCONCLUSIVE,
        shortfall,
        implied,
        phrase(
            "At packing the parcel weighed {measured}, within its limits {lower} to {upper}. "
            "A shortfall of {shortfall} would still have been inside them: the weight cannot "
            "confirm or rule out the claim.",
            **values,
        ),
    )


def suggest(
    claim: Claim, assessment: Assessment, parcel: PackedParcel, settings: RemedySettings
) -> Remedy:
    """The remedy the site's rule gives for a claim the record does not contradict."""
    rule = settings.rule
    if assessment.finding is Finding.CONTRADICTED:
        return Remedy(rule, phrase("None: answer the claim with this record."))
    if rule is RemedyRule.RESHIP:
        units = _units_for(claim, assessment, parcel)
        if units is not None:
            line, qty = units
            return Remedy(rule, phrase("Re-ship {qty} x {item}.", qty=qty, item=line.name))
    refund = _refund(claim, assessment, parcel)
    if refund is None:
        return Remedy(
            rule,
            phrase(
                "No unit prices in the record: add a price column to the catalog "
                "(or unit_price to the job) to compute the refund."
            ),
        )
    if rule is RemedyRule.VOUCHER:
        amount = max(refund * settings.voucher_rate, settings.voucher_minimum).quantize(
            CENT, ROUND_HALF_UP
        )
        return Remedy(
            rule,
            phrase(
                "A voucher of {amount} {currency}.",
                amount=str(amount),
                currency=settings.currency,
            ),
            amount,
        )
    if rule is RemedyRule.RESHIP:
        return Remedy(
            rule,
            phrase(
                "No whole number of the order's units explains the shortfall: refund "
                "{amount} {currency} instead.",
                amount=str(refund),
                currency=settings.currency,
            ),
            refund,
        )
    return Remedy(
        rule,
        phrase("A refund of {amount} {currency}.", amount=str(refund), currency=settings.currency),
        refund,
    )


def _line(parcel: PackedParcel, sku: str) -> PackedLine | None:
    return next((line for line in parcel.lines if line.sku.casefold() == sku.casefold()), None)


def _units_for(
    claim: Claim, assessment: Assessment, parcel: PackedParcel
) -> tuple[PackedLine, int] | None:
    """The units to re-ship: those claimed, or the whole units closest to the shortfall."""
    if claim.sku is not None:
        line = _line(parcel, claim.sku)
        return (line, claim.qty) if line else None
    room = parcel.expected_g - parcel.lower_g  # how far a weight may miss and still be that
    best: tuple[Decimal, PackedLine, int] | None = None
    for line in parcel.lines:
        for qty in range(1, line.qty + 1):
            miss = abs(line.unit_g * qty - assessment.shortfall_g)
            if miss <= room and (best is None or miss < best[0]):
                best = (miss, line, qty)
    return (best[1], best[2]) if best else None


def _refund(claim: Claim, assessment: Assessment, parcel: PackedParcel) -> Decimal | None:
    """Units x unit price, or the shortfall x the order's price per gram, capped at its value."""
    priced = [line for line in parcel.lines if line.unit_price is not None]
    if not priced:
        return None
    value = sum((line.unit_price * line.qty for line in priced if line.unit_price), Decimal(0))
    if claim.sku is not None:
        line = _line(parcel, claim.sku)
        if line is None or line.unit_price is None:
            return None
        return min(line.unit_price * claim.qty, value).quantize(CENT, ROUND_HALF_UP)
    goods_g = sum((line.unit_g * line.qty for line in priced), Decimal(0))
    try:
        per_gram = value / goods_g
    except (InvalidOperation, ZeroDivisionError):
        return None
    return min(assessment.shortfall_g * per_gram, value).quantize(CENT, ROUND_HALF_UP)
