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
    """Answers each request with `respond(request)`; can also push bytes.

    Requests end with `terminator`; with None, every read is one request (protocols such as
    the Toledo 8217 send a bare `W`).
    """

    def __init__(self, respond: Respond, terminator: bytes | None = b"\n") -> None:
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
            for request in self._requests(buffer):
                self.requests.append(request)
                answer = self.respond(request)
                if answer:
                    self.push(answer)
            buffer = b"" if self.terminator is None else buffer.rsplit(self.terminator, 1)[-1]

    def _requests(self, buffer: bytes) -> list[bytes]:
        if self.terminator is None:
            return [buffer]
        *complete, _rest = buffer.split(self.terminator)
        return [request.rstrip(b"\r") for request in complete]
