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
from typing import TYPE_CHECKING, ClassVar, Generic, Literal, TypeVar

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


SEEN_FRAMES = 1024  # frames whose readings a decoder keeps (about 250 KB)
_LINE_END = re.compile(rb"[\r\n]")


class RecentReadings(dict[bytes, Reading]):
    """Readings a decoder keeps by the bytes that gave them, at most `SEEN_FRAMES` of them."""

    def keep(self, key: bytes, reading: Reading) -> None:
        """Remember one; a stream of ever-new frames starts the memory afresh."""
        if len(self) >= SEEN_FRAMES:
            self.clear()
        self[key] = reading

    def parse(self, frame: bytes, parse: Parse) -> Reading:
        """The reading of `frame`: the one it gave lately, else `parse(frame)`, kept."""
        reading = self.get(frame)
        if reading is None:
            reading = parse(frame)
            self.keep(frame, reading)
        return reading


_LINE_END = re.compile(rb"[\r\n]")


def number(text: str) -> Decimal | None:
    """A signed decimal as scales print it (``+00012.34``, ``-  1.5``, ``.5``), or None.

    ASCII digits with at most one point after an optional sign, nothing else: Decimal()
    alone would also take "1e3", "1_000" or "NaN", none of which a scale sends. String
    methods, not a regex: this runs for every new frame of every line protocol.
    """
    body = text.strip()
    sign = body[:1]
    if sign in {"+", "-"}:
        body = body[1:].lstrip()
    if not (body.isascii() and body.replace(".", "", 1).isdigit()):
        return None
    value = Decimal(body)
    return -value if sign == "-" else value


def text(frame: bytes) -> str | None:
    """An ASCII line without its terminator, or None when it is not ASCII."""
    try:
        return frame.decode("ascii").rstrip("\r\n")
    except UnicodeDecodeError:
        return None


def line_decoder(
    parse: Parse, *, mask_parity: bool = True, cr_ends_lines: bool = True
) -> FrameDecoder:
    """A decoder for lines ending in CR LF, LF, or CR alone.

    Indicators can be set to end lines with CR only; a line protocol must not wait for an
    LF that never comes. A CR LF stays one frame (raw bytes as sent) when both arrive in one
    read; split across reads, the frame goes out at the CR and the lone LF is skipped.
    """
    return FrameDecoder(parse, end=b"\n", mask_parity=mask_parity, cr_ends_lines=cr_ends_lines)


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
    unit = UNIT_NAMES.get(unit_text) if unit_text else None  # "kg" as sent, most often
    if unit is None:
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
        cr_ends_lines: bool = False,
    ) -> None:
        self.parse = parse
        self.end, self.start, self.trailer = end, start, trailer
        self.mask_parity = mask_parity
        self.cr_ends_lines = cr_ends_lines and end == b"\n"
        self.max_frame = max_frame
        self._buffer = b""
        # A scale repeats its frames: the same frame while the weight holds (50 times a
        # second, all day), a few values while it moves. Parsers are pure, so a frame seen
        # lately gives the reading it gave before: a dictionary look-up instead of a regex,
        # a Decimal, a Weight and a Reading. In a thread that wakes for each frame, its
        # caches cold, parsing anew costs ~100 us; the look-up next to nothing.
        self._seen = RecentReadings()
        # A scale answering polls, or streaming slower than it is read, brings one frame per
        # read. What a read does to an empty buffer depends on its bytes alone, so a read
        # that was exactly one frame is remembered as such, bytes as read (parity bit and
        # all): the next time, `feed` is one look-up, with no masking, cutting or copying.
        self._reads = RecentReadings()

    def feed(self, data: bytes) -> list[Reading]:
        """Add bytes; return the readings of every frame they completed."""
        was_empty = not self._buffer
        if was_empty and (known := self._reads.get(data)) is not None:
            return [known]
        if self.mask_parity:
            data = data.translate(SEVEN_BITS)
        buffer = self._buffer + data if self._buffer else data
        readings: list[Reading] = []
        if self.cr_ends_lines:
            position = self._cut_cr_or_lf_lines(buffer, readings)
        elif self.start is None and not self.trailer:
            position = self._cut_lines(buffer, readings)
        else:
            position = 0
            while True:
                frame, position = self._next_frame(buffer, position, readings)
                if frame is None:
                    break
                self._take(frame, readings)
        buffer = buffer[position:]
        if len(buffer) > self.max_frame:  # no terminator in sight: wrong baud rate or protocol
            readings.append(error(buffer[: self.max_frame], "overlong frame"))
            buffer = b""
        self._buffer = buffer
        if was_empty and not buffer and len(readings) == 1 and len(data) <= self.max_frame:
            self._reads.keep(data, readings[0])
        return readings

    def _take(self, frame: bytes, readings: list[Reading]) -> None:
        if len(frame) > self.max_frame:
            readings.append(error(frame[: self.max_frame], "overlong frame"))
        elif frame.strip(b"\r\n"):
            readings.append(self._parse(frame))

    def _parse(self, frame: bytes) -> Reading:
        return self._seen.parse(frame, self.parse)

    def _cut_lines(self, buffer: bytes, readings: list[Reading]) -> int:
        """Frames that only end in a terminator: the hot path of every line protocol.

        It walks the buffer by index and cuts it once (slicing per frame would copy the rest
        of a large read again for every line); returns where the unfinished frame starts.
        """
        end, parse, max_frame = self.end, self._parse, self.max_frame
        size = len(end)
        position = 0
        while (stop := buffer.find(end, position)) >= 0:
            frame = buffer[position : stop + size]
            position = stop + size
            if len(frame) > max_frame:
                readings.append(error(frame[:max_frame], "overlong frame"))
            elif len(frame) > 2 or frame.strip(b"\r\n"):  # noqa: PLR2004 - a bare CR LF
                readings.append(parse(frame))
        return position

    def _cut_cr_or_lf_lines(self, buffer: bytes, readings: list[Reading]) -> int:
        """Lines ending in LF, CR LF or CR: the fast path when no CR stands alone."""
        if buffer.count(b"\r") == buffer.count(b"\r\n"):  # LF or CR LF lines only
            return self._cut_lines(buffer, readings)
        position = 0
        size = len(buffer)
        while (match := _LINE_END.search(buffer, position)) is not None:
            stop = match.end()
            if buffer[stop - 1 : stop] == b"\r" and buffer[stop : stop + 1] == b"\n":
                stop += 1  # CR LF in one read: one frame, raw as sent
            self._take(buffer[position:stop], readings)
            position = stop
            if position >= size:
                break
        return position

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


