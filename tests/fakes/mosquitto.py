"""A real Mosquitto broker on a free loopback port, from a generated config.

Tests that stop or restart a broker get their own; they never touch the machine's broker on
1883. Started as root, Mosquitto drops to user `mosquitto` and then cannot read pytest's
private temp folders, so the config says `user root` when we are root.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

if TYPE_CHECKING:
    import ssl

START_TIMEOUT_S = 10.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Mosquitto:
    """One broker process; `stop()` and `start()` again keep the same port."""

    def __init__(
        self,
        folder: Path,
        port: int | None = None,
        extra: list[str] | None = None,
        *,
        persistent: bool = False,
    ) -> None:
        self.folder = folder
        self.port = port or free_port()
        self.extra = extra or ["allow_anonymous true"]
        # With persistence the broker keeps sessions (and their queued QoS 1 messages) across
        # a restart, as a production broker does.
        self.persistent = persistent
        self._process: subprocess.Popen[bytes] | None = None
        exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        if not Path(exe).exists():
            raise RuntimeError("mosquitto is not installed: run scripts/test, which installs it")
        self.exe = exe

    @property
    def url(self) -> str:
        """The broker's URL."""
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start the broker and wait until it accepts connections."""
        persistence = (
            ["persistence true", f"persistence_location {self.folder}/"]
            if self.persistent
            else ["persistence false"]
        )
        lines = [f"listener {self.port} 127.0.0.1", *persistence, "log_dest stderr", *self.extra]
        if os.geteuid() == 0:
            lines.append("user root")
        config = self.folder / f"mosquitto-{self.port}.conf"
        config.write_text("\n".join(lines) + "\n")
        log = (self.folder / f"mosquitto-{self.port}.log").open("ab")
        self._process = subprocess.Popen([self.exe, "-c", str(config)], stderr=log, stdout=log)
        log.close()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self._accepts():
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"mosquitto did not start on {self.port}")
            time.sleep(0.05)

    def _accepts(self) -> bool:
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
        except OSError:
            return False
        return True

    def stop(self) -> None:
        """Stop the broker; its in-memory state is lost, as in a restart without persistence."""
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=5)
            self._process = None


class Subscriber:
    """A paho subscriber that collects (topic, payload, retain) for assertions.

    With `session_id`, it keeps a persistent session (as a supervisors' monitor would), so the
    broker queues QoS 1 messages for it while it is disconnected, and it reconnects by itself.
    """

    def __init__(
        self,
        port: int,
        topic: str,
        *,
        session_id: str | None = None,
        context: ssl.SSLContext | None = None,
        username: str | None = None,
        password: str | None = None,
    ) -> None:
        self.messages: list[tuple[str, bytes, bool]] = []
        self._cond = threading.Condition()
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=session_id or "",
            protocol=MQTTProtocolVersion.MQTTv5,
        )
        self._client.on_message = self._on_message
        subscribed = threading.Event()
        self._client.on_subscribe = lambda *_args: subscribed.set()
        self._client.on_connect = lambda client, *_args: client.subscribe(topic, qos=1)
        self._client.reconnect_delay_set(min_delay=1, max_delay=1)
        if context is not None:
            self._client.tls_set_context(context)
        if username is not None:
            self._client.username_pw_set(username, password)
        properties = None
        if session_id is not None:
            properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
            properties.SessionExpiryInterval = 3600
        self._client.connect(
            "127.0.0.1", port, clean_start=session_id is None, properties=properties
        )
        self._client.loop_start()
        if not subscribed.wait(5):
            self.close()
            raise RuntimeError("subscriber could not subscribe")

    def _on_message(self, _client: Any, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        with self._cond:
            self.messages.append((message.topic, bytes(message.payload), bool(message.retain)))
            self._cond.notify_all()

    def wait_for(self, predicate: Any, timeout: float = 10.0) -> list[tuple[str, bytes, bool]]:
        """Wait until `predicate(messages)` is true; return the messages."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate(self.messages):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"timed out; received {self.messages!r}")
                self._cond.wait(remaining)
            return list(self.messages)

    def close(self) -> None:
        """Disconnect."""
        self._client.disconnect()
        self._client.loop_stop()
