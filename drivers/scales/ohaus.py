"""Ohaus print lines (Defender, Ranger, Scout, Valor...).

``     12.34 kg ? NET`` CR LF: a sign (when negative), the value right-justified, the unit,
``?`` while unstable, and a legend of one word or more after the stability column (G, GS or
GROSS gross; N or NET net; T, PT, TARE or PRE TARE a tare printout; others such as WET WT
name the weight without saying gross or net).
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

_LEGENDS = {"G": "gross", "GS": "gross", "GROSS": "gross", "N": "net", "NET": "net"}
_TARE = {"T", "PT", "TARE", "PRE TARE"}


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
    # Value and unit come first; whatever follows is the legend, one word or several
    # (G, NET, TARE, WET WT, ...). "g" right after a value is the unit (grams), not "G".
    if len(tokens) < 2 or not all(word.isalpha() for word in tokens[2:]):  # noqa: PLR2004
        return error(frame, "malformed line")
    legend = " ".join(tokens[2:]).upper() or None
    tokens = tokens[:2]
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
