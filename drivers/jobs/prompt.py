"""A prompt for a bench without a scanner: type or paste a code and press Enter.

Reads lines from the daemon's standard input (or `path`, e.g. a FIFO a kiosk writes to).
"""

from __future__ import annotations

import os
import sys

from drivers.jobs._codes import CodeSettings, CodeSplitter, read_ready
from scale_agent.errors import DeviceUnavailableError


class Settings(CodeSettings):
    """Prompt keys: where lines come from (standard input by default)."""

    path: str | None = None
    terminator: str = "\n"


class Prompt:
    """Lines typed on a terminal (or written to a FIFO)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._fd: int | None = None
        self._splitter = CodeSplitter(settings)

    @property
    def device(self) -> str:
        """Where lines are read from."""
        return self.settings.path or "stdin"

    def open(self) -> None:
        """Open the FIFO or take standard input."""
        if self.settings.path is None:
            self._fd = sys.stdin.fileno()
            return
        try:
            self._fd = os.open(self.settings.path, os.O_RDWR | os.O_NONBLOCK)
        except OSError as exc:
            raise DeviceUnavailableError(self.device, f"{self.device}: {exc.strerror}") from exc

    def read(self) -> list[str]:
        """Lines completed since the last call, waiting at most 0.2 s."""
        data = read_ready(self._fd, self.device, 4096, f"{self.device} closed: nothing to read")
        return self._splitter.feed(data.decode("utf-8", errors="replace"))

    def close(self) -> None:
        """Close a FIFO (standard input stays open)."""
        fd, self._fd = self._fd, None
        if fd is not None and self.settings.path is not None:
            os.close(fd)


DRIVER = Prompt
