"""How fast a backlog of 10,000 alerts drains into a loopback broker (QoS 1, outbox on disk).

The alerts are written to a fresh ledger first, as after an outage; then the publisher
connects and a subscriber counts unique msg_ids. Target: >= 5,000 alerts/s, none lost.
Run: .venv/bin/python -m bench.outbox_drain [--count 10000] [--mqtt URL (default: own broker)]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from pathlib import Path

from bench._broker import BenchBroker, Counter
from scale_agent.io.config import MqttSection
from scale_agent.io.ledger import Ledger, Outgoing
from scale_agent.io.messages import Topics
from scale_agent.io.mqtt import Publisher


def main() -> None:
    options = argparse.ArgumentParser()
    options.add_argument("--mqtt", help="an existing broker (default: start one, see _broker)")
    options.add_argument("--count", type=int, default=10_000)
    args = options.parse_args()
    broker = None if args.mqtt else BenchBroker()
    url = args.mqtt or broker.url  # type: ignore[union-attr]
    folder = Path(tempfile.mkdtemp())
    topics = Topics("bench", f"drain-{uuid.uuid4().hex[:8]}", "bench-1")
    ledger = Ledger(folder)
    body = b'{"verdict":"MISSING_ITEM","reason":"light by 150 g","expected":{"value":1025.0}}'
    for _ in range(args.count):
        msg_id = str(uuid.uuid4())
        ledger.enqueue(
            Outgoing(msg_id, topics.alert, b'{"msg_id":"' + msg_id.encode() + b'",' + body[1:])
        )
    ledger.close()
    counter = Counter(url, topics.alert)
    publisher = Publisher(
        MqttSection(url=url),
        topics,
        folder,
        client_id=f"bench-{uuid.uuid4().hex[:8]}",
        status_payload=lambda state: state.encode(),
    )
    started = time.perf_counter()
    publisher.start()
    deadline = started + 120
    while publisher.delivered < args.count and time.perf_counter() < deadline:
        time.sleep(0.005)
    elapsed = time.perf_counter() - started  # every row acknowledged by the broker
    time.sleep(0.5)  # let the subscriber take the last messages off the socket
    publisher.stop()
    unique, total = counter.received()
    counter.close()
    if broker is not None:
        broker.stop()
    left = Ledger(folder)
    backlog = left.backlog()
    left.close()
    print(
        f"outbox drain: {args.count} alerts acknowledged in {elapsed:.2f} s = "
        f"{args.count / elapsed:,.0f} alerts/s (QoS 1); the subscriber received {unique} "
        f"unique, {total - unique} duplicate(s); {backlog} left in the outbox"
    )


if __name__ == "__main__":
    main()
