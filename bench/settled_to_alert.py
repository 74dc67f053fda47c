"""Latency from the reading that settles a parcel to its alert arriving at a subscriber.

The whole chain is real: station loop, verifier, ledger on disk (synchronous=FULL), outbox,
paho publisher, a loopback Mosquitto, and a paho subscriber in a process of its own (as the
supervisors' monitor is: a subscriber inside the station's process would wait for the
station's interpreter lock, which no real subscriber does). It notes each arrival on the
monotonic clock, which every process on the machine shares. Every parcel is one item short,
so every verdict raises an alert. The reference in the same run: a bare paho client publishing
one message at a time at QoS 1 to the same subscriber (the round trip through the broker that
no station can beat), in rounds alternating with the station's so both see the same machine.
Target: p99 <= 3x that.
Run: .venv/bin/python -m bench.settled_to_alert [--parcels 300] [--rounds 6]
"""

from __future__ import annotations

import argparse
import logging
import subprocess
import sys
import threading
import time
from dataclasses import replace
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

# The subscriber process: one line per message, "<order id> <monotonic seconds>".
SUBSCRIBER = """
import sys, time
import paho.mqtt.client as mqtt
def on_message(client, userdata, message):
    at = time.monotonic()
    order = bytes(message.payload).split(b'"order_id":"', 1)[1].split(b'"', 1)[0].decode()
    print(order, repr(at), flush=True)
def on_subscribe(client, userdata, mid, reason_codes, properties):
    print("ready", flush=True)
client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
client.on_message, client.on_subscribe = on_message, on_subscribe
client.connect("127.0.0.1", int(sys.argv[1]))
client.subscribe([(topic, 1) for topic in sys.argv[2:]])
client.loop_forever()
"""


class Arrivals:
    """Reads the subscriber process's lines; `wait(order)` gives the order's arrival time."""

    def __init__(self, port: int, topics: list[str]) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-c", SUBSCRIBER, str(port), *topics],
            stdout=subprocess.PIPE,
            text=True,
        )
        self._arrived: dict[str, float] = {}
        self._got = threading.Condition()
        self._ready = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()
        if not self._ready.wait(10):
            raise RuntimeError("the subscriber process did not subscribe")

    def _read(self) -> None:
        assert self._process.stdout is not None  # set by Popen above
        for line in self._process.stdout:
            if line.strip() == "ready":
                self._ready.set()
                continue
            order, at = line.split()
            with self._got:
                self._arrived.setdefault(order, float(at))
                self._got.notify_all()

    def wait(self, order: str, timeout_s: float = 5.0) -> float:
        """The monotonic time the subscriber got `order`'s message."""
        with self._got:
            if not self._got.wait_for(lambda: order in self._arrived, timeout=timeout_s):
                raise RuntimeError(f"{order}: no message at the subscriber in {timeout_s} s")
            return self._arrived[order]

    def close(self) -> None:
        """Stop the subscriber process."""
        self._process.terminate()
        self._process.wait(5)


def main() -> None:
    options = argparse.ArgumentParser()
    options.add_argument("--parcels", type=int, default=300)
    options.add_argument("--rounds", type=int, default=6)
    args = options.parse_args()
    configure(json=False, level=logging.WARNING)  # the station logs every parcel
    broker = BenchBroker()
    config = bench_station({"url": broker.url, "health_interval_s": 3600})
    runtime = StationRuntime(config, IdleScale(), [TimingLight()], publisher_factory=make_publisher)
    raw_topic = f"bench/raw-{time.monotonic_ns()}/alert"
    arrivals = Arrivals(broker.port, [runtime.topics.alert, raw_topic])
    verdicts = PassedOrders()
    runtime.listeners.append(verdicts.on_verdict)
    station = threading.Thread(target=runtime.run)
    station.start()
    while runtime.publisher is None or not runtime.publisher.is_connected:
        time.sleep(0.01)
    publisher = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=MQTTProtocolVersion.MQTTv5)
    publisher.connect("127.0.0.1", broker.port)
    publisher.loop_start()
    time.sleep(0.2)
    ours: list[float] = []
    raw: list[float] = []
    per_round = max(1, args.parcels // args.rounds)
    for round_number in range(args.rounds):
        numbers = range(round_number * per_round, (round_number + 1) * per_round)
        ours += [short_parcel(runtime, arrivals, verdicts, f"SO-{n}") for n in numbers]
        for number in numbers:
            order = f"RAW-{number}"
            sent = time.monotonic()
            publisher.publish(raw_topic, b'{"order_id":"' + order.encode() + b'"}', qos=1)
            raw.append((arrivals.wait(order) - sent) * 1000)
            time.sleep(0.002)
    runtime.stop()
    station.join()
    publisher.disconnect()
    publisher.loop_stop()
    arrivals.close()
    broker.stop()
    print(
        f"settled reading -> alert at a subscriber process, {len(ours)} parcels, loopback "
        f"broker: {summary(ours)}"
    )
    print(f"raw paho QoS 1 publish -> the same subscriber, {len(raw)} messages: {summary(raw)}")
    ratio = percentile(ours, 99) / percentile(raw, 99)
    print(f"p99 ratio {ratio:.1f}x the raw round trip (target <= 3x)")


class PassedOrders:
    """The orders the station has judged PASS (told by the recorder's listeners)."""

    def __init__(self) -> None:
        self._passed: set[str] = set()
        self._judged = threading.Condition()

    def on_verdict(self, recorded: RecordedVerdict) -> None:
        if recorded.verdict.kind is VerdictKind.PASS and recorded.verdict.order_id:
            with self._judged:
                self._passed.add(recorded.verdict.order_id)
                self._judged.notify_all()

    def wait(self, order: str) -> None:
        with self._judged:
            self._judged.wait_for(lambda: order in self._passed, timeout=5)


TEMPLATE = Reading(ReadingKind.WEIGHT, b"S S      0.185 kg", Weight.parse("185g"), is_stable=True)


def short_parcel(
    runtime: StationRuntime, arrivals: Arrivals, verdicts: PassedOrders, order: str
) -> float:
    """Milliseconds from the settling reading of a parcel one item short to its alert."""
    runtime.submit_job(Job(order, (JobLine("A", 2),), "BOX"))  # expects 335 g: one short
    time.sleep(0.002)
    sent = time.monotonic()
    runtime.events.put(replace(TEMPLATE, received_at=time.monotonic()))
    latency = (arrivals.wait(order) - sent) * 1000
    # The packer adds the missing unit and re-weighs to PASS: a FAILed order is not replaced
    # by the next job, it must be resolved first.
    for grams in ("0g", "335g", "0g"):
        runtime.events.put(
            replace(TEMPLATE, weight=Weight.parse(grams), received_at=time.monotonic())
        )
        time.sleep(0.002)
        if grams == "335g":
            verdicts.wait(order)
    return latency


def percentile(values: list[float], pct: float) -> float:
    """The pct-th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


if __name__ == "__main__":
    main()
