"""The scanner link: keeps a scanner driver open in its own thread and passes each scan on.

The reconnect loop is `DeviceLink`'s: a USB scanner unplugged and plugged back is reopened
with backoff, and its problem shows in the log and the station status.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from scale_agent.io.device_link import DeviceLink

if TYPE_CHECKING:
    from collections.abc import Callable

    from scale_agent.io.clock import Clock
    from scale_agent.io.logs import Log
    from scale_agent.plugins import ScannerDriver


@dataclass(frozen=True)
class Scanned:
    """A code as the scanner sent it."""

    code: str
    at: float


class ScannerLink(DeviceLink["ScannerDriver"]):
    """Keeps a scanner open and streams its codes into the station queue."""

    kind = "scanner"

    def __init__(
        self, driver: ScannerDriver, clock: Clock, emit: Callable[[Scanned], None], log: Log
    ) -> None:
        super().__init__(driver, clock, log)
        self._emit = emit

    def _session(self) -> None:
        self.driver.open()
        self._opened()
        while not self._stop.is_set():
            for code in self.driver.read():
                self._emit(Scanned(code, self._clock.monotonic()))
