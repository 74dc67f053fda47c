"""Mettler Toledo MT-SICS (levels 0 and 1) over a serial line.

Every command and reply ends in CR LF. A weight reply reads ``S S      1.250 kg`` (stable) or
``S D      1.248 kg`` (dynamic): the command tag, the status, a right-aligned 10-character
value with the sign inside it, and the unit as displayed. ``S I`` means busy, ``S +`` overload,
``S -`` underload; ``ES``/``ET``/``EL`` are syntax, transmission and logic errors.
Source: MT-SICS reference manual 11780711, sections S, SI, SIR, Z, T, I2, I4 (summarised in
reference/protocols.md section 1). The frame carries no gross/net flag: S and SI report net.

In `continuous` mode the driver sends ``SIR`` and the scale streams at its update rate; in
`poll` mode it sends ``SI`` every `poll_interval_s`.
"""

from __future__ import annotations

import re
import time
from decimal import Decimal
from typing import TYPE_CHECKING, ClassVar

from drivers._serial import read_available, write
from drivers.scales._stream import SerialScale, StreamSettings
from scale_agent.errors import DeviceUnavailableError
from scale_agent.plugins import ScaleCommand, ScaleIdentity
from scale_agent.weights import UNIT_BYTES, Mode, Reading, ReadingKind, Weight

if TYPE_CHECKING:
    import serial

IDENTITY_TIMEOUT_S = 1.0
_WEIGHT_TAGS = frozenset({b"S", b"SI", b"SIR", b"SR"})
_ERRORS = {b"ES": "syntax error", b"ET": "transmission error", b"EL": "logical error"}
_STATUS = {b"I": "busy", b"+": "overload", b"-": "underload", b"L": "logical error"}
# The value field: an optional minus sign, digits, an optional decimal point. Decimal() alone
# would also take "1_000", "1e3" or "NaN", none of which a scale sends.
_NUMBER = re.compile(rb"-?\d+(?:\.\d*)?")


class Settings(StreamSettings):
    """MT-SICS keys: continuous (SIR) or polled (SI), as every serial protocol."""


def _quoted(rest: bytes) -> list[str]:
    """The quoted strings of an identity reply; quotes may hold spaces."""
    parts = rest.split(b'"')
    return [part.decode("ascii", "replace") for part in parts[1::2]]


def parse_line(line: bytes) -> Reading:
    """Decode one MT-SICS reply line (without CR LF). Never raises."""
    tokens = line.split()
    if not tokens:
        return Reading(ReadingKind.ERROR, line, error="empty line")
    tag = tokens[0]
    if tag in _ERRORS:
        return Reading(ReadingKind.ERROR, line, error=tag.decode(), detail={"text": _ERRORS[tag]})
    status = tokens[1] if len(tokens) > 1 else b""
    if tag in _WEIGHT_TAGS:
        return _parse_weight(line, tokens, status)
    if tag in {b"Z", b"ZI", b"T", b"TA", b"TAC"} or tag.startswith(b"I"):
        detail = {
            "command": tag.decode("ascii", "replace"),
            "status": status.decode("ascii", "replace"),
        }
        if tag.startswith(b"I") and status == b"A":
            values = _quoted(line)
            if values:
                detail["value"] = values[0]
        elif status in _STATUS:
            return Reading(
                ReadingKind.REPLY, line, error=_STATUS[status].replace(" ", "_"), detail=detail
            )
        return Reading(ReadingKind.REPLY, line, detail=detail)
    return Reading(ReadingKind.ERROR, line, error="unknown reply")


def _parse_weight(line: bytes, tokens: list[bytes], status: bytes) -> Reading:
    # The common case first and lean: decoders must keep up with continuous streams.
    if len(tokens) == 4 and (status == b"S" or status == b"D"):  # noqa: PLR2004, PLR1714
        unit = UNIT_BYTES.get(tokens[3])
        if unit is not None and _NUMBER.fullmatch(tokens[2]):
            weight = Weight(Decimal(tokens[2].decode("ascii")), unit)
            return Reading(ReadingKind.WEIGHT, line, weight, status == b"S", Mode.NET)
        return Reading(ReadingKind.ERROR, line, error="malformed weight reply")
    if status in {b"+", b"-"}:
        return Reading(
            ReadingKind.STATUS, line, is_overload=status == b"+", is_underload=status == b"-"
        )
    if status in _STATUS:
        return Reading(ReadingKind.STATUS, line, error=_STATUS[status].replace(" ", "_"))
    return Reading(ReadingKind.ERROR, line, error="malformed weight reply")


def parse_frame(frame: bytes) -> Reading:
    """Decode one reply with its CR LF (the decoder's parser); the raw bytes keep no CR LF."""
    return parse_line(frame.rstrip(b"\r\n"))


class MtSicsScale(SerialScale[Settings]):
    """An MT-SICS scale on a serial port or serial-over-TCP URL."""

    parse = staticmethod(parse_frame)
    poll = b"SI\r\n"
    commands: ClassVar[dict[ScaleCommand, bytes]] = {
        ScaleCommand.ZERO: b"Z\r\n",
        ScaleCommand.TARE: b"T\r\n",
    }

    def command(self, command: ScaleCommand) -> bytes | None:
        """Any command ends SIR on the scale: in continuous mode start the stream again."""
        code = self.commands.get(command)
        if code is not None and self.settings.mode == "continuous":
            return code + b"SIR\r\n"
        return code

    def identify(self, port: serial.SerialBase) -> ScaleIdentity:
        """Ask for model (I2) and serial number (I4), then start the stream."""
        write(port, self.device, b"@\r\nI2\r\nI4\r\n")
        answers: dict[str, str] = {}
        deadline = time.monotonic() + IDENTITY_TIMEOUT_S
        while time.monotonic() < deadline and not {"I2", "I4"} <= answers.keys():
            for reading in self._decoder.feed(read_available(port, self.device)):
                detail = reading.detail
                if reading.kind is ReadingKind.REPLY and detail and "value" in detail:
                    answers[detail["command"]] = detail["value"]
        if not answers:
            s = self.settings
            framing = f"{s.baudrate} baud {s.bytesize}{s.parity}{s.stopbits}"
            raise DeviceUnavailableError(
                self.device,
                f"no MT-SICS answer to I2/I4 at {framing}: "
                "check the baud rate, parity and protocol",
            )
        if self.settings.mode == "continuous":
            write(port, self.device, b"SIR\r\n")
        return ScaleIdentity(model=answers.get("I2"), serial=answers.get("I4"), details=answers)


make_decoder = MtSicsScale.decoder


DRIVER = MtSicsScale
