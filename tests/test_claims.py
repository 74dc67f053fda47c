"""A customer's claim against the packing record: what the record says, and the remedy."""

from __future__ import annotations

from decimal import Decimal

import pytest

from scale_agent.domain.claims import (
    Finding,
    PackedLine,
    PackedParcel,
    RemedyRule,
    RemedySettings,
    assess,
    parse_claim,
    suggest,
)
from scale_agent.domain.phrases import ItemName
from scale_agent.errors import UsageError
from scale_agent.io.translations import Translator

MUG = PackedLine(
    "SKU-1001", ItemName("Ceramic mug", (("zh_CN", "陶瓷杯"),)), 2, Decimal(342), Decimal("39.00")
)
BOOK = PackedLine("SKU-2040", ItemName("Hardcover book"), 1, Decimal(420), Decimal("88.00"))
EN = Translator("en")


def parcel(measured: int, lines: tuple[PackedLine, ...] = (MUG, BOOK)) -> PackedParcel:
    # expected 2 x 342 + 420 + 120 carton = 1224 g, accepted 1200..1260 g
    return PackedParcel(
        "SO-1", "PASS", Decimal(measured), Decimal(1224), Decimal(1200), Decimal(1260), lines
    )


def test_claims_are_read_as_customer_service_types_them() -> None:
    assert parse_claim("short 150g").shortfall_g == Decimal(150)
    assert parse_claim("short by 0.15 kg").shortfall_g == Decimal("150.000")
    missing = parse_claim("missing 2 x SKU-1001")
    assert (missing.sku, missing.qty) == ("SKU-1001", 2)
    assert parse_claim("Missing SKU-2040").qty == 1
    for bad in ("it was broken", "short -5g", "short 0g", "missing 0 x SKU-1"):
        with pytest.raises(UsageError):
            parse_claim(bad)


def test_a_parcel_that_passed_contradicts_a_missing_mug() -> None:
    claim = parse_claim("missing 1 x SKU-1001")
    answer = assess(claim, parcel(1222))
    assert answer.finding is Finding.CONTRADICTED
    assert answer.implied_g == Decimal(880)  # 1222 - 342: far below 1200, it would have stopped
    sentence = EN.render(answer.because)
    assert "1.222 kg" in sentence
    assert "880 g" in sentence
    remedy = suggest(claim, answer, parcel(1222), RemedySettings(rule=RemedyRule.REFUND))
    assert remedy.amount is None
    assert EN.render(remedy.offer) == "None: answer the claim with this record."


def test_a_parcel_that_left_light_supports_the_claim_and_each_rule_prices_it() -> None:
    claim = parse_claim("missing 1 x SKU-1001")
    light = parcel(882)
    answer = assess(claim, light)
    assert answer.finding is Finding.SUPPORTED
    reship = suggest(claim, answer, light, RemedySettings(rule=RemedyRule.RESHIP))
    assert EN.render(reship.offer) == "Re-ship 1 x Ceramic mug."
    assert Translator("zh_CN").render(reship.offer) == "补发 1 x 陶瓷杯。"
    refund = suggest(claim, answer, light, RemedySettings(rule=RemedyRule.REFUND, currency="EUR"))
    assert refund.amount == Decimal("39.00")
    assert EN.render(refund.offer) == "A refund of 39.00 EUR."
    voucher = suggest(
        claim,
        answer,
        light,
        RemedySettings(
            rule=RemedyRule.VOUCHER, voucher_rate=Decimal("1.5"), voucher_minimum=Decimal(10)
        ),
    )
    assert voucher.amount == Decimal("58.50")


def test_a_weight_shortfall_is_refunded_by_the_orders_price_per_gram() -> None:
    claim = parse_claim("short 150g")
    light = parcel(1060)
    answer = assess(claim, light)
    assert answer.finding is Finding.SUPPORTED
    # goods 1104 g worth 166.00: 150 g x 166 / 1104 = 22.554... -> 22.55
    refund = suggest(claim, answer, light, RemedySettings(rule=RemedyRule.REFUND))
    assert refund.amount == Decimal("22.55")
    # no whole number of mugs or books is 150 g: the re-ship rule falls back to the refund
    reship = suggest(claim, answer, light, RemedySettings(rule=RemedyRule.RESHIP))
    assert reship.amount == Decimal("22.55")
    assert "refund 22.55 CNY instead" in EN.render(reship.offer)
    # a voucher never below the site's floor
    voucher = suggest(
        claim, answer, light, RemedySettings(rule=RemedyRule.VOUCHER, voucher_minimum=Decimal(30))
    )
    assert voucher.amount == Decimal("30.00")


def test_a_shortfall_inside_the_tolerance_is_not_decided_by_the_weight() -> None:
    answer = assess(parse_claim("short 10g"), parcel(1224))
    assert answer.finding is Finding.INCONCLUSIVE
    assert "cannot confirm or rule out" in EN.render(answer.because)


def test_a_claim_about_what_the_order_never_held_is_contradicted() -> None:
    assert assess(parse_claim("missing 1 x SKU-9"), parcel(900)).finding is Finding.CONTRADICTED
    too_many = assess(parse_claim("missing 3 x SKU-1001"), parcel(500))
    assert too_many.finding is Finding.CONTRADICTED
    assert "fewer than the 3 claimed" in EN.render(too_many.because)


def test_without_prices_the_refund_says_what_to_add() -> None:
    unpriced = PackedLine("SKU-1", ItemName("Thing"), 1, Decimal(100), None)
    light = parcel(800, (unpriced,))
    claim = parse_claim("missing 1 x SKU-1")
    answer = assess(claim, light)
    remedy = suggest(claim, answer, light, RemedySettings(rule=RemedyRule.REFUND))
    assert remedy.amount is None
    assert "price column" in EN.render(remedy.offer)