S = TypeVar("S", bound=StreamSettings)


class SerialScale(Generic[S]):
    """A scale that streams frames, or answers a poll command, on a pyserial URL.

    The one base of every serial scale driver. A protocol names what differs as class
    variables (`poll` bytes, zero/tare `commands`, the `model`, whether the parity bit is
    masked) and a pure `parse`; the hooks below are for protocols that need more:
    `decoder` (other framing, or a parser that needs the settings), `command` (bytes that
    depend on the settings) and `identify` (asking the scale who it is once the port is open).
    Transport (open, poll, read, write, close) stays here; framing stays in `FrameDecoder`.
    """

    poll: ClassVar[bytes | None] = None
    commands: ClassVar[dict[ScaleCommand, bytes]] = {}
    model: ClassVar[str] = ""
    mask_parity: ClassVar[bool] = True
    cr_ends_lines: ClassVar[bool] = True  # False for fixed-length CR LF frames (CAS)

    def __init__(self, settings: S) -> None:
        self.settings = settings
        self._decoder = self.decoder(settings)
        self._port: serial.SerialBase | None = None
        self._poll = self.poll if settings.mode == "poll" else None  # looked at every read
        self._next_poll = 0.0

    @staticmethod
    def parse(frame: bytes) -> Reading:  # pragma: no cover - set by each line protocol
        """The protocol's pure frame parser (a line protocol sets only this)."""
        raise NotImplementedError

    @classmethod
    def decoder(cls, settings: S) -> FrameDecoder:
        """Hook: the incremental decoder; by default CR LF lines through `parse`.

        The protocol module exposes it as `make_decoder` for `scale-agent decode`.
        """
        _ = settings
        return line_decoder(cls.parse, mask_parity=cls.mask_parity, cr_ends_lines=cls.cr_ends_lines)

    def command(self, command: ScaleCommand) -> bytes | None:
        """Hook: the bytes for zero or tare, None when the protocol has no such command."""
        return self.commands.get(command)

    def identify(self, port: serial.SerialBase) -> ScaleIdentity:
        """Hook: who answers. Most protocols cannot say: the model is the driver's."""
        _ = port
        return ScaleIdentity(model=self.model or None)

    @property
    def device(self) -> str:
        """The port URL."""
        return self.settings.port

    def open(self) -> ScaleIdentity:
        """Open the port with a fresh decoder and identify the scale."""
        self.close()
        self._port = port = open_port(self.settings)
        self._decoder = self.decoder(self.settings)
        try:
            return self.identify(port)
        except DeviceUnavailableError:
            self.close()
            raise

    def read(self) -> list[Reading]:
        """Readings decoded since the last call; polls in poll mode."""
        port = self._port
        if port is None:
            raise DeviceUnavailableError(self.device, "port is not open")
        if self._poll is not None and time.monotonic() >= self._next_poll:
            write(port, self.device, self._poll)
            self._next_poll = time.monotonic() + self.settings.poll_interval_s
        return self._decoder.feed(read_available(port, self.device))

    def send(self, command: ScaleCommand) -> bool:
        """Zero or tare, when the protocol has the command."""
        code = self.command(command)
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
