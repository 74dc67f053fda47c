"""An output driver that remembers what it was asked to show."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scale_agent.plugins import Indication, Signal


class RecordingLight:
    """Satisfies `scale_agent.plugins.OutputDriver`."""

    def __init__(self) -> None:
        self.shown: list[Indication] = []
        self.is_open = False
        self._lock = threading.Lock()

    def open(self) -> None:
        """Start recording."""
        self.is_open = True

    def show(self, indication: Indication) -> None:
        """Record an indication (consecutive repeats collapse, as a lamp would show them)."""
        with self._lock:
            if not self.shown or self.shown[-1] != indication:
                self.shown.append(indication)

    def close(self) -> None:
        """Stop."""
        self.is_open = False

    def signals(self) -> list[Signal]:
        """The signals shown so far, consecutive repeats collapsed."""
        with self._lock:
            result: list[Signal] = []
            for indication in self.shown:
                if not result or result[-1] != indication.signal:
                    result.append(indication.signal)
            return result
