"""Two pseudo-terminals wired back to back, like a null-modem cable (or a shared RS-485 pair).

A serial server opens `a`, the driver under test opens `b`; a thread copies bytes between the
two controller sides. It stands in for `socat pty,raw pty,raw` without needing socat.
"""

from __future__ import annotations

import contextlib
import os
import select
import threading
import tty


class NullModem:
    """Bytes written to one end's device path come out of the other's."""

    def __init__(self) -> None:
        self._fds: list[int] = []
        self._controllers: list[int] = []
        paths: list[str] = []
        for _ in range(2):
            controller, device = os.openpty()
            tty.setraw(device)
            tty.setraw(controller)
            paths.append(os.ttyname(device))
            self._controllers.append(controller)
            # Keep the device side open ourselves: a pty whose device side is closed by the
            # last user reports EIO to its controller, which would end the bridge.
            self._fds += [controller, device]
        self.a, self.b = paths
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._bridge, name="null-modem", daemon=True)
        self._thread.start()

    def _bridge(self) -> None:
        first, second = self._controllers
        other = {first: second, second: first}
        while not self._stop.is_set():
            ready, _, _ = select.select(self._controllers, [], [], 0.05)
            for fd in ready:
                try:
                    data = os.read(fd, 4096)
                except OSError:
                    continue
                with contextlib.suppress(OSError):
                    os.write(other[fd], data)

    def close(self) -> None:
        """Stop the bridge and release both ptys."""
        self._stop.set()
        self._thread.join(timeout=2)
        for fd in self._fds:
            with contextlib.suppress(OSError):
                os.close(fd)
