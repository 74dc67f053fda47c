"""USB HID point-of-sale scales (usage page 0x8D): Dymo, Stamps.com, Fairbanks, Mettler USB.

Linux gives each a ``/dev/hidrawN``; every read returns one input report. The scale data report
is 6 bytes: report ID 3, status (1 fault, 2 stable at zero, 3 in motion, 4 stable, 5 under
zero, 6 over the limit, 7 needs calibration, 8 needs re-zeroing), unit (2 g, 3 kg, 11 oz,
12 lb, ...), a signed power-of-ten exponent, and the weight as unsigned 16-bit little-endian:
``03 04 0B FF 34 19`` is 6452 x 0.1 = 645.2 oz, stable. Report ID 4 (8 bytes) is a status
report. The first report after opening is stale and dropped. Source: USB HID Point of Sale
Usage Tables 1.02, page 0x8D (reference/protocols.md section 6).
"""

from __future__ import annotations

import contextlib
import errno
import os
import select
from decimal import Decimal
from pathlib import Path

from pydantic import Field

from drivers.scales._stream import RecentReadings
from scale_agent.errors import DeviceUnavailableError
from scale_agent.plugins import DriverSettings, ScaleCommand, ScaleIdentity
from scale_agent.weights import Reading, ReadingKind, Unit, Weight

DATA_REPORT, STATUS_REPORT = 3, 4
LENGTHS = {DATA_REPORT: 6, STATUS_REPORT: 8}
UNITS = {
    1: (Unit.G, Decimal("0.001")),
    2: (Unit.G, Decimal(1)),
    3: (Unit.KG, Decimal(1)),
    11: (Unit.OZ, Decimal(1)),
    12: (Unit.LB, Decimal(1)),
}
OTHER_UNITS = {4: "ct", 5: "tael", 6: "gr", 7: "dwt", 8: "t", 9: "ton", 10: "ozt"}
READ_TIMEOUT_S = 0.2


class Settings(DriverSettings):
    """HID scale keys."""

    port: str = Field(min_length=1, description="/dev/hidrawN, or a udev symlink to it")


def parse_report(report: bytes) -> Reading:
    """Decode one input report. Never raises."""
    if len(report) != LENGTHS.get(report[0] if report else 0, -1):
        return Reading(ReadingKind.ERROR, report, error="malformed report")
    if report[0] == STATUS_REPORT:
        return Reading(ReadingKind.STATUS, report, detail={"status": str(report[1])})
    status, unit_code, exponent = report[1], report[2], int.from_bytes(report[3:4], signed=True)
    if status == 5:  # noqa: PLR2004 - under zero: the sign of the value is not specified
        return Reading(ReadingKind.STATUS, report, is_underload=True)
    if status == 6:  # noqa: PLR2004
        return Reading(ReadingKind.STATUS, report, is_overload=True)
    if status not in {2, 3, 4}:
        return Reading(ReadingKind.STATUS, report, error=f"scale status {status}")
    raw_value = Decimal(int.from_bytes(report[4:6], "little")).scaleb(exponent)
    if unit_code not in UNITS:
        unit_text = OTHER_UNITS.get(unit_code, f"unit {unit_code}")
        return Reading(
            ReadingKind.WEIGHT,
            report,
            None,
            status != 3,  # noqa: PLR2004
            detail={"value": str(raw_value), "unit": unit_text},
        )
    unit, factor = UNITS[unit_code]
    return Reading(ReadingKind.WEIGHT, report, Weight(raw_value * factor, unit), status != 3)  # noqa: PLR2004 - 3 is "in motion"


class ReportDecoder:
    """Splits a byte stream into reports by their ID (one report per hidraw read, or a file)."""

    def __init__(self) -> None:
        self._buffer = b""
        # hidraw gives one report per read, and a scale repeats its report while the weight
        # holds: a report seen lately keeps its reading (parse_report is pure).
        self._seen = RecentReadings()

    def feed(self, data: bytes) -> list[Reading]:
        """Add bytes; return the readings of every complete report."""
        if not self._buffer and (known := self._seen.get(data)) is not None:
            return [known]  # the common case: one whole report, seen before
        buffer = self._buffer + data if self._buffer else data
        readings = []
        position, size = 0, len(buffer)
        while position < size:  # walks by index: a 4 KiB read is not copied per report
            length = LENGTHS.get(buffer[position])
            if length is None:  # not a report we know: skip a byte to resynchronise
                noise = buffer[position : position + 1]
                readings.append(Reading(ReadingKind.ERROR, noise, error="unknown report"))
                position += 1
                continue
            if size - position < length:
                break
            readings.append(self._seen.parse(buffer[position : position + length], parse_report))
            position += length
        self._buffer = buffer[position:]
        return readings


def make_decoder(settings: Settings) -> ReportDecoder:
    """The decoder."""
    _ = settings
    return ReportDecoder()


def _identity(path: str) -> ScaleIdentity:
    """HID_NAME and HID_ID from sysfs, when the port is a real hidraw device."""
    name = Path(os.path.realpath(path)).name
    uevent = Path(f"/sys/class/hidraw/{name}/device/uevent")
    fields: dict[str, str] = {}
    with contextlib.suppress(OSError):
        fields = dict(line.split("=", 1) for line in uevent.read_text().splitlines() if "=" in line)
    return ScaleIdentity(
        model=fields.get("HID_NAME"),
        serial=fields.get("HID_UNIQ") or None,
        details={k: v for k, v in fields.items() if k.startswith("HID_")},
    )


class HidPosScale:
    """A USB HID POS scale read from hidraw."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._fd: int | None = None
        self._decoder = ReportDecoder()
        self._is_first = True

    @property
    def device(self) -> str:
        """The hidraw path."""
        return self.settings.port

    def open(self) -> ScaleIdentity:
        """Open the device (read-only is enough to read weights)."""
        self.close()
        try:
            self._fd = os.open(self.settings.port, os.O_RDONLY | os.O_NONBLOCK)
        except OSError as exc:
            reason = {
                errno.ENOENT: "is missing: is the scale plugged in?",
                errno.EACCES: "is not readable: add a udev rule giving it to plugdev",
            }
            raise DeviceUnavailableError(
                self.device, f"{self.device} {reason.get(exc.errno or 0, exc.strerror)}"
            ) from exc
        self._decoder, self._is_first = ReportDecoder(), True
        return _identity(self.settings.port)

    def read(self) -> list[Reading]:
        """Readings from the reports that arrived; the first one after opening is stale."""
        if self._fd is None:
            raise DeviceUnavailableError(self.device, "device is not open")
        try:
            ready, _, _ = select.select([self._fd], [], [], READ_TIMEOUT_S)
            data = os.read(self._fd, 64) if ready else None
        except OSError as exc:
            raise DeviceUnavailableError(self.device, f"read failed: {exc.strerror}") from exc
        if data is None:
            return []
        if data == b"":
            raise DeviceUnavailableError(self.device, f"{self.device} disconnected")
        readings = self._decoder.feed(data)
        if self._is_first and readings:
            self._is_first = False
            readings = readings[1:]
        return readings

    def send(self, command: ScaleCommand) -> bool:
        """Zeroing over HID works on few scales; not offered."""
        _ = command
        return False

    def close(self) -> None:
        """Close the device; safe to call twice."""
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)


DRIVER = HidPosScale
