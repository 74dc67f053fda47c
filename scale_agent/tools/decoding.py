"""`scale-agent decode`, `read` and `probe`: integrator tools for reading scales.

`decode` turns captured bytes into one JSON object per frame; `read` prints live readings from
the configured scale in the same shape; `probe` listens on a port at the likely settings, then
asks harmless questions, and says which protocol answered, ready to paste into the config.
Drivers are found through the registry, as everywhere in the core.
"""

from __future__ import annotations

import json
import sys
import time
from decimal import Decimal
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol, cast

import orjson
from pydantic import ValidationError

from scale_agent.errors import DeviceError, ScaleAgentError, UsageError
from scale_agent.plugins import SCALE_GROUP, ScaleDriver, load_driver
from scale_agent.weights import ReadingKind

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from scale_agent.weights import Reading


class Decoder(Protocol):
    """What a scale module's `make_decoder(settings)` returns."""

    def feed(self, data: bytes) -> list[Reading]:
        """Bytes in, readings out."""
        ...


def _module(protocol: str, needs: str = "make_decoder") -> Any:  # noqa: ANN401 - by convention
    try:
        module = load_driver(SCALE_GROUP, protocol, "--protocol")
    except ScaleAgentError as exc:
        raise UsageError(str(exc).splitlines()[-1].strip()) from exc
    if not hasattr(module, needs):
        raise UsageError(f"{protocol} has no {needs} for this tool")
    return module


def make_decoder(protocol: str, options: Mapping[str, object]) -> Decoder:
    """A protocol's decoder with its options (`unit=kg`, `checksum=none`, `preset=...`).

    Raises:
        UsageError: for an unknown protocol or options it does not take.
    """
    module = _module(protocol)
    try:
        settings = module.Settings.model_validate({"port": "decode", **options})
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'option'}: {e['msg']}"
            for e in exc.errors(include_url=False)
        )
        raise UsageError(f"--option for {protocol}: {problems}") from exc
    return cast("Decoder", module.make_decoder(settings))


def parse_options(pairs: Iterable[str]) -> dict[str, object]:
    """`k=v` pairs; a value in brackets is read as a JSON list."""
    options: dict[str, object] = {}
    for pair in pairs:
        key, separator, value = pair.partition("=")
        if not separator:
            raise UsageError(f"--option {pair!r}: write key=value")
        options[key.strip()] = json.loads(value) if value.startswith("[") else value
    return options


def as_json(protocol: str, reading: Reading) -> dict[str, object]:
    """One reading in the tools' JSON Lines shape (exactly these keys).

    Kind, unit and mode stay enum members: they are `str` subclasses, so orjson (and json)
    write their values, without an enum property look-up per frame.
    """
    value: Decimal | None = None
    unit: str | None = None
    weight = reading.weight
    if weight is not None:
        value, unit = weight.value, weight.unit
    elif reading.kind is ReadingKind.WEIGHT and reading.detail and "value" in reading.detail:
        value, unit = Decimal(reading.detail["value"]), reading.detail.get("unit")
    return {
        "protocol": protocol,
        "kind": reading.kind,
        "value": None if value is None else float(value),
        "unit": unit,
        "stable": reading.is_stable,
        "mode": reading.mode,
        "overload": reading.is_overload,
        "underload": reading.is_underload,
        "error": reading.error,
        "raw": reading.raw.hex(),
    }


CHUNK_BYTES = 64 * 1024  # read at a time: memory stays flat whatever the capture's size


class JsonLines:
    """Readings as the tools' JSON Lines (`as_json`'s shape), a batch at a time, via orjson.

    A scale repeats its frame while the weight holds and the decoder then gives the same
    reading again: its line is kept and written again rather than built anew.
    """

    def __init__(self, protocol: str) -> None:
        self.protocol = protocol
        self._last: tuple[Reading | None, bytes] = (None, b"")

    def line(self, reading: Reading) -> bytes:
        """One reading's line, with its newline."""
        last_reading, last_line = self._last
        if reading is last_reading:
            return last_line
        line = orjson.dumps(as_json(self.protocol, reading), option=orjson.OPT_APPEND_NEWLINE)
        self._last = (reading, line)
        return line

    def lines(self, readings: Iterable[Reading]) -> bytes:
        """Many readings' lines, joined for one write."""
        return b"".join([self.line(reading) for reading in readings])


