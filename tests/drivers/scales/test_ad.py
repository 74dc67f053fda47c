"""A&D standard format: lines from the GH (p.44), EK-L (p.30) and AD-4212D manuals."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest

from drivers.scales.ad import make_decoder, parse_line
from scale_agent.testing.contracts import ScaleDriverContract
from scale_agent.weights import Mode, ReadingKind, Weight

W = Weight.parse


@pytest.mark.parametrize(
    ("line", "weight", "stable"),
    [
        (b"ST,+00012.34  g\r\n", W("12.34g"), True),
        (b"US,-00001.20 kg\r\n", W("-1.2kg"), False),
        (b"ST,+0002.500 lb\r\n", W("2.5lb"), True),
        (b"ST,+00036.20 oz\r\n", W("36.2oz"), True),
    ],
)
def test_weight_lines(line: bytes, weight: Weight, stable: bool) -> None:
    reading = parse_line(line)
    assert (reading.kind, reading.weight, reading.is_stable) == (ReadingKind.WEIGHT, weight, stable)


@pytest.mark.parametrize("line", [b"OL,+9999999E+19\r\n", b"OL,+999999.9  g\r\n"])
def test_overload_is_the_header_not_the_number(line: bytes) -> None:
    reading = parse_line(line)
    assert (reading.kind, reading.weight, reading.is_overload) == (ReadingKind.STATUS, None, True)


def test_a_count_is_a_value_but_never_a_weight() -> None:
    reading = parse_line(b"QT,+00000123 PC\r\n")
    assert reading.weight is None
    assert reading.detail == {"value": "123", "unit": "PC"}
    assert not reading.is_usable_weight


@pytest.mark.parametrize(
    "line",
    [b"ST,+0012.34 g\r\n", b"XX,+00012.34  g\r\n", b"ST,+00A12.34  g\r\n", b"ST+00012.34  g\r\n"],
)
def test_malformed_lines_are_errors(line: bytes) -> None:
    assert parse_line(line).kind is ReadingKind.ERROR


@pytest.mark.parametrize(
    ("line", "weight", "mode", "stable"),
    [
        (b"ST,GS,+0012.34kg\r\n", "12.34kg", Mode.GROSS, True),
        (b"ST,NT,-0001.50kg\r\n", "-1.50kg", Mode.NET, True),
        (b"US,NT,+0012.30lb\r\n", "12.30lb", Mode.NET, False),
    ],
)
def test_indicator_lines_with_gross_or_net_and_a_two_character_unit(
    line: bytes, weight: str, mode: Mode, stable: bool
) -> None:
    reading = parse_line(line)
    assert (reading.weight, reading.mode, reading.is_stable) == (W(weight), mode, stable)


def test_an_indicator_set_to_cr_only_is_read_at_each_cr() -> None:
    decoder = make_decoder(None)  # type: ignore[arg-type]
    # CR-only lines: each is read at its CR (an LF would never come).
    stream = b"ST,+00012.34  g\rUS,+00012.30  g\r"
    assert [r.weight for r in decoder.feed(stream)] == [W("12.34g"), W("12.30g")]
    # CR LF split between two reads: still one reading, the lone LF is not a line.
    assert [r.weight for r in decoder.feed(b"ST,+00012.34  g\r")] == [W("12.34g")]
    assert decoder.feed(b"\n") == []
    # CR LF in one read: one reading whose raw bytes are exactly what was sent.
    [reading] = decoder.feed(b"ST,+00012.34  g\r\n")
    assert reading.raw == b"ST,+00012.34  g\r\n"


class TestAdContract(ScaleDriverContract):
    driver_name = "ad"
    settings: ClassVar[dict[str, Any]] = {}
    stable_weight = W("12.34g")
    moving_weight = W("12.30g")

    def stable_frame(self) -> bytes:
        return b"ST,+00012.34  g\r\n"

    def moving_frame(self) -> bytes:
        return b"US,+00012.30  g\r\n"


class TestAdNetContract(ScaleDriverContract):
    """The AD-4404-style form: header, gross/net, 8-character data, 2-character unit."""

    driver_name = "ad"
    settings: ClassVar[dict[str, Any]] = {}
    stable_weight = W("12.34kg")
    moving_weight = W("12.30kg")

    def stable_frame(self) -> bytes:
        return b"ST,NT,+0012.34kg\r\n"

    def moving_frame(self) -> bytes:
        return b"US,NT,+0012.30kg\r"  # set to end lines with CR only
