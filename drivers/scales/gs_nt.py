"""The "GS/NT" line family (A&D indicators, Salter Brecknell, many Asian indicators).

``ST,NT,+0012.34kg`` CR LF: stability (ST, US; OL over; LO out of range), gross/net (GS, NT; TR
for a tare printout), 8 characters of signed data with the point, a 2-character unit.
Out-of-range data is sent as spaces. Source: A&D AD-4404 specification p.82, Salter Brecknell
S122 p.54 (reference/protocols.md section 5).
"""

from __future__ import annotations

import re

from drivers.scales._stream import (
    SerialScale,
    StreamSettings,
    error,
    number,
    text,
    weight_reading,
)
from scale_agent.weights import Reading, ReadingKind

_LINE = re.compile(r"^(ST|US|OL|LO),(GS|NT|TR),(.{6,10}?)\s*([A-Za-z%]{0,3})$")
_MODES = {"GS": "gross", "NT": "net"}


class Settings(StreamSettings):
    """GS/NT keys."""


def parse_line(frame: bytes) -> Reading:
    """Decode one line. Never raises."""
    line = text(frame)
    match = _LINE.match(line) if line is not None else None
    if match is None:
        return error(frame, "malformed line")
    status, kind, data, unit = match.groups()
    if status == "OL":
        return Reading(ReadingKind.STATUS, frame, is_overload=True)
    if status == "LO" or not data.strip():
        return Reading(ReadingKind.STATUS, frame, error="out_of_range")
    value = number(data)
    if value is None:
        return error(frame, "malformed weight")
    if kind == "TR":
        return Reading(ReadingKind.REPLY, frame, detail={"tare": str(value), "unit": unit})
    return weight_reading(frame, value, unit or None, stable=status == "ST", mode=_MODES[kind])


class GsNtScale(SerialScale[Settings]):
    """An indicator streaming GS/NT lines."""

    parse = staticmethod(parse_line)
    model = "GS/NT indicator"


make_decoder = GsNtScale.decoder


DRIVER = GsNtScale
