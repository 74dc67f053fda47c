"""The publisher that keeps a station connected and drains the outbox into the broker.

Delivery is at-least-once and the SQLite outbox is the single source of truth for what is
owed: a row leaves only after the broker's PUBACK with a success reason code. paho's in-memory
queue is not trusted across reconnects (reference/engineering.md 1.7): on every connect the
publisher drops paho's copies and re-sends what the outbox still holds, with the same msg_id.

Threads: paho's network thread runs the callbacks, which only hand facts to a queue; the
`outbox-drain` thread owns its own ledger connection, matches PUBACKs to rows and publishes.
A verdict's alert need not wait for that thread to wake: right after the commit the station
loop publishes what is owed itself (`send_owed`), under the same lock as the drain's work,
when the drain is idle and has no news from paho to handle first; otherwise it wakes the drain.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import deque
from typing import TYPE_CHECKING

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes

from scale_agent.io.ledger import Ledger
from scale_agent.io.mqtt.client import (
    BrokerAddress,
    LinkState,
    connection,
    message_properties,
    new_properties,
)

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from paho.mqtt.properties import Properties
    from paho.mqtt.reasoncodes import ReasonCode

    from scale_agent.io.config import MqttSection
    from scale_agent.io.logs import Log
    from scale_agent.io.messages import Topics

MAX_INFLIGHT = 100  # QoS 1 messages on the wire awaiting PUBACK (paho's window)
# Rows handed to paho at once: paho sends the ones beyond its window from its own thread as
# acks come back. Refilling only in chunks keeps the outbox queries few and large.
HANDED_TO_PAHO = 2000
REFILL_AT = 500
UNMATCHED_ACK_TTL_S = 10.0
ACK_BATCH_S = 0.02
ACK_BATCH_ROWS = 500
BACKLOG_EVERY_S = 0.25


class Publisher(LinkState):
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
        on_command: Callable[[bytes], None] | None = None,
        on_order: Callable[[bytes], None] | None = None,
        on_evidence_ack: Callable[[bytes], None] | None = None,
        log: Log | None = None,
    ) -> None:
        self.settings = settings
        self.topics = topics
        self.data_dir = data_dir
        self._status_payload = status_payload
        # What the station subscribes to, and who is handed each message (the station loop).
        inbound = {
            topics.job: on_job,
            topics.command: on_command,
            topics.orders: on_order,
            topics.evidence_ack: on_evidence_ack,
        }
        self._inbound = {topic: hand for topic, hand in inbound.items() if hand is not None}
        self._log = log
        # deque.append and popleft are atomic: paho's thread appends, the drain thread pops.
        self._facts: deque[tuple[str, int, int]] = deque()
        self._wake = threading.Event()
        self._stop = threading.Event()
        # Held by whoever works on the outbox state (the drain thread's step, or send_owed).
        self._outbox_lock = threading.Lock()
        self._outbox: OutboxDrain | None = None  # set by the drain thread once it runs
        super().__init__(BrokerAddress.parse(settings.url))
        self.has_connected = False
        self.delivered = 0
        self.refused = 0
        self.backlog = 0
        self._client = self._make_client(client_id)
        self._drain = threading.Thread(target=self._drain_loop, name="outbox-drain", daemon=True)

    def _make_client(self, client_id: str) -> mqtt.Client:
        client = connection(self.settings, client_id)
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
        properties = new_properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = self.settings.session_expiry_s
        # A persistent session, from the first connect on (paho's default starts the first
        # one clean): jobs and commands the broker queued while this process was down or
        # restarting are delivered, not thrown away. The client id is stable per station.
        self._client.connect_async(
            self.address.host,
            self.address.port,
            keepalive=self.settings.keepalive_s,
            clean_start=self.settings.session_expiry_s == 0,
            properties=properties,
        )
        self._client.loop_start()
        self._drain.start()

    def wake(self) -> None:
        """Tell the drain thread there is something new in the outbox."""
        self._wake.set()

    def send_owed(self, ledger: Ledger) -> None:
        """Publish what the outbox owes now, from the caller's thread and ledger connection.

        The station loop calls it right after recording a verdict, which saves the alert a
        thread wake-up (on a busy two-core PC, most of the time from commit to the wire). It
        never waits: when the drain thread is at work, has facts from paho to handle first
        (a reconnect resets what is in flight), or the link is down, the drain is woken instead.
        Rows go out in id order either way, from under the one lock.
        """
        outbox = self._outbox
        if (
            outbox is None
            or self._facts
            or not self.is_connected
            or not self._outbox_lock.acquire(blocking=False)
        ):
            self._wake.set()
            return
        try:
            outbox.send(ledger)
        finally:
            self._outbox_lock.release()

    def publish_now(self, topic: str, payload: bytes, *, qos: int, retain: bool) -> bool:
        """Publish live data (health, weight) if connected; False when it was dropped."""
        if not self.is_connected:
            return False
        info = self._client.publish(topic, payload, qos=qos, retain=retain)
        return info.rc == mqtt.MQTT_ERR_SUCCESS

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

    def _ready(self, client: mqtt.Client) -> None:
        client.drop_out_messages()  # the outbox re-sends; avoid paho's double copies
        # Subscribe before saying "online": whoever sees online may rely on the session
        # holding the subscriptions (the broker handles a connection's packets in order).
        for topic in self._inbound:
            client.subscribe(topic, qos=1)
        client.publish(self.topics.status, self._status_payload("online"), qos=1, retain=True)
        self.has_connected = True
        self._connected()  # only now may the drain thread publish
        self._facts.append(("connected", 0, 0))
        self._wake.set()

    def _on_disconnect(
        self,
        client: mqtt.Client,
        userdata: object,
        flags: mqtt.DisconnectFlags,
        reason_code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        super()._on_disconnect(client, userdata, flags, reason_code, properties)
        self._facts.append(("disconnected", 0, 0))

    def _on_publish(
        self,
        _client: mqtt.Client,
        _userdata: object,
        mid: int,
        reason_code: ReasonCode,
        _properties: Properties | None,
    ) -> None:
        # paho holds its out-message lock here: take no lock of ours (paho issue #226), and
        # stay short: this runs once per PUBACK on the thread that limits the delivery rate.
        # No wake-up either: the drain thread looks every ACK_BATCH_S while messages are in
        # flight (paho holds HANDED_TO_PAHO of them, seconds of work); waking it per PUBACK
        # had it contend for the interpreter lock with this thread on every acknowledgement.
        self._facts.append(("ack", mid, reason_code.value))

    def _on_message(
        self, _client: mqtt.Client, _userdata: object, message: mqtt.MQTTMessage
    ) -> None:
        hand = self._inbound.get(message.topic)
        if hand is not None:
            hand(bytes(message.payload))

    # -- the drain thread -----------------------------------------------------------------

    def _drain_loop(self) -> None:
        # This connection only deletes rows the broker acknowledged. Without a disk sync per
        # commit a power cut may undo a delete: the message is then sent again with the same
        # msg_id (a duplicate the monitor drops), never lost. Verdicts keep synchronous=FULL.
        ledger = Ledger(self.data_dir, self.settings.outbox_max_rows, synchronous="NORMAL")
        drain = OutboxDrain(self, ledger)
        self._outbox = drain
        try:
            while not self._stop.is_set():
                self._wake.wait(ACK_BATCH_S if drain.acked or drain.inflight else 0.5)
                self._wake.clear()
                with self._outbox_lock:
                    drain.step()
        finally:
            self._outbox = None
            with self._outbox_lock:
                drain.flush()
            ledger.close()

    def _message_refused(self, row_id: int, code: int) -> None:
        self.refused += 1
        if self._log is not None:
            self._log.error(
                "message_refused_by_broker",
                reason_code=code,
                row_id=row_id,
                hint="check the broker ACL for this station's topics",
            )


class OutboxDrain:
    """The drain thread's state: which outbox rows are in flight under which paho `mid`.

    Acknowledged rows are deleted in batches (one commit per ACK_BATCH_S or ACK_BATCH_ROWS):
    a commit per PUBACK would cap delivery at the disk's commit rate.
    """

    def __init__(self, publisher: Publisher, ledger: Ledger) -> None:
        self.publisher = publisher
        self.ledger = ledger
        self.inflight: dict[int, int] = {}  # mid -> outbox row id
        self.unmatched: dict[int, tuple[int, float]] = {}  # mid -> (reason code, arrival)
        self.acked: list[int] = []  # row ids acknowledged, not yet deleted
        self.highest_sent = 0
        self._acked_since = 0.0
        self._counted_at = 0.0

    def step(self) -> None:
        """Take the facts paho reported, delete what is delivered, send what is owed."""
        publisher = self.publisher
        while True:
            try:
                kind, mid, code = publisher._facts.popleft()  # noqa: SLF001 - one module
            except IndexError:
                break
            if kind == "ack":
                self._ack(mid, code)
            else:  # (re)connected or lost: everything not acknowledged is sent again
                self.flush()
                self.inflight.clear()
                self.unmatched.clear()
                self.highest_sent = 0
        now = time.monotonic()
        if self.acked and (
            len(self.acked) >= ACK_BATCH_ROWS or now - self._acked_since >= ACK_BATCH_S
        ):
            self.flush()
        if publisher.is_connected:
            self.send(self.ledger)
        if not self.inflight or now - self._counted_at >= BACKLOG_EVERY_S:
            self._counted_at = now
            publisher.backlog = self.ledger.backlog() - len(self.acked)
        for mid, (_, arrived) in list(self.unmatched.items()):
            if now - arrived > UNMATCHED_ACK_TTL_S:
                del self.unmatched[mid]  # an ack of something else (the status message)

    def flush(self) -> None:
        """Delete the acknowledged rows now."""
        if self.acked:
            self.ledger.acknowledge(self.acked)
            self.publisher.delivered += len(self.acked)
            self.acked = []

    def _ack(self, mid: int, code: int) -> None:
        row_id = self.inflight.pop(mid, None)
        if row_id is None:
            self.unmatched[mid] = (code, time.monotonic())
        elif code < 0x80:  # noqa: PLR2004 - MQTT 5: below 0x80 is success
            if not self.acked:
                self._acked_since = time.monotonic()
            self.acked.append(row_id)
        else:  # kept in the outbox; sent again after the next reconnect
            self.publisher._message_refused(row_id, code)  # noqa: SLF001 - one module

    def send(self, ledger: Ledger) -> None:
        """Hand paho the rows owed after the last one sent (under the publisher's lock).

        `ledger` is the calling thread's own connection: the drain's, or the station loop's.
        """
        room = HANDED_TO_PAHO - len(self.inflight)
        if room < REFILL_AT and self.inflight:
            return
        client = self.publisher._client  # noqa: SLF001 - one module
        for row in ledger.pending(room, after_id=self.highest_sent):
            self.highest_sent = max(self.highest_sent, row.id)
            info = client.publish(
                row.topic,
                row.payload,
                qos=row.qos,
                retain=row.retain,
                properties=message_properties(row.msg_id),
            )
            if info.rc == mqtt.MQTT_ERR_NO_CONN:
                return  # lost the connection meanwhile; everything is re-sent on reconnect
            self.inflight[info.mid] = row.id
            early = self.unmatched.pop(info.mid, None)  # the PUBACK beat publish() back
            if early is not None:
                self._ack(info.mid, early[0])
