"""From the broker to the database: validate every message, store it once, then acknowledge it.

paho's network thread only queues what arrives. A writer thread takes up to `BATCH` messages
(or what came within `BATCH_S`), validates each against the contract (`classify`, a pure
function: a bad topic or payload is refused with a reason, counted and kept for the dashboard,
and never stops the rest), stores the batch in one transaction, and only then acknowledges the
batch to the broker. A monitor killed in between gets the unacknowledged messages again from
its persistent session; the store drops the ones it already has by `msg_id`.
"""

from __future__ import annotations

import hashlib
import queue
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson
from pydantic import ValidationError

from scale_agent.central.store import CHAIN_HEAD, Incoming
from scale_agent.domain.untrusted import MAX_PAYLOAD_BYTES, validation_reasons
from scale_agent.errors import LedgerError
from scale_agent.io.chain_head import SignedHead, signature_matches
from scale_agent.io.messages import STATION_PAYLOADS, station_topic
from scale_agent.text import printable

if TYPE_CHECKING:
    from collections.abc import Callable

    from scale_agent.central.store import Store
    from scale_agent.io.mqtt.durable import Delivery

KINDS = (*STATION_PAYLOADS, CHAIN_HEAD)  # what the monitor reads from each station
BATCH = 1000
# How long a batch waits for more once the queue ran dry. Short: the broker sends only so
# many unacknowledged messages (its in-flight window, often 100), and they are acknowledged
# only once stored, so waiting longer for a bigger batch just stalls the stream.
BATCH_S = 0.005


@dataclass(frozen=True)
class Refusal:
    """A message that is not the contract: why, and its first bytes made safe to show."""

    topic: str
    reason: str
    excerpt: str


def classify(  # noqa: PLR0911 - one return per reason to refuse
    topic: str, payload: bytes, received_at: datetime
) -> Incoming | Refusal:
    """The message as a row to store, or why it is refused. Never raises."""
    found = station_topic(topic, KINDS)
    if found is None:
        return Refusal(printable(topic, 512), "not a contract topic", _excerpt(payload))
    site, line, station, kind = found
    if kind == CHAIN_HEAD and len(payload) <= MAX_PAYLOAD_BYTES:
        return _chain_head(topic, payload, received_at, (site, line, station))
    if len(payload) > MAX_PAYLOAD_BYTES:
        return Refusal(
            topic, f"payload of {len(payload):,} bytes is over the limit", _excerpt(payload)
        )
    try:
        # orjson refuses NaN, infinities, invalid UTF-8 and nesting past 1,024 with an error
        # (no recursion to crash on), in a tenth of the time of the station's `load_json`:
        # the monitor reads every station's every message.
        data = orjson.loads(payload)
        if not isinstance(data, dict):
            return Refusal(topic, "payload is not a JSON object", _excerpt(payload))
        model = STATION_PAYLOADS[kind].model_validate(data)
    except orjson.JSONDecodeError as exc:
        return Refusal(topic, f"payload is not valid JSON: {exc}"[:500], _excerpt(payload))
    except ValidationError as exc:
        reasons = validation_reasons(exc, kind)
        return Refusal(topic, f"not a valid {kind}: {reasons}"[:500], _excerpt(payload))
    if (model.site, model.line, model.station) != (site, line, station):
        said = f"{model.site}/{model.line}/{model.station}"
        return Refusal(topic, f"the payload says it is from {said}", _excerpt(payload))
    body: dict[str, Any] = data
    return Incoming(
        msg_id=model.msg_id,
        kind=kind,
        site=site,
        line=line,
        station=station,
        sent_at=model.sent_at,
        received_at=received_at,
        payload=body,
        text=payload.decode(),  # kept as the station sent it
        order_id=body.get("order_id"),
        verdict=body.get("verdict") if kind in {"alert", "verdict"} else None,
        event=body.get("event") if kind == "event" else None,
        reference=body.get("tracking_number"),
        marketplace_order=body.get("marketplace_order"),
        packer=body.get("packer"),
    )


