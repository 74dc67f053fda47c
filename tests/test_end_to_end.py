"""A whole station: a pty MT-SICS scale, a recording light, the ledger and a real Mosquitto."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

import paho.mqtt.publish as mqtt_publish

from scale_agent.io.ledger import Ledger
from scale_agent.plugins import Signal
from scale_agent.testing import wait_until
from tests.fakes.mosquitto import Mosquitto, Subscriber
from tests.fakes.recording_light import RecordingLight
from tests.station_files import write_station
from tests.station_harness import running_station

if TYPE_CHECKING:
    from pathlib import Path

    from scale_agent.station.runtime import StationRuntime
    from tests.fakes.mt_sics_scale import FakeMtSicsScale


ORDER = {
    "order_id": "SO-77",
    "lines": [{"sku": "SKU-1023", "qty": 1}, {"sku": "SKU-2040", "qty": 2}],
    "carton": "BOX-S",
}


def alerts(messages: list[tuple[str, bytes, bool]]) -> list[dict[str, Any]]:
    return [json.loads(payload) for topic, payload, _ in messages if topic.endswith("/alert")]


def test_a_short_parcel_fails_and_its_alert_reaches_the_supervisor(
    tmp_path: Path, scale: FakeMtSicsScale, broker: Mosquitto
) -> None:
    config = write_station(tmp_path, scale.path, broker.url, site="e2e")
    light = RecordingLight()
    subscriber = Subscriber(broker.port, "scale-agent/v1/e2e/#")
    try:
        with running_station(config, light) as runtime:
            wait_until(lambda: light.signals()[-1:] == [Signal.IDLE])
            wait_until(lambda: runtime.publisher is not None and runtime.publisher.is_connected)
            mqtt_publish.single(
                runtime.topics.job, json.dumps(ORDER), qos=1, hostname="127.0.0.1", port=broker.port
            )
            wait_until(lambda: light.signals()[-1:] == [Signal.READY])
            scale.set_weight("0.877")  # 1025 g expected: the 150 g phone case is missing
            wait_until(lambda: light.signals()[-1:] == [Signal.FAIL])
            [alert] = alerts(subscriber.wait_for(alerts))
            scale.set_weight("0.000")
            wait_until(lambda: light.signals()[-1:] == [Signal.READY])
            scale.set_weight("1.026")  # the packer adds the case: judged again, PASS
            wait_until(lambda: light.signals()[-1:] == [Signal.PASS])
            on_pass = light.shown[-1]
            assert on_pass.is_seal_enabled
            scale.set_weight("0.000")
            wait_until(lambda: light.signals()[-1:] == [Signal.IDLE])
            mqtt_publish.single(
                runtime.topics.job,
                b'{"order_id": 5}',
                qos=1,
                hostname="127.0.0.1",
                port=broker.port,
            )
            events = subscriber.wait_for(lambda m: any(t.endswith("/event") for t, _, _ in m))
        assert light.signals() == [
            Signal.FAULT,
            Signal.IDLE,
            Signal.READY,
            Signal.SETTLING,
            Signal.FAIL,
            Signal.READY,
            Signal.SETTLING,
            Signal.PASS,
            Signal.IDLE,
            Signal.FAULT,
        ]
        after_stop = light.shown[-1]
        assert not after_stop.is_seal_enabled  # safe state on shutdown
        assert alert["verdict"] == "MISSING_ITEM"
        assert alert["order_id"] == "SO-77"
        assert alert["expected"] == {"value": 1025.0, "unit": "g"}
        assert alert["measured"] == {"value": 877.0, "unit": "g"}
        assert alert["explanation"][0]["units"] == [{"sku": "SKU-1023", "qty": 1}]
        assert alert["schema_id"] == "scale-agent/verdict/1"
        assert alert["sent_at"].endswith("Z")
        assert len(alerts(subscriber.messages)) == 1  # a PASS raises no alert
        [event] = [json.loads(p) for t, p, _ in events if t.endswith("/event")]
        assert event["event"] == "job_rejected"
        assert "order_id" in event["reason"]
        statuses = [
            json.loads(p)["state"] for t, p, _ in subscriber.messages if t.endswith("/status")
        ]
        assert statuses[-1] == "offline"
    finally:
        subscriber.close()
    ledger = Ledger(tmp_path / "data")
    try:
        kinds = [record["verdict"] for record in ledger.records("SO-77")]
        assert kinds == ["MISSING_ITEM", "PASS"]
        assert ledger.verify_chain() is None
        assert ledger.backlog() == 0
    finally:
        ledger.close()


def pack_short_parcel(
    runtime: StationRuntime, scale: FakeMtSicsScale, light: RecordingLight, order_id: str
) -> None:
    """The WMS sends an order; the packer places a parcel with the case missing, is stopped
    by the FAIL, adds the case and re-weighs (a failed order is not replaced by the next)."""
    runtime.submit_job_data(json.dumps({**ORDER, "order_id": order_id}).encode(), "test")
    wait_until(lambda: f"Order {order_id}:" in light.shown[-1].text)
    scale.set_weight("0.600")
    wait_until(lambda: light.signals()[-1:] == [Signal.FAIL])
    scale.set_weight("0.000")
    wait_until(lambda: light.signals()[-1:] == [Signal.READY])
    scale.set_weight("1.025")
    wait_until(lambda: light.signals()[-1:] == [Signal.PASS])
    scale.set_weight("0.000")
    wait_until(lambda: light.signals()[-1:] == [Signal.IDLE])


def test_alerts_raised_while_the_broker_is_down_arrive_when_it_returns(
    tmp_path: Path, scale: FakeMtSicsScale, own_broker: Mosquitto
) -> None:
    config = write_station(tmp_path, scale.path, own_broker.url, site="outage")
    light = RecordingLight()
    # The supervisors' monitor holds a persistent session, so the broker queues alerts for it
    # while it reconnects after the restart.
    monitor = Subscriber(own_broker.port, "scale-agent/v1/outage/+/+/alert", session_id="monitor")
    try:
        with running_station(config, light) as runtime:
            wait_until(lambda: runtime.publisher is not None and runtime.publisher.is_connected)
            for number in range(2):
                pack_short_parcel(runtime, scale, light, f"SO-{number}")
            own_broker.stop()
            wait_until(lambda: runtime.publisher is not None and not runtime.publisher.is_connected)
            for number in range(2, 5):  # verdicts keep coming while the broker is down
                pack_short_parcel(runtime, scale, light, f"SO-{number}")
            wait_until(lambda: runtime.publisher is not None and runtime.publisher.backlog >= 3)
            own_broker.start()
            for number in range(5, 7):
                pack_short_parcel(runtime, scale, light, f"SO-{number}")
            received = monitor.wait_for(lambda m: len({p for _, p, _ in m}) >= 7, timeout=30)
            wait_until(lambda: runtime.publisher is not None and runtime.publisher.backlog == 0)
    finally:
        monitor.close()
    by_msg_id = {json.loads(p)["msg_id"]: json.loads(p) for _, p, _ in received}
    assert sorted(p["order_id"] for p in by_msg_id.values()) == [f"SO-{n}" for n in range(7)]


def test_an_unplugged_scale_shows_fault_within_two_seconds(
    tmp_path: Path, scale: FakeMtSicsScale
) -> None:
    config = write_station(tmp_path, scale.path, None, site="unplug")
    light = RecordingLight()
    with running_station(config, light):
        wait_until(lambda: light.signals()[-1:] == [Signal.IDLE])
        scale.unplug()
        unplugged_at = time.monotonic()
        wait_until(lambda: light.signals()[-1:] == [Signal.FAULT], timeout=5)
        assert time.monotonic() - unplugged_at < 2.0
        assert "disconnected" in light.shown[-1].text or "no usable weight" in light.shown[-1].text
