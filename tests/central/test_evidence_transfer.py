"""Evidence leaves the bench: every ledger record reaches the central, checked link by link.

A real station (pty scale, real Mosquitto) records parcels; the central (SQLite and
PostgreSQL) keeps each record once, walks the chain, and tells the station how far it holds
it. Forged and edited records are kept visibly broken, not silently dropped.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import paho.mqtt.publish as mqtt_publish

from scale_agent.central.evidence_intake import evidence_incoming
from scale_agent.central.language import ENGLISH
from scale_agent.central.problems import storage_problems
from scale_agent.central.store import Store
from scale_agent.io.chain_head import KEY_FILE, PUBLIC_KEY_FILE
from scale_agent.io.evidence_messages import EvidencePayload
from scale_agent.io.ledger import GENESIS_HASH, Ledger, canonical, record_hash
from scale_agent.station.evidence_sync import CONFIRMED
from scale_agent.testing import wait_until
from tests.central.harness import running_central, write_central
from tests.central.test_service import short_parcel, station_files
from tests.fakes.mt_sics_scale import FakeMtSicsScale
from tests.fakes.recording_light import RecordingLight
from tests.station_harness import running_station

if TYPE_CHECKING:
    from pathlib import Path

    import pytest

    from tests.fakes.mosquitto import Mosquitto


def _chains(store: Store) -> list[dict[str, object]]:
    return [dict(row) for row in store.chain_states()]


def _shipped(data: Path) -> tuple[int, int]:
    """(records in the station's ledger, records the central confirmed), read beside it."""
    ledger = Ledger(data, read_only=True)
    try:
        return ledger.head()[0], ledger.counter(CONFIRMED)
    finally:
        ledger.close()


def _all_confirmed(data: Path) -> bool:
    records, confirmed = _shipped(data)
    return records > 0 and confirmed == records


def bench(
    tmp_path: Path, broker: Mosquitto, site: str, request: pytest.FixtureRequest
) -> tuple[FakeMtSicsScale, RecordingLight, Path, Path]:
    """A station of `site` on the test broker: (scale, light, station file, data folder)."""
    scale, light = FakeMtSicsScale(), RecordingLight()
    request.addfinalizer(scale.close)
    config = station_files(tmp_path / "station", scale, broker, site, "line-1")
    return scale, light, config, config.parent / "data"


def test_every_record_reaches_the_central_and_is_confirmed_back(
    tmp_path: Path, broker: Mosquitto, database: str, request: pytest.FixtureRequest
) -> None:
    site = f"e{uuid.uuid4().hex[:8]}"
    scale, light, config, data = bench(tmp_path, broker, site, request)
    with running_central(write_central(tmp_path, database, broker.url, site)) as (central, _, _):
        with running_station(config, light) as station:
            short_parcel(station, light, scale, broker, "SO-E1", tracking_number="SF1402007919")
            scale.set_weight("0.000")
            wait_until(lambda: station.logic.state.value == "waiting")
            scale.set_weight("0.877")  # the packer puts it back unfixed: weighed again
            wait_until(lambda: len(central.store.order_records("SO-E1")) == 2, timeout=20)
            wait_until(lambda: _all_confirmed(data), timeout=20)
        head = _shipped(data)[0]
        [chain] = _chains(central.store)
        assert chain["verified_upto"] == head
        assert chain["problem"] is None
        found = central.store.find_parcels("sf14020")  # a tracking number's prefix, any case
        assert [row["order_id"] for row in found] == ["SO-E1"]
        weighings = central.store.order_records("SO-E1")
        assert [row["kind"] for row in weighings] == ["MISSING_ITEM", "MISSING_ITEM"]
        assert all(row["hash_ok"] for row in weighings)
        record = weighings[-1]
        # The record the central holds is byte for byte the one the station hashed.
        ledger = Ledger(data, read_only=True)
        assert ledger.raw_records(head - 1, 1)[0].hash == record["hash"]
        ledger.close()


def test_a_station_wiped_and_reinstalled_starts_a_visibly_new_chain(
    tmp_path: Path, broker: Mosquitto, database: str, request: pytest.FixtureRequest
) -> None:
    site = f"w{uuid.uuid4().hex[:8]}"
    scale, light, config, data = bench(tmp_path, broker, site, request)
    with running_central(write_central(tmp_path, database, broker.url, site)) as (central, _, _):
        with running_station(config, light) as station:
            short_parcel(station, light, scale, broker, "SO-OLD")
            wait_until(lambda: _all_confirmed(data), timeout=20)
        shutil.rmtree(data)  # the disk died; the PC was re-installed
        scale.set_weight("0.000")
        with running_station(config, light) as station:
            short_parcel(station, light, scale, broker, "SO-NEW")
            wait_until(lambda: _all_confirmed(data), timeout=20)
        chains = _chains(central.store)
        assert len(chains) == 2  # two chains of one station, both verified
        assert all(chain["problem"] is None for chain in chains)
        assert central.store.order_records("SO-OLD"), "the old records are still answerable"
        assert central.store.order_records("SO-NEW")


def _message(site: str, seq: int, prev: str, body: dict[str, Any], **extra: object) -> bytes:
    text = canonical(body)
    payload = EvidencePayload(
        site=site,
        line="line-1",
        station="bench-1",
        chain="a" * 64,
        seq=seq,
        prev_hash=prev,
        hash=str(extra.pop("hash", record_hash(prev, text))),
        kind=str(body.get("verdict", "PASS")),
        recorded_at=datetime.now(UTC),
        body=text,
        **extra,
    )
    return payload.model_dump_json().encode()


def test_an_edited_record_and_a_fork_are_kept_visibly_broken(
    tmp_path: Path, broker: Mosquitto, database: str
) -> None:
    site = f"f{uuid.uuid4().hex[:8]}"
    topic = f"scale-agent/v1/{site}/line-1/bench-1/evidence"
    first = {"verdict": "PASS", "indexed": {"order_id": "SO-F1", "verdict": "PASS"}}
    second = {"verdict": "PASS", "indexed": {"order_id": "SO-F2", "verdict": "PASS"}}
    with running_central(write_central(tmp_path, database, broker.url, site)) as (central, _, _):
        one = _message(site, 1, GENESIS_HASH, first)
        link = record_hash(GENESIS_HASH, canonical(first))
        edited = _message(site, 2, link, second, hash="b" * 64)  # body no longer matches
        for payload in (one, edited):
            mqtt_publish.single(topic, payload, qos=1, hostname="127.0.0.1", port=broker.port)
        wait_until(lambda: len(_chains(central.store)) == 1)
        wait_until(lambda: _chains(central.store)[0]["problem"] is not None)
        [chain] = _chains(central.store)
        assert chain["verified_upto"] == 1
        assert chain["problem"] == "record 2 does not match its hash (edited)"
        [kept] = central.store.order_records("SO-F2")
        assert not kept["hash_ok"]


def test_a_photo_is_kept_only_when_its_bytes_match_the_record() -> None:
    photo = b"\xff\xd8 a small jpeg \xff\xd9"
    body = {"kind": "photo", "sha256": hashlib.sha256(photo).hexdigest(), "file": "p.jpg"}
    good = _message("s", 1, GENESIS_HASH, body, photo=base64.b64encode(photo).decode())
    bad = _message("s", 1, GENESIS_HASH, body, photo=base64.b64encode(b"other").decode())
    where = ("s", "line-1", "bench-1")
    kept = evidence_incoming(good, datetime.now(UTC), where)
    refused = evidence_incoming(bad, datetime.now(UTC), where)
    assert not isinstance(kept, str)
    assert not isinstance(refused, str)
    assert (kept.payload["photo_state"], kept.payload["photo"]) == ("kept", photo)
    assert (refused.payload["photo_state"], refused.payload["photo"]) == ("mismatch", b"")
    forged = evidence_incoming(good, datetime.now(UTC), ("s", "line-1", "bench-2"))
    assert forged == "the record says it is from s/line-1/bench-1"
    assert json.loads(kept.payload["body"])["kind"] == "photo"


def test_a_station_re_keyed_mid_chain_is_shown_not_trusted_silently(
    tmp_path: Path, broker: Mosquitto, database: str, request: pytest.FixtureRequest
) -> None:
    site = f"r{uuid.uuid4().hex[:8]}"
    scale, light, config, data = bench(tmp_path, broker, site, request)
    with running_central(write_central(tmp_path, database, broker.url, site)) as (central, _, _):
        with running_station(config, light) as station:
            short_parcel(station, light, scale, broker, "SO-KEY1")
            wait_until(lambda: _all_confirmed(data), timeout=20)
        # Someone replaces the station's signing key but keeps its ledger (the same chain).
        (data / KEY_FILE).unlink()
        (data / PUBLIC_KEY_FILE).unlink()
        scale.set_weight("0.000")
        with running_station(config, light) as station:
            wait_until(lambda: station.logic.state.value == "waiting")  # SO-KEY1 held again
            scale.set_weight("1.025")  # fixed: PASS, under a head of the new key
            wait_until(lambda: len(central.store.order_records("SO-KEY1")) == 2, timeout=20)
            wait_until(lambda: _all_confirmed(data), timeout=20)
        chain = str(central.store.order_records("SO-KEY1")[0]["chain"])
        wait_until(lambda: central.store.signed_upto(site, "line-1", "bench-1", chain)[1])
        signed, rekeyed = central.store.signed_upto(site, "line-1", "bench-1", chain)
        assert rekeyed
        assert signed == 1  # only the first key's head counts


def test_retention_forgets_old_records_and_their_photo_files(tmp_path: Path) -> None:
    photo = b"\xff\xd8 an old parcel \xff\xd9"
    sha = hashlib.sha256(photo).hexdigest()
    body = {"kind": "photo", "sha256": sha, "file": "p.jpg", "indexed": {"order_id": "SO-OLD"}}
    message = _message("s", 1, GENESIS_HASH, body, photo=base64.b64encode(photo).decode())
    row = evidence_incoming(message, datetime.now(UTC), ("s", "line-1", "bench-1"))
    assert not isinstance(row, str)
    store = Store(str(tmp_path / "central.sqlite3"))
    store.upgrade()
    store.photos = tmp_path / "photos"
    store.ingest([row])
    kept = store.photo_path(sha)
    assert kept is not None
    assert kept.is_file()
    later = datetime.now(UTC) + timedelta(days=40)
    os.utime(kept, (later.timestamp() - 35 * 86_400,) * 2)  # kept 35 days before `later`
    store.prune_evidence(30, later)
    assert not kept.exists()
    assert store.order_records("SO-OLD") == []
    store.close()


def test_a_station_owing_many_records_says_so_on_its_tile() -> None:
    storage = {"free_bytes": 10**10, "warn_below_bytes": 0, "is_low": False}
    assert storage_problems({**storage, "unconfirmed_records": 20}, ENGLISH) == []
    owed = storage_problems({**storage, "unconfirmed_records": 900}, ENGLISH)
    assert owed == ["900 records not yet held by the central"]


def test_a_second_record_with_the_same_number_is_a_fork_not_an_overwrite(tmp_path: Path) -> None:
    where = ("s", "line-1", "bench-1")
    first = {"verdict": "PASS", "indexed": {"order_id": "SO-A", "verdict": "PASS"}}
    other = {"verdict": "PASS", "indexed": {"order_id": "SO-B", "verdict": "PASS"}}
    rows = [
        evidence_incoming(_message("s", 1, GENESIS_HASH, body), datetime.now(UTC), where)
        for body in (first, other)
    ]
    store = Store(str(tmp_path / "central.sqlite3"))
    store.upgrade()
    store.ingest([rows[0]])  # type: ignore[list-item]
    store.ingest([rows[1]])  # type: ignore[list-item]
    [chain] = [dict(row) for row in store.chain_states()]
    assert chain["problem"] == (
        "fork at record 1: the station sent a different record with the same number"
    )
    assert store.order_records("SO-B") == []  # the first record stays; the fork is not stored
    store.close()
