"""Evidence leaving the bench: every record and a 300 kB photo per parcel, from many stations.

Each station (its own process) holds a ledger with `--parcels` parcels, each a verdict and a
photo record with a 300 kB photo on disk, as after an outage. Then it ships them the real way
(`EvidenceSync` and the outbox's `Publisher`, QoS 1) to a loopback Mosquitto; a central
(`CentralService`, PostgreSQL made for the run) validates each record, recomputes its hash,
checks the photo's bytes, writes the photo file, walks the chain and acknowledges; the station
counts as done when the central's `evidence_ack` confirms its whole ledger.

Reference in the same run: the same processes publish the same photo bytes with bare paho at
QoS 1 to a `mosquitto_sub` (no ledger, no validation, no database). Printed: parcels/s and MB/s
for both, their ratio, and whether `--stations` x 10 parcels/s would be met.
Run: .venv/bin/python -m bench.evidence_transfer [--stations 10] [--parcels 30]
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import multiprocessing
import queue
import secrets
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
import structlog
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from bench._broker import BenchBroker, Counter
from bench._postgres import fresh_database
from scale_agent.io.config import MqttSection
from scale_agent.io.ledger import Ledger
from scale_agent.io.messages import StationIdentity, Topics
from scale_agent.io.mqtt import Publisher
from scale_agent.station.evidence_sync import CONFIRMED, EvidenceSync

if TYPE_CHECKING:
    from scale_agent.central.service import CentralService

SITE = "ev"
PHOTO_BYTES = 300_000


def main() -> None:
    options = argparse.ArgumentParser()
    options.add_argument("--stations", type=int, default=10)
    options.add_argument("--parcels", type=int, default=30)
    args = options.parse_args()
    broker = BenchBroker()
    photos = Path(tempfile.mkdtemp())
    folders = [_station_ledger(number, args.parcels) for number in range(args.stations)]
    with fresh_database("bench_ev") as database:
        central = _central(broker.url, database, photos)
        try:
            ours = _run(_ship, broker.url, folders)
            counter = Counter(broker.url, f"bench/raw-{SITE}/#")
            raw = _run(_raw, broker.url, folders)
            counter.close()
        finally:
            central.stop()
            broker.stop()
    held = sum(1 for _ in photos.rglob("*.jpg"))
    parcels = args.stations * args.parcels
    megabytes = parcels * PHOTO_BYTES / 1e6
    print(
        f"{args.stations} stations x {args.parcels} parcels (a verdict and a "
        f"{PHOTO_BYTES // 1000} kB photo each): {held} photos kept at the central"
    )
    print(
        f"reference, bare paho QoS 1, same photo bytes, same processes: {raw:.1f} s = "
        f"{parcels / raw:,.0f} parcels/s, {megabytes / raw:,.1f} MB/s"
    )
    print(
        f"evidence path (ledger -> outbox -> broker -> central: validated, hashed, photo "
        f"checked and written, chain walked, confirmed): {ours:.1f} s = {parcels / ours:,.0f} "
        f"parcels/s, {megabytes / ours:,.1f} MB/s = {raw / ours:.2f}x the reference"
    )
    need = args.stations * 10
    print(
        f"{args.stations} stations at 10 parcels/s need {need} parcels/s: "
        f"{'met' if parcels / ours >= need else 'NOT met'} on this machine"
    )


def _run(work: object, url: str, folders: list[Path]) -> float:
    """Seconds until every station process has finished `work`."""
    started = time.perf_counter()
    processes = [
        multiprocessing.Process(target=work, args=(url, folder, number))  # type: ignore[arg-type]
        for number, folder in enumerate(folders)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=600)
    return time.perf_counter() - started


def _station_ledger(number: int, parcels: int) -> Path:
    """A station's ledger of `parcels` verdicts, each with its photo kept beside it."""
    folder = Path(tempfile.mkdtemp())
    ledger = Ledger(folder, synchronous="NORMAL")
    (folder / "photos").mkdir()
    for parcel in range(parcels):
        parcel_id, order = str(uuid.uuid4()), f"SO-{number}-{parcel}"
        at = datetime.now(UTC).isoformat()
        body = {"verdict": "PASS", "order_id": order, "parcel_id": parcel_id}
        ledger.record(
            parcel_id, order_id=order, verdict="PASS", recorded_at=at, body=body, outgoing=[]
        )
        photo = b"\xff\xd8" + secrets.token_bytes(PHOTO_BYTES - 4) + b"\xff\xd9"
        relative = f"photos/{parcel_id}.jpg"
        (folder / relative).write_bytes(photo)
        photo_body = {
            "kind": "photo", "of_parcel": parcel_id, "moment": "verdict", "file": relative,
            "sha256": hashlib.sha256(photo).hexdigest(), "bytes": len(photo),
        }  # fmt: skip
        ledger.record(
            f"{parcel_id}/photo", order_id=order, verdict="PHOTO", recorded_at=at,
            body=photo_body, outgoing=[],
        )  # fmt: skip
    ledger.close()
    return folder


