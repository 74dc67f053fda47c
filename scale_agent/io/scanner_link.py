"""The scanner link: keeps a scanner driver open in its own thread and passes each scan on.

Like the scale link: it owns the driver, reopens it with backoff when the device goes away
(a USB scanner unplugged and plugged back), and says so in the log and the station status.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from scale_agent.errors import DeviceError
from scale_agent.io.logs import RateLimiter
from scale_agent.io.scale_link import BACKOFF_MAX_S, BACKOFF_MIN_S

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


class ScannerLink:
    """Keeps a scanner open and streams its codes into the station queue."""

    def __init__(
        self, driver: ScannerDriver, clock: Clock, emit: Callable[[object], None], log: Log
    ) -> None:
        self.driver = driver
        self._clock = clock
        self._emit = emit
        self._log = log
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="scanner-link", daemon=True)
        self._limiter = RateLimiter()
        self.problem: str | None = "not opened yet"
        self.reconnects = 0

    def start(self) -> None:
        """Start the reader thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop reading and close the driver (releasing its grab)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=3)
        self.driver.close()

    def _run(self) -> None:
        delay = BACKOFF_MIN_S
        while not self._stop.is_set():
            try:
                self.driver.open()
                if self.problem != "not opened yet":
                    self._log.info("scanner_reconnected", device=self.driver.device)
                self.problem = None
                delay = BACKOFF_MIN_S
                while not self._stop.is_set():
                    for code in self.driver.read():
                        self._emit(Scanned(code, self._clock.monotonic()))
            except DeviceError as exc:
                self.driver.close()
                self.problem = str(exc)
                held = self._limiter.allow("scanner_unavailable")
                if held is not None:
                    self._log.warning(
                        "scanner_unavailable", reason=str(exc), retry_in_s=delay, suppressed=held
                    )
                self._stop.wait(delay)
                delay = min(delay * 2, BACKOFF_MAX_S)
                self.reconnects += 1
