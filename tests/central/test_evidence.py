"""The monitor keeps each station's signed chain heads: the anchor a ledger is checked against.

A real station publishes its heads; the monitor keeps them, hands the newest out for
`records verify --anchor`, refuses a forged one, and flags a station whose ledger went back.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import httpx
import paho.mqtt.publish as mqtt_publish

from scale_agent.central.views import station_view
from scale_agent.io.chain_head import load_or_create_key, sign_head
from scale_agent.testing import wait_until
from scale_agent.tools.cli import main
from tests.central.harness import running_central, write_central
from tests.central.test_service import short_parcel, station_files
from tests.fakes.mt_sics_scale import FakeMtSicsScale
from tests.fakes.recording_light import RecordingLight
from tests.station_harness import running_station

if TYPE_CHECKING:
    from pathlib import Path

    import pytest

    from tests.fakes.mosquitto import Mosquitto


def test_the_monitor_keeps_the_anchor_that_catches_deleted_records(
    tmp_path: Path, broker: Mosquitto, database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    site = f"v{uuid.uuid4().hex[:8]}"
    scale, light = FakeMtSicsScale(), RecordingLight()
    config = station_files(tmp_path / "station", scale, broker, site, "line-1")
    data = config.parent / "data"
    key = f"{site}/line-1/bench-1"
    topic = f"scale-agent/v1/{key}/chain_head"
    try:
        with (
            running_central(write_central(tmp_path, database, broker.url, site)) as (_s, url, t),
            httpx.Client(
                base_url=url, headers={"Authorization": f"Bearer {t['zhang.min']}"}
            ) as api,
        ):
            with running_station(config, light) as station:
                for number in range(2):
                    short_parcel(station, light, scale, broker, f"SO-V{number}")
                    scale.set_weight("0.000")
                wait_until(
                    lambda: (api.get("/api/stations").json() or [{}])[0].get("ledger_records") == 2
                )
            [tile] = api.get("/api/stations").json()
            assert len(tile["key_fingerprint"]) == 16
            assert tile["problems"] == []
            # The anchor, from the monitor, holds at the station.
            head = api.get(f"/api/stations/{key}/chain_head")
            assert head.status_code == 200
            anchor = tmp_path / "anchor.json"
            anchor.write_bytes(head.content)
            capsys.readouterr()
            assert (
                main(["records", "verify", "--data-dir", str(data), "--anchor", str(anchor)]) == 0
            )
            # Someone deletes the newest record: the chain alone still passes, the anchor not.
            with sqlite3.connect(data / "ledger.sqlite3") as db:
                db.execute("DELETE FROM verdicts WHERE seq = (SELECT MAX(seq) FROM verdicts)")
            assert (
                main(["records", "verify", "--data-dir", str(data), "--anchor", str(anchor)]) == 1
            )
            assert "newest record(s) were deleted" in capsys.readouterr().out
            # A forged head (not signed by what it says) is refused; a genuine head with fewer
            # records than before (the station restarted on a shortened ledger) is flagged.
            forged = json.loads(head.content) | {"records": 99}
            mqtt_publish.single(
                topic, json.dumps(forged), qos=1, hostname="127.0.0.1", port=broker.port
            )
            wait_until(lambda: api.get("/api/refused").json()["total"] == 1)
            assert (
                "signature does not match" in api.get("/api/refused").json()["newest"][0]["reason"]
            )
            shorter = sign_head(
                load_or_create_key(data), key, 1, json.loads(head.content)["head_hash"]
            )
            mqtt_publish.single(
                topic, json.dumps(shorter.as_json()), qos=1, hostname="127.0.0.1", port=broker.port
            )
            wait_until(lambda: api.get("/api/stations").json()[0]["ledger_records"] == 1)
            [problem] = api.get("/api/stations").json()[0]["problems"]
            assert "went back from 2 to 1 records: records were deleted" in problem
            assert api.get(f"/api/stations/{site}/line-1/nobody/chain_head").status_code == 404
    finally:
        scale.close()


def test_a_scale_that_failed_its_routine_test_stands_out_on_its_tile() -> None:
    moment = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
    row = {
        "site": "sz",
        "line": "l1",
        "station": "s1",
        "state": "online",
        "health": None,
        "health_at": None,
        "verdict": None,
        "verdict_order": None,
        "verdict_at": None,
        "seen_at": moment,
    }
    event = {"payload": '{"event": "routine_test_failed"}', "sent_at": moment}
    tile = station_view(row, moment, ZoneInfo("Asia/Shanghai"), scale_test=event)
    assert (tile.scale_test, tile.scale_test_at) == ("failed", "2026-12-02 16:00:00 CST")
    assert tile.problems == ["failed its scale test: no parcel is judged until released"]
    passed = {"payload": '{"event": "routine_test_passed"}', "sent_at": moment}
    tile = station_view(row, moment, ZoneInfo("Asia/Shanghai"), scale_test=passed)
    assert (tile.scale_test, tile.problems) == ("passed", [])
