"""kill -9 the daemon: nothing the packer saw is lost, and re-sent alerts keep their id."""

from __future__ import annotations

import json
import shutil
from typing import TYPE_CHECKING

import paho.mqtt.publish as mqtt_publish

from scale_agent.testing import wait_until
from tests.fakes.daemon import Daemon
from tests.fakes.mosquitto import Mosquitto, Subscriber
from tests.station_files import write_station

if TYPE_CHECKING:
    from pathlib import Path

    from tests.fakes.mt_sics_scale import FakeMtSicsScale

# With its msg_id, as the contract asks of a WMS: the broker is stopped right after the job is
# published, so the station's PUBACK may not have reached it, and the broker then delivers the
# job again after the restart. The station knows the msg_id (its ledger keeps first sightings)
# and ignores the copy; without it, the copy was loaded again and the parcel judged a fifth time.
ORDER = {
    "msg_id": "0b9e3c52-6a1f-4d55-9a53-2f1f0d3c7a11",
    "order_id": "SO-K",
    "lines": [{"sku": "SKU-1023", "qty": 1}, {"sku": "SKU-2040", "qty": 2}],
    "carton": "BOX-S",
}
ROOT = "scale-agent/v1/crash/line-1/bench-1"


def alerts(monitor: Subscriber) -> list[dict[str, object]]:
    return [json.loads(p) for t, p, _ in monitor.messages if t.endswith("/alert")]


def test_alerts_survive_kill_9_and_duplicates_carry_the_same_message_id(
    tmp_path: Path, scale: FakeMtSicsScale, own_broker: Mosquitto
) -> None:
    config = write_station(tmp_path, scale.path, own_broker.url, site="crash")
    daemon = Daemon(config, tmp_path / "data")
    monitor = Subscriber(own_broker.port, f"{ROOT}/#", session_id="crash-monitor")
    try:
        daemon.start()
        monitor.wait_for(
            lambda m: any(t.endswith("/status") and b'"online"' in p for t, p, _ in m), timeout=20
        )
        mqtt_publish.single(
            f"{ROOT}/job", json.dumps(ORDER), qos=1, hostname="127.0.0.1", port=own_broker.port
        )
        own_broker.stop()
        # Four flagged verdicts while the broker is down: each weight is judged anew.
        for number, kg in enumerate(("0.600", "0.700", "0.800", "0.877"), start=1):
            scale.set_weight(kg)
            wait_until(lambda n=number: daemon.count("verdicts") == n, timeout=15)  # type: ignore[misc]
        assert daemon.count("outbox") == 4
        daemon.kill_hard()

        # What was on disk at the crash: four alerts owed. Keep a copy of that moment.
        snapshot = tmp_path / "snapshot"
        shutil.copytree(tmp_path / "data", snapshot)

        own_broker.start()
        daemon.start()
        monitor.wait_for(lambda _m: len(alerts(monitor)) >= 4, timeout=30)
        wait_until(lambda: daemon.count("outbox") == 0, timeout=15)
        assert daemon.stop() == 0

        # Now the worst moment for a crash: after the broker's PUBACK, before the DELETE
        # reached the disk. Put the outbox back as it was, and start again.
        shutil.rmtree(tmp_path / "data")
        shutil.copytree(snapshot, tmp_path / "data")
        daemon.start()
        monitor.wait_for(lambda _m: len(alerts(monitor)) >= 8, timeout=30)
    finally:
        daemon.stop()
        monitor.close()
    received = alerts(monitor)
    by_parcel: dict[object, set[object]] = {}
    for alert in received:
        by_parcel.setdefault(alert["parcel_id"], set()).add(alert["msg_id"])
    assert len(by_parcel) == 4  # every alert arrived
    assert all(len(ids) == 1 for ids in by_parcel.values())  # a copy is the same message
    assert sorted(a["measured"]["value"] for a in received[:4]) == [600.0, 700.0, 800.0, 877.0]  # type: ignore[index]


def test_a_job_sent_while_the_daemon_is_down_arrives_after_the_restart(
    tmp_path: Path, scale: FakeMtSicsScale, own_broker: Mosquitto
) -> None:
    config = write_station(tmp_path, scale.path, own_broker.url, site="crash")
    daemon = Daemon(config, tmp_path / "data")
    monitor = Subscriber(own_broker.port, f"{ROOT}/#", session_id="restart-monitor")
    try:
        daemon.start()
        monitor.wait_for(
            lambda m: any(t.endswith("/status") and b'"online"' in p for t, p, _ in m), timeout=20
        )
        daemon.kill_hard()  # "online" is sent after the subscriptions: the session holds them
        # The WMS publishes while the station is down; the broker acknowledges it.
        job = {"order_id": "SO-R", "lines": [{"sku": "NOT-IN-CATALOG", "qty": 1}]}
        mqtt_publish.single(
            f"{ROOT}/job", json.dumps(job), qos=1, hostname="127.0.0.1", port=own_broker.port
        )
        daemon.start()

        def rejected(messages: list[tuple[str, bytes, bool]]) -> bool:
            return any(
                t.endswith("/event") and json.loads(p).get("order_id") == "SO-R"
                for t, p, _ in messages
            )

        monitor.wait_for(rejected, timeout=30)  # the job reached the restarted station
    finally:
        daemon.stop()
        monitor.close()
