"""kill -9 a station while its photos are in flight: every record it kept reaches the central,
each once, every kept photo with its bytes; the broker stopped in between changes nothing."""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING

import paho.mqtt.publish as mqtt_publish

from scale_agent.testing import wait_until
from tests.central.harness import running_central, write_central
from tests.central.test_evidence_transfer import _shipped
from tests.fakes.camera_server import DigestCamera
from tests.fakes.daemon import Daemon
from tests.station_files import write_station

if TYPE_CHECKING:
    from pathlib import Path

    from tests.fakes.mosquitto import Mosquitto
    from tests.fakes.mt_sics_scale import FakeMtSicsScale

ORDER = {"lines": [{"sku": "SKU-1023", "qty": 1}, {"sku": "SKU-2040", "qty": 2}], "carton": "BOX-S"}
CAMERA = (
    '\n[camera]\ndriver = "http-snapshot"\nurl = "{url}"\n'
    'username = "admin"\npassword = "Secret-123"\ntimeout_s = 5\n'
)


def test_a_station_killed_with_photos_in_flight_loses_nothing_at_the_central(
    tmp_path: Path, scale: FakeMtSicsScale, own_broker: Mosquitto, database: str
) -> None:
    site = f"k{uuid.uuid4().hex[:8]}"
    root = f"scale-agent/v1/{site}/line-1/bench-1"
    with DigestCamera() as camera:
        config = write_station(tmp_path, scale.path, own_broker.url, site=site)
        config.write_text(config.read_text() + CAMERA.format(url=camera.url))
        data = tmp_path / "data"
        daemon = Daemon(config, data)
        central_toml = write_central(tmp_path, database, own_broker.url, site)
        with running_central(central_toml) as (central, _url, _tokens):
            try:
                daemon.start()
                wait_until((data / "ledger.sqlite3").exists, timeout=20)
                job = json.dumps({**ORDER, "order_id": "SO-K9"})
                wait_until(lambda: central.store.stations() != [], timeout=20)  # online
                mqtt_publish.single(
                    f"{root}/job", job, qos=1, hostname="127.0.0.1", port=own_broker.port
                )
                # Three flagged weighings, each photographed; the last photo is slow to come.
                for number, kg in enumerate(("0.600", "0.700", "0.800"), start=1):
                    if number == 3:
                        camera.trickle_s = 0.05
                    scale.set_weight(kg)
                    wait_until(
                        lambda n=number: daemon.count("verdicts") >= 2 * n - 1,  # type: ignore[misc]
                        timeout=15,
                    )
                daemon.kill_hard()  # the third photo is still on its way from the camera
                camera.trickle_s = None
                own_broker.stop()
                own_broker.start()
                daemon.start()
                wait_until(lambda: _shipped(data)[1] == _shipped(data)[0] > 0, timeout=60)
            finally:
                daemon.stop()
            records = daemon.query("SELECT seq, verdict, body FROM verdicts ORDER BY seq")
            held = central.store.order_records("SO-K9")
            [chain] = [dict(row) for row in central.store.chain_states()]
    kept_here = [
        row for row in records if json.loads(str(row[2]))["indexed"]["order_id"] == "SO-K9"
    ]
    assert len(held) == len(kept_here)  # each record once
    assert chain["verified_upto"] == len(records)
    assert chain["problem"] is None
    photos = [row for row in held if row["kind"] == "PHOTO"]
    assert len(photos) >= 2
    assert all(row["photo_state"] == "kept" for row in photos)
    for row in photos:
        path = central.store.photo_path(row["photo_sha256"])
        assert path is not None
        assert path.is_file()
