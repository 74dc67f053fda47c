"""The supervisor's side of MQTT: commands in, events, health and live weight out."""

from __future__ import annotations

import itertools
import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

import paho.mqtt.publish as mqtt_publish
import pytest

from scale_agent.io.ledger import Ledger
from scale_agent.plugins import Signal
from scale_agent.testing import wait_until
from tests.fakes.mosquitto import Mosquitto, Subscriber
from tests.fakes.recording_light import RecordingLight
from tests.station_files import write_station
from tests.station_harness import running_station

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from scale_agent.station.runtime import StationRuntime
    from tests.fakes.mt_sics_scale import FakeMtSicsScale

ORDER = {
    "order_id": "SO-9",
    "lines": [{"sku": "SKU-1023", "qty": 1}, {"sku": "SKU-2040", "qty": 2}],
    "carton": "BOX-S",
}


class Station:
    """A running station with a subscriber on all its topics, and a way to talk to it."""

    def __init__(
        self, runtime: StationRuntime, light: RecordingLight, subscriber: Subscriber, port: int
    ) -> None:
        self.runtime, self.light, self.subscriber, self.port = runtime, light, subscriber, port

    def send(self, kind: str, payload: dict[str, Any] | bytes) -> None:
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        topic = self.runtime.topics.command if kind == "command" else self.runtime.topics.job
        mqtt_publish.single(topic, data, qos=1, hostname="127.0.0.1", port=self.port)

    def received(self, kind: str) -> list[dict[str, Any]]:
        return [json.loads(p) for t, p, _ in self.subscriber.messages if t.endswith(f"/{kind}")]

    def wait_event(self, event: str, count: int = 1) -> list[dict[str, Any]]:
        self.subscriber.wait_for(
            lambda m: (
                sum(1 for t, p, _ in m if t.endswith("/event") and json.loads(p)["event"] == event)
                >= count
            )
        )
        return [e for e in self.received("event") if e["event"] == event]


@pytest.fixture
def station(tmp_path: Path, scale: FakeMtSicsScale, broker: Mosquitto) -> Iterator[Station]:
    config = write_station(
        tmp_path,
        scale.path,
        broker.url,
        site=f"c{tmp_path.name[-12:]}",
        extra="health_interval_s = 1\npublish_weight = true\nweight_interval_s = 0.2",
    )
    light = RecordingLight()
    with running_station(config, light) as runtime:
        subscriber = Subscriber(broker.port, f"{runtime.topics.root}/#")
        try:
            wait_until(lambda: runtime.publisher is not None and runtime.publisher.is_connected)
            wait_until(lambda: light.signals()[-1:] == [Signal.IDLE])
            yield Station(runtime, light, subscriber, broker.port)
        finally:
            subscriber.close()


def fail_a_parcel(station: Station, scale: FakeMtSicsScale) -> None:
    station.send("job", ORDER)
    wait_until(lambda: "Order SO-9" in station.light.shown[-1].text)
    scale.set_weight("0.877")  # the phone case is missing
    wait_until(lambda: station.light.signals()[-1:] == [Signal.FAIL])


def test_a_supervisor_override_enables_the_seal_and_is_audited(
    station: Station, scale: FakeMtSicsScale
) -> None:
    fail_a_parcel(station, scale)
    station.send(
        "command",
        {
            "command": "override",
            "operator": "maria",
            "reason": "case shipped separately",
            "request_id": "r-1",
        },
    )
    wait_until(lambda: station.light.shown[-1].is_seal_enabled)
    assert station.light.shown[-1].text == (
        "OVERRIDE: Released by maria (case shipped separately): seal the parcel"
    )
    [event] = station.wait_event("override_applied")
    assert event["override"] == {"operator": "maria", "reason": "case shipped separately"}
    assert event["order_id"] == "SO-9"
    scale.set_weight("0.000")  # the overridden parcel leaves: the order is done
    wait_until(lambda: station.light.signals()[-1:] == [Signal.IDLE])
    ledger = Ledger(station.runtime.config.data_dir)
    try:
        records = ledger.records("SO-9")
    finally:
        ledger.close()
    assert [r["verdict"] for r in records] == ["MISSING_ITEM", "MISSING_ITEM"]
    audited = json.loads(records[1]["body"])
    assert audited["override"] == {"operator": "maria", "reason": "case shipped separately"}
    assert audited["operator"] == "maria"


def test_an_override_with_nothing_to_override_is_refused(station: Station) -> None:
    station.send("command", {"command": "override", "operator": "maria", "reason": "why not"})
    [event] = station.wait_event("command_rejected")
    assert event["reason"] == "no failed parcel is waiting on this station"
    assert not station.light.shown[-1].is_seal_enabled


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"{not json", "invalid command"),
        ({"command": "launch"}, "command: Input should be"),
        ({"command": "tare"}, "does not accept 'tare'"),
        ({"command": "override", "reason": "no operator given"}, "needs an operator"),
    ],
)
def test_invalid_or_forbidden_commands_are_rejected_with_the_reason(
    station: Station, payload: dict[str, Any] | bytes, reason: str
) -> None:
    station.send("command", payload)
    [event] = station.wait_event("command_rejected")
    assert reason in event["reason"]
    fail_free = station.light.signals()[-1]
    assert fail_free is Signal.IDLE  # the station keeps working