def stream_decode(
    protocol: str, source: BinaryIO, options: Mapping[str, object], out: BinaryIO
) -> int:
    """Decode `source` to `out` as it arrives (a file, or a pipe still being written).

    Reads at most `CHUNK_BYTES` at a time (`read1` on a pipe returns what is there, so the
    first lines come out before the input ends) and writes each chunk's lines in one write.
    Returns the number of readings.
    """
    decoder = make_decoder(protocol, options)
    encoder = JsonLines(protocol)
    read = getattr(source, "read1", source.read)
    count = 0
    while chunk := read(CHUNK_BYTES):
        readings = decoder.feed(chunk)
        if readings:
            count += len(readings)
            out.write(encoder.lines(readings))
            out.flush()
    return count


def read_live(driver_name: str, driver: ScaleDriver, count: int | None) -> int:
    """Print live readings until `count` (or Ctrl-C); returns the exit code."""
    try:
        identity = driver.open()
    except DeviceError as exc:
        print(f"scale-agent read: {exc}", file=sys.stderr)
        return 1
    print(f"# {driver.device}: {identity.describe()}", file=sys.stderr)
    encoder = JsonLines(driver_name)
    printed = 0
    try:
        while count is None or printed < count:
            readings = driver.read()
            if readings:
                sys.stdout.buffer.write(encoder.lines(readings))
                sys.stdout.buffer.flush()
                printed += len(readings)
    except KeyboardInterrupt:
        pass
    except DeviceError as exc:
        # The same for every transport (a serial port, a Modbus link): one error line in the
        # stream, so a script reading it sees why it ended, then the message and exit 1.
        lost = {"protocol": driver_name, "kind": "error", "error": "link_lost", "reason": str(exc)}
        sys.stdout.buffer.write(orjson.dumps(lost, option=orjson.OPT_APPEND_NEWLINE))
        sys.stdout.buffer.flush()
        print(f"scale-agent read: {exc}", file=sys.stderr)
        return 1
    finally:
        driver.close()
    return 0


SETTINGS = [
    (9600, 8, "N"),
    (9600, 7, "E"),
    (19200, 8, "N"),
    (4800, 7, "E"),
    (2400, 7, "E"),
    (1200, 7, "E"),
    (4800, 8, "N"),
    (2400, 8, "N"),
    (19200, 7, "E"),
    (38400, 8, "N"),
    (115200, 8, "N"),
]
STREAMS: list[tuple[str, dict[str, object]]] = [
    ("mt-sics", {}),
    ("toledo-continuous", {"checksum": "mettler"}),
    ("toledo-continuous", {"checksum": "none"}),
    ("toledo-continuous", {"checksum": "sum8"}),
    # gs-nt before ad: an ST,GS,+0012.34kg line is both (A&D indicators speak it too), and
    # the gs-nt driver is the one made for it; A&D's own 15-character lines are ad's alone.
    ("gs-nt", {}),
    ("ad", {}),
    ("ohaus", {}),
    ("cas", {}),
    ("line", {"preset": "liden-a"}),
    ("line", {"preset": "fairbanks-ups"}),
]
# Harmless questions: ask for the weight, never zero or tare.
QUERIES: list[tuple[str, bytes, dict[str, object]]] = [
    ("mt-sics", b"SI\r\n", {}),
    ("nci", b"W\r", {}),
    ("toledo-8217", b"W", {}),
    ("ad", b"Q\r\n", {}),
    ("ohaus", b"P\r\n", {}),
]


