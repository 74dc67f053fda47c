"""A scripted MT-SICS scale on a pty: the test sets the weight, the fake speaks the protocol.

Independent of `drivers/simulated.py` on purpose: the driver is checked against frames written
from the manual, not against our own simulator.
"""

from __future__ import annotations

import threading

from scale_agent.testing.pty_peer import PtyPeer


class FakeMtSicsScale:
    """Answers I2, I4, @, SI, S, Z, T; streams SI replies at `rate_hz` after SIR."""

    def __init__(self, rate_hz: float = 50.0, serial: str = "B123456789") -> None:
        self.line = b"S S      0.000 kg"
        self.serial = serial
        self.rate_hz = rate_hz
        self.zeroed = 0
        self._streaming = threading.Event()
        self._stop = threading.Event()
        self.peer = PtyPeer(self.respond)
        self._thread = threading.Thread(target=self._stream, name="fake-sics", daemon=True)
        self._thread.start()

    @property
    def path(self) -> str:
        """The device path the driver opens."""
        return self.peer.path

    def set_weight(self, kg: str, *, stable: bool = True) -> None:
        """What the scale shows now, e.g. `set_weight("1.025")`."""
        self.line = f"S {'S' if stable else 'D'} {kg:>10} kg".encode()

    def set_line(self, line: bytes) -> None:
        """Send an arbitrary reply line instead of a weight (overload `S +`, garbage)."""
        self.line = line

    def respond(self, request: bytes) -> bytes:
        """The scale's answer to one command."""
        self._streaming.clear()
        answers = {
            b"I2": b'I2 A "WMS-Bench 6kg 6.000 kg"\r\n',
            b"I4": f'I4 A "{self.serial}"\r\n'.encode(),
            b"@": f'I4 A "{self.serial}"\r\n'.encode(),
        }
        if request in answers:
            return answers[request]
        if request in {b"SI", b"S"}:
            return self.line + b"\r\n"
        if request == b"SIR":
            self._streaming.set()
            return b""
        if request == b"Z":
            self.zeroed += 1
            return b"Z A\r\n"
        return b"ES\r\n"

    def _stream(self) -> None:
        while not self._stop.wait(1 / self.rate_hz):
            if self._streaming.is_set():
                try:
                    self.peer.push(self.line + b"\r\n")
                except OSError:
                    return

    def unplug(self) -> None:
        """Close the pty: the driver sees the device vanish."""
        self._stop.set()
        self._thread.join(timeout=2)
        self.peer.hang_up()

    def close(self) -> None:
        """Stop everything."""
        self.unplug()
