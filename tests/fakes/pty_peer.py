"""A scale on the far end of a pseudo-terminal, answering with the test's `respond` function.

The driver under test opens the pty's device path exactly as it would open a USB adapter, so
termios and real device opening are exercised. `hang_up()` closes the controller side, which
gives the driver the same error as unplugging a USB-serial adapter.
"""

from __future__ import annotations

import contextlib
import os
import select
import threading
import tty
from collections.abc import Callable

Respond = Callable[[bytes], bytes]


class PtyPeer:
    """Answers each CR LF-terminated request with `respond(request)`; can also push bytes."""

    def __init__(self, respond: Respond, terminator: bytes = b"\n") -> None:
        self.respond = respond
        self.terminator = terminator
        self._controller, self._device = os.openpty()
        tty.setraw(self._device)
        self.path = os.ttyname(self._device)
        self.requests: list[bytes] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._serve, name="pty-peer", daemon=True)
        self._thread.start()

    def push(self, data: bytes) -> None:
        """Send bytes to the driver unasked (continuous output)."""
        with self._lock:
            if not self._stop.is_set():
                os.write(self._controller, data)

    def hang_up(self) -> None:
        """Close the controller side: the driver sees a vanished device."""
        self._stop.set()
        self._thread.join(timeout=2)
        self._close_fds()

    def close(self) -> None:
        """Stop serving and release the pty."""
        self.hang_up()

    def _close_fds(self) -> None:
        with self._lock:
            for fd in (self._controller, self._device):
                with contextlib.suppress(OSError):
                    os.close(fd)
            self._controller = self._device = -1

    def _serve(self) -> None:
        buffer = b""
        while not self._stop.is_set():
            ready, _, _ = select.select([self._controller], [], [], 0.05)
            if not ready:
                continue
            try:
                data = os.read(self._controller, 1024)
            except OSError:
                return
            buffer += data
            while self.terminator in buffer:
                request, buffer = buffer.split(self.terminator, 1)
                request = request.rstrip(b"\r")
                self.requests.append(request)
                answer = self.respond(request)
                if answer:
                    self.push(answer)
