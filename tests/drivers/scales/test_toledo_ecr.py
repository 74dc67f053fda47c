"""Toledo 8217/8213 ECR: replies from the DIVA service manual sections 6.1.3 and 6.1.4."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest

from drivers.scales.toledo_ecr import parse_frame
from scale_agent.testing.contracts import ScaleDriverContract
from scale_agent.weights import Mode, ReadingKind, Weight

W = Weight.parse


@pytest.mark.parametrize(
    ("frame", "unit", "weight", "mode"),
    [
        (b"\x02001.25\r", "auto", W("1.25lb"), Mode.GROSS),  # 8217 lb: 0WW.WW
        (b"\x0201.250\r", "auto", W("1.25kg"), Mode.GROSS),  # 8217 kg: WW.WWW
        (b"\x02001.25N\r", "auto", W("1.25lb"), Mode.NET),  # N before CR: net
        (b"\x0201.25\r", "auto", W("1.25lb"), Mode.GROSS),  # 8213
        (b"\x02001250\r", "g", W("1250g"), Mode.GROSS),  # grams: the unit from the config
    ],
)
def test_weight_replies(frame: bytes, unit: str, weight: Weight, mode: Mode) -> None:
    reading = parse_frame(frame, unit)
    assert (reading.kind, reading.weight, reading.is_stable, reading.mode) == (
        ReadingKind.WEIGHT,
        weight,
        True,
        mode,
    )


def test_a_weight_without_decimals_and_without_a_configured_unit_is_not_guessed() -> None:
    reading = parse_frame(b"\x02001250\r")
    assert (reading.kind, reading.weight) == (ReadingKind.ERROR, None)
    assert "set unit" in (reading.error or "")


@pytest.mark.parametrize(
    ("status", "stable", "over", "under"),
    [
        (b"A", False, False, False),
        (b"B", True, True, False),
        (b"D", True, False, True),
        (b"@", True, False, False),
    ],
)
def test_status_replies(status: bytes, stable: bool, over: bool, under: bool) -> None:
    reading = parse_frame(b"\x02?" + status + b"\r")
    assert (reading.kind, reading.weight) == (ReadingKind.STATUS, None)
    assert (reading.is_stable, reading.is_overload, reading.is_underload) == (stable, over, under)


def test_a_status_byte_without_bit_6_is_malformed() -> None:
    assert parse_frame(b"\x02?\x01\r").error == "bad status byte"


class TestToledo8217Contract(ScaleDriverContract):
    driver_name = "toledo-8217"
    request_terminator = None
    settings: ClassVar[dict[str, Any]] = {"mode": "poll", "poll_interval_s": 0.02}
    stable_weight = W("1.25lb")
    moving_weight = None  # in motion the scale answers with a status byte

    def stable_frame(self) -> bytes:
        return b"\x02001.25\r"

    def moving_frame(self) -> bytes:
        return b"\x02?A\r"
