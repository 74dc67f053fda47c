"""Shared machinery for serial scale protocols: incremental framing and a generic driver.

A protocol module supplies a pure `parse(frame) -> Reading` and how its frames end (and, for
binary-headed frames, start); `FrameDecoder` does the rest: bytes in any fragmentation, 7E1
ports read as 8N1 (parity bit masked), a bounded buffer that resynchronises on garbage, and
an error reading (never a weight) for anything that does not parse.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import Field

from drivers._serial import SerialSettings, open_port, read_available, write
from scale_agent.errors import DeviceUnavailableError
from scale_agent.plugins import ScaleCommand, ScaleIdentity
from scale_agent.weights import UNIT_NAMES, Mode, Reading, ReadingKind, Weight

if TYPE_CHECKING:
    import serial

SEVEN_BITS = bytes(i & 0x7F for i in range(256))
_MODES = {"gross": Mode.GROSS, "net": Mode.NET}
Parse = Callable[[bytes], Reading]


_NUMBER = re.compile(r"^([+-]?)\s*(\d+(?:\.\d*)?|\.\d+)$")


def number(text: str) -> Decimal | None:
    """A signed decimal as scales print it (``+00012.34``, ``-  1.5``), or None."""
    match = _NUMBER.match(text.strip())
    if match is None:
        return None
    value = Decimal(match.group(2))
    return -value if match.group(1) == "-" else value


def text(frame: bytes) -> str | None:
    """An ASCII line without its terminator, or None when it is not ASCII."""
    try:
        return frame.decode("ascii").rstrip("\r\n")
    except UnicodeDecodeError:
        return None


def line_decoder(parse: Parse, *, mask_parity: bool = True) -> FrameDecoder:
    """A decoder for CR LF (or LF) terminated lines."""
    return FrameDecoder(parse, end=b"\n", mask_parity=mask_parity)


def error(raw: bytes, code: str) -> Reading:
    """A frame that did not parse: counted and logged, never a weight."""
    return Reading(ReadingKind.ERROR, raw, error=code)


def weight_reading(
    raw: bytes,
    value: Decimal,
    unit_text: str | None,
    *,
    stable: bool | None,
    mode: str | None = None,
) -> Reading:
    """A weight in a mass unit, or (for pcs, %, ct, ...) a value without a usable weight."""
    unit = UNIT_NAMES.get((unit_text or "").strip().lower())
    mode_value = _MODES.get(mode) if mode else None
    if unit is None:
        detail = {"value": str(value), "unit": (unit_text or "").strip() or "?"}
        return Reading(ReadingKind.WEIGHT, raw, None, stable, mode_value, detail=detail)
    return Reading(ReadingKind.WEIGHT, raw, Weight(value, unit), stable, mode_value)


class FrameDecoder:
    """Cuts a byte stream into frames and parses each.

    `end` is the terminator; `start` (optional) a byte that begins every frame, so bytes
    before it are line noise; `trailer` extra bytes that follow the terminator (a checksum).
    """

    def __init__(
        self,
        parse: Parse,
        *,
        end: bytes,
        start: bytes | None = None,
        trailer: int = 0,
        mask_parity: bool = True,
        max_frame: int = 128,
    ) -> None:
        self.parse = parse
        self.end, self.start, self.trailer = end, start, trailer
        self.mask_parity = mask_parity
        self.max_frame = max_frame
        self._buffer = b""

    def feed(self, data: bytes) -> list[Reading]:
        """Add bytes; return the readings of every frame they completed."""
        if self.mask_parity:
            data = data.translate(SEVEN_BITS)
        buffer = self._buffer + data
        readings: list[Reading] = []
        position = 0
        while True:
            frame, position = self._next_frame(buffer, position, readings)
            if frame is None:
                break
            if len(frame) > self.max_frame:
                readings.append(error(frame[: self.max_frame], "overlong frame"))
            elif frame.strip(b"\r\n"):
                readings.append(self.parse(frame))
        buffer = buffer[position:]
        if len(buffer) > self.max_frame:  # no terminator in sight: wrong baud rate or protocol
            readings.append(error(buffer[: self.max_frame], "overlong frame"))
            buffer = b""
        self._buffer = buffer
        return readings

    def _next_frame(
        self, buffer: bytes, position: int, readings: list[Reading]
    ) -> tuple[bytes | None, int]:
        """The next complete frame (or None) and where the search goes on.

        Bytes before a frame start are reported once and dropped, even while the frame that
        follows them is still incomplete.
        """
        if self.start is not None:
            begin = buffer.find(self.start, position)
            if begin < 0:
                noise = buffer[position:]
                if noise.strip(b"\r\n\x00 "):
                    readings.append(error(noise[:32], "bytes outside a frame"))
                return None, len(buffer)
            if begin > position and buffer[position:begin].strip(b"\r\n\x00 "):
                readings.append(error(buffer[position:begin][:32], "bytes outside a frame"))
            position = begin
        stop = buffer.find(self.end, position + (1 if self.start is not None else 0))
        if stop < 0 or stop + len(self.end) + self.trailer > len(buffer):
            return None, position
        frame_end = stop + len(self.end) + self.trailer
        return buffer[position:frame_end], frame_end


class StreamSettings(SerialSettings):
    """Keys of every generic serial protocol: continuous output, or polled."""

    mode: Literal["continuous", "poll"] = "continuous"
    poll_interval_s: float = Field(default=0.1, ge=0.02, le=10)


class SerialScale:
    """A scale that streams frames, or answers a poll command, on a pyserial URL.

    The protocol module gives its decoder, its poll command, and the command bytes for zero
    and tare (absent when the protocol has none).
    """

    def __init__(
        self,
        settings: StreamSettings,
        decoder: Callable[[], FrameDecoder],
        *,
        poll: bytes | None = None,
        commands: dict[ScaleCommand, bytes] | None = None,
        model: str = "",
    ) -> None:
        self.settings = settings
        self._make_decoder = decoder
        self._decoder = decoder()
        self._poll = poll
        self._commands = commands or {}
        self._model = model
        self._port: serial.SerialBase | None = None
        self._next_poll = 0.0

    @property
    def device(self) -> str:
        """The port URL."""
        return self.settings.port

    def open(self) -> ScaleIdentity:
        """Open the port. These protocols cannot say which scale answers: the model is ours."""
        self.close()
        self._port = open_port(self.settings)
        self._decoder = self._make_decoder()
        return ScaleIdentity(model=self._model or None)

    def read(self) -> list[Reading]:
        """Readings decoded since the last call; polls in poll mode."""
        port = self._port
        if port is None:
            raise DeviceUnavailableError(self.device, "port is not open")
        if self.settings.mode == "poll" and self._poll and time.monotonic() >= self._next_poll:
            write(port, self.device, self._poll)
            self._next_poll = time.monotonic() + self.settings.poll_interval_s
        return self._decoder.feed(read_available(port, self.device))

    def send(self, command: ScaleCommand) -> bool:
        """Zero or tare, when the protocol has the command."""
        code = self._commands.get(command)
        if code is None or self._port is None:
            return False
        write(self._port, self.device, code)
        return True

    def close(self) -> None:
        """Close the port; safe to call twice."""
        port, self._port = self._port, None
        if port is not None:
            try:
                port.close()
            except OSError:
                return  # the device vanished; it is closed either way


class LineProtocolScale(SerialScale):
    """A SerialScale for a line protocol: a subclass names only what differs.

    `parse` (a staticmethod), the `poll` bytes, the zero/tare `commands`, the `model`, and
    whether the parity bit is masked.
    """

    poll: ClassVar[bytes | None] = None
    commands: ClassVar[dict[ScaleCommand, bytes]] = {}
    model: ClassVar[str] = ""
    mask_parity: ClassVar[bool] = True

    def __init__(self, settings: StreamSettings) -> None:
        super().__init__(
            settings,
            lambda: self.decoder(settings),
            poll=self.poll,
            commands=self.commands,
            model=self.model,
        )

    @staticmethod
    def parse(frame: bytes) -> Reading:  # pragma: no cover - every subclass sets its parser
        """The protocol's pure frame parser."""
        raise NotImplementedError

    @classmethod
    def decoder(cls, settings: StreamSettings) -> FrameDecoder:
        """The incremental decoder (the module's `make_decoder`)."""
        _ = settings
        return line_decoder(cls.parse, mask_parity=cls.mask_parity)
