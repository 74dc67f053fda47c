"""Latency from the reading that settles a parcel to its alert arriving at a subscriber.

The whole chain is real: station loop, verifier, ledger on disk (synchronous=FULL), outbox,
paho publisher, a loopback Mosquitto and a paho subscriber in this process. Every parcel is
one item short, so every verdict raises an alert. The reference in the same run: a bare paho
client publishing the same number of messages at QoS 1, one at a time, to the same subscriber
(the round trip through the broker that no station can beat). Target: p99 <= 3x that.
Run: .venv/bin/python -m bench.settled_to_alert [--parcels 300]
"""

from __future__ import annotations

import argparse
import logging
import operator
import threading
import time
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from bench._broker import BenchBroker
from bench._latency import summary
from bench.settled_to_output import IdleScale, TimingLight, bench_station
from scale_agent.domain.jobs import Job, JobLine
from scale_agent.domain.verifier import VerdictKind
from scale_agent.io.logs import configure
from scale_agent.station.assembly import make_publisher
from scale_agent.station.runtime import StationRuntime
from scale_agent.weights import Reading, ReadingKind, Weight

if TYPE_CHECKING:
    from scale_agent.station.recorder import RecordedVerdict


def main() -> None:  # noqa: PLR0915 - one bench, read top to bottom
    options = argparse.ArgumentParser()
    options.add_argument("--parcels", type=int, default=300)
    args = options.parse_args()
    configure(json=False, level=logging.WARNING)  # the station logs every parcel
    broker = BenchBroker()
    config = bench_station({"url": broker.url, "health_interval_s": 3600})
    runtime = StationRuntime(config, IdleScale(), [TimingLight()], publisher_factory=make_publisher)
    arrived: dict[str, float] = {}
    got = threading.Condition()
    subscriber = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=MQTTProtocolVersion.MQTTv5)

    def on_message(_c: object, _u: object, message: mqtt.MQTTMessage) -> None:
        order = bytes(message.payload).split(b'"order_id":"', 1)[1].split(b'"', 1)[0].decode()
        with got:
            arrived.setdefault(order, time.perf_counter())
            got.notify_all()

    passed: set[str] = set()

    def on_verdict(recorded: RecordedVerdict) -> None:
        if recorded.verdict.kind is VerdictKind.PASS and recorded.verdict.order_id:
            with got:
                passed.add(recorded.verdict.order_id)
                got.notify_all()

    runtime.listeners.append(on_verdict)
    subscriber.on_message = on_message
    subscriber.connect("127.0.0.1", broker.port)
    subscriber.subscribe(runtime.topics.alert, qos=1)
    subscriber.loop_start()
    station = threading.Thread(target=runtime.run)
    station.start()
    while runtime.publisher is None or not runtime.publisher.is_connected:
        time.sleep(0.01)
    time.sleep(0.2)
    template = Reading(
        ReadingKind.WEIGHT, b"S S      0.185 kg", Weight.parse("185g"), is_stable=True
    )
    latencies = []
    for number in range(args.parcels):
        order = f"SO-{number}"
        runtime.submit_job(Job(order, (JobLine("A", 2),), "BOX"))  # expects 335 g: one short
        time.sleep(0.002)
        sent = time.perf_counter()
        runtime.events.put(replace(template, received_at=time.monotonic()))
        with got:
            got.wait_for(partial(operator.contains, arrived, order), timeout=5)
        latencies.append((arrived[order] - sent) * 1000)
        # The packer adds the missing unit and re-weighs to PASS: a FAILed order is not
        # replaced by the next job, it must be resolved first.
        for grams in ("0g", "335g", "0g"):
            runtime.events.put(
                replace(template, weight=Weight.parse(grams), received_at=time.monotonic())
            )
            time.sleep(0.002)
            if grams == "335g":
                with got:
                    got.wait_for(partial(operator.contains, passed, order), timeout=5)
    runtime.stop()
    station.join()
    raw = raw_round_trips(broker.port, subscriber, arrived, got, args.parcels)
    subscriber.disconnect()
    subscriber.loop_stop()
    broker.stop()
    print(
        f"settled reading -> alert at a subscriber, {args.parcels} parcels, loopback broker: "
        f"{summary(latencies)}"
    )
    print(f"raw paho QoS 1 publish -> the same subscriber, {args.parcels} messages: {summary(raw)}")
    ratio = percentile(latencies, 99) / percentile(raw, 99)
    print(f"p99 ratio {ratio:.1f}x the raw round trip (target <= 3x)")


def percentile(values: list[float], pct: float) -> float:
    """The pct-th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def raw_round_trips(
    port: int,
    subscriber: mqtt.Client,
    arrived: dict[str, float],
    got: threading.Condition,
    count: int,
) -> list[float]:
    """Milliseconds from a bare paho QoS 1 publish to its arrival at `subscriber`."""
    topic = f"bench/raw-{time.monotonic_ns()}/alert"
    subscriber.subscribe(topic, qos=1)
    publisher = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=MQTTProtocolVersion.MQTTv5)
    publisher.connect("127.0.0.1", port)
    publisher.loop_start()
    time.sleep(0.2)
    latencies = []
    for number in range(count):
        order = f"RAW-{number}"
        sent = time.perf_counter()
        publisher.publish(topic, b'{"order_id":"' + order.encode() + b'"}', qos=1)
        with got:
            got.wait_for(partial(operator.contains, arrived, order), timeout=5)
        latencies.append((arrived[order] - sent) * 1000)
        time.sleep(0.002)
    publisher.disconnect()
    publisher.loop_stop()
    return latencies


if __name__ == "__main__":
    main()
