"""The console light: what a packer without a stack light watches on the bench PC's screen.

Each change of indication prints one line: a coloured lamp, the signal, the text, and the seal
interlock state, in the station's language when it says it (`Indication.seal_text`), e.g.
``[   PASS   ] PASS: Seal the parcel and lift it off | SEAL OPEN``.
On a terminal the lamp is coloured; in a log file it is plain text.
"""

from __future__ import annotations

import sys
import threading
from typing import Literal, TextIO

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


class ConsoleLight:
    """Prints indications to a terminal stream."""

    def __init__(self, settings: Settings, stream: TextIO | None = None) -> None:
        self.settings = settings
        self._stream = stream
        self._last: Indication | None = None
        self._lock = threading.Lock()

    device = "console"
    problem = None  # a terminal line cannot fail in a way the packer would not see

    def open(self) -> None:
        """Nothing to connect; show the safe state until the station says otherwise."""
        self._last = None

    def show(self, indication: Indication) -> None:
        """Print the indication unless it is the one already shown."""
        with self._lock:
            if indication == self._last:
                return
            self._last = indication
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
        self.show(SAFE_INDICATION)


DRIVER = ConsoleLight
