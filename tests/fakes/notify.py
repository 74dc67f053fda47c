"""A NOTIFY_SOCKET the test owns: what systemd would receive from a Type=notify service."""

from __future__ import annotations

import socket
import threading
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path


class NotifySocket:
    """Collects sd_notify datagrams as (monotonic time, line)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.messages: list[tuple[float, str]] = []
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._sock.bind(str(path))
        self._sock.settimeout(0.1)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._receive, name="notify-socket", daemon=True)
        self._thread.start()

    def _receive(self) -> None:
        while not self._stop.is_set():
            try:
                data = self._sock.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            now = time.monotonic()
            with self._lock:
                self.messages.extend((now, line) for line in data.decode().splitlines())

    def lines(self, prefix: str = "") -> list[tuple[float, str]]:
        """Received lines starting with `prefix`."""
        with self._lock:
            return [(at, line) for at, line in self.messages if line.startswith(prefix)]

    def wait_for(self, prefix: str, count: int = 1, timeout: float = 15.0) -> None:
        """Wait until `count` lines starting with `prefix` arrived."""
        deadline = time.monotonic() + timeout
        while len(self.lines(prefix)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"no {count} x {prefix!r}; got {self.messages!r}")
            time.sleep(0.02)

    def close(self) -> None:
        """Stop listening."""
        self._stop.set()
        self._thread.join(timeout=2)
        self._sock.close()
