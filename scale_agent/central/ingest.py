"""From the broker to the database: validate every message, store it once, then acknowledge it.

paho's network thread only queues what arrives. A writer thread takes up to `BATCH` messages
(or what came within `BATCH_S`), validates each against the contract (`classify`, a pure
function: a bad topic or payload is refused with a reason, counted and kept for the dashboard,
and never stops the rest), stores the batch in one transaction, and only then acknowledges the
batch to the broker. A monitor killed in between gets the unacknowledged messages again from
its persistent session; the store drops the ones it already has by `msg_id` (a message
without one gets an id derived from its topic and bytes, so a redelivery is the same row).

No message may stop the others: when a batch fails, it is stored again message by message,
and a message the database refuses on its own (a value it cannot hold) is refused with the
database's reason, kept on the dashboard and acknowledged. Only a database that cannot be
reached at all holds the batch back (retried each second, nothing acknowledged, nothing lost);
that stall is logged, counted and shown (`problem`, `stalled_since`).
"""

from __future__ import annotations

import contextlib
import hashlib
import queue
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson
import structlog
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError

from scale_agent.central.evidence_intake import EVIDENCE, evidence_incoming
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

KINDS = (*STATION_PAYLOADS, CHAIN_HEAD, EVIDENCE)
HEAD_FIELD_CHARS = (
    128  # chain_heads.head_hash and .public_key  # what the monitor reads from each station
)
BATCH = 1000
# How long a batch waits for more once the queue ran dry. Short: the broker sends only so
# many unacknowledged messages (its in-flight window, often 100), and they are acknowledged
# only once stored, so waiting longer for a bigger batch just stalls the stream.
BATCH_S = 0.005
RETRY_S = 1.0  # a database that cannot be reached is tried again this often
# Errors that say the database is out of reach (not that one message is wrong): the batch
# waits for it. Every other error is the message's own.
UNREACHABLE = (OperationalError, InterfaceError, DisconnectionError, ConnectionError, TimeoutError)


class IngestState(BaseModel):
    """How this instance's ingest is doing: for the dashboard, `/api/ingest` and monitoring."""

    stored: int  # new rows since start
    duplicates: int  # copies dropped by msg_id (QoS 1 redelivery, shared-group overlap)
    refused: int  # messages refused with a reason (kept on the dashboard)
    stalls: int  # times the database could not be reached
    stalled_since: datetime | None  # set while nothing can be stored
    problem: str | None  # the database's error while stalled


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
    if kind == EVIDENCE:
        kept = evidence_incoming(payload, received_at, (site, line, station))
        return Refusal(topic, kept, _excerpt(payload)) if isinstance(kept, str) else kept
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
        msg_id=model.msg_id if "msg_id" in data else derived_msg_id(topic, payload),
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


def derived_msg_id(topic: str, payload: bytes) -> str:
    """A stable id for a message sent without `msg_id`: QoS 1 redelivers the same bytes."""
    digest = hashlib.sha256(topic.encode() + b"\n" + payload).hexdigest()
    return f"sha256-{digest[:56]}"


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
    if max(len(head.head_hash), len(head.public_key)) > HEAD_FIELD_CHARS:
        return Refusal(topic, "the head's hash or key is too long", _excerpt(payload))
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
        self.stalled_since: datetime | None = None  # since when nothing could be stored
        self.stalls = 0  # how many times the ingest has stalled
        self._log = structlog.get_logger("scale_agent.central")

    def state(self) -> IngestState:
        """The counters and the stall, as of now."""
        return IngestState(
            stored=self.stored,
            duplicates=self.duplicates,
            refused=self.refused,
            stalls=self.stalls,
            stalled_since=self.stalled_since,
            problem=self.problem,
        )

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
        new, rows = self._write(rows, now)
        self.stored += new
        self.duplicates += len(rows) - new
        for mid, *_ in batch:
            self._ack(mid)
        if self._on_stored is not None and rows:
            self._on_stored(rows)

    def _write(self, rows: list[Incoming], now: datetime) -> tuple[int, list[Incoming]]:
        """Store the rows; returns (new rows, the rows stored). Waits out an unreachable database.

        A batch that fails is stored row by row: a row the database refuses on its own is
        refused (kept and acknowledged), so no message can hold back the others.
        """
        with contextlib.suppress(Exception):  # one of the rows is at fault: find which, below
            return self._reaching(rows), rows
        new, kept = 0, []
        for row in rows:
            try:
                new += self._reaching([row])
            except Exception as exc:  # noqa: BLE001 - this message cannot be stored
                self._refused_by_database(row, exc, now)
            else:
                kept.append(row)
        return new, kept

    def _reaching(self, rows: list[Incoming]) -> int:
        """`store.ingest`, retried each `RETRY_S` while the database cannot be reached.

        Any other error is the rows' own and is raised.
        """
        while True:
            try:
                new = self.store.ingest(rows)
            except UNREACHABLE as exc:
                self._stalled(exc)
                time.sleep(RETRY_S)
                continue
            self._flowing()
            return new

    def _refused_by_database(self, row: Incoming, exc: Exception, now: datetime) -> None:
        reason = f"the database refused it: {type(exc).__name__}: {exc}"
        self._log.warning("message_refused_by_database", msg_id=row.msg_id[:64])
        self.refused += 1
        topic = f"scale-agent/v1/{row.site}/{row.line}/{row.station}/{row.kind}"
        excerpt = _excerpt((row.text or "").encode())
        self._keep_refusal(Refusal(topic, printable(reason, 500), excerpt), now)

    def _stalled(self, exc: BaseException) -> None:
        problem = f"database: {type(exc).__name__}: {exc}"[:300]
        if self.stalled_since is None:
            self.stalled_since = self._clock()
            self.stalls += 1
            self._log.error("ingest_stalled", reason=problem)
        self.problem = problem

    def _flowing(self) -> None:
        if self.stalled_since is not None:
            stalled_s = (self._clock() - self.stalled_since).total_seconds()
            self._log.info("ingest_flowing_again", stalled_s=round(stalled_s, 1))
        self.stalled_since = None
        self.problem = None

    def _keep_refusal(self, refusal: Refusal, now: datetime) -> None:
        try:
            self.store.refuse(refusal.topic, refusal.reason, refusal.excerpt, now)
        except Exception as exc:  # noqa: BLE001 - a refusal not kept is still counted
            self.problem = f"database: {type(exc).__name__}: {exc}"[:300]
