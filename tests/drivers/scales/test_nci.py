"""NCI standard (SCP-01) and ECR (SCP-02): replies from the NCI 7800 and Aviator manuals."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest

from drivers.scales.nci import Settings, make_decoder, parse_frame, parse_status
from scale_agent.testing.contracts import ScaleDriverContract
from scale_agent.weights import Mode, ReadingKind, Weight
from tests.drivers.scales.frames import even_parity

W = Weight.parse


@pytest.mark.parametrize(
    ("frame", "weight", "stable", "mode"),
    [
        (b"\n  1.25lb\r\n00\r\x03", W("1.25lb"), True, None),
        (b"\n -0.50kg\r\n00\r\x03", W("-0.5kg"), True, None),
        (b"\n 12.3oz\r\n10\r\x03", W("12.3oz"), False, None),  # byte 1 bit 0: motion
        (b"\n  2lb 3.5oz\r\n00\r\x03", W("2.21875lb"), True, None),  # lb-oz mode
        (b"\n0450.0g\r\n0p4\r\x03", W("450g"), True, Mode.NET),  # byte 2 bit 6: byte 3 follows
        (b"\n001.25LB\r\nS00\r\x03", W("1.25lb"), True, None),  # ECR: S prefix, upper case
    ],
)
def test_weight_replies(frame: bytes, weight: Weight, stable: bool, mode: Mode | None) -> None:
    reading = parse_frame(frame)
    assert reading.kind is ReadingKind.WEIGHT
    assert (reading.weight, reading.is_stable, reading.mode) == (weight, stable, mode)


def test_status_only_replies_over_under_and_errors() -> None:
    at_zero = parse_frame(b"\n20\r\x03")  # S: byte 1 bit 1, at zero
    assert (at_zero.kind, at_zero.weight, at_zero.is_stable) == (ReadingKind.STATUS, None, True)
    assert parse_frame(b"\nS10\r\x03").is_stable is False  # ECR: moving, no weight sent
    assert parse_frame(b"\n  9.99lb\r\n02\r\x03").is_overload is True  # byte 2 bit 1
    assert parse_frame(b"\n  0.00lb\r\n01\r\x03").is_underload is True  # byte 2 bit 0
    assert parse_frame(b"\n  1.00lb\r\n40\r\x03").error == "device_error"  # RAM error
    assert parse_frame(b"\n?\r\x03").error == "unknown_command"


@pytest.mark.parametrize("status", [b"0", b"00000", b"0\x01", b"0p", b"00p"])
def test_malformed_status_bytes_are_rejected(status: bytes) -> None:
    assert parse_status(status) is None


def test_a_7e1_stream_read_as_8n1_and_fragments() -> None:
    frames = b"\n  1.25lb\r\n00\r\x03\n  1.30lb\r\n00\r\x03"
    decoder = make_decoder(Settings(port="x"))
    readings = decoder.feed(even_parity(frames[:7])) + decoder.feed(even_parity(frames[7:]))
    assert [r.weight for r in readings] == [W("1.25lb"), W("1.30lb")]


class TestNciContract(ScaleDriverContract):
    driver_name = "nci"
    request_terminator = b"\r"
    settings: ClassVar[dict[str, Any]] = {"mode": "poll", "poll_interval_s": 0.02}
    stable_weight = W("1.25lb")
    moving_weight = W("1.20lb")

    def stable_frame(self) -> bytes:
        return b"\n  1.25lb\r\n00\r\x03"

    def moving_frame(self) -> bytes:
        return b"\n  1.20lb\r\n10\r\x03"
