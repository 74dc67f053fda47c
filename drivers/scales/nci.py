r"""NCI / Avery Weigh-Tronix / Brecknell "NCI standard" (SCP-01) and the ECR variant (SCP-02).

``W`` + CR asks for the weight: ``\n  1.25lb\r\n00\r\x03`` (weight with its unit, then the
status bytes, then ETX). ``S`` and ``Z`` answer with the status alone: ``\n00\r\x03``; an
unknown command with ``\n?\r\x03``. Status bytes carry bits 4 and 5 set; byte 1: motion, at
zero, RAM error, EEPROM error; byte 2: under capacity, over capacity, ROM error, calibration;
byte 3 (optional): range, net, initial zero error; byte 4: weight changed, zero seen, metric.
From byte 2 on, bit 6 says another byte follows: count them, never assume two. The ECR
variant prefixes the status with ``S`` and answers ``W`` with the status only while the weight
is negative, moving or over capacity. Source: NCI 7800 manual p.32, Avery Weigh-Tronix 7821
section 6.3, Ohaus Aviator 7000 service manual pp.47-49 (reference/protocols.md section 3).
"""

from __future__ import annotations

import functools
import re
from decimal import Decimal
from typing import ClassVar, Literal, NamedTuple

from drivers.scales._stream import FrameDecoder, SerialScale, StreamSettings, error
from scale_agent.plugins import ScaleCommand
from scale_agent.weights import UNIT_BYTES, Mode, Reading, ReadingKind, Unit, Weight

_WEIGHT = re.compile(rb"^\s*(-?)\s*(\d+(?:\.\d*)?|\.\d+)\s*([A-Za-z]{1,3})\s*$")
_POUNDS_OUNCES = re.compile(rb"^\s*(\d+)\s*lb\s+(\d+(?:\.\d*)?)\s*oz\s*$", re.IGNORECASE)


class Settings(StreamSettings):
    """NCI keys: polled with W by default, 7 data bits even parity."""

    mode: Literal["continuous", "poll"] = "poll"
    bytesize: Literal[7, 8] = 7
    parity: Literal["N", "E", "O"] = "E"


class Flags(NamedTuple):
    """What the status bytes say."""

    motion: bool
    error: bool
    under: bool
    over: bool
    net: bool | None  # None when byte 3 is absent


@functools.lru_cache(maxsize=256)
def parse_status(status: bytes) -> Flags | None:
    """The flags of 2-4 status bytes, or None when they are malformed.

    Cached: a scale sends a handful of distinct status strings, thousands of times.
    """
    if status[:1] == b"S":  # the ECR variant
        status = status[1:]
    if not 2 <= len(status) <= 4 or any(byte & 0x30 != 0x30 for byte in status):  # noqa: PLR2004
        return None
    for index, byte in enumerate(status[1:], start=1):  # bit 6: "another byte follows"
        if bool(byte & 0x40) != (index < len(status) - 1):
            return None
    has_third = len(status) > 2  # noqa: PLR2004 - byte 3 is optional
    return Flags(
        motion=bool(status[0] & 0x01),
        error=bool(status[0] & 0x0C or status[1] & 0x0C or (has_third and status[2] & 0x08)),
        under=bool(status[1] & 0x01),
        over=bool(status[1] & 0x02),
        net=bool(status[2] & 0x04) if has_third else None,
    )


def _weight(text: bytes) -> Weight | None:
    match = _WEIGHT.match(text)
    if match is None:
        pounds = _POUNDS_OUNCES.match(text)
        if pounds is None:
            return None
        ounces = Decimal(pounds.group(2).decode()) / 16
        return Weight(Decimal(pounds.group(1).decode()) + ounces, Unit.LB)
    unit = UNIT_BYTES.get(match.group(3).lower())
    if unit is None:
        return None
    value = Decimal(match.group(2).decode())
    return Weight(-value if match.group(1) else value, unit)


def parse_frame(frame: bytes) -> Reading:
    """Decode one reply, LF .. ETX. Never raises."""
    if not frame.startswith(b"\n") or not frame.endswith(b"\r\x03"):
        return error(frame, "malformed frame")
    parts = frame[1:-2].split(b"\r\n")
    if parts == [b"?"]:
        return Reading(ReadingKind.REPLY, frame, error="unknown_command")
    if len(parts) > 2:  # noqa: PLR2004 - weight line and status at most
        return error(frame, "malformed frame")
    flags = parse_status(parts[-1])
    if flags is None:
        return error(frame, "bad status bytes")
    mode = None if flags.net is None else Mode.NET if flags.net else Mode.GROSS
    if flags.error:
        return Reading(ReadingKind.STATUS, frame, error="device_error")
    if flags.over or flags.under:
        return Reading(ReadingKind.STATUS, frame, is_overload=flags.over, is_underload=flags.under)
    if len(parts) == 1:
        return Reading(ReadingKind.STATUS, frame, is_stable=not flags.motion, mode=mode)
    weight = _weight(parts[0])
    if weight is None:
        return error(frame, "malformed weight")
    return Reading(ReadingKind.WEIGHT, frame, weight, not flags.motion, mode)


def make_decoder(settings: Settings) -> FrameDecoder:
    """The incremental decoder (frames end with ETX)."""
    _ = settings
    return FrameDecoder(parse_frame, end=b"\x03", start=b"\n")


class NciScale(SerialScale[Settings]):
    """An NCI-protocol scale, polled with W; Z zeroes, T tares where the model has it."""

    poll = b"W\r"
    commands: ClassVar[dict[ScaleCommand, bytes]] = {
        ScaleCommand.ZERO: b"Z\r",
        ScaleCommand.TARE: b"T\r",
    }
    model = "NCI protocol scale"

    @classmethod
    def decoder(cls, settings: Settings) -> FrameDecoder:
        """The module's own framing."""
        return make_decoder(settings)


DRIVER = NciScale
