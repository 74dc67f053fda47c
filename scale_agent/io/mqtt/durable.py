"""A subscriber that loses nothing: a persistent MQTT v5 session and acknowledgements after storage.

The central monitor stores every message before the broker may forget it. paho acknowledges a
QoS 1 message as soon as `on_message` returns; with `manual_ack` the PUBACK goes out only when
the caller says the message is stored (`ack`), so a monitor killed with -9 between receiving and
committing gets the message again from the broker (its session persists: a stable client id,
`clean_start=False` and a session expiry). Duplicates are the store's to drop (by `msg_id`).

With `share_group`, every filter is subscribed as `$share/<group>/<filter>`: the broker spreads
the messages over the group's members (several monitor instances against one database).
Retained messages are not sent to shared subscriptions by the MQTT 5 standard, so the filters in
`retained_filters` are also subscribed plainly (status and health: each instance reads them).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.subscribeoptions import SubscribeOptions

from scale_agent.io.mqtt.client import BrokerAddress, LinkState, connection, new_properties

if TYPE_CHECKING:
    from collections.abc import Callable

    import paho.mqtt.client as mqtt

    from scale_agent.io.config import MqttSection

Delivery = tuple[int, str, bytes, bool]  # (mid, topic, payload, retained)
RECEIVE_MAXIMUM = 2000


class DurableSubscription(LinkState):
    """Subscribes with a persistent session; the caller acknowledges what it has stored."""

    def __init__(
        self,
        settings: MqttSection,
        filters: list[str],
        on_message: Callable[[Delivery], None],
        *,
        client_id: str,
        session_expiry_s: int = 24 * 3600,
        share_group: str | None = None,
        retained_filters: list[str] | None = None,
    ) -> None:
        self.settings = settings
        self.filters = filters
        self.retained_filters = retained_filters or []
        self.share_group = share_group
        self.session_expiry_s = session_expiry_s
        super().__init__(BrokerAddress.parse(settings.url))
        self._client = connection(settings, client_id)
        self._client.manual_ack_set(True)  # noqa: FBT003 - paho's API
        self._client.reconnect_delay_set(min_delay=1, max_delay=30)
        self._client.on_connect = self._on_connect
        self._client.on_connect_fail = self._on_connect_fail
        self._client.on_disconnect = self._on_disconnect
        self._subscribed = threading.Event()
        self._client.on_subscribe = lambda _c, _u, _mid, _codes, _p: self._subscribed.set()
        self._client.on_message = lambda _c, _u, message: on_message(
            (message.mid, message.topic, bytes(message.payload), bool(message.retain))
        )

    def subscriptions(self) -> list[str]:
        """The topic filters as subscribed (shared where a group is set)."""
        shared = [
            f"$share/{self.share_group}/{topic}" if self.share_group else topic
            for topic in self.filters
        ]
        plain = [topic for topic in self.retained_filters if self.share_group]
        return shared + plain

    @property
    def is_subscribed(self) -> bool:
        """The broker confirmed the subscriptions of the current connection."""
        return self._subscribed.is_set()

    def ack(self, mid: int) -> None:
        """The message `mid` is stored: let the broker forget it (thread-safe in paho)."""
        self._client.ack(mid, 1)

    def _ready(self, client: mqtt.Client) -> None:
        options = SubscribeOptions(qos=1)
        self._subscribed.clear()
        client.subscribe([(topic, options) for topic in self.subscriptions()])
        self._connected()

    def start(self) -> None:
        """Connect in the background, resuming the session the broker kept."""
        properties = new_properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = self.session_expiry_s
        # Messages the broker may send before we acknowledge (we acknowledge once stored, in
        # batches): the broker's own in-flight limit may still be lower.
        properties.ReceiveMaximum = RECEIVE_MAXIMUM
        self._client.connect_async(
            self.address.host,
            self.address.port,
            keepalive=self.settings.keepalive_s,
            clean_start=False,
            properties=properties,
        )
        self._client.loop_start()

    def stop(self) -> None:
        """Disconnect (the broker keeps the session and queues for it)."""
        self._client.disconnect()
        self._client.loop_stop()

    def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> bool:
        """Publish one QoS 1 message (a command, an evidence ack); False when not connected."""
        if not self.is_connected:
            return False
        info = self._client.publish(topic, payload, qos=1, retain=retain)
        return info.rc == 0
