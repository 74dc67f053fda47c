"""A broker and a subscriber for the benchmarks.

The broker is a Mosquitto of our own on a free loopback port. Mosquitto keeps at most 1,000
queued QoS 1 messages per subscriber by default and drops the rest when a subscriber falls
behind; a central monitor's broker is configured with a deeper queue, and so is this one, so
that a count at the subscriber measures our delivery, not the broker's load shedding.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit


class Counter:
    """`mosquitto_sub` in its own process, collecting payloads; counts unique msg_ids.

    A separate process, so the subscriber does not compete with the publisher under test for
    the interpreter lock.
    """

    def __init__(self, url: str, topic: str) -> None:
        parts = urlsplit(url)
        self._out = tempfile.NamedTemporaryFile(suffix=".jsonl", delete=False)  # noqa: SIM115
        self._process = subprocess.Popen(
            [
                "mosquitto_sub",
                "-h",
                parts.hostname or "127.0.0.1",
                "-p",
                str(parts.port or 1883),
                "-q",
                "1",
                "-t",
                topic,
                "-V",
                "mqttv5",
            ],
            stdout=self._out,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(0.5)  # mosquitto_sub gives no sign of having subscribed

    def received(self) -> tuple[int, int]:
        """(unique msg_ids, total messages) so far."""
        lines = Path(self._out.name).read_bytes().splitlines()
        ids = {line.split(b'"msg_id":"', 1)[1][:36] for line in lines if b'"msg_id":"' in line}
        return len(ids), len(lines)

    def close(self) -> None:
        """Stop the subscriber."""
        self._process.terminate()
        self._process.wait(timeout=5)


class BenchBroker:
    """`mosquitto -c` with a deep subscriber queue, on a free loopback port."""

    def __init__(self, max_inflight: int = 100) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = int(sock.getsockname()[1])
        folder = Path(tempfile.mkdtemp())
        config = folder / "mosquitto.conf"
        config.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
            f"max_queued_messages 1000000\nmax_inflight_messages {max_inflight}\nuser root\n"
        )
        exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        self._process = subprocess.Popen([exe, "-c", str(config)], stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
            except OSError:
                time.sleep(0.05)
            else:
                return
        raise RuntimeError("mosquitto did not start")

    @property
    def url(self) -> str:
        """The broker's URL."""
        return f"mqtt://127.0.0.1:{self.port}"

    def stop(self) -> None:
        """Stop it."""
        self._process.terminate()
        self._process.wait(timeout=5)
