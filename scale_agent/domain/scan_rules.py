"""What a scanned code means: a command, a carton, an order, or an item (SKU or GS1 GTIN).

Pure functions. `classify` tries, in this order: the command patterns (re-weigh, cancel,
close the parcel, a supervisor's override card), cartons, orders, SKUs, and GS1 data whose
AI (01) GTIN is in the catalog. GS1 element strings come as scanners send them: with a
symbology identifier (``]C1`` GS1-128, ``]d2`` GS1 DataMatrix, ``]Q3`` GS1 QR, ``]e0``
DataBar) and FNC1 transmitted as GS (0x1D), or in the bracketed human-readable form
``(01)09506000134352(17)201225(10)ABC123``. (GS1 General Specifications 5.10 and 7.8.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from pydantic import field_validator

from scale_agent.domain.catalog import is_valid_gtin
from scale_agent.errors import Gs1Error
from scale_agent.models import StrictModel

if TYPE_CHECKING:
    from scale_agent.domain.catalog import Catalog

GS = "\x1d"
SYMBOLOGY_IDS = ("]C1", "]d2", "]Q3", "]e0", "]J1")
# Data lengths of the AIs whose length is predefined (GS1 General Specifications, 7.8.5);
# every other AI runs to the next FNC1 (GS) or the end.
_FIXED = {"00": 18, "01": 14, "02": 14, "03": 14, "04": 16, "20": 2}
_FIXED.update({f"1{digit}": 6 for digit in range(1, 10)})  # dates: YYMMDD
_TWO_DIGIT = {"00", "01", "02", "03", "04", "10", "11", "12", "13", "14", "15", "16", "17"}
_TWO_DIGIT |= {"18", "19", "20", "21", "22", "30", "37"} | {str(n) for n in range(90, 100)}
_FOUR_DIGIT = {"31", "32", "33", "34", "35", "36", "39", "70", "71", "72", "80", "81", "82"}
_BRACKETED = re.compile(r"\((\d{2,4})\)([^(]*)")


def _ai_length(data: str) -> int:
    prefix = data[:2]
    if prefix in _TWO_DIGIT:
        return 2
    if prefix in _FOUR_DIGIT:
        return 4
    return 3


def parse_gs1(code: str) -> dict[str, str] | None:
    """The AIs and values of a GS1 code, or None when the code is not GS1 data.

    Raises:
        Gs1Error: for GS1 data that is cut short or carries a GTIN with a bad check digit.
    """
    text = code.strip("\r\n")
    if text.startswith("("):
        fields = {ai: value.strip(GS) for ai, value in _BRACKETED.findall(text)}
        if not fields:
            return None
    elif text.startswith(SYMBOLOGY_IDS) or text.startswith(GS):
        fields = _element_string(text.removeprefix(text[:3] if text[0] == "]" else GS))
    else:
        return None
    gtin = fields.get("01")
    if gtin is not None and not is_valid_gtin(gtin):
        raise Gs1Error(f"GTIN {gtin} in {code!r} has a wrong check digit")
    return fields


def _element_string(data: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    position = 0
    while position < len(data):
        if data[position] == GS:
            position += 1
            continue
        ai = data[position : position + _ai_length(data[position:])]
        if len(ai) < 2 or not ai.isdigit():  # noqa: PLR2004 - the shortest AI
            raise Gs1Error(f"expected an application identifier at {data[position:]!r}")
        position += len(ai)
        fixed = _FIXED.get(ai) or (6 if ai[:2] in _FOUR_DIGIT and ai[:1] == "3" else None)
        if fixed is not None:
            value = data[position : position + fixed]
            if len(value) < fixed:
                raise Gs1Error(f"AI ({ai}) needs {fixed} characters, got {value!r}")
            position += fixed
        else:
            end = data.find(GS, position)
            end = len(data) if end < 0 else end
            value = data[position:end]
            position = end
        fields[ai] = value
    return fields


class ScanKind(StrEnum):
    """What a scan was taken to be."""

    COMMAND = "command"
    CARTON = "carton"
    ORDER = "order"
    ITEM = "item"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Scan:
    """A classified scan: its kind and value (command name, carton, order id or SKU)."""

    kind: ScanKind
    value: str
    code: str
    operator: str | None = None  # from an override card
    reason: str = ""  # why an UNKNOWN scan was not understood


def _pattern(value: str | None) -> str | None:
    if value is not None:
        re.compile(value)  # a bad pattern is a config error, raised here as ValueError
    return value


class ScanRules(StrictModel):
    """The `[scans]` section: regular expressions (matched in full) for each kind of code.

    Cartons and SKUs also match by catalog id (and GTIN) without any pattern.
    """

    reweigh: str = "CMD-REWEIGH"
    test: str = "CMD-TEST"  # a routine scale test with the reference weights
    cancel: str = "CMD-CANCEL"
    close: str = "CMD-CLOSE"
    override: str = r"OVR-(?P<operator>[A-Za-z0-9_.-]{1,64})"
    carton: str | None = None
    order: str = r"(?:SO|ORD|PO)-?[A-Za-z0-9-]{1,60}"
    sku: str | None = None

    _valid = field_validator(
        "reweigh", "test", "cancel", "close", "override", "carton", "order", "sku"
    )(_pattern)


COMMANDS = ("reweigh", "cancel", "close", "override", "test")


def classify(code: str, rules: ScanRules, catalog: Catalog) -> Scan:  # noqa: PLR0911
    """Decide what a scanned code is (see the module docstring for the order)."""
    text = code.strip()
    for command in COMMANDS:
        match = re.fullmatch(getattr(rules, command), text)
        if match:
            operator = match.groupdict().get("operator") if command == "override" else None
            return Scan(ScanKind.COMMAND, command, code, operator=operator)
    if text in catalog.cartons or (rules.carton and re.fullmatch(rules.carton, text)):
        return Scan(ScanKind.CARTON, text, code)
    try:
        gs1 = parse_gs1(code.strip())
    except Gs1Error as exc:
        return Scan(ScanKind.UNKNOWN, text, code, reason=str(exc))
    if gs1 is None and re.fullmatch(rules.order, text):
        return Scan(ScanKind.ORDER, text, code)
    if gs1 is None and (text in catalog.skus or (rules.sku and re.fullmatch(rules.sku, text))):
        return Scan(ScanKind.ITEM, text, code)
    gtin = gs1.get("01") if gs1 is not None else (text if is_valid_gtin(text) else None)
    if gtin is not None:
        item = catalog.sku_for_gtin(gtin)
        if item is not None:
            return Scan(ScanKind.ITEM, item.id, code)
        return Scan(ScanKind.UNKNOWN, text, code, reason=f"GTIN {gtin} is not in the catalog")
    return Scan(ScanKind.UNKNOWN, text, code, reason="matches no command, carton, order or SKU")
