from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scale_agent.errors import WeightFormatError
from scale_agent.weights import Unit, Weight, format_grams


@pytest.mark.parametrize(
    ("text", "grams"),
    [
        ("1025g", Decimal(1025)),
        ("1.025kg", Decimal(1025)),
        ("1lb", Decimal("453.59237")),
        ("1 oz", Decimal("28.349523125")),
        ("16oz", Decimal("453.59237")),
        ("-2.5 g", Decimal("-2.5")),
        (" 0.5 LBS ", Decimal("226.796185")),
    ],
)
def test_weights_parse_to_exact_grams(text: str, grams: Decimal) -> None:
    assert Weight.parse(text).in_grams == grams


@pytest.mark.parametrize("text", ["", "150", "g", "12 stone", "1.2.3kg", "nan g", "1e3g"])
def test_text_without_number_and_known_unit_is_rejected(text: str) -> None:
    with pytest.raises(WeightFormatError):
        Weight.parse(text)


def test_equal_masses_in_different_units_compare_equal() -> None:
    assert Weight.parse("1lb") == Weight.parse("16oz")
    assert Weight.parse("1kg") > Weight.parse("999g")
    assert hash(Weight.parse("1kg")) == hash(Weight.parse("1000g"))


@given(
    st.decimals(min_value=-100_000, max_value=100_000, places=3, allow_nan=False),
    st.sampled_from(list(Unit)),
    st.sampled_from(list(Unit)),
)
def test_conversion_round_trips_to_28_significant_digits(
    value: Decimal, first: Unit, second: Unit
) -> None:
    weight = Weight(value, first)
    back = weight.to(second).to(first)
    assert abs(back.in_grams - weight.in_grams) <= abs(weight.in_grams) * Decimal("1e-26")


def test_conversion_into_grams_is_exact() -> None:
    assert Weight.parse("2.26lb").in_grams == Decimal("1025.1187562")
    assert Weight.parse("36.2oz").in_grams == Decimal("1026.2527371250")


def test_format_grams_switches_to_kilograms_above_one_kilogram() -> None:
    assert format_grams(Decimal(148)) == "148 g"
    assert format_grams(Decimal("175.767043375")) == "175.8 g"
    assert format_grams(Decimal(1027)) == "1.027 kg"
