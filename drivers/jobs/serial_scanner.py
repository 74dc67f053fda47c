r"""Serial barcode scanners (RS-232, or USB in CDC/virtual-COM mode) on any pyserial URL.

Most scanners send the code and a CR (``4006381333931\r``); the terminator, 7E1 or 8N1
framing, and a configured prefix or suffix to strip are keys. Datalogic, Honeywell and Zebra
manuals call these "RS-232 interface: terminator" and "prefix/suffix".
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from drivers._serial import SerialSettings, open_port, read_available
from drivers.jobs._codes import CodeSettings, CodeSplitter

if TYPE_CHECKING:
    import serial


class Settings(SerialSettings, CodeSettings):
    """Serial scanner keys: the port and framing, terminator, prefix and suffix."""


class SerialScanner:
    """Reads codes from a serial port."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._port: serial.SerialBase | None = None
        self._splitter = CodeSplitter(settings)

    @property
    def device(self) -> str:
        """The port."""
        return self.settings.port

    def open(self) -> None:
        """Open the port (DeviceUnavailableError with a diagnosis when it cannot)."""
        self._port = open_port(self.settings)
        self._splitter = CodeSplitter(self.settings)

    def read(self) -> list[str]:
        """Codes that arrived (7E1 read as 8N1 loses nothing: the parity bit is masked)."""
        if self._port is None:
            self.open()
        assert self._port is not None  # noqa: S101 - open() set it or raised
        data = read_available(self._port, self.device)
        if self.settings.bytesize == 7:  # noqa: PLR2004
            data = bytes(byte & 0x7F for byte in data)
        return self._splitter.feed(data.decode("latin-1"))

    def close(self) -> None:
        """Close the port; safe to call twice."""
        port, self._port = self._port, None
        if port is not None:
            port.close()


DRIVER = SerialScanner
