r"""Mettler Toledo "Standard Continuous Output" (and the many terminals that copy it).

A frame: ``STX SWA SWB SWC W1..W6 T1..T6 CR [CKS]``, e.g. ``\x02,00001250000000\r`` plus a
checksum: status word A ``,`` (0x2C: XXXX.XX, increment x1), B ``0`` (gross, positive, stable,
lb... see below), C ``0``, weight ``001250`` = 12.50, tare ``000000``. No sign and no decimal
point on the wire: SWA bits 0-2 place the point, SWB bit1 is the sign, bit0 net, bit2 out of
range (over or under), bit3 motion, bit4 kg (else lb); SWC bit0 grams. Source: WILDCAT Scale
Technical Manual Appendix 2, Tables 6-8 to 6-11; IND445 manual 22013194B section 5.2
(reference/protocols.md section 2). The checksum is Mettler's 7-bit two's complement or, on
Fairbanks, the low 8 bits of the sum; the short variant has no tare field.
"""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar, Literal

from drivers.scales._stream import FrameDecoder, SerialScale, StreamSettings, error
from scale_agent.plugins import ScaleCommand
from scale_agent.weights import UNIT_NAMES, Mode, Reading, ReadingKind, Unit, Weight

STX, CR = 0x02, 0x0D


class Settings(StreamSettings):
    """Toledo continuous keys."""

    bytesize: Literal[7, 8] = 7
    parity: Literal["N", "E", "O"] = "E"
    checksum: Literal["none", "mettler", "sum8"] = "mettler"
    short: bool = False  # Cardinal "SHORT": no tare field
    unit: Literal["auto", "g", "kg", "lb", "oz"] = "auto"  # clones flip the unit bits


def parse_frame(frame: bytes, settings: Settings) -> Reading:
    """Decode one frame (STX .. CR and the checksum byte, if any). Never raises."""
    body = 11 if settings.short else 17
    if len(frame) != body + (settings.checksum != "none") or frame[0] != STX:
        return error(frame, "malformed frame")
    if frame[body - 1] != CR:
        return error(frame, "malformed frame")
    total = sum(frame[:body])
    if settings.checksum == "mettler" and (total + frame[-1]) & 0x7F:
        return error(frame, "bad checksum")
    if settings.checksum == "sum8" and total & 0xFF != frame[-1]:
        return error(frame, "bad checksum")
    a, b, c = frame[1] & 0x7F, frame[2] & 0x7F, frame[3] & 0x7F
    digits = frame[4:10]
    # SWA always has bit 5 set and bit 6 clear; SWB's bit 5 differs between vendors.
    if not digits.isdigit() or a & 0x60 != 0x20:  # noqa: PLR2004
        return error(frame, "malformed frame")
    if b & 0x04:  # out of range: over or under capacity, the frame does not say which
        return Reading(ReadingKind.STATUS, frame, error="out_of_range")
    point = a & 0x07
    value = Decimal(int(digits))
    value = value * (100 if point == 0 else 10) if point <= 1 else value.scaleb(-(point - 2))
    if b & 0x02:
        value = -value
    if settings.unit != "auto":
        unit = UNIT_NAMES[settings.unit]
    else:
        unit = Unit.G if c & 0x01 else Unit.KG if b & 0x10 else Unit.LB
    mode = Mode.NET if b & 0x01 else Mode.GROSS
    return Reading(ReadingKind.WEIGHT, frame, Weight(value, unit), not b & 0x08, mode)


def make_decoder(settings: Settings) -> FrameDecoder:
    """The incremental decoder for these settings."""
    return FrameDecoder(
        lambda frame: parse_frame(frame, settings),
        end=b"\r",
        start=b"\x02",
        trailer=0 if settings.checksum == "none" else 1,
        mask_parity=settings.checksum != "sum8",  # an 8-bit sum needs every bit
    )


class ToledoContinuousScale(SerialScale[Settings]):
    """A terminal streaming Toledo continuous output; zero and tare by single letters."""

    commands: ClassVar[dict[ScaleCommand, bytes]] = {
        ScaleCommand.ZERO: b"Z\r\n",
        ScaleCommand.TARE: b"T\r\n",
    }
    model = "Toledo continuous output"

    @classmethod
    def decoder(cls, settings: Settings) -> FrameDecoder:
        """The module's own framing."""
        return make_decoder(settings)


DRIVER = ToledoContinuousScale
