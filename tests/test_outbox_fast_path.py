"""A verdict's alert is published from the station loop's own thread right after the commit.

The drain thread works on the same outbox at the same time (acknowledgements, other rows);
neither may send a row the other sent, skip one, or change their order.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from scale_agent.io.config import MqttSection
from scale_agent.io.ledger import Ledger, Outgoing
from scale_agent.io.messages import Topics
from scale_agent.io.mqtt import Publisher
from scale_agent.testing import wait_until
from tests.fakes.mosquitto import Subscriber

if TYPE_CHECKING:
    from pathlib import Path

    from tests.fakes.mosquitto import Mosquitto

COUNT = 300


def _record(ledger: Ledger, topics: Topics, number: int) -> None:
    payload = json.dumps({"order_id": f"SO-{number}", "msg_id": f"m-{number}"}).encode()
    ledger.record(
        f"p-{number}",
        order_id=f"SO-{number}",
        verdict="fail",
        recorded_at="2026-12-03T08:00:00+00:00",
        body={"n": number},
        outgoing=[Outgoing(f"m-{number}", topics.alert, payload)],
    )


def test_alerts_sent_from_the_loop_beside_the_drain_arrive_once_each_in_order(
    tmp_path: Path, broker: Mosquitto
) -> None:
    topics = Topics("fastpath", "l", "s")
    monitor = Subscriber(broker.port, topics.alert)
    publisher = Publisher(
        MqttSection(url=broker.url),
        topics,
        tmp_path,
        client_id="fast-path-test",
        status_payload=lambda state: state.encode(),
    )
    ledger = Ledger(tmp_path)
    publisher.start()
    try:
        wait_until(lambda: publisher.is_connected)
        for number in range(COUNT):
            _record(ledger, topics, number)
            if number % 3 == 0:  # an event's row: left to the drain thread
                publisher.wake()
            else:  # a verdict's alert: sent from this thread when the drain is free
                publisher.send_owed(ledger)
        wait_until(lambda: len(monitor.messages) >= COUNT, timeout=20)
        wait_until(lambda: publisher.wait_drained(0.1), timeout=20)
    finally:
        publisher.stop()
        ledger.close()
        monitor.close()
    orders = [json.loads(payload)["order_id"] for _, payload, _ in monitor.messages]
    assert orders == [f"SO-{number}" for number in range(COUNT)]  # once each, in order
    assert publisher.delivered == COUNT
