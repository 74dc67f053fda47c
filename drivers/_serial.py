"""Serial plumbing for every serial driver (scales, relay boards, scanners).

Settings, opening a pyserial URL, and plain-words diagnoses.

Every serial protocol takes a pyserial URL as its port, so a device path
(`/dev/serial/by-id/...`), a serial-to-Ethernet converter (`socket://host:port`) or an
RFC 2217 server (`rfc2217://host:port`) all work without extra code.
"""

from __future__ import annotations

import errno
import os
import select
from typing import Literal

import serial
from pydantic import Field

from scale_agent.errors import DeviceUnavailableError
from scale_agent.plugins import DriverSettings

READ_TIMEOUT_S = 0.05
MAX_READ_BYTES = 4096


class SerialSettings(DriverSettings):
    """Port settings common to every serial device."""

    port: str = Field(min_length=1, description="pyserial URL or device path")
    baudrate: int = Field(default=9600, ge=300, le=921_600)
    bytesize: Literal[7, 8] = 8
    parity: Literal["N", "E", "O"] = "N"
    stopbits: Literal[1, 2] = 1
    exclusive: bool = True


def diagnose(port: str, exc: BaseException) -> str:
    """Say in plain words why a port could not be opened or read."""
    code = getattr(exc, "errno", None)
    text = str(exc)
    if code == errno.ENOENT or "No such file" in text:
        return f"port {port} is missing: is the scale plugged in? (prefer /dev/serial/by-id/...)"
    if code == errno.EACCES or "Permission denied" in text:
        return f"permission denied on {port}: add the service user to the 'dialout' group"
    if "exclusively lock" in text or code == errno.EBUSY:
        return (
            f"port {port} is busy: another program has it open "
            "(a second scale-agent, ModemManager or brltty?)"
        )
    if code == errno.ECONNREFUSED or "Connection refused" in text:
        return f"connection refused by {port}: is the serial converter's TCP server on?"
    if "disconnected" in text or "returned no data" in text:
        return f"{port} disconnected (unplugged, or another program is reading it)"
    return f"{port}: {text}"


def open_port(settings: SerialSettings) -> serial.SerialBase:
    """Open the configured port; translate pyserial's errors at this one boundary.

    Raises:
        DeviceUnavailableError: with a plain-words diagnosis.
    """
    # exclusive= (flock) exists only for local devices, not for socket:// or rfc2217://.
    is_local = "://" not in settings.port
    # Devices, ptys and socket:// have a descriptor to wait on: read_available waits in select
    # and then takes what is there without waiting (timeout 0); others wait in read itself.
    selectable = is_local or settings.port.startswith("socket://")
    try:
        port = serial.serial_for_url(
            settings.port,
            baudrate=settings.baudrate,
            bytesize=settings.bytesize,
            parity=settings.parity,
            stopbits=settings.stopbits,
            timeout=0 if selectable else READ_TIMEOUT_S,
            exclusive=settings.exclusive if is_local else None,
        )
        port.reset_input_buffer()
    except (serial.SerialException, OSError, ValueError) as exc:
        raise DeviceUnavailableError(settings.port, diagnose(settings.port, exc)) from exc
    return port


def read_available(port: serial.SerialBase, device: str, wait_s: float = READ_TIMEOUT_S) -> bytes:
    """Block until bytes arrive (at most `wait_s`), then take all that has arrived in one call.

    One system call per arrival, whatever the transport. pyserial's socket:// handler reports
    at most one byte waiting, so reading `in_waiting` bytes there costs one call per byte;
    and pyserial's own read, even with nothing left to wait for, selects twice more around
    the read. On a port with a descriptor (a device, a pty, socket://; open_port set their
    timeout to 0) this waits in select and reads the descriptor; others (rfc2217://) read
    what `in_waiting` says, within the port timeout.
    """
    try:
        if port.timeout == 0:
            descriptor: int = port.fileno()
            if not select.select([descriptor], [], [], wait_s)[0]:
                return b""
            data = os.read(descriptor, MAX_READ_BYTES)
        else:
            # Every URL handler has in_waiting, though SerialBase's stub does not declare it.
            waiting: int = getattr(port, "in_waiting", 0)
            return bytes(port.read(min(waiting or 1, MAX_READ_BYTES)))
    except (serial.SerialException, OSError, ValueError) as exc:
        raise DeviceUnavailableError(device, diagnose(device, exc)) from exc
    if not data:  # readable but empty: the device, or the converter's peer, is gone
        gone = OSError("device reports readiness to read but returned no data")  # as pyserial's
        raise DeviceUnavailableError(device, diagnose(device, gone))
    return data


def write(port: serial.SerialBase, device: str, data: bytes) -> None:
    """Write a command."""
    try:
        port.write(data)
    except (serial.SerialException, OSError) as exc:
        raise DeviceUnavailableError(device, diagnose(device, exc)) from exc
