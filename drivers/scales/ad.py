"""A&D standard format (balances and indicators that print or stream it).

``ST,+00012.34  g`` CR LF: a header (ST stable, US unstable, OL out of range, QT a stable count),
a comma, 9 characters of data (sign, zero-padded digits, point), 3 characters of unit. On
overload the header is the signal: GH balances send ``OL,+9999999E+19``, which would parse as
1e26. Source: A&D GH manual p.44, EK-L p.30, AD-4212D p.29 (reference/protocols.md section 5).
A&D indicators (AD-4404, AD-4406) send ``ST,GS,+0012.34kg`` or ``ST,NT,...``: a gross/net
field, 8 characters of data and a 2-character unit; both forms are read.
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

_MODES = {"GS": "gross", "NT": "net"}


class Settings(StreamSettings):
    """A&D keys (stream mode; in poll mode the driver sends Q, "send one reading")."""


def parse_line(frame: bytes) -> Reading:
    """Decode one line. Never raises."""
    line = text(frame)
    if line is None or len(line) < 4 or line[2] != ",":  # noqa: PLR2004
        return error(frame, "malformed line")
    header = line[:2]
    if header == "OL":
        return Reading(ReadingKind.STATUS, frame, is_overload=True)
    if header not in {"ST", "US", "QT"}:
        return error(frame, "malformed line")
    if len(line) == 16 and line[3:5] in _MODES and line[5] == ",":  # noqa: PLR2004
        # Indicators (AD-4404, AD-4406): ST,NT,+0012.34kg - gross or net, 8 + 2 characters.
        value = number(line[6:14])
        if value is None:
            return error(frame, "malformed weight")
        mode = _MODES[line[3:5]]
        return weight_reading(frame, value, line[14:16], stable=header != "US", mode=mode)
    if len(line) != 15:  # noqa: PLR2004
        return error(frame, "malformed line")
    value = number(line[3:12])
    if value is None:
        return error(frame, "malformed weight")
    return weight_reading(frame, value, line[12:15], stable=header != "US")


class AdScale(SerialScale[Settings]):
    """An A&D balance or indicator; Q asks for a reading, R re-zeroes, T tares."""

    parse = staticmethod(parse_line)
    poll = b"Q\r\n"
    commands: ClassVar[dict[ScaleCommand, bytes]] = {
        ScaleCommand.ZERO: b"R\r\n",
        ScaleCommand.TARE: b"T\r\n",
    }
    model = "A&D balance"


make_decoder = AdScale.decoder


DRIVER = AdScale
