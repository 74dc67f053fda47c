"""The only paho-mqtt import: the publisher that drains the outbox, and the job subscription.

Delivery is at-least-once and the SQLite outbox is the single source of truth for what is
owed: a row leaves only after the broker's PUBACK with a success reason code. paho's in-memory
queue is not trusted across reconnects (reference/engineering.md 1.7): on every connect the
publisher drops paho's copies and re-sends what the outbox still holds, with the same msg_id.

Threads: paho's network thread runs the callbacks, which only hand facts to a queue; the
`outbox-drain` thread owns its own ledger connection, matches PUBACKs to rows and publishes.
"""

from __future__ import annotations

import contextlib
import queue
import ssl
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from scale_agent.ledger import Ledger

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from paho.mqtt.reasoncodes import ReasonCode

    from scale_agent.config import MqttSection
    from scale_agent.logs import Log
    from scale_agent.messages import Topics

MAX_INFLIGHT = 100
UNMATCHED_ACK_TTL_S = 10.0
RETRY_REFUSED_AFTER_S = 30.0


@dataclass(frozen=True)
class BrokerAddress:
    """Host, port and whether TLS is used, from an mqtt:// or mqtts:// URL."""

    host: str
    port: int
    is_tls: bool

    @classmethod
    def parse(cls, url: str) -> BrokerAddress:
        """Parse a broker URL (validated by the config already)."""
        parts = urlsplit(url)
        is_tls = parts.scheme == "mqtts"
        return cls(parts.hostname or "127.0.0.1", parts.port or (8883 if is_tls else 1883), is_tls)

    def __str__(self) -> str:
        return f"{'mqtts' if self.is_tls else 'mqtt'}://{self.host}:{self.port}"


def _properties(packet_type: int) -> Properties:
    return Properties(packet_type)  # type: ignore[no-untyped-call]  # paho leaves it untyped


