"""The seams between the core and its drivers, and the entry-point registry that finds them.

Drivers live outside the core (the `drivers/` tree, or any third-party package) and join
through entry-point groups, exactly as a separately installed plug-in would:

- `scale_agent.scales`: a module exposing `Settings` (a pydantic model of its config keys)
  and `DRIVER` (a callable taking those settings and returning a `ScaleDriver`);
- `scale_agent.outputs`: the same shape, returning an `OutputDriver`;
- `scale_agent.scanners`: the same shape, returning a `ScannerDriver` (where orders come
  from; the old group name `scale_agent.jobs` still works);
- `scale_agent.cameras`: the same shape, returning a `CameraDriver` (a photo per parcel).

The registry lists entry points without importing them and imports one only when asked, so a
driver whose optional dependency is missing is reported as unavailable with the reason instead
of breaking the daemon.
"""

from __future__ import annotations

import importlib.metadata
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol, cast, runtime_checkable

from scale_agent.errors import UnknownDriverError
from scale_agent.models import StrictModel
from scale_agent.signals import SAFE_INDICATION, Indication, Signal

__all__ = [  # the signals are part of the driver API, re-exported for the drivers
    "CAMERA_GROUP",
    "GROUPS",
    "OUTPUT_GROUP",
    "SAFE_INDICATION",
    "SCALE_GROUP",
    "SCANNER_GROUP",
    "CameraDriver",
    "DriverInfo",
    "DriverModule",
    "DriverSettings",
    "Indication",
    "OutputDriver",
    "ScaleCommand",
    "ScaleDriver",
    "ScaleIdentity",
    "ScannerDriver",
    "Signal",
    "SimulatedBench",
    "describe_drivers",
    "driver_names",
    "load_driver",
]

if TYPE_CHECKING:
    from collections.abc import Callable

    from scale_agent.weights import Reading, Weight

SCALE_GROUP = "scale_agent.scales"
OUTPUT_GROUP = "scale_agent.outputs"
SCANNER_GROUP = "scale_agent.scanners"
CAMERA_GROUP = "scale_agent.cameras"
# The scanners' first group name: it said "jobs" but held scanners. Drivers registered there
# (by packages written against it) are still found, after the new group.
LEGACY_GROUPS = {SCANNER_GROUP: ("scale_agent.jobs",)}
GROUPS = {
    "scales": SCALE_GROUP,
    "outputs": OUTPUT_GROUP,
    "scanners": SCANNER_GROUP,
    "cameras": CAMERA_GROUP,
}


class DriverSettings(StrictModel):
    """Base of every driver's `Settings`: unknown keys are errors, values are frozen."""


@dataclass(frozen=True)
class ScaleIdentity:
    """What a scale says about itself on connect (model, serial number), where it can."""

    model: str | None = None
    serial: str | None = None
    details: dict[str, str] = field(default_factory=dict)

    def describe(self) -> str:
        """A one-line description for logs and status."""
        parts = [self.model or "unknown model"]
        if self.serial:
            parts.append(f"s/n {self.serial}")
        return ", ".join(parts)


class ScaleCommand(StrEnum):
    """Commands a station may send to a scale that supports them."""

    ZERO = "zero"
    TARE = "tare"


class ScaleDriver(Protocol):
    """A connection to one scale. Used from one thread (the scale link's reader thread)."""

    @property
    def device(self) -> str:
        """The port or address, for messages."""
        ...

    def open(self) -> ScaleIdentity:
        """Open the device and read its identity. Raises DeviceUnavailableError."""
        ...

    def read(self) -> list[Reading]:
        """Return the readings decoded since the last call, blocking at most about 0.2 s.

        An empty list means nothing arrived (silence is not a weight). Raises
        DeviceUnavailableError when the link dropped.
        """
        ...

    def send(self, command: ScaleCommand) -> bool:
        """Send a command; return False when this scale or protocol cannot do it."""
        ...

    def close(self) -> None:
        """Close the device; safe to call twice."""
        ...


class ScannerDriver(Protocol):
    """A barcode scanner (or a prompt): codes in, one per scan. Used from one thread."""

    @property
    def device(self) -> str:
        """The port or event device, for messages."""
        ...

    def open(self) -> None:
        """Open the device. Raises DeviceUnavailableError with a diagnosis."""
        ...

    def read(self) -> list[str]:
        """The codes scanned since the last call, blocking at most about 0.2 s.

        Raises DeviceUnavailableError when the device went away.
        """
        ...

    def close(self) -> None:
        """Close the device (releasing a grab); safe to call twice."""
        ...


