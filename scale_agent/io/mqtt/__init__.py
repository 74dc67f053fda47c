"""Everything that speaks MQTT, and the only place that imports paho-mqtt.

- `client`: the broker address, MQTT v5 properties, TLS and credentials, link state;
- `publisher`: the station's publisher, which drains the SQLite outbox at least once;
- `subscription`: a listener for the supervisors' tools.
"""

from scale_agent.io.mqtt.client import (
    BrokerAddress,
    connection,
    fetch_retained,
    message_properties,
    publish_once,
)
from scale_agent.io.mqtt.publisher import OutboxDrain, Publisher
from scale_agent.io.mqtt.subscription import Subscription

__all__ = [
    "BrokerAddress",
    "OutboxDrain",
    "Publisher",
    "Subscription",
    "connection",
    "fetch_retained",
    "message_properties",
    "publish_once",
]
