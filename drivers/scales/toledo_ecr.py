r"""Toledo 8217 and 8213 ECR protocols (POS scales; also Brecknell, Rice Lake, Odoo's driver).

Send ``W``; a stable weight comes back as ``\x02001.25\r`` (8217, lb: 0WW.WW), ``\x0201.250\r``
(8217, kg: WW.WWW), ``\x0201.25\r`` (8213), with ``N`` before CR for net. Instead of a weight,
``\x02?<status>\r`` while moving, negative or over capacity: bit 0 motion, 1 over capacity,
2 under zero, 3 outside zero capture, 4 centre of zero, 5 net, bit 6 always 1. No unit is
sent: two decimals mean lb and three mean kg (the manual's layout), anything else needs
`unit` in the config. Source: METTLER TOLEDO DIVA service manual 72191202 sections 6.1.3 and
6.1.4 (reference/protocols.md section 4).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import ClassVar, Literal

from drivers.scales._stream import FrameDecoder, SerialScale, StreamSettings, error
from scale_agent.plugins import ScaleCommand
from scale_agent.weights import UNIT_NAMES, Mode, Reading, ReadingKind, Unit, Weight

_DIGITS = re.compile(rb"^\d+(?:\.(\d+))?$")
_BY_DECIMALS = {2: Unit.LB, 3: Unit.KG}


class Settings(StreamSettings):
    """8213/8217 keys: polled, 9600 7E1 as Odoo and the manuals use."""

    mode: Literal["continuous", "poll"] = "poll"
    bytesize: Literal[7, 8] = 7
    parity: Literal["N", "E", "O"] = "E"
    unit: Literal["auto", "g", "kg", "lb", "oz"] = "auto"


def parse_frame(frame: bytes, unit_setting: str = "auto") -> Reading:
    """Decode one reply, STX .. CR. Never raises."""
    if len(frame) < 3 or frame[0] != 0x02 or frame[-1] != 0x0D:  # noqa: PLR2004
        return error(frame, "malformed frame")
    body = frame[1:-1]
    if body.startswith(b"?"):
        if len(body) != 2 or not body[1] & 0x40:  # noqa: PLR2004 - bit 6 is always set
            return error(frame, "bad status byte")
        status = body[1]
        mode = Mode.NET if status & 0x20 else Mode.GROSS
        return Reading(
            ReadingKind.STATUS,
            frame,
            is_stable=not status & 0x01,
            mode=mode,
            is_overload=bool(status & 0x02),
            is_underload=bool(status & 0x04),
        )
    is_net = body.endswith(b"N")
    digits = body[:-1] if is_net else body
    match = _DIGITS.match(digits)
    if match is None:
        return error(frame, "malformed weight")
    decimals = len(match.group(1) or b"")
    unit = UNIT_NAMES.get(unit_setting) or _BY_DECIMALS.get(decimals)
    if unit is None:
        return error(frame, "no unit on the wire: set unit in the config")
    weight = Weight(Decimal(digits.decode()), unit)
    # A weight reply is a stable weight: in motion the scale answers with a status instead.
    mode = Mode.NET if is_net else Mode.GROSS
    return Reading(ReadingKind.WEIGHT, frame, weight, is_stable=True, mode=mode)


def make_decoder(settings: Settings) -> FrameDecoder:
    """The incremental decoder."""
    return FrameDecoder(lambda frame: parse_frame(frame, settings.unit), end=b"\r", start=b"\x02")


class ToledoEcrScale(SerialScale[Settings]):
    """An 8213/8217 scale, polled with W; Z zeroes, T tares."""

    poll = b"W"
    commands: ClassVar[dict[ScaleCommand, bytes]] = {
        ScaleCommand.ZERO: b"Z",
        ScaleCommand.TARE: b"T\r",
    }
    model = "Toledo 8213/8217 ECR scale"

    @classmethod
    def decoder(cls, settings: Settings) -> FrameDecoder:
        """The module's own framing."""
        return make_decoder(settings)


DRIVER = ToledoEcrScale
