"""The scale link: keeps a scale driver open in its own thread and streams what it reads.

It owns the driver (drivers are used from one thread), reconnects with backoff and jitter when
the device drops, reads the scale's identity on every connect and says when a different scale
appeared on the port, and passes commands (zero, tare) to the driver between reads.
"""

from __future__ import annotations

import queue
import random
import threading
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from scale_agent.errors import DeviceError
from scale_agent.io.logs import RateLimiter

if TYPE_CHECKING:
    from collections.abc import Callable

    from scale_agent.io.clock import Clock
    from scale_agent.io.logs import Log
    from scale_agent.plugins import ScaleCommand, ScaleDriver, ScaleIdentity

BACKOFF_MIN_S = 0.5
BACKOFF_MAX_S = 10.0


@dataclass(frozen=True)
class LinkUp:
    """The scale link opened its device."""

    identity: ScaleIdentity


@dataclass(frozen=True)
class CommandSent:
    """A command reached the driver (`is_sent`), or the protocol cannot do it."""

    command: ScaleCommand
    is_sent: bool


@dataclass(frozen=True)
class LinkDown:
    """The scale link lost (or could not open) its device."""

    reason: str


class ScaleLink:
    """Keeps a scale driver open and streams its readings into the station queue."""

    def __init__(
        self, driver: ScaleDriver, clock: Clock, emit: Callable[[object], None], log: Log
    ) -> None:
        self.driver = driver
        self._clock = clock
        self._emit = emit
        self._log = log
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="scale-link", daemon=True)
        self._random = random.Random()  # noqa: S311 - jitter, not cryptography
        self.identity: ScaleIdentity | None = None
        self.reconnects = 0
        self._limiter = RateLimiter()
        self._commands: queue.Queue[ScaleCommand] = queue.Queue()

    def send(self, command: ScaleCommand) -> None:
        """Queue a command for the driver; it is sent between reads, from the link's thread."""
        self._commands.put(command)

    def start(self) -> None:
        """Start the reader thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop reading and close the driver."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=3)
        self.driver.close()

    def _run(self) -> None:
        delay = BACKOFF_MIN_S
        while not self._stop.is_set():
            try:
                identity = self.driver.open()
                self._connected(identity)
                delay = BACKOFF_MIN_S
                while not self._stop.is_set():
                    self._send_queued()
                    readings = self.driver.read()
                    if readings:
                        now, wall = self._clock.monotonic(), self._clock.time()
                        for reading in readings:
                            self._emit(replace(reading, received_at=now, wall_time=wall))
            except DeviceError as exc:
                self.driver.close()
                self._emit(LinkDown(str(exc)))
                held = self._limiter.allow("scale_unavailable")
                if held is not None:
                    self._log.warning(
                        "scale_unavailable", reason=str(exc), retry_in_s=delay, suppressed=held
                    )
                # Backoff with jitter: many stations re-opening converters at once would
                # otherwise retry in lockstep.
                self._stop.wait(delay * (0.5 + self._random.random()))
                delay = min(delay * 2, BACKOFF_MAX_S)
                self.reconnects += 1

    def _send_queued(self) -> None:
        while True:
            try:
                command = self._commands.get_nowait()
            except queue.Empty:
                return
            is_sent = self.driver.send(command)
            self._emit(CommandSent(command, is_sent))

    def _connected(self, identity: ScaleIdentity) -> None:
        previous = self.identity
        if previous is not None and previous.serial and identity.serial != previous.serial:
            self._log.warning("scale_replaced", was=previous.describe(), now=identity.describe())
        self.identity = identity
        self._log.info("scale_connected", device=self.driver.device, scale=identity.describe())
        self._emit(LinkUp(identity))
