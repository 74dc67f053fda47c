"""USB and serial relay modules driven by command bytes (the CH340 "LCUS" family and KMtronic).

These boards appear as a serial port and switch one relay per short command; they cannot be
read back, so a lost board shows up only as a write error (USB unplugged). Frames, relay 1 on
and off:

- ``lcus`` (LCUS-1/2/4/8, 9600 8N1): ``A0 01 01 A2`` / ``A0 01 00 A1``, i.e. start byte,
  relay number, state, and the low byte of their sum;
- ``kmtronic`` (KMtronic USB relay boards, 9600 8N1): ``FF 01 01`` / ``FF 01 00``.

Example: a buzzer on relay 1 and the seal enable on relay 2::

    [[outputs]]
    driver = "usb-relay"
    port = "/dev/serial/by-id/usb-1a86_USB_Serial-if00-port0"
    channels = { buzzer = 1, seal = 2 }
    interlock = "seal"
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field

from drivers._serial import SerialSettings, open_port, write
from drivers.outputs._channels import ChannelLight, ChannelSettings

if TYPE_CHECKING:
    from collections.abc import Mapping

    import serial


class Settings(SerialSettings, ChannelSettings):
    """Relay board keys: the serial port, the command family, and the channel keys."""

    protocol: Literal["lcus", "kmtronic"] = "lcus"
    channels: dict[str, Annotated[int, Field(ge=1, le=255)]] = Field(min_length=1)  # relay no.


def relay_command(protocol: str, relay: int, on: bool) -> bytes:
    """The bytes that switch one relay."""
    if not 1 <= relay <= 255:  # noqa: PLR2004 - one byte on the wire
        raise ValueError(f"relay number {relay} is outside 1-255")
    if protocol == "kmtronic":
        return bytes((0xFF, relay, int(on)))
    return bytes((0xA0, relay, int(on), (0xA0 + relay + int(on)) & 0xFF))


class RelayBoard:
    """Relays on a serial port; remembers what it wrote, since the board cannot be read."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._port: serial.SerialBase | None = None
        self._written: dict[int, bool] = {}

    @property
    def device(self) -> str:
        """The serial port."""
        return self.settings.port

    def open(self) -> None:
        """Open the port. Raises DeviceUnavailableError with a diagnosis."""
        if self._port is None:
            self._port = open_port(self.settings)
        self._written = {}

    def write(self, states: Mapping[int, bool], *, is_full: bool) -> None:
        """Send one command per relay that changed (every relay when `is_full`)."""
        if self._port is None:
            self.open()
        assert self._port is not None  # noqa: S101 - open() set it or raised
        commands = b"".join(
            relay_command(self.settings.protocol, relay, on)
            for relay, on in sorted(states.items())
            if is_full or self._written.get(relay) != on
        )
        if commands:
            write(self._port, self.device, commands)
            self._port.flush()
            self._written.update(states)

    def close(self) -> None:
        """Close the port; safe to call twice."""
        port, self._port = self._port, None
        if port is not None:
            port.close()


def make_light(settings: Settings) -> ChannelLight:
    """The output driver: a channel light on a relay board."""
    return ChannelLight(settings, RelayBoard(settings))


DRIVER = make_light
