"""Ohaus print lines (Defender, Ranger, Scout, Valor...).

``     12.34 kg ? NET`` CR LF: a sign (when negative), the value right-justified, the unit,
``?`` while unstable, and a legend (G or GS gross, N or NET net, T or PT a tare printout).
Justification differs from model to model, so the line is read as whitespace tokens. Source:
Ohaus Defender 3000 manual p.37, Defender 5000 p.53, Ranger Count p.36 (reference/protocols.md
section 5). ``P`` asks for a print, ``Z`` zeroes, ``T`` tares.
"""

from __future__ import annotations

from typing import ClassVar

from drivers.scales._stream import (
    SerialScale,
    StreamSettings,
    error,
    number,
    text,
    weight_reading,
)
from scale_agent.plugins import ScaleCommand
from scale_agent.weights import Reading, ReadingKind

_LEGENDS = {"G": "gross", "GS": "gross", "N": "net", "NET": "net"}
_TARE = {"T", "PT"}


class Settings(StreamSettings):
    """Ohaus keys."""


def parse_line(frame: bytes) -> Reading:
    """Decode one line. Never raises."""
    line = text(frame)
    if line is None:
        return error(frame, "malformed line")
    tokens = line.replace("?", " ? ").split()
    is_moving = "?" in tokens
    tokens = [word for word in tokens if word != "?"]
    sign = tokens.pop(0) if tokens and tokens[0] == "-" else ""
    # A legend follows value and unit; "g" alone after a value is the unit (grams), not "G".
    has_legend = len(tokens) > 2 and tokens[-1].upper() in {*_LEGENDS, *_TARE}  # noqa: PLR2004
    legend = tokens.pop().upper() if has_legend else None
    if len(tokens) != 2:  # noqa: PLR2004 - value and unit
        return error(frame, "malformed line")
    value = number(sign + tokens[0])
    if value is None:
        return error(frame, "malformed weight")
    if legend in _TARE:
        return Reading(ReadingKind.REPLY, frame, detail={"tare": str(value), "unit": tokens[1]})
    return weight_reading(
        frame, value, tokens[1], stable=not is_moving, mode=_LEGENDS.get(legend or "")
    )


class OhausScale(SerialScale[Settings]):
    """An Ohaus scale printing or streaming lines; polled with P."""

    parse = staticmethod(parse_line)
    poll = b"P\r\n"
    commands: ClassVar[dict[ScaleCommand, bytes]] = {
        ScaleCommand.ZERO: b"Z\r\n",
        ScaleCommand.TARE: b"T\r\n",
    }
    model = "Ohaus scale"


make_decoder = OhausScale.decoder


DRIVER = OhausScale
