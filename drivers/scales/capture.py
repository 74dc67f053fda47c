"""Raw capture: hands the bytes on a port to `scale-agent probe`, which tries every decoder.

Not a scale protocol. Opens the port with the given settings, optionally sends `query` (hex)
once after opening, and returns whatever arrives as REPLY readings carrying the raw bytes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from drivers._serial import SerialSettings, open_port, read_available, write
from scale_agent.errors import DeviceUnavailableError
from scale_agent.plugins import ScaleCommand, ScaleIdentity
from scale_agent.weights import Reading, ReadingKind

if TYPE_CHECKING:
    import serial


class Settings(SerialSettings):
    """Capture keys."""

    query: str = Field(default="", pattern=r"^([0-9a-fA-F]{2})*$")


class Capture:
    """Bytes in, unparsed."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._port: serial.SerialBase | None = None

    @property
    def device(self) -> str:
        """The port URL."""
        return self.settings.port

    def open(self) -> ScaleIdentity:
        """Open, and send the query if there is one."""
        port = open_port(self.settings)
        self._port = port
        if self.settings.query:
            write(port, self.device, bytes.fromhex(self.settings.query))
        return ScaleIdentity(model="capture")

    def read(self) -> list[Reading]:
        """What arrived, as one REPLY reading (or none)."""
        port = self._port
        if port is None:
            raise DeviceUnavailableError(self.device, "port is not open")
        data = read_available(port, self.device)
        return [Reading(ReadingKind.REPLY, data)] if data else []

    def send(self, command: ScaleCommand) -> bool:
        """No commands."""
        _ = command
        return False

    def close(self) -> None:
        """Close the port."""
        port, self._port = self._port, None
        if port is not None:
            port.close()


DRIVER = Capture