class Publisher:
    """Keeps a station connected to its broker and drains the outbox into it."""

    def __init__(
        self,
        settings: MqttSection,
        topics: Topics,
        data_dir: Path,
        *,
        client_id: str,
        status_payload: Callable[[str], bytes],
        on_job: Callable[[bytes], None] | None = None,
        log: Log | None = None,
    ) -> None:
        self.settings = settings
        self.topics = topics
        self.address = BrokerAddress.parse(settings.url)
        self.data_dir = data_dir
        self._status_payload = status_payload
        self._on_job = on_job
        self._log = log
        self._facts: queue.Queue[tuple[str, int, int]] = queue.Queue()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self.is_connected = False
        self.has_connected = False
        self.last_error = "not connected yet"
        self.delivered = 0
        self.backlog = 0
        self._client = self._make_client(client_id)
        self._drain = threading.Thread(target=self._drain_loop, name="outbox-drain", daemon=True)

    def _make_client(self, client_id: str) -> mqtt.Client:
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, protocol=MQTTProtocolVersion.MQTTv5
        )
        settings = self.settings
        if settings.username is not None:
            password = None
            if settings.password_file is not None:
                password = settings.password_file.read_text(encoding="utf-8").strip()
            client.username_pw_set(settings.username, password)
        if self.address.is_tls:
            context = ssl.create_default_context(
                cafile=str(settings.ca_file) if settings.ca_file else None
            )
            if settings.cert_file is not None:
                context.load_cert_chain(
                    str(settings.cert_file), str(settings.key_file) if settings.key_file else None
                )
            client.tls_set_context(context)
        client.will_set(self.topics.status, self._status_payload("offline"), qos=1, retain=True)
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        client.max_inflight_messages_set(MAX_INFLIGHT)
        client.on_connect = self._on_connect
        client.on_connect_fail = self._on_connect_fail
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        client.on_message = self._on_message
        return client

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> None:
        """Begin connecting (in the background: a dead broker never blocks start-up)."""
        properties = _properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = 300
        self._client.connect_async(
            self.address.host,
            self.address.port,
            keepalive=self.settings.keepalive_s,
            properties=properties,
        )
        self._client.loop_start()
        self._drain.start()

    def wake(self) -> None:
        """Tell the drain thread there is something new in the outbox."""
        self._wake.set()

    def wait_drained(self, timeout_s: float) -> bool:
        """Wait until the outbox is empty (or the timeout passes); True when empty."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.is_connected and self.backlog == 0:
                return True
            self.wake()
            time.sleep(0.05)
        return self.backlog == 0

    def stop(self) -> None:
        """Publish `offline` (retained), disconnect, and stop both threads."""
        if self.is_connected:
            info = self._client.publish(
                self.topics.status, self._status_payload("offline"), qos=1, retain=True
            )
            # Lost with the connection? Then the broker sends the will instead.
            with contextlib.suppress(RuntimeError, ValueError):
                info.wait_for_publish(timeout=1.0)
        self._stop.set()
        self._wake.set()
        if self._drain.is_alive():
            self._drain.join(timeout=5)
        self._client.disconnect()
        self._client.loop_stop()

    # -- paho callbacks (network thread: hand facts over, nothing else) ----------------

    def _on_connect(
        self,
        client: mqtt.Client,
        _userdata: object,
        _flags: mqtt.ConnectFlags,
        reason_code: ReasonCode,
        _properties: Properties | None,
    ) -> None:
        if reason_code.is_failure:
            self.last_error = f"broker refused the connection: {reason_code}"
            return
        client.drop_out_messages()  # the outbox re-sends; avoid paho's double copies
        client.publish(self.topics.status, self._status_payload("online"), qos=1, retain=True)
        if self._on_job is not None:
            client.subscribe(self.topics.job, qos=1)
        self.is_connected, self.has_connected, self.last_error = True, True, ""
        self._facts.put(("connected", 0, 0))
        self._wake.set()

    def _on_connect_fail(self, _client: mqtt.Client, _userdata: object) -> None:
        self.last_error = f"cannot connect to {self.address}"

    def _on_disconnect(
        self,
        _client: mqtt.Client,
        _userdata: object,
        _flags: mqtt.DisconnectFlags,
        reason_code: ReasonCode,
        _properties: Properties | None,
    ) -> None:
        self.is_connected = False
        self.last_error = f"disconnected: {reason_code}"
        self._facts.put(("disconnected", 0, 0))

    def _on_publish(
        self,
        _client: mqtt.Client,
        _userdata: object,
        mid: int,
        reason_code: ReasonCode,
        _properties: Properties | None,
    ) -> None:
        # paho holds its out-message lock here: take no lock of ours (paho issue #226).
        self._facts.put(("ack", mid, int(reason_code.value)))
        self._wake.set()

    def _on_message(
        self, _client: mqtt.Client, _userdata: object, message: mqtt.MQTTMessage
    ) -> None:
        if self._on_job is not None and message.topic == self.topics.job:
            self._on_job(bytes(message.payload))

    # -- the drain thread -----------------------------------------------------------------

    def _drain_loop(self) -> None:
        ledger = Ledger(self.data_dir, self.settings.outbox_max_rows)
        inflight: dict[int, int] = {}  # mid -> outbox row id
        unmatched: dict[int, tuple[int, float]] = {}  # mid -> (reason code, arrival)
        refused_until: dict[int, float] = {}  # row id -> when to try again
        highest_sent = 0
        try:
            while not self._stop.is_set():
                self._wake.wait(0.5)
                self._wake.clear()
                done: list[int] = []
                while True:
                    try:
                        kind, mid, code = self._facts.get_nowait()
                    except queue.Empty:
                        break
                    if kind != "ack":  # (re)connected or lost: re-send everything still owed
                        inflight.clear()
                        unmatched.clear()
                        highest_sent = 0
                        continue
                    row_id = inflight.pop(mid, None)
                    if row_id is None:
                        unmatched[mid] = (code, time.monotonic())
                        continue
                    if code < 0x80:  # noqa: PLR2004 - MQTT 5: below 0x80 is success
                        done.append(row_id)
                    else:
                        self._refused(row_id, code, refused_until)
                ledger.acknowledge(done)
                self.delivered += len(done)
                if self.is_connected:
                    highest_sent = self._send_pending(
                        ledger, inflight, unmatched, refused_until, highest_sent
                    )
                self.backlog = ledger.backlog()
                now = time.monotonic()
                for mid, (_, arrived) in list(unmatched.items()):
                    if now - arrived > UNMATCHED_ACK_TTL_S:
                        del unmatched[mid]  # an ack of something else (the status message)
        finally:
            ledger.close()

    def _refused(self, row_id: int, code: int, refused_until: dict[int, float]) -> None:
        refused_until[row_id] = time.monotonic() + RETRY_REFUSED_AFTER_S
        if self._log is not None:
            self._log.error(
                "message_refused_by_broker",
                reason_code=code,
                row_id=row_id,
                hint="check the broker ACL for this station's topics",
            )

    def _send_pending(
        self,
        ledger: Ledger,
        inflight: dict[int, int],
        unmatched: dict[int, tuple[int, float]],
        refused_until: dict[int, float],
        highest_sent: int,
    ) -> int:
        room = MAX_INFLIGHT - len(inflight)
        if room <= 0:
            return highest_sent
        now = time.monotonic()
        for row in ledger.pending(room, after_id=highest_sent):
            highest_sent = max(highest_sent, row.id)
            if refused_until.get(row.id, 0.0) > now:
                continue
            properties = _properties(PacketTypes.PUBLISH)
            properties.UserProperty = ("msg_id", row.msg_id)
            properties.ContentType = "application/json"
            info = self._client.publish(
                row.topic, row.payload, qos=row.qos, retain=row.retain, properties=properties
            )
            if info.rc == mqtt.MQTT_ERR_NO_CONN:
                break  # lost the connection meanwhile; everything is re-sent on reconnect
            inflight[info.mid] = row.id
            early = unmatched.pop(info.mid, None)  # the PUBACK beat publish() back
            if early is not None:
                inflight.pop(info.mid)
                if early[0] < 0x80:  # noqa: PLR2004 - MQTT 5 success codes
                    ledger.acknowledge([row.id])
                    self.delivered += 1
                else:
                    self._refused(row.id, early[0], refused_until)
        return highest_sent
