"""Ohaus print lines: Defender 3000 (p.37) and Defender 5000 (p.53) layouts."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest

from drivers.scales.ohaus import parse_line
from scale_agent.testing.contracts import ScaleDriverContract
from scale_agent.weights import Mode, ReadingKind, Weight

W = Weight.parse


@pytest.mark.parametrize(
    ("line", "weight", "stable", "mode"),
    [
        (b"     12.34 kg   G\r\n", W("12.34kg"), True, Mode.GROSS),
        (b"-     1.20 lb ? NET\r\n", W("-1.2lb"), False, Mode.NET),
        (b"      -0.5 kg?  N\r\n", W("-0.5kg"), False, Mode.NET),  # Defender 5000: sign by digit
        (b"    250.0 g\r\n", W("250g"), True, None),
        # A legend of one word or more after the stability column
        (b"     12.34 kg ? WET WT\r\n", W("12.34kg"), False, None),
        (b"     12.34 kg   GROSS\r\n", W("12.34kg"), True, Mode.GROSS),
        (b"     12.34 kg   NET\r\n", W("12.34kg"), True, Mode.NET),
    ],
)
def test_lines_read_as_tokens(line: bytes, weight: Weight, stable: bool, mode: Mode | None) -> None:
    reading = parse_line(line)
    assert (reading.kind, reading.weight, reading.is_stable, reading.mode) == (
        ReadingKind.WEIGHT,
        weight,
        stable,
        mode,
    )


@pytest.mark.parametrize(
    "line", [b"      0.35 kg   T\r\n", b"      0.35 kg   TARE\r\n", b"  0.35 kg PRE TARE\r\n"]
)
def test_a_tare_printout_is_not_a_parcel_weight(line: bytes) -> None:
    reading = parse_line(line)
    assert (reading.kind, reading.weight) == (ReadingKind.REPLY, None)


@pytest.mark.parametrize("line", [b"   12.34\r\n", b"abc kg G\r\n", b"1 2 3 kg\r\n"])
def test_malformed_lines_are_errors(line: bytes) -> None:
    assert parse_line(line).kind is ReadingKind.ERROR


class TestOhausContract(ScaleDriverContract):
    driver_name = "ohaus"
    settings: ClassVar[dict[str, Any]] = {}
    stable_weight = W("12.34kg")
    moving_weight = W("12.3kg")

    def stable_frame(self) -> bytes:
        return b"     12.34 kg   G\r\n"

    def moving_frame(self) -> bytes:
        return b"     12.30 kg ? G\r\n"


class TestOhausLegendContract(ScaleDriverContract):
    """Print lines with a legend of several words after the stability column, CR only."""

    driver_name = "ohaus"
    settings: ClassVar[dict[str, Any]] = {}
    stable_weight = W("12.34kg")
    moving_weight = W("12.3kg")

    def stable_frame(self) -> bytes:
        return b"     12.34 kg   WET WT\r"

    def moving_frame(self) -> bytes:
        return b"     12.30 kg ? WET WT\r"  # (PRE TARE names a tare printout: no weight)