def test_zero_goes_to_the_scale_only_with_an_empty_platter(
    station: Station, scale: FakeMtSicsScale
) -> None:
    scale.set_weight("0.004")
    station.send("command", {"command": "zero", "request_id": "z-1"})
    [done] = station.wait_event("command_done")
    assert done["command"] == "zero"
    wait_until(lambda: scale.zeroed == 1)
    scale.set_weight("0.800")
    wait_until(lambda: station.light.signals()[-1:] == [Signal.FAIL])  # a parcel with no order
    station.send("command", {"command": "zero", "request_id": "z-2"})
    [refused] = station.wait_event("command_rejected")
    assert refused["reason"] == "cannot zero now: a parcel is on the platter"
    assert scale.zeroed == 1


def test_reweigh_judges_the_parcel_again(station: Station, scale: FakeMtSicsScale) -> None:
    fail_a_parcel(station, scale)
    station.send("command", {"command": "reweigh"})
    wait_until(lambda: len(station.received("alert")) >= 2)
    assert [a["verdict"] for a in station.received("alert")] == ["MISSING_ITEM"] * 2


def test_reload_catalog_keeps_the_old_one_when_the_new_one_is_broken(
    station: Station, scale: FakeMtSicsScale
) -> None:
    catalog = station.runtime.config.path.parent / "catalog.csv"
    good = catalog.read_text()
    catalog.write_text(good + "sku,SKU-BAD,Broken,12,1g\n")
    station.send("command", {"command": "reload_catalog"})
    [refused] = station.wait_event("command_rejected")
    assert "catalog kept" in refused["reason"]
    assert ":9: weight" in refused["reason"]
    catalog.write_text(good + "sku,SKU-NEW,New item,200g,2g\n")
    station.send("command", {"command": "reload_catalog"})
    [reloaded] = station.wait_event("catalog_reloaded")
    assert reloaded["reason"].startswith("6 SKUs, 2 cartons")
    station.send(
        "job", {"order_id": "SO-NEW", "lines": [{"sku": "SKU-NEW", "qty": 1}], "carton": "BOX-S"}
    )
    wait_until(lambda: "Order SO-NEW" in station.light.shown[-1].text)
    scale.set_weight("0.235")
    wait_until(lambda: station.light.signals()[-1:] == [Signal.PASS])


def test_a_job_with_an_unknown_sku_is_one_rejection_naming_the_order(station: Station) -> None:
    station.send("job", {"order_id": "SO-X", "lines": [{"sku": "NOPE", "qty": 1}]})
    [event] = station.wait_event("job_rejected")
    assert event["reason"] == "order SO-X: unknown SKU: NOPE"
    assert event["order_id"] == "SO-X"
    # Nothing was on the platter, so nothing is alerted: the next job proves the queue moved on.
    station.send("job", {"order_id": "SO-Y", "lines": [{"sku": "NOPE", "qty": 1}]})
    station.subscriber.wait_for(lambda m: len([t for t, _, _ in m if t.endswith("/event")]) >= 2)
    assert station.received("alert") == []


def test_a_re_delivered_job_does_not_reopen_its_order(station: Station) -> None:
    job = {"msg_id": "wms-42", "order_id": "SO-D", "lines": [{"sku": "NOPE", "qty": 1}]}
    station.send("job", job)
    station.wait_event("job_rejected")
    station.send("job", job)
    [duplicate] = station.wait_event("job_duplicate")
    assert duplicate["order_id"] == "SO-D"
    assert "wms-42" in duplicate["reason"]


def test_health_says_when_the_scale_is_dead_even_while_connected(
    station: Station, scale: FakeMtSicsScale
) -> None:
    def latest_health() -> dict[str, Any]:
        return station.received("health")[-1]

    station.subscriber.wait_for(lambda m: any(t.endswith("/health") for t, _, _ in m))
    wait_until(lambda: latest_health()["scale"]["state"] == "ok", timeout=5)
    healthy = latest_health()
    assert healthy["scale"]["state"] == "ok"
    assert healthy["scale"]["serial"] == "B123456789"
    assert healthy["scale"]["seconds_since_last_stable"] < 1
    assert healthy["outbox_backlog"] == 0
    scale.set_line(b"S D      0.000 kg")  # still streaming, never stable
    wait_until(lambda: latest_health()["scale"]["seconds_since_last_stable"] > 1.0, timeout=5)
    scale.unplug()
    wait_until(lambda: latest_health()["scale"]["state"] == "fault", timeout=5)
    assert latest_health()["scale"]["fault_reason"]


def test_the_live_weight_is_published_rate_limited(
    station: Station, scale: FakeMtSicsScale
) -> None:
    scale.set_weight("0.250", stable=False)
    wait_until(lambda: any(w["weight"]["value"] == 250.0 for w in station.received("weight")))
    wait_until(lambda: len(station.received("weight")) >= 4)
    weights = station.received("weight")
    assert weights[-1]["weight"]["unit"] == "g"
    assert weights[-1]["is_stable"] is False
    # The scale streams 50 frames/s; the broker gets one every weight_interval_s (0.2 s).
    sent = [datetime.fromisoformat(w["sent_at"]) for w in weights]
    gaps = [(later - earlier).total_seconds() for earlier, later in itertools.pairwise(sent)]
    assert min(gaps) >= 0.18
