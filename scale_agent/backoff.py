"""The one retry schedule for every device the station keeps open: scales, scanners, boards.

Waits start at half a second, double after each failure up to a cap, and each is jittered to
0.5x-1.5x of the schedule: many stations re-opening serial-to-Ethernet converters or I/O
modules after a power cut would otherwise retry in lockstep. A success resets the schedule.
"""

from __future__ import annotations

import random

FIRST_S = 0.5
MAX_S = 10.0
NOT_OPENED = "not opened yet"  # the problem a device shows before its first open


class Backoff:
    """Jittered exponential backoff; `next_wait_s` after a failure, `reset` after a success."""

    def __init__(
        self, max_s: float = MAX_S, first_s: float = FIRST_S, rng: random.Random | None = None
    ) -> None:
        self.first_s = min(first_s, max_s)
        self.max_s = max_s
        self._delay = self.first_s
        self._random = rng or random.Random()  # noqa: S311 - jitter, not cryptography

    @property
    def delay_s(self) -> float:
        """The next wait before jitter (for messages: "retry in 2 s")."""
        return self._delay

    def next_wait_s(self) -> float:
        """How long to wait before the next attempt; the one after waits twice as long."""
        wait = self._delay * (0.5 + self._random.random())
        self._delay = min(self._delay * 2, self.max_s)
        return wait

    def reset(self) -> None:
        """The device answered: the next failure waits the shortest time again."""
        self._delay = self.first_s
