"""CAS 22-byte frames (CI-600D p.74): the lamp byte carries bit 7 on purpose."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest

from drivers.scales.cas import make_decoder, parse_frame
from scale_agent.testing.contracts import ScaleDriverContract
from scale_agent.weights import Mode, ReadingKind, Weight

W = Weight.parse


def cas(head: bytes, lamp: int, data: bytes, unit: bytes = b"kg") -> bytes:
    return head + b"1" + bytes([lamp]) + b"," + data + b" " + unit + b"\r\n"


@pytest.mark.parametrize(
    ("frame", "weight", "stable", "mode"),
    [
        (cas(b"ST,GS,", 0xC4, b"  12.345"), W("12.345kg"), True, Mode.GROSS),
        (cas(b"ST,NT,", 0xC2, b"- 1.200"[:0] + b"  -1.200"), W("-1.2kg"), True, Mode.NET),
        (cas(b"US,GS,", 0x84, b"  12.300"), W("12.3kg"), False, Mode.GROSS),
        (cas(b"ST,GS,", 0x84, b"  12.300"), W("12.3kg"), False, Mode.GROSS),  # lamp disagrees
    ],
)
def test_frames(frame: bytes, weight: Weight, stable: bool, mode: Mode) -> None:
    reading = parse_frame(frame)
    assert (reading.weight, reading.is_stable, reading.mode) == (weight, stable, mode)


def test_a_lamp_byte_without_bit_7_is_malformed_and_overload_has_no_weight() -> None:
    assert parse_frame(cas(b"ST,GS,", 0x44, b"  12.345")).kind is ReadingKind.ERROR
    overload = parse_frame(cas(b"OL,GS,", 0xC4, b"  99.999"))
    assert (overload.kind, overload.weight, overload.is_overload) == (
        ReadingKind.STATUS,
        None,
        True,
    )


def test_bit_7_survives_the_decoder() -> None:
    [reading] = make_decoder(None).feed(cas(b"ST,GS,", 0xC4, b"  12.345"))  # type: ignore[arg-type]
    assert reading.weight == W("12.345kg")


class TestCasContract(ScaleDriverContract):
    driver_name = "cas"
    settings: ClassVar[dict[str, Any]] = {}
    stable_weight = W("12.345kg")
    moving_weight = W("12.3kg")

    def stable_frame(self) -> bytes:
        return cas(b"ST,GS,", 0xC4, b"  12.345")

    def moving_frame(self) -> bytes:
        return cas(b"US,GS,", 0x84, b"  12.300")
