"""The central monitor over the real parts: two stations, Mosquitto, SQLite and PostgreSQL.

Each station is the real runtime on a pty MT-SICS scale; the monitor is the real service
(persistent MQTT v5 session, ingest, store, API) in this process.
"""

from __future__ import annotations

import json
import uuid
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any

import httpx
import paho.mqtt.publish as mqtt_publish

from scale_agent.plugins import Signal
from scale_agent.testing import wait_until
from tests.central.harness import running_central, write_central
from tests.fakes.mt_sics_scale import FakeMtSicsScale
from tests.fakes.recording_light import RecordingLight
from tests.station_files import write_station
from tests.station_harness import running_station

if TYPE_CHECKING:
    from pathlib import Path

    from scale_agent.station.runtime import StationRuntime
    from tests.fakes.mosquitto import Mosquitto

ORDER = {"lines": [{"sku": "SKU-1023", "qty": 1}, {"sku": "SKU-2040", "qty": 2}], "carton": "BOX-S"}


def station_files(
    folder: Path, scale: FakeMtSicsScale, broker: Mosquitto, site: str, line: str
) -> Path:
    folder.mkdir()
    config = write_station(folder, scale.path, broker.url, site=site, extra="health_interval_s = 1")
    config.write_text(config.read_text().replace('line = "line-1"', f'line = "{line}"'))
    return config


def short_parcel(
    runtime: StationRuntime,
    light: RecordingLight,
    scale: FakeMtSicsScale,
    broker: Mosquitto,
    order_id: str,
    **references: str,
) -> None:
    """A parcel one phone case short: MISSING_ITEM, alerted."""
    wait_until(lambda: runtime.publisher is not None and runtime.publisher.is_connected)
    job = json.dumps({"order_id": order_id, **ORDER, **references})
    mqtt_publish.single(runtime.topics.job, job, qos=1, hostname="127.0.0.1", port=broker.port)
    wait_until(lambda: light.signals()[-1:] == [Signal.READY])
    scale.set_weight("0.877")
    wait_until(lambda: light.signals()[-1:] == [Signal.FAIL])


def api(url: str, token: str | None = None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=url, headers=headers, timeout=10)


def alerts(client: httpx.Client) -> list[dict[str, Any]]:
    reply = client.get("/api/alerts")
    assert reply.status_code == 200, reply.text
    found: list[dict[str, Any]] = reply.json()
    return found


