"""The scale link: keeps a scale driver open in its own thread and streams what it reads.

The reconnect loop is `DeviceLink`'s; this adds what a scale needs: its identity read on every
connect (and a warning when a different scale appeared on the port), and commands (zero,
tare) passed to the driver between reads, and a pace: after a read, the station may ask the
link to let frames gather in the port's buffer for a while (`station.scale_inbox.gather_s`);
a command ends that wait at once.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

from scale_agent.io.device_link import DeviceLink
from scale_agent.weights import Reading

if TYPE_CHECKING:
    from collections.abc import Callable

    from scale_agent.io.clock import Clock
    from scale_agent.io.logs import Log
    from scale_agent.plugins import ScaleCommand, ScaleDriver, ScaleIdentity


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


ScaleEvent = Reading | LinkUp | LinkDown | CommandSent  # what the link puts on the queue


class ScaleLink(DeviceLink["ScaleDriver"]):
    """Keeps a scale driver open and streams its readings into the station queue."""

    kind = "scale"

    def __init__(
        self,
        driver: ScaleDriver,
        clock: Clock,
        emit: Callable[[ScaleEvent], None],
        log: Log,
        gather_s: Callable[[], float] | None = None,
    ) -> None:
        super().__init__(driver, clock, log)
        self._emit = emit
        self._gather_s = gather_s
        self._nudge = threading.Event()  # ends a gathering wait: a command, or stop
        self.identity: ScaleIdentity | None = None
        # A deque, not a Queue: the read loop looks at it after every read, and an empty
        # deque is one truth test where Queue.get_nowait raises and catches per read.
        self._commands: deque[ScaleCommand] = deque()

    def send(self, command: ScaleCommand) -> None:
        """Queue a command for the driver; it is sent between reads, from the link's thread."""
        self._commands.append(command)  # deque appends and pops are thread-safe
        self._nudge.set()

    def stop(self) -> None:
        """Stop the thread (ending a gathering wait at once) and close the driver."""
        self._stop.set()
        self._nudge.set()
        super().stop()

    def _session(self) -> None:
        self._connected(self.driver.open())
        while not self._stop.is_set():
            if self._commands:
                self._send_queued()
            readings = self.driver.read()
            if readings:
                now, wall = self._clock.monotonic(), self._clock.time()
                for reading in readings:
                    self._emit(reading.at(now, wall))
                if self._gather_s is not None and (pause := self._gather_s()) > 0:
                    self._nudge.wait(pause)
                    self._nudge.clear()

    def _on_down(self, reason: str) -> None:
        self._emit(LinkDown(reason))

    def _send_queued(self) -> None:
        while self._commands:
            command = self._commands.popleft()
            is_sent = self.driver.send(command)
            self._emit(CommandSent(command, is_sent))

    def _connected(self, identity: ScaleIdentity) -> None:
        previous = self.identity
        if previous is not None and previous.serial and identity.serial != previous.serial:
            self._log.warning("scale_replaced", was=previous.describe(), now=identity.describe())
        self.identity = identity
        self._opened(scale=identity.describe())
        self._emit(LinkUp(identity))