def _chain_head(
    topic: str, payload: bytes, received_at: datetime, where: tuple[str, str, str]
) -> Incoming | Refusal:
    """A signed chain head, kept only if its signature holds and it names its own station."""
    try:
        data = orjson.loads(payload)
        head = SignedHead.from_json(data if isinstance(data, dict) else {})
        signed_at = datetime.fromisoformat(head.signed_at)
    except (orjson.JSONDecodeError, LedgerError, ValueError) as exc:
        return Refusal(topic, f"not a chain head: {exc}"[:500], _excerpt(payload))
    if head.station != "/".join(where):
        said = printable(head.station, 200)
        return Refusal(topic, f"the head says it is from {said}", _excerpt(payload))
    if not signature_matches(head):
        return Refusal(topic, "the head's signature does not match its content", _excerpt(payload))
    identity = f"{head.station}\n{head.records}\n{head.head_hash}".encode()
    site, line, station = where
    return Incoming(
        msg_id="head-" + hashlib.sha256(identity).hexdigest()[:40],  # re-signed: the same row
        kind=CHAIN_HEAD,
        site=site,
        line=line,
        station=station,
        sent_at=signed_at if signed_at.tzinfo else signed_at.replace(tzinfo=UTC),
        received_at=received_at,
        payload=data,
        text=payload.decode(),
    )


def _excerpt(payload: bytes) -> str:
    """A refused payload's first bytes, every control character shown escaped."""
    return printable(payload[:200].decode("utf-8", "replace"), 200)


class Ingest:
    """The writer thread between a durable subscription and the store."""

    def __init__(
        self,
        store: Store,
        ack: Callable[[int], None],
        *,
        on_stored: Callable[[list[Incoming]], None] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self._ack = ack
        self._on_stored = on_stored
        self._clock = clock
        self._inbox: queue.SimpleQueue[Delivery | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="central-ingest", daemon=True)
        self.stored = 0  # new rows
        self.duplicates = 0
        self.refused = 0
        self.problem: str | None = None  # the database's last error, None while it works

    def deliver(self, delivery: Delivery) -> None:
        """From paho's network thread: queue it, nothing more."""
        self._inbox.put(delivery)

    def start(self) -> None:
        """Start the writer."""
        self._thread.start()

    def stop(self) -> None:
        """Store what is queued, then end."""
        self._inbox.put(None)
        self._thread.join(timeout=10)

    def _run(self) -> None:
        is_running = True
        while is_running:
            batch, is_running = self._take()
            if batch:
                self._store(batch)

    def _take(self) -> tuple[list[Delivery], bool]:
        first = self._inbox.get()
        if first is None:
            return [], False
        batch = [first]
        while len(batch) < BATCH:
            try:
                item = self._inbox.get(timeout=BATCH_S)
            except queue.Empty:
                break
            if item is None:
                return batch, False
            batch.append(item)
        return batch, True

    def _store(self, batch: list[Delivery]) -> None:
        now = self._clock()
        rows: list[Incoming] = []
        for _, topic, payload, _ in batch:
            found = classify(topic, payload, now)
            if isinstance(found, Refusal):
                self.refused += 1
                self._keep_refusal(found, now)
            else:
                rows.append(found)
        while True:  # the database is down: keep the batch, retry; nothing is acknowledged
            try:
                new = self.store.ingest(rows)
            except Exception as exc:  # noqa: BLE001 - any driver error: retry, never drop
                self.problem = f"database: {type(exc).__name__}: {exc}"[:300]
                time.sleep(1.0)
                continue
            self.problem = None
            break
        self.stored += new
        self.duplicates += len(rows) - new
        for mid, *_ in batch:
            self._ack(mid)
        if self._on_stored is not None and rows:
            self._on_stored(rows)

    def _keep_refusal(self, refusal: Refusal, now: datetime) -> None:
        try:
            self.store.refuse(refusal.topic, refusal.reason, refusal.excerpt, now)
        except Exception as exc:  # noqa: BLE001 - a refusal not kept is still counted
            self.problem = f"database: {type(exc).__name__}: {exc}"[:300]