def _capture(port: str, setting: tuple[int, int, str], seconds: float, query: bytes) -> bytes:
    module = load_driver(SCALE_GROUP, "capture")
    # Always read 8N1 at the setting's baud rate and judge the parity bit ourselves
    # (see _seven_even): a 7E1 device then shows its parity in bit 7.
    settings = module.Settings.model_validate(
        {"port": port, "baudrate": setting[0], "bytesize": 8, "parity": "N", "query": query.hex()}
    )
    driver = cast("ScaleDriver", module.DRIVER(settings))
    driver.open()
    data = b""
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            data += b"".join(reading.raw for reading in driver.read())
    finally:
        driver.close()
    return data


def _seven_even(data: bytes) -> bool:
    """True when bit 7 looks like even parity: a 7E1 device read as 8N1."""
    return any(byte & 0x80 for byte in data) and all(byte.bit_count() % 2 == 0 for byte in data)


def _score(protocol: str, options: Mapping[str, object], data: bytes) -> int:
    """Good frames decoded, or -1 when any frame failed to parse."""
    readings = make_decoder(protocol, options).feed(data)
    if not readings or any(reading.kind.value == "error" for reading in readings):
        return -1
    return len(readings)


def probe(port: str, listen_s: float = 0.8) -> dict[str, object] | None:
    """Find the protocol and settings of the scale on `port`, or None."""
    for setting in SETTINGS:
        try:
            data = _capture(port, setting, listen_s, b"")
        except DeviceError as exc:
            raise UsageError(str(exc)) from exc
        found = _best(data, STREAMS, "continuous")
        for protocol, query, options in QUERIES if found is None else []:
            answer = _capture(port, setting, listen_s / 2, query)
            if _score(protocol, options, answer) > 0:
                found = {"driver": protocol, **options, "mode": "poll"}
                data = answer
                break
        if found is not None:
            bits, parity = (7, "E") if _seven_even(data) else (8, "N")
            return {
                **found,
                "port": port,
                "baudrate": setting[0],
                "bytesize": bits,
                "parity": parity,
            }
    return None


def modbus_link(port: str, baudrate: int, parity: str) -> dict[str, object]:
    """The Modbus link keys for a `probe` argument: `tcp://host[:port]` or a serial device."""
    if port.startswith("tcp://"):
        host, _, tcp_port = port.removeprefix("tcp://").partition(":")
        return {"transport": "tcp", "host": host, "tcp_port": int(tcp_port or 502)}
    return {"transport": "rtu", "port": port, "baudrate": baudrate, "parity": parity}


def probe_modbus(link: Mapping[str, object], units: list[int]) -> list[dict[str, object]]:
    """Every unit id and preset on a Modbus link that answers with a plausible reading."""
    module = _module("modbus", needs="probe")
    try:
        found: list[dict[str, object]] = module.probe(
            {**link, "timeout_s": 0.2, "retries": 0}, units
        )
    except ValidationError as exc:
        raise UsageError(str(exc)) from exc
    return found  # a link that cannot open raises DeviceUnavailableError, with the reason


def _best(
    data: bytes, candidates: list[tuple[str, dict[str, object]]], mode: str
) -> dict[str, object] | None:
    scored = [(_score(name, options, data), name, options) for name, options in candidates]
    score, name, options = max(scored, key=lambda item: item[0])
    if score < 2:  # noqa: PLR2004 - two good frames and no bad one, or keep looking
        return None
    return {"driver": name, **options, "mode": mode}


def as_toml(found: Mapping[str, object]) -> str:
    """The [scale] section to paste into a station file."""
    lines = ["[scale]"]
    keys = ("driver", "transport", "host", "tcp_port", "port", "baudrate", "bytesize", "parity")
    for key in (*keys, "device_id", "mode", "checksum", "preset"):
        if key in found:
            value = found[key]
            lines.append(f"{key} = {json.dumps(value) if isinstance(value, str) else value}")
    return "\n".join(lines)
