"""Where the scale link leaves what it read for the station loop, waking the loop only when it must.

A scale streams all day, mostly the same frame over and over while the platter is empty. Waking
the station loop for each frame costs a second thread wake-up per frame (on a shared two-core
machine about as much as the scale link's own wake-up, and more than all the decoding). A frame
that repeats the previous one while the station waits for a parcel can change nothing that
cannot wait for the loop's next tick (at most `TICK_S`, 50 ms): it is queued here without a
wake-up. Anything else (a new frame, any frame while a parcel is on the platter or the scale is
in fault, a link event) is queued and wakes the loop at once. The loop takes everything here in
arrival order at every turn, so readings are judged in order with their own timestamps
(`received_at` is stamped by the link when the frame completed, not when it is handled).

The same hint paces the link itself: while the station waits for a load and the scale repeats
its frame, the link may let frames gather in the port's buffer for `GATHER_S` and take them in
one read (`gather_s`), so an idle station wakes ten times a second instead of once per frame
(at 50 frames/s that wake-up, not the decoding, is most of what a station costs). Gathering
starts only once the same frame has come for `GATHER_AFTER_S` (a parcel's first frames wake
the loop, which then no longer waits for a load), and the first frame that differs ends it:
from then on every frame is read as it arrives, so the frames that settle a parcel keep their
own time. A gathered frame is stamped when it was read, at most `GATHER_S` late, which only
ever makes a settle window look shorter, never longer.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

from scale_agent.weights import Reading

if TYPE_CHECKING:
    from collections.abc import Callable

    from scale_agent.io.scale_link import ScaleEvent


@dataclass(frozen=True)
class ScaleWaiting:
    """Wakes the station loop: the scale inbox holds something that should not wait."""


WAKE = ScaleWaiting()
GATHER_S = 0.1  # below the idle tick (0.25 s): a gathered frame still waits for the same tick
GATHER_AFTER_S = 0.5


class ScaleInbox:
    """The scale link's side puts (any thread); the station loop's side takes (its thread)."""

    def __init__(self, wake: Callable[[ScaleWaiting], None], can_wait: Callable[[], bool]) -> None:
        self._wake = wake
        self._can_wait = can_wait  # read from the link's thread: a hint, never a decision
        self._events: deque[ScaleEvent] = deque()  # appends and pops are thread-safe
        self._last_raw: bytes | None = None
        self._same_since = 0.0  # received_at of the first of the frames repeating now
        self._same_until = 0.0  # received_at of the latest of them
        self._is_woken = False

    def put(self, event: ScaleEvent) -> None:
        """Queue one event from the link; wake the loop unless it may wait for the next tick."""
        if isinstance(event, Reading):
            is_repeat = event.raw == self._last_raw
            self._last_raw = event.raw
            if not is_repeat:
                self._same_since = event.received_at
            self._same_until = event.received_at
        else:  # a link event: the next frame is news
            is_repeat = False
            self._last_raw = None
            self._same_since = self._same_until
        self._events.append(event)
        if (is_repeat and self._can_wait()) or self._is_woken:
            return
        self._is_woken = True  # one wake-up for however many events arrive before the take
        self._wake(WAKE)

    def gather_s(self) -> float:
        """How long the link may let frames gather before its next read (the link's thread).

        `GATHER_S` once the same frame has come for `GATHER_AFTER_S` while the station waits
        for a load; 0 (read as they arrive) otherwise.
        """
        if self._same_until - self._same_since >= GATHER_AFTER_S and self._can_wait():
            return GATHER_S
        return 0.0

    def take(self) -> list[ScaleEvent]:
        """Everything queued, oldest first (the station loop's thread)."""
        self._is_woken = False  # before taking: an event put after this line wakes again
        events = self._events
        return [events.popleft() for _ in range(len(events))]
