"""The console light: what a packer without a stack light watches on the bench PC's screen.

Each change of indication prints one line: a coloured lamp, the signal, the text, and the seal
interlock state, in the station's language when it says it (`Indication.seal_text`), e.g.
``[   PASS   ] PASS: Seal the parcel and lift it off | SEAL OPEN``.
On a terminal the lamp is coloured; in a log file it is plain text.

A terminal line stays on screen after the station stops turning, so a watcher thread prints
a FAULT line ("station not responding") once the station loop has not vouched for the lamp
for `station_silent_s`, and the last indication again when it turns.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import Literal, TextIO

from pydantic import Field

from scale_agent.plugins import SAFE_INDICATION, DriverSettings, Indication, Signal
from scale_agent.text import printable

_COLOURS = {
    Signal.IDLE: "\033[2m",  # dim
    Signal.READY: "\033[1;34m",  # blue
    Signal.SETTLING: "\033[1;36m",  # cyan
    Signal.PASS: "\033[1;97;42m",  # white on green
    Signal.FAIL: "\033[1;97;41m",  # white on red
    Signal.RECHECK: "\033[1;30;43m",  # black on amber
    Signal.ITEM_MISMATCH: "\033[1;31;43m",  # red on amber
    Signal.FAULT: "\033[1;97;45m",  # white on magenta
}
_RESET = "\033[0m"


class Settings(DriverSettings):
    """Console light keys."""

    color: Literal["auto", "always", "never"] = "auto"
    stream: Literal["stdout", "stderr"] = "stdout"
    station_silent_s: float = Field(default=3.0, ge=0.5, le=60)


NOT_RESPONDING = Indication(
    Signal.FAULT,
    "Station not responding: do not seal, call the supervisor",
    is_seal_enabled=False,
)


class ConsoleLight:
    """Prints indications to a terminal stream."""

    def __init__(self, settings: Settings, stream: TextIO | None = None) -> None:
        self.settings = settings
        self._stream = stream
        self._last: Indication | None = None
        self._lock = threading.Lock()
        self._vouched_at = time.monotonic()
        self._is_silent = False
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None

    device = "console"
    problem = None  # a terminal line cannot fail in a way the packer would not see

    def open(self) -> None:
        """Nothing to connect; watch for a station that stops turning."""
        self._last = None
        self._vouched_at = time.monotonic()
        self._stop.clear()
        if self._watcher is None:
            self._watcher = threading.Thread(target=self._watch, name="console", daemon=True)
            self._watcher.start()

    def vouch(self) -> None:
        """The station loop turned (every turn: one assignment)."""
        self._vouched_at = time.monotonic()
        if self._is_silent:
            with self._lock:
                self._is_silent = False
                if self._last is not None:
                    self._print(self._last)

    def show(self, indication: Indication) -> None:
        """Print the indication unless it is the one already shown."""
        with self._lock:
            if indication == self._last:
                return
            self._last = indication
            if not self._is_silent:
                self._print(indication)

    def _watch(self) -> None:
        silent_s = self.settings.station_silent_s
        while True:
            remaining = self._vouched_at + silent_s - time.monotonic()
            if remaining <= 0 and not self._is_silent:
                with self._lock:
                    self._is_silent = True
                    self._print(NOT_RESPONDING)
            if self._stop.wait(remaining if remaining > 0 else silent_s):
                return

    def _print(self, indication: Indication) -> None:
        """One line for an indication (the caller holds the lock)."""
        stream = self._stream or getattr(sys, self.settings.stream)
        colour = self.settings.color == "always" or (
            self.settings.color == "auto" and stream.isatty()
        )
        lamp = f"[{indication.signal.value.upper():^10}]"
        if colour:
            lamp = f"{_COLOURS[indication.signal]}{lamp}{_RESET}"
        seal = indication.seal_text or (
            "seal: ENABLED" if indication.is_seal_enabled else "seal: locked"
        )
        # The text carries order ids and names from outside: never a control sequence.
        stream.write(f"{lamp} {printable(indication.text)} | {printable(seal)}\n")
        stream.flush()

    def close(self) -> None:
        """Show the safe state: fault lamp, seal locked."""
        self._stop.set()
        watcher, self._watcher = self._watcher, None
        if watcher is not None:
            watcher.join(timeout=2)
        self._is_silent = False
        self.show(SAFE_INDICATION)


DRIVER = ConsoleLight
