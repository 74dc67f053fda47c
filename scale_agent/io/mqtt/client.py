"""The paho client as the station sets it up: broker address, MQTT v5 properties, TLS, state."""

from __future__ import annotations

import contextlib
import copy
import ssl
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from scale_agent.errors import DeviceUnavailableError

if TYPE_CHECKING:
    from collections.abc import Iterator

    from paho.mqtt.reasoncodes import ReasonCode

    from scale_agent.io.config import MqttSection


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


def new_properties(packet_type: int) -> Properties:
    """Empty MQTT v5 properties for a packet type."""
    return Properties(packet_type)  # type: ignore[no-untyped-call]  # paho leaves it untyped


_PUBLISH_TEMPLATE = new_properties(PacketTypes.PUBLISH)
_PUBLISH_TEMPLATE.ContentType = "application/json"


def message_properties(msg_id: str) -> Properties:
    """PUBLISH properties: JSON content type and the msg_id as a user property.

    paho's validating `__setattr__` costs about 40 us a message, a fifth of the budget at
    5,000 alerts/s; a copy of a validated template with the one user property attached costs
    3 us and packs to the same bytes (tests/test_mqtt_properties.py checks it against paho).
    """
    properties = copy.copy(_PUBLISH_TEMPLATE)
    object.__setattr__(properties, "UserProperty", [("msg_id", msg_id)])
    return properties


def connection(settings: MqttSection, client_id: str) -> mqtt.Client:
    """A paho MQTT v5 client with the credentials and TLS the settings ask for (not connected)."""
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=client_id, protocol=MQTTProtocolVersion.MQTTv5
    )
    if settings.username is not None:
        password = None
        if settings.password_file is not None:
            password = settings.password_file.read_text(encoding="utf-8").strip()
        client.username_pw_set(settings.username, password)
    if BrokerAddress.parse(settings.url).is_tls:
        context = ssl.create_default_context(
            cafile=str(settings.ca_file) if settings.ca_file else None
        )
        if settings.cert_file is not None:
            context.load_cert_chain(
                str(settings.cert_file), str(settings.key_file) if settings.key_file else None
            )
        client.tls_set_context(context)
    return client


class LinkState:
    """Whether a client is connected, and in plain words why not (shared by every client).

    The paho callbacks for a failed connect and a disconnect are here too: every client
    records them the same way (the publisher adds a fact for its drain thread).
    """

    def __init__(self, address: BrokerAddress) -> None:
        self.address = address
        self.is_connected = False
        self.last_error = "not connected yet"

    def _on_connect(
        self,
        client: mqtt.Client,
        _userdata: object,
        _flags: mqtt.ConnectFlags,
        reason_code: ReasonCode,
        _properties: Properties | None,
    ) -> None:
        """Paho's CONNACK: a refusal is kept as the reason (paho retries with back-off)."""
        if not self._refused(reason_code):
            self._ready(client)

    def _ready(self, client: mqtt.Client) -> None:
        """The broker took the connection: subscribe, then `_connected()` (each client's own)."""
        _ = client
        self._connected()

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
        self._lost(reason_code)

    def _refused(self, reason_code: ReasonCode) -> bool:
        """True (with the reason kept) when a CONNACK says the broker refused us."""
        if reason_code.is_failure:
            self.last_error = f"broker refused the connection: {reason_code}"
            return True
        return False

    def _connected(self) -> None:
        """Call last in on_connect, once the client is ready to be used."""
        self.is_connected, self.last_error = True, ""

    def _lost(self, reason_code: ReasonCode) -> None:
        """Record a disconnect; after a refused CONNECT the refusal stays the reason."""
        if self.is_connected:
            self.last_error = f"disconnected: {reason_code}"
        self.is_connected = False


@contextlib.contextmanager
def _session(settings: MqttSection) -> Iterator[mqtt.Client]:
    """A connected client for a one-off tool call, its network loop running; closed after.

    Raises:
        DeviceUnavailableError: the broker cannot be reached.
    """
    address = BrokerAddress.parse(settings.url)
    client = connection(settings, client_id="")
    try:
        client.connect(address.host, address.port, keepalive=30)
    except (OSError, ssl.SSLError) as exc:
        raise DeviceUnavailableError(str(address), f"cannot connect: {exc}") from exc
    client.loop_start()
    try:
        yield client
    finally:
        client.disconnect()
        client.loop_stop()


def publish_once(
    settings: MqttSection, topic: str, payload: bytes, *, retain: bool, timeout_s: float = 10.0
) -> None:
    """Connect, publish one QoS 1 message, wait for the broker's PUBACK, disconnect (tools).

    Raises:
        DeviceUnavailableError: the broker cannot be reached or refused the message.
    """
    with _session(settings) as client:
        info = client.publish(topic, payload, qos=1, retain=retain)
        info.wait_for_publish(timeout_s)
        if not info.is_published():
            address = BrokerAddress.parse(settings.url)
            raise DeviceUnavailableError(str(address), f"no PUBACK within {timeout_s:g} s")


def fetch_retained(settings: MqttSection, topic: str, *, timeout_s: float = 5.0) -> bytes | None:
    """The retained message on `topic`, or None when the broker holds none (tools).

    Raises:
        DeviceUnavailableError: the broker cannot be reached.
    """
    received: list[bytes] = []
    arrived = threading.Event()

    def on_message(_client: mqtt.Client, _userdata: object, message: mqtt.MQTTMessage) -> None:
        received.append(bytes(message.payload))
        arrived.set()

    with _session(settings) as client:
        client.on_message = on_message
        client.subscribe(topic, qos=1)
        arrived.wait(timeout_s)
    return received[0] if received else None