def test_two_stations_alerts_are_kept_acknowledged_and_commanded(  # noqa: PLR0915 - one story
    tmp_path: Path, broker: Mosquitto, database: str
) -> None:
    site = f"c{uuid.uuid4().hex[:8]}"
    # A malformed message retained on the broker before the monitor starts: refused, shown.
    mqtt_publish.single(
        f"scale-agent/v1/{site}/line-9/bench-9/health",
        b'{"msg_id": "bad", "station_state": "' + b"[" * 50 + b'"',
        qos=1,
        retain=True,
        hostname="127.0.0.1",
        port=broker.port,
    )
    scales = [FakeMtSicsScale(), FakeMtSicsScale(serial="B987654321")]
    lights = [RecordingLight(), RecordingLight()]
    configs = [
        station_files(tmp_path / "a", scales[0], broker, site, "line-1"),
        station_files(tmp_path / "b", scales[1], broker, site, "line-2"),
    ]
    central_toml = write_central(tmp_path, database, broker.url, site)
    clients = ExitStack()
    try:
        with (
            running_central(central_toml) as (service, url, tokens),
            running_station(configs[0], lights[0]) as first,
            running_station(configs[1], lights[1]) as second,
        ):
            supervisor = clients.enter_context(api(url, tokens["li.wei"]))
            viewer = clients.enter_context(api(url, tokens["zhang.min"]))
            nobody = clients.enter_context(api(url))
            stranger = clients.enter_context(api(url, "wrong"))
            short_parcel(
                first,
                lights[0],
                scales[0],
                broker,
                "SO-A1",
                tracking_number="SF1234567890",
                marketplace_order="TB-2026-0042",
                packer="wang.fang",
            )
            short_parcel(second, lights[1], scales[1], broker, "SO-B1")
            wait_until(lambda: len(alerts(viewer)) == 2)
            shown = {a["order_id"]: a for a in alerts(viewer)}
            assert shown["SO-A1"]["station"] == f"{site}/line-1/bench-1"
            assert shown["SO-B1"]["station"] == f"{site}/line-2/bench-1"
            assert shown["SO-A1"]["verdict"] == "MISSING_ITEM"
            assert shown["SO-A1"]["explanation"] == "missing 1 x Phone case (SKU-1023)"
            assert shown["SO-A1"]["items"] == (
                "1 x Phone case (SKU-1023), 2 x Hardcover book (SKU-2040)"
            )
            assert shown["SO-A1"]["packer"] == "wang.fang"
            # Found by the marketplace's number or the carrier's, as customer service has them.
            for number in ("TB-2026-0042", "SF1234567890"):
                found = viewer.get("/api/history", params={"reference": number}).json()
                assert [a["order_id"] for a in found] == ["SO-A1"], number
            assert shown["SO-A1"]["judged_at"].endswith("CST")  # the monitor's zone
            assert shown["SO-A1"]["outcome"] == "open"
            wait_until(lambda: len(viewer.get("/api/stations").json()) >= 2)
            # The malformed retained message: refused with a reason, the rest unaffected.
            refused = viewer.get("/api/refused").json()
            assert refused["total"] == 1
            assert "not valid JSON" in refused["newest"][0]["reason"]
            assert refused["newest"][0]["topic"].endswith("/line-9/bench-9/health")
            # No token, a wrong token: refused. A viewer cannot acknowledge.
            assert nobody.get("/api/alerts").status_code == 401
            assert stranger.get("/api/alerts").status_code == 401
            msg_id = shown["SO-A1"]["msg_id"]
            note = {"note": "phone case added, re-weighed"}
            assert viewer.post(f"/api/alerts/{msg_id}/ack", json=note).status_code == 403
            acked = supervisor.post(f"/api/alerts/{msg_id}/ack", json=note)
            assert acked.status_code == 200, acked.text
            assert acked.json()["acknowledged_by"] == "li.wei"
            # An override from the monitor reaches the station, which lets the parcel go.
            command = {
                "command": "override",
                "reason": "customer asked for it",
                "order_id": "SO-B1",
            }
            sent = supervisor.post(f"/api/stations/{site}/line-2/bench-1/command", json=command)
            assert sent.status_code == 200, sent.text
            wait_until(lambda: lights[1].shown[-1].is_seal_enabled)
            wait_until(
                lambda: (
                    {a["order_id"]: a for a in alerts(viewer)}["SO-B1"]["outcome"]
                    == "overridden by li.wei: customer asked for it"
                )
            )
            trail = [(r["user_name"], r["action"]) for r in service.store.audit_trail()]
            assert ("li.wei", "acknowledge") in trail
            assert ("li.wei", "command") in trail
        # The monitor stops; a station alerts meanwhile; the monitor comes back: it has it
        # (its persistent session kept the message) and still has the history.
        scales[0].set_weight("0.000")  # the failed SO-A1 taken off while the station restarts
        with running_station(configs[0], lights[0]) as first:
            # SO-A1's FAIL is still open in the station's ledger: it is loaded again and holds
            # the bench until the packer fixes it.
            wait_until(lambda: "Order SO-A1:" in lights[0].shown[-1].text)
            scales[0].set_weight("1.025")
            wait_until(lambda: lights[0].signals()[-1:] == [Signal.PASS])
            scales[0].set_weight("0.000")
            wait_until(lambda: lights[0].signals()[-1:] == [Signal.IDLE])
            short_parcel(first, lights[0], scales[0], broker, "SO-A2")
            wait_until(lambda: first.publisher is not None and first.publisher.backlog == 0)
        with running_central(central_toml) as (service, url, tokens):
            viewer = clients.enter_context(api(url, tokens["zhang.min"]))
            wait_until(lambda: "SO-A2" in {a["order_id"] for a in alerts(viewer)})
            assert {"SO-A1", "SO-B1"} <= {a["order_id"] for a in alerts(viewer)}
            assert service.store.count("alert") == 3
    finally:
        clients.close()
        for scale in scales:
            scale.close()
