"""A listener on the broker for the supervisors' tools: subscribes, reconnects, hands over."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scale_agent.io.mqtt.client import BrokerAddress, LinkState, connection

if TYPE_CHECKING:
    from collections.abc import Callable

    import paho.mqtt.client as mqtt

    from scale_agent.io.config import MqttSection


class Subscription(LinkState):
    """A listener on the broker (the supervisors' monitor): subscribes and hands messages over.

    `on_message` runs on paho's network thread; keep it short.
    """

    def __init__(
        self,
        settings: MqttSection,
        filters: list[str],
        on_message: Callable[[str, bytes], None],
        *,
        client_id: str = "",
    ) -> None:
        self.filters = filters
        super().__init__(BrokerAddress.parse(settings.url))
        self._client = connection(settings, client_id)
        self._client.reconnect_delay_set(min_delay=1, max_delay=30)
        self._client.on_connect = self._on_connect
        self._client.on_connect_fail = self._on_connect_fail
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = lambda _c, _u, message: on_message(
            message.topic, bytes(message.payload)
        )

    def _ready(self, client: mqtt.Client) -> None:
        for topic in self.filters:
            client.subscribe(topic, qos=1)
        self._connected()

    def start(self) -> None:
        """Connect in the background and keep reconnecting."""
        self._client.connect_async(self.address.host, self.address.port, keepalive=30)
        self._client.loop_start()

    def stop(self) -> None:
        """Disconnect."""
        self._client.disconnect()
        self._client.loop_stop()