class CameraDriver(Protocol):
    """A camera: one still image per call. Used from one thread (the photo worker)."""

    @property
    def device(self) -> str:
        """The URL or input, without credentials, for messages."""
        ...

    def capture(self) -> bytes:
        """One JPEG image, within the driver's own time bound.

        Raises DeviceError (DeviceTimeoutError, DeviceUnavailableError) saying why not.
        """
        ...

    def close(self) -> None:
        """Release anything held between captures; safe to call twice."""
        ...


class OutputDriver(Protocol):
    """A light, lamp or relay set that shows indications to the packer.

    A driver may also have `device` (a name for status) and `problem` (None while it works,
    else why not: shown in health and status); `Outputs` reads both where present, so
    plug-ins written without them still work. A driver that keeps its output in step from a
    thread of its own should also have `vouch()`: the station loop calls it on every turn,
    and a driver that stops hearing it must fall back to its safe state (seal locked) rather
    than hold a PASS for a station that hung.
    """

    def open(self) -> None:
        """Connect and show the safe state."""
        ...

    def show(self, indication: Indication) -> None:
        """Show an indication. Raises DeviceError when the output cannot be reached."""
        ...

    def close(self) -> None:
        """Leave the output in its safe state (interlock open) and disconnect."""
        ...


@runtime_checkable
class SimulatedBench(Protocol):
    """The hands of a simulated scale: what the demo and tests do to the platter."""

    def place(self, weight: Weight) -> None:
        """Put a parcel of this true weight on the platter."""
        ...

    def remove(self) -> None:
        """Take whatever is on the platter off."""
        ...

    def misbehave(self, fault: str) -> None:
        """Start a fault: `drift`, `fault` (error replies), `silence`, or `none` to stop."""
        ...


class DriverModule(Protocol):
    """The two names every driver module exposes."""

    Settings: type[DriverSettings]
    DRIVER: Callable[..., object]


@dataclass(frozen=True)
class DriverInfo:
    """One installed driver as the registry sees it."""

    group: str
    name: str
    target: str
    is_available: bool
    reason: str = ""
    summary: str = ""


def _entry_points(group: str) -> dict[str, importlib.metadata.EntryPoint]:
    found: dict[str, importlib.metadata.EntryPoint] = {}
    for name in (*LEGACY_GROUPS.get(group, ()), group):  # the current group wins a clash
        found |= {ep.name: ep for ep in importlib.metadata.entry_points(group=name)}
    return found


def driver_names(group: str) -> list[str]:
    """The names registered in an entry-point group, without importing anything."""
    return sorted(_entry_points(group))


def load_driver(group: str, name: str, location: str = "driver") -> DriverModule:
    """Import one driver module by its entry-point name.

    Raises:
        UnknownDriverError: when no such driver is registered, or its import fails; the
            message names the installed drivers or the import error.
    """
    entry_points = _entry_points(group)
    entry_point = entry_points.get(name)
    if entry_point is None:
        known = ", ".join(sorted(entry_points)) or "none"
        raise UnknownDriverError(location, group, name, f"not installed (installed: {known})")
    try:
        module = entry_point.load()
    except Exception as exc:
        raise UnknownDriverError(
            location, group, name, f"cannot be imported: {type(exc).__name__}: {exc}"
        ) from exc
    if not (hasattr(module, "Settings") and hasattr(module, "DRIVER")):
        raise UnknownDriverError(
            location, group, name, f"{entry_point.value} lacks Settings or DRIVER"
        )
    return cast("DriverModule", module)


def describe_drivers() -> list[DriverInfo]:
    """Every registered driver, imported one by one to say whether it can be used and why not."""
    infos: list[DriverInfo] = []
    for group in GROUPS.values():
        for name, entry_point in sorted(_entry_points(group).items()):
            try:
                module = load_driver(group, name)
            except UnknownDriverError as exc:
                infos.append(
                    DriverInfo(
                        group, name, entry_point.value, is_available=False, reason=exc.reason
                    )
                )
                continue
            doc = (getattr(module, "__doc__", None) or "").strip().splitlines()
            infos.append(
                DriverInfo(
                    group, name, entry_point.value, is_available=True, summary=doc[0] if doc else ""
                )
            )
    return infos
