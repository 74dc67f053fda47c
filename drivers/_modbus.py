"""The Modbus link shared by the Modbus scale and the Modbus coil outputs: one bus, many units.

An RS-485 line can carry a weighing indicator (unit 1) and the stack light's I/O module
(unit 2); a serial port can be opened only once, and pymodbus's sync client is not
thread-safe. So every driver that names the same serial port shares one `Bus`: one client,
one lock, one transaction at a time. A poller holds the lock for a single request and sleeps
between polls without it, so the units on a line take turns instead of starving each other.
TCP links are not shared: each driver keeps its own connection (a gateway serves several).
"""

from __future__ import annotations

import os
import socket
import threading
from typing import TYPE_CHECKING, Literal, Self, TypeVar

from pydantic import Field, model_validator
from pymodbus.client import ModbusBaseSyncClient, ModbusSerialClient, ModbusTcpClient
from pymodbus.exceptions import ConnectionException, ModbusException

from scale_agent.errors import DeviceUnavailableError
from scale_agent.plugins import DriverSettings

if TYPE_CHECKING:
    from collections.abc import Callable


class ModbusLinkSettings(DriverSettings):
    """Where a Modbus device is: TCP host and port, or RTU serial port and framing; its unit."""

    transport: Literal["tcp", "rtu"] = "tcp"
    host: str | None = None
    tcp_port: int = Field(default=502, ge=1, le=65535)
    port: str | None = None  # the serial device for RTU
    baudrate: int = 9600
    bytesize: Literal[7, 8] = 8
    parity: Literal["N", "E", "O"] = "N"
    stopbits: Literal[1, 2] = 1
    device_id: int = Field(default=1, ge=0, le=247)
    timeout_s: float = Field(default=0.5, gt=0, le=10)
    retries: int = Field(default=0, ge=0, le=3)

    @model_validator(mode="after")
    def _addressed(self) -> Self:
        if self.transport == "tcp" and not self.host:
            raise ValueError("transport tcp needs host")
        if self.transport == "rtu" and not self.port:
            raise ValueError("transport rtu needs port (the serial device)")
        return self

    @property
    def where(self) -> str:
        """The link as a URL-like name with the unit id, for messages and status."""
        place = f"{self.host}:{self.tcp_port}" if self.transport == "tcp" else str(self.port)
        return f"modbus-{self.transport}://{place}#{self.device_id}"


T = TypeVar("T")


class Bus:
    """One pymodbus client and the lock that serialises its transactions."""

    def __init__(self, settings: ModbusLinkSettings) -> None:
        self.settings = settings
        self.lock = threading.Lock()
        self.users = 0
        self._client: ModbusBaseSyncClient | None = None

    def connect(self) -> None:
        """Open the client if it is not open. Raises DeviceUnavailableError."""
        with self.lock:
            if self._client is not None:
                return
            s = self.settings
            if s.transport == "tcp":
                client: ModbusBaseSyncClient = ModbusTcpClient(
                    str(s.host),
                    port=s.tcp_port,
                    timeout=s.timeout_s,
                    retries=s.retries,
                    reconnect_delay=0,
                )
            else:
                client = ModbusSerialClient(
                    str(s.port),
                    baudrate=s.baudrate,
                    bytesize=s.bytesize,
                    parity=s.parity,
                    stopbits=s.stopbits,
                    timeout=s.timeout_s,
                    retries=s.retries,
                    reconnect_delay=0,
                )
            if not client.connect():
                _close(client)
                raise DeviceUnavailableError(s.where, f"cannot connect: {_why_not(s)}")
            self._client = client

    def call(self, device: str, request: Callable[[ModbusBaseSyncClient], T]) -> T:
        """Run one request under the bus lock; a transport failure is DeviceUnavailableError.

        The response is returned as is: an exception response (`isError()`) is the caller's
        to interpret, because a refused register is not a dead link.
        """
        with self.lock:
            client = self._client
            if client is None:
                raise DeviceUnavailableError(device, "not connected")
            try:
                return request(client)
            except ModbusException as exc:
                if isinstance(exc, ConnectionException):
                    # The port or socket itself is gone: reopen on the next connect. A unit
                    # that merely does not answer leaves the bus open for the others.
                    self._client = None
                    _close(client)
                raise DeviceUnavailableError(device, f"no answer: {exc}") from exc

    def close(self) -> None:
        """Close the client (the next `connect` opens it again)."""
        with self.lock:
            client, self._client = self._client, None
        if client is not None:
            _close(client)


_shared: dict[str, Bus] = {}
_shared_lock = threading.Lock()


def attach(settings: ModbusLinkSettings) -> Bus:
    """The bus for these settings: shared per serial port for RTU, private for TCP."""
    if settings.transport == "tcp":
        bus = Bus(settings)
        bus.users = 1
        return bus
    with _shared_lock:
        known = _shared.get(str(settings.port))
        if known is None:
            bus = _shared[str(settings.port)] = Bus(settings)
        else:
            bus = known
        if _framing(bus.settings) != _framing(settings):
            raise DeviceUnavailableError(
                settings.where,
                f"{settings.port} is already open with other framing "
                f"({_framing(bus.settings)}); every unit on one bus needs the same",
            )
        bus.users += 1
        return bus


def detach(bus: Bus) -> None:
    """Stop using a bus; the last user closes it."""
    with _shared_lock:
        bus.users -= 1
        if bus.users > 0:
            return
        if _shared.get(str(bus.settings.port)) is bus:
            del _shared[str(bus.settings.port)]
    bus.close()


def _framing(settings: ModbusLinkSettings) -> str:
    s = settings
    return f"{s.baudrate} {s.bytesize}{s.parity}{s.stopbits}"


def _close(client: ModbusBaseSyncClient) -> None:
    client.close()  # type: ignore[no-untyped-call] # pymodbus leaves close() unannotated


def _why_not(s: ModbusLinkSettings) -> str:
    """What stopped the link from opening, in the words an integrator acts on.

    pymodbus only answers False: ask the operating system the same question once more.
    """
    if s.transport == "tcp":
        try:
            socket.create_connection((str(s.host), s.tcp_port), timeout=s.timeout_s).close()
        except OSError as exc:
            return f"TCP {s.host}:{s.tcp_port}: {exc.strerror or exc}"
        return f"TCP {s.host}:{s.tcp_port} accepts connections, but the Modbus client did not"
    port = str(s.port)
    if "://" not in port and not os.path.exists(port):  # noqa: PTH110 - a device path or URL
        return f"{port}: no such device (plugged in? udev rule?)"
    if "://" not in port and not os.access(port, os.R_OK | os.W_OK):
        return f"{port}: permission denied (is the user in the dialout group?)"
    return f"{port}: the port could not be opened (in use by another program?)"
