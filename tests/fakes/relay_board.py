"""A four-relay LCUS board on the far end of a pseudo-terminal: it parses the command bytes
(``A0 relay state checksum``) exactly as the board's CH340 firmware does, and keeps the relay
states a test can assert."""

from __future__ import annotations

import contextlib
import os
import select
import threading
import tty

START = 0xA0
FRAME = 4


class RelayBoardPeer:
    """Relay states as switched by the driver under test; bad frames are counted, not obeyed."""

    def __init__(self, relays: int = 4) -> None:
        self._controller, self._device = os.openpty()
        tty.setraw(self._device)
        self.path = os.ttyname(self._device)
        self.relays = dict.fromkeys(range(1, relays + 1), False)
        self.frames = 0
        self.bad_frames = 0
        self._buffer = b""
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="relay-board", daemon=True)
        self._thread.start()

    def state(self, relay: int) -> bool:
        with self._lock:
            return self.relays[relay]

    def _serve(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([self._controller], [], [], 0.05)
            if not ready:
                continue
            try:
                data = os.read(self._controller, 256)
            except OSError:
                continue
            with self._lock:
                self._buffer += data
                self._parse()

    def _parse(self) -> None:
        while len(self._buffer) >= FRAME:
            if self._buffer[0] != START:
                self._buffer = self._buffer[1:]
                self.bad_frames += 1
                continue
            start, relay, state, checksum = self._buffer[:FRAME]
            self._buffer = self._buffer[FRAME:]
            if (start + relay + state) & 0xFF != checksum or relay not in self.relays:
                self.bad_frames += 1
                continue
            self.relays[relay] = bool(state)
            self.frames += 1

    def unplug(self) -> None:
        """Close both sides: the driver's next write fails as with a pulled USB cable."""
        self._stop.set()
        self._thread.join(timeout=2)
        for fd in (self._controller, self._device):
            with contextlib.suppress(OSError):
                os.close(fd)

    def close(self) -> None:
        self.unplug()
