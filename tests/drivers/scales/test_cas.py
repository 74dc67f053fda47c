"""CAS indicators (CI-600D p.74-75, CI-400 p.103): CAS 22-byte frames, whose lamp byte carries
bit 7 on purpose, and the A&D-compatible AND 18-byte mode."""

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


@pytest.mark.parametrize(
    ("frame", "weight", "stable", "mode"),
    [
        (b"ST,GS,+0012.34kg\r\n", W("12.34kg"), True, Mode.GROSS),
        (b"ST,NT,-0001.20kg\r\n", W("-1.2kg"), True, Mode.NET),
        (b"US,NT,+0012.30kg\r\n", W("12.3kg"), False, Mode.NET),
    ],
)
def test_and_18_byte_frames(frame: bytes, weight: Weight, stable: bool, mode: Mode) -> None:
    assert len(frame) == 18
    reading = parse_frame(frame)
    assert (reading.weight, reading.is_stable, reading.mode) == (weight, stable, mode)


def test_and_18_overload_and_blank_data_give_no_weight() -> None:
    overload = parse_frame(b"OL,GS,+9999.99kg\r\n")
    assert (overload.kind, overload.weight, overload.is_overload) == (
        ReadingKind.STATUS,
        None,
        True,
    )
    assert parse_frame(b"ST,GS,        kg\r\n").weight is None
    # Tonnes are no packing unit: the value is kept for the record, never a weight.
    assert parse_frame(b"ST,GS,+00.0150 t\r\n").weight is None


def test_relay_status_variant_reads_the_weight_whatever_the_outputs() -> None:
    frame = b"ST,GS,1\xc4,  12.345\x85kg\r\n"  # outputs 1, 3 and 8 on (CI-400 p.103)
    assert parse_frame(frame).weight == W("12.345kg")


def test_the_10_byte_mode_is_refused_with_the_setting_to_use() -> None:
    reading = parse_frame(b"00012.34\r\n")
    assert (reading.kind, reading.weight) == (ReadingKind.ERROR, None)
    assert "AND 18" in (reading.error or "")


def test_both_modes_decode_from_one_stream_in_odd_reads() -> None:
    stream = cas(b"ST,GS,", 0xC4, b"  12.345") + b"US,NT,+0012.30kg\r\n"
    decoder = make_decoder(None)  # type: ignore[arg-type]
    readings = [r for i in range(0, len(stream), 5) for r in decoder.feed(stream[i : i + 5])]
    assert [r.weight for r in readings] == [W("12.345kg"), W("12.3kg")]


class TestCasContract(ScaleDriverContract):
    driver_name = "cas"
    settings: ClassVar[dict[str, Any]] = {}
    stable_weight = W("12.345kg")
    moving_weight = W("12.3kg")

    def stable_frame(self) -> bytes:
        return cas(b"ST,GS,", 0xC4, b"  12.345")

    def moving_frame(self) -> bytes:
        return cas(b"US,GS,", 0x84, b"  12.300")


class TestCasAndContract(ScaleDriverContract):
    driver_name = "cas"
    settings: ClassVar[dict[str, Any]] = {}
    stable_weight = W("12.34kg")
    moving_weight = W("12.3kg")

    def stable_frame(self) -> bytes:
        return b"ST,GS,+0012.34kg\r\n"

    def moving_frame(self) -> bytes:
        return b"US,GS,+0012.30kg\r\n"
