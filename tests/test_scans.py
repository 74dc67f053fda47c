"""What a scan means, and GS1 element strings from the GS1 General Specifications' examples."""

from __future__ import annotations

import pytest

from scale_agent.domain.catalog import Catalog, Item, is_valid_gtin
from scale_agent.domain.scan_rules import GS, ScanKind, ScanRules, classify, parse_gs1
from scale_agent.errors import Gs1Error
from scale_agent.weights import Weight

W = Weight.parse
CATALOG = Catalog(
    skus={
        "SKU-1023": Item("SKU-1023", "Phone case", W("150g"), W("2g"), gtin="09506000134352"),
        "SKU-2040": Item("SKU-2040", "Book", W("420g"), W("4g"), gtin="04006381333931"),
    },
    cartons={"BOX-S": Item("BOX-S", "Small box", W("35g"), W("1g"))},
)


@pytest.mark.parametrize(
    ("code", "gtin"),
    [
        # GS1-128 with symbology identifier, fixed-length AIs need no separator
        ("]C1010950110153000317140704" + "10AB-123", "09501101530003"),
        # GS1 DataMatrix: a variable-length AI (10) ended by FNC1, sent as GS
        ("]d20109506000134352" + f"10ABC123{GS}17201225", "09506000134352"),
        # GS1 QR and the bracketed human-readable form
        ("]Q301950123456789033103000123", "95012345678903"),
        ("(01)09506000134352(17)201225(10)ABC123", "09506000134352"),
    ],
)
def test_gs1_element_strings_give_the_gtin(code: str, gtin: str) -> None:
    fields = parse_gs1(code)
    assert fields is not None
    assert fields["01"] == gtin


def test_gs1_fields_after_a_variable_length_one_are_kept_apart() -> None:
    assert parse_gs1("]d20109506000134352" + f"10ABC123{GS}17201225") == {
        "01": "09506000134352",
        "10": "ABC123",
        "17": "201225",
    }
    assert parse_gs1("]C101950123456789033103000123") == {
        "01": "95012345678903",
        "3103": "000123",  # net weight 0.123 kg
    }


@pytest.mark.parametrize("code", ["]C10109506000134353", "]C1019506000", "]C1AB"])
def test_bad_gs1_data_is_an_error(code: str) -> None:
    with pytest.raises(Gs1Error):
        parse_gs1(code)


def test_gtin_check_digits() -> None:
    assert is_valid_gtin("6291041500213")  # the General Specifications' GTIN-13 example
    assert not is_valid_gtin("6291041500214")
    assert is_valid_gtin("73513537")


@pytest.mark.parametrize(
    ("code", "kind", "value"),
    [
        ("CMD-REWEIGH", ScanKind.COMMAND, "reweigh"),
        ("CMD-CLOSE", ScanKind.COMMAND, "close"),
        ("OVR-jane.doe", ScanKind.COMMAND, "override"),
        ("BOX-S", ScanKind.CARTON, "BOX-S"),
        ("SO-1001", ScanKind.ORDER, "SO-1001"),
        ("SKU-2040", ScanKind.ITEM, "SKU-2040"),
        ("4006381333931", ScanKind.ITEM, "SKU-2040"),  # a bare EAN-13
        ("]d20109506000134352" + "10LOT1", ScanKind.ITEM, "SKU-1023"),
        ("]C10195012345678903", ScanKind.UNKNOWN, "]C10195012345678903"),  # GTIN not ours
        ("hello", ScanKind.UNKNOWN, "hello"),
    ],
)
def test_scans_are_classified_in_order(code: str, kind: ScanKind, value: str) -> None:
    scan = classify(code, ScanRules(), CATALOG)
    assert (scan.kind, scan.value) == (kind, value)


def test_an_override_card_names_the_operator() -> None:
    assert classify("OVR-jane.doe", ScanRules(), CATALOG).operator == "jane.doe"
    custom = ScanRules(order=r"\d{8}", reweigh="RW")
    assert classify("12345678", custom, CATALOG).kind is ScanKind.ORDER
    assert classify("RW", custom, CATALOG).value == "reweigh"
