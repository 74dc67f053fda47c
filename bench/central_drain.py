"""One central monitor instance draining a backlog alone, beside a bare paho subscriber.

`bench.central_ingest` runs the whole fleet (publishers, broker, PostgreSQL and two instances)
on one machine; on a 2-core machine they share the cores, so its per-instance rate is bounded
by the machine. This bench isolates one instance: a backlog of alerts is queued on the
instance's persistent session, then the instance starts and drains it into PostgreSQL. The
reference, in the same run: a bare paho MQTT v5 subscriber with manual acknowledgements that
drains the same backlog and throws the messages away (no validation, no database).

Printed: messages/s and CPU per message for both, and their ratio.
Run: .venv/bin/python -m bench.central_drain [--messages 30000]
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
import uuid
from pathlib import Path

import paho.mqtt.client as mqtt
import psycopg
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes

from bench._broker import BenchBroker
from bench.central_ingest import ALERT, POSTGRES, now_text
from scale_agent.central.service import CentralService
from scale_agent.central.settings import load_central
from scale_agent.io.mqtt.client import new_properties

TOPIC = "scale-agent/v1/load/{line}/{station}/alert"


def queue_backlog(port: int, count: int) -> None:
    """Publish `count` contract-valid alerts from 500 stations, each acknowledged by the broker."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=MQTTProtocolVersion.MQTTv5)
    client.max_inflight_messages_set(500)
    client.connect("127.0.0.1", port)
    client.loop_start()
    sent = []
    for number in range(count):
        station = f"s{number % 500}"
        body = ALERT.format(
            msg_id=str(uuid.uuid4()), sent_at=now_text(), line="l1", station=station, order=number
        )
        sent.append(client.publish(TOPIC.format(line="l1", station=station), body, qos=1))
    for info in sent:
        info.wait_for_publish(120)
    client.loop_stop()
    client.disconnect()


def raw_subscriber(port: int, client_id: str) -> mqtt.Client:
    """The reference: a persistent session that acknowledges each message and keeps nothing."""
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=client_id, protocol=MQTTProtocolVersion.MQTTv5
    )
    client.manual_ack_set(True)  # noqa: FBT003 - paho's API
    client.received = 0  # type: ignore[attr-defined]

    def on_message(_c: mqtt.Client, _u: object, message: mqtt.MQTTMessage) -> None:
        client.received += 1  # type: ignore[attr-defined]
        client.ack(message.mid, 1)

    client.on_message = on_message
    client.on_connect = lambda c, _u, _f, _r, _p: c.subscribe(
        "scale-agent/v1/load/+/+/alert", qos=1
    )
    properties = new_properties(PacketTypes.CONNECT)
    properties.SessionExpiryInterval = 3600
    properties.ReceiveMaximum = 2000
    client.connect("127.0.0.1", port, clean_start=False, properties=properties)
    return client


def drain_raw(broker: BenchBroker, count: int) -> tuple[float, float]:
    """(messages/s, CPU us per message) of the bare subscriber."""
    client = raw_subscriber(broker.port, "raw-ref")
    client.loop_start()
    time.sleep(1.0)  # subscribed: the session now exists
    client.loop_stop()
    client.disconnect()
    queue_backlog(broker.port, count)
    client = raw_subscriber(broker.port, "raw-ref")
    started = time.perf_counter()
    cpu_used = [0.0]

    def run() -> None:
        begun = time.thread_time()
        while client.received < count and time.perf_counter() - started < 120:  # type: ignore[attr-defined]
            client.loop(0.1)
        cpu_used[0] = time.thread_time() - begun

    worker = threading.Thread(target=run)
    worker.start()
    worker.join()
    wall = time.perf_counter() - started
    client.disconnect()
    return client.received / wall, cpu_used[0] / max(client.received, 1) * 1e6  # type: ignore[attr-defined]


def drain_monitor(broker: BenchBroker, count: int) -> tuple[float, float]:
    """(messages/s, CPU us per message) of one monitor instance storing into PostgreSQL."""
    name = f"drain_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(POSTGRES, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    try:
        folder = Path(tempfile.mkdtemp())
        config = folder / "central.toml"
        url = POSTGRES.rsplit("/", 1)[0] + f"/{name}"
        config.write_text(
            f'[central]\ndatabase = "{url}"\nsite = "load"\n'
            f'[mqtt]\nurl = "mqtt://127.0.0.1:{broker.port}"\nclient_id = "drain-1"\n'
        )
        service = CentralService(load_central(config))
        service.start_ingest()
        while not service.subscription.is_subscribed:
            time.sleep(0.05)
        service.stop()  # the session stays on the broker
        queue_backlog(broker.port, count)
        service = CentralService(load_central(config))
        cpu, started = time.process_time(), time.perf_counter()
        service.start_ingest()
        while service.ingest.stored < count and time.perf_counter() - started < 300:
            time.sleep(0.01)
        wall, used = time.perf_counter() - started, time.process_time() - cpu
        stored = service.ingest.stored
        service.stop()
        return stored / wall, used / max(stored, 1) * 1e6
    finally:
        with psycopg.connect(POSTGRES, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE {name} WITH (FORCE)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=30_000)
    args = parser.parse_args()
    broker = BenchBroker(max_inflight=1000)
    try:
        raw_rate, raw_cpu = drain_raw(broker, args.messages)
        rate, cpu = drain_monitor(broker, args.messages)
    finally:
        broker.stop()
    print(f"backlog of {args.messages:,} alerts from 500 stations, drained by one instance alone")
    print(
        f"monitor (validate, store in PostgreSQL, then ack): {rate:,.0f} messages/s, "
        f"{cpu:.0f} us CPU per message (target >= 5,000/s)"
    )
    print(
        f"bare paho subscriber, same backlog (ack, keep nothing): {raw_rate:,.0f} messages/s, "
        f"{raw_cpu:.0f} us CPU per message"
    )
    print(f"monitor / bare: {rate / raw_rate:.2f}x the rate, {cpu / raw_cpu:.1f}x the CPU")
    print(f"(at {cpu:.0f} us per message a core stores at most {1e6 / cpu:,.0f} messages/s)")


if __name__ == "__main__":
    main()
