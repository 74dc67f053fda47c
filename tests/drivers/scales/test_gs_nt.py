"""GS/NT lines: the A&D AD-4404 example and the Salter Brecknell S122 format."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest

from drivers.scales.gs_nt import parse_line
from scale_agent.testing.contracts import ScaleDriverContract
from scale_agent.weights import Mode, ReadingKind, Weight

W = Weight.parse


@pytest.mark.parametrize(
    ("line", "weight", "stable", "mode"),
    [
        (b"ST,NT,+0012.34kg\r\n", W("12.34kg"), True, Mode.NET),
        (b"US,GS,-0001.20lb\r\n", W("-1.2lb"), False, Mode.GROSS),
        (b"ST,GS,+0000.00kg\r", W("0kg"), True, Mode.GROSS),  # CR-only variant ends at the next LF
    ],
)
def test_weight_lines(line: bytes, weight: Weight, stable: bool, mode: Mode) -> None:
    reading = parse_line(line)
    assert (reading.weight, reading.is_stable, reading.mode) == (weight, stable, mode)


def test_out_of_range_overload_and_tare_printouts() -> None:
    assert parse_line(b"OL,GS,+9999999kg\r\n").is_overload is True
    out = parse_line(b"LO,GS,        kg\r\n")
    assert (out.kind, out.weight, out.error) == (ReadingKind.STATUS, None, "out_of_range")
    tare = parse_line(b"ST,TR,+0000.35kg\r\n")
    assert (tare.kind, tare.weight) == (ReadingKind.REPLY, None)


class TestGsNtContract(ScaleDriverContract):
    driver_name = "gs-nt"
    settings: ClassVar[dict[str, Any]] = {}
    stable_weight = W("12.34kg")
    moving_weight = W("12.30kg")

    def stable_frame(self) -> bytes:
        return b"ST,GS,+0012.34kg\r\n"

    def moving_frame(self) -> bytes:
        return b"US,GS,+0012.30kg\r\n"
