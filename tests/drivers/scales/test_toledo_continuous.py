"""Toledo continuous output: frames built from WILDCAT Appendix 2 tables 6-8 to 6-11."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar

import pytest

from drivers.scales.toledo_continuous import Settings, make_decoder, parse_frame
from scale_agent.testing.contracts import ScaleDriverContract
from scale_agent.weights import Mode, ReadingKind, Unit, Weight
from tests.drivers.scales.frames import even_parity, toledo

MT = Settings(port="x")


@pytest.mark.parametrize(
    ("a", "b", "weight", "value", "unit", "stable", "mode"),
    [
        (0x2C, 0x30, "001250", "12.50", Unit.KG, True, Mode.GROSS),  # gross stable kg = "0"
        (0x2D, 0x31, "001250", "1.250", Unit.KG, True, Mode.NET),  # 3 decimals, net kg = "1"
        (0x2A, 0x38, "000125", "125", Unit.KG, False, Mode.GROSS),  # no decimals, in motion = "8"
        (
            0x29,
            0x20,
            "000125",
            "1250",
            Unit.LB,
            True,
            Mode.GROSS,
        ),  # one dummy zero, bit 4 clear: lb
        (0x28, 0x20, "000125", "12500", Unit.LB, True, Mode.GROSS),  # two dummy zeros
        (0x3A, 0x22, "000125", "-125", Unit.LB, True, Mode.GROSS),  # x5 increment, negative
        (0x2D, 0x33, "000500", "-0.500", Unit.KG, True, Mode.NET),  # net negative kg = "3"
    ],
)
def test_status_words_place_the_point_and_set_sign_net_and_motion(  # noqa: PLR0917
    a: int, b: int, weight: str, value: str, unit: Unit, stable: bool, mode: Mode
) -> None:
    reading = parse_frame(toledo(a, b, 0x20, weight), MT)
    assert reading.kind is ReadingKind.WEIGHT
    assert (reading.weight, reading.is_stable, reading.mode) == (
        Weight(Decimal(value), unit),
        stable,
        mode,
    )


def test_kg_and_grams_bits() -> None:
    assert parse_frame(toledo(0x2D, 0x30 | 0x10, 0x20, "001250"), MT).weight == Weight.parse(
        "1.25kg"
    )
    assert parse_frame(toledo(0x2A, 0x30, 0x21, "000750"), MT).weight == Weight.parse("750g")


def test_a_clone_with_flipped_unit_bits_takes_its_unit_from_the_config() -> None:
    clone = Settings(port="x", unit="kg")
    frame = toledo(0x2C, 0x20, 0x21, "001250")  # grams and lb by Mettler's bits
    assert parse_frame(frame, clone).weight == Weight.parse("12.5kg")


def test_out_of_range_is_a_status_without_weight() -> None:
    reading = parse_frame(toledo(0x2C, 0x34, 0x20, "999999"), MT)
    assert (reading.kind, reading.weight, reading.error) == (
        ReadingKind.STATUS,
        None,
        "out_of_range",
    )


def test_a_bad_checksum_is_rejected() -> None:
    frame = bytearray(toledo(0x2C, 0x30, 0x20, "001250"))
    frame[-1] ^= 0x01
    assert parse_frame(bytes(frame), MT).error == "bad checksum"


def test_the_fairbanks_8_bit_sum_and_the_short_variant() -> None:
    fairbanks = Settings(port="x", checksum="sum8", bytesize=8, parity="N")
    frame = toledo(0x2C, 0x30, 0x20, "001250", checksum="sum8")
    assert parse_frame(frame, fairbanks).weight == Weight.parse("12.5kg")
    short = Settings(port="x", checksum="none", short=True)
    assert parse_frame(b"\x02, 0001250\r", short).weight == Weight.parse("12.5lb")


def test_fragmented_concatenated_and_parity_bit_frames_decode_alike() -> None:
    frames = toledo(0x2C, 0x30, 0x20, "001250") + toledo(0x2C, 0x38, 0x20, "001240")
    whole = [r.weight for r in make_decoder(MT).feed(frames)]
    assert whole == [Weight.parse("12.5kg"), Weight.parse("12.4kg")]
    for cut in range(1, len(frames)):
        decoder = make_decoder(MT)
        assert [r.weight for r in decoder.feed(frames[:cut]) + decoder.feed(frames[cut:])] == whole
    assert [r.weight for r in make_decoder(MT).feed(even_parity(frames))] == whole


def test_noise_between_frames_is_reported_and_skipped() -> None:
    readings = make_decoder(MT).feed(b"\x15garbage" + toledo(0x2C, 0x30, 0x20, "001250"))
    assert [r.kind for r in readings] == [ReadingKind.ERROR, ReadingKind.WEIGHT]


class TestToledoContinuousContract(ScaleDriverContract):
    driver_name = "toledo-continuous"
    settings: ClassVar[dict[str, Any]] = {}
    stable_weight = Weight.parse("12.5kg")
    moving_weight = Weight.parse("12.4kg")

    def stable_frame(self) -> bytes:
        return toledo(0x2C, 0x30, 0x20, "001250")

    def moving_frame(self) -> bytes:
        return toledo(0x2C, 0x38, 0x20, "001240")
