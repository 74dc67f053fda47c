"""A stack light and seal relay on a Modbus I/O module (TCP, or RTU on a shared RS-485 line).

Each channel is one coil (FC05/FC15). A write of the channels' coils is one "write multiple
coils" request when they sit within 32 addresses (a typical 8- or 16-output module), so a
change of signal is one round trip. Example, a tower on outputs 0-3 and the seal relay on 4::

    [[outputs]]
    driver = "modbus-coils"
    host = "10.0.5.21"
    device_id = 2
    channels = { red = 0, amber = 1, green = 2, buzzer = 3, seal = 4 }
    interlock = "seal"
    signals = { fail = ["red", "buzzer:2s"] }

Many I/O modules drop their outputs when the master falls silent (a "communication
watchdog"). Where the module's watchdog is a holding register, let the station set it on
every connect, so that a station that is stopped or frozen (no thread of it runs) locks the
seal by itself within that time; the board is rewritten every `refresh_s` while the station
loop turns, which feeds it. A WAGO 750-352 coupler, for one, takes its watchdog time in
units of 100 ms at register 0x1000::

    watchdog = { address = 0x1000, seconds = 3, unit_s = 0.1 }

A loop that hangs while the process lives is caught earlier, in-process: after
`station_silent_s` (3 s) the board shows its safe state by itself (`drivers.outputs._channels`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from drivers._modbus import Bus, ModbusLinkSettings, attach, detach
from drivers.outputs._channels import ChannelLight, ChannelSettings
from scale_agent.errors import DeviceError
from scale_agent.plugins import DriverSettings

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from pymodbus.client import ModbusBaseSyncClient
    from pymodbus.pdu import ModbusPDU

BLOCK = 32  # coils one request may cover; farther-apart channels go one by one


class ModuleWatchdog(DriverSettings):
    """The I/O module's communication watchdog: a holding register and its time unit."""

    address: int = Field(ge=0, le=65535)  # the holding register
    seconds: float = Field(gt=0, le=600)  # outputs drop after this long without a request
    unit_s: float = Field(default=0.1, gt=0)  # what one count of the register is worth

    @property
    def value(self) -> int:
        """The register's value for `seconds`."""
        return max(1, min(65535, round(self.seconds / self.unit_s)))


class Settings(ModbusLinkSettings, ChannelSettings):
    """Modbus coil outputs: the link keys (see `drivers._modbus`) and the channel keys."""

    watchdog: ModuleWatchdog | None = None  # set on every connect, where the module has one


class CoilBoard:
    """Coils on one Modbus unit."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._bus: Bus | None = None
        self._written: dict[int, bool] = {}

    @property
    def device(self) -> str:
        """The module's address and unit id."""
        return self.settings.where

    def open(self) -> None:
        """Connect (or join the RS-485 bus already open for the scale)."""
        if self._bus is None:
            self._bus = attach(self.settings)
        self._bus.connect()
        self._written = {}
        watchdog = self.settings.watchdog
        if watchdog is not None:  # a module that rebooted has lost it: set it every time
            self._check(
                self._bus.call(
                    self.device,
                    _write_register(watchdog.address, watchdog.value, self.settings.device_id),
                )
            )

    def write(self, states: Mapping[int, bool], *, is_full: bool) -> None:
        """Write the coils (all of them when `is_full`, else those that changed)."""
        bus = self._bus
        if bus is None:
            raise DeviceError(self.device, "not connected")
        changed = {
            address: on
            for address, on in states.items()
            if is_full or self._written.get(address) != on
        }
        if not changed:
            return
        unit = self.settings.device_id
        first, last = min(changed), max(changed)
        if last - first < BLOCK:
            # One request; coils between the channels keep what we last wrote (or off).
            values = [
                states.get(address, self._written.get(address, False))
                for address in range(first, last + 1)
            ]
            self._check(bus.call(self.device, _write_coils(first, values, unit)))
        else:
            for address, on in changed.items():
                self._check(bus.call(self.device, _write_coil(address, on, unit)))
        self._written.update(changed)

    def _check(self, response: ModbusPDU) -> None:
        if response.isError():
            code = getattr(response, "exception_code", "?")
            raise DeviceError(
                self.device, f"write refused: modbus exception {code} (wrong address?)"
            )

    def close(self) -> None:
        """Leave the bus (the last user closes it)."""
        bus, self._bus = self._bus, None
        if bus is not None:
            detach(bus)


def _write_coils(
    first: int, values: list[bool], unit: int
) -> Callable[[ModbusBaseSyncClient], ModbusPDU]:
    return lambda client: client.write_coils(first, values, device_id=unit)


def _write_coil(address: int, on: bool, unit: int) -> Callable[[ModbusBaseSyncClient], ModbusPDU]:
    return lambda client: client.write_coil(address, on, device_id=unit)


def _write_register(
    address: int, value: int, unit: int
) -> Callable[[ModbusBaseSyncClient], ModbusPDU]:
    return lambda client: client.write_register(address, value, device_id=unit)


def make_light(settings: Settings) -> ChannelLight:
    """The output driver: a channel light on a coil board."""
    return ChannelLight(settings, CoilBoard(settings))


DRIVER = make_light