def _ship(url: str, folder: Path, number: int) -> None:
    """One station: ship its ledger the real way until the central confirms all of it."""
    topics = Topics(SITE, "line-1", f"bench-{number}")
    acks: queue.SimpleQueue[bytes] = queue.SimpleQueue()
    publisher = Publisher(
        MqttSection(url=url),
        topics,
        folder,
        client_id=f"bench-ev-{number}-{uuid.uuid4().hex[:6]}",
        status_payload=lambda state: state.encode(),
        on_evidence_ack=acks.put,
    )
    ledger = Ledger(folder)
    identity: StationIdentity = {"site": SITE, "line": "line-1", "station": f"bench-{number}"}
    sync = EvidenceSync(
        lambda: ledger,
        identity,
        topics,
        folder,
        structlog.get_logger(),
        wake=publisher.wake,
    )
    publisher.start()
    head = ledger.head()[0]
    deadline = time.monotonic() + 600
    while ledger.counter(CONFIRMED) < head and time.monotonic() < deadline:
        sync.tick(time.monotonic())
        with contextlib.suppress(queue.Empty):
            sync.acknowledged(acks.get(timeout=0.05), time.monotonic())
    publisher.stop()
    ledger.close()


def _raw(url: str, folder: Path, number: int) -> None:
    """The reference: the same photos published by bare paho, QoS 1, all acknowledged."""
    parts = urlsplit(url)
    acked = threading.Semaphore(0)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=MQTTProtocolVersion.MQTTv5)
    client.max_inflight_messages_set(100)
    client.on_publish = lambda *_: acked.release()
    client.connect(parts.hostname or "127.0.0.1", parts.port or 1883)
    client.loop_start()
    photos = sorted((folder / "photos").glob("*.jpg"))
    for photo in photos:
        client.publish(f"bench/raw-{SITE}/{number}", photo.read_bytes(), qos=1)
    for _ in photos:
        acked.acquire(timeout=120)
    client.loop_stop()
    client.disconnect()


def _central(url: str, database: str, photos: Path) -> CentralService:
    """A central monitor on the bench's broker and database, ingesting in this process."""
    from scale_agent.central.service import CentralService  # noqa: PLC0415 - the central extra
    from scale_agent.central.settings import load_central  # noqa: PLC0415

    folder = Path(tempfile.mkdtemp())
    config = folder / "central.toml"
    config.write_text(
        f'[central]\ndatabase = "{database}"\nsite = "{SITE}"\nevidence_dir = "{photos}"\n'
        f'[mqtt]\nurl = "{url}"\nclient_id = "bench-central-{uuid.uuid4().hex[:6]}"\n'
    )
    service = CentralService(load_central(config))
    service.start_ingest()
    deadline = time.monotonic() + 10
    while not service.subscription.is_subscribed and time.monotonic() < deadline:
        time.sleep(0.05)
    return service


if __name__ == "__main__":
    main()
