"""Every ledger record leaves the bench for the central, in order, until the central holds it.

Why MQTT and the outbox rather than an HTTPS upload: the station already has one at-least-once
path that survives broker outages, restarts and kill -9 (the outbox, in the ledger's own
database), one credential per station (the broker's) and one firewall opening. A second
transport would need its own credentials on 40 bench PCs, its own retry and its own tests.

The ledger itself is the queue. Two counters in the ledger say how far shipping got:
`evidence_queued` (records handed to the outbox, set in the same transaction as the rows) and
`evidence_confirmed` (what the central says it holds, linked, from its retained `evidence_ack`).
A record is queued once; when the outbox has delivered everything and the central still lacks
records for `resend_after_s` (a dropped outbox row, a central that lost a batch, a ledger older
than this feature) they are queued again from the first one it lacks. The central stores each
(chain, seq) once, so a second copy costs bytes, never a duplicate.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import TYPE_CHECKING

from pydantic import ValidationError

from scale_agent.io.evidence_messages import MAX_PHOTO_B64, EvidenceAck, EvidencePayload
from scale_agent.io.ledger import Outgoing
from scale_agent.text import printable

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from scale_agent.io.ledger import Ledger, RawRecord
    from scale_agent.io.logs import Log
    from scale_agent.io.messages import StationIdentity, Topics

QUEUED = "evidence_queued"
CONFIRMED = "evidence_confirmed"
BATCH = 200  # records queued per turn: a backlog of months drains without stalling the loop
EVERY_S = 1.0
RESEND_AFTER_S = 60.0
MAX_PHOTO_BYTES = MAX_PHOTO_B64 * 3 // 4
CONFIRMED_MARGIN_S = 60.0


class EvidenceSync:
    """Queues the ledger's records for the central and takes the central's confirmations."""

    def __init__(
        self,
        ledger: Callable[[], Ledger],
        identity: StationIdentity,
        topics: Topics,
        data_dir: Path,
        log: Log,
        *,
        wake: Callable[[], None] = lambda: None,
        resend_after_s: float = RESEND_AFTER_S,
        confirmed_until: Callable[[float], None] = lambda _at: None,
    ) -> None:
        self._ledger = ledger
        self._identity = identity
        self._topic = topics.evidence
        self._data_dir = data_dir
        self._log = log
        self._wake = wake
        self._confirmed_until = confirmed_until  # told when (epoch s) the central holds up to
        self.resend_after_s = resend_after_s
        self._next_at = 0.0
        self._progress_at: float | None = None
        self.central_problem: str | None = None  # what the central said is wrong, if anything

    @property
    def chain(self) -> str | None:
        """This ledger's chain: the hash of its first record (None while it has none)."""
        return self._ledger().hash_at(1)

    def unconfirmed(self) -> int:
        """Records the central does not hold yet (for `health` and the dashboard)."""
        ledger = self._ledger()
        return max(0, ledger.head()[0] - ledger.counter(CONFIRMED))

    def tick(self, now: float) -> None:
        """Queue what was recorded since; queue again what the central still lacks."""
        if now < self._next_at:
            return
        self._next_at = now + EVERY_S
        ledger = self._ledger()
        chain = self.chain
        if chain is None:
            return
        if self._progress_at is None:
            self._progress_at = now
        queued, confirmed = ledger.counter(QUEUED), ledger.counter(CONFIRMED)
        if (
            confirmed < queued
            and now - self._progress_at >= self.resend_after_s
            and ledger.backlog() == 0  # all delivered to the broker, yet not confirmed
        ):
            self._log.warning("evidence_resent", from_seq=confirmed + 1, queued=queued)
            queued, self._progress_at = confirmed, now
        records = ledger.raw_records(queued, BATCH)
        if records:
            messages = [self._message(chain, record) for record in records]
            ledger.enqueue_counted(messages, QUEUED, records[-1].seq)
            self._wake()

    def acknowledged(self, data: bytes, now: float) -> None:
        """The central's `evidence_ack`: how far it holds this ledger's chain."""
        try:
            ack = EvidenceAck.model_validate_json(data)
        except ValidationError as exc:
            self._log.warning("evidence_ack_refused", reason=printable(str(exc), 300))
            return
        if ack.chain != self.chain:
            return  # an earlier ledger of this station (before its data folder was wiped)
        if ack.problem != self.central_problem:
            self.central_problem = ack.problem
            if ack.problem:
                self._log.error("central_evidence_problem", problem=printable(ack.problem, 500))
        ledger = self._ledger()
        upto = min(ack.upto, ledger.head()[0])
        if upto > ledger.counter(CONFIRMED):
            ledger.set_counter(CONFIRMED, upto)
            self._progress_at = now
        self._tell_confirmed(ledger)

    def _tell_confirmed(self, ledger: Ledger) -> None:
        """When the central's copy ends, as a moment: photos older than it may be pruned.

        A minute early: a photo is saved a moment before its record, and nothing the central
        does not hold may be taken for confirmed.
        """
        confirmed = ledger.counter(CONFIRMED)
        record = ledger.raw_records(confirmed - 1, 1) if confirmed else []
        if record:
            at = datetime.fromisoformat(record[0].recorded_at).timestamp()
            self._confirmed_until(at - CONFIRMED_MARGIN_S)

    def _message(self, chain: str, record: RawRecord) -> Outgoing:
        photo, problem = self._photo(record) if record.kind == "PHOTO" else (None, None)
        payload = EvidencePayload(
            **self._identity,
            chain=chain,
            seq=record.seq,
            prev_hash=record.prev_hash,
            hash=record.hash,
            kind=record.kind,
            order_id=record.order_id,
            recorded_at=record.recorded_at,  # ISO text: pydantic parses it
            body=record.body,
            photo=photo,
            photo_problem=problem,
        )
        return Outgoing(payload.msg_id, self._topic, payload.model_dump_json().encode())

    def _photo(self, record: RawRecord) -> tuple[str | None, str | None]:
        """A photo record's photo as base64, or why it cannot go with it."""
        relative = str(json.loads(record.body).get("file") or "")
        root = self._data_dir.resolve()
        path = (root / relative).resolve()
        if not relative or not path.is_relative_to(root):
            return None, "the record names no photo file in the data folder"
        try:
            if path.stat().st_size > MAX_PHOTO_BYTES:
                return None, f"the photo is over {MAX_PHOTO_BYTES:,} bytes"
            data = path.read_bytes()
        except OSError as exc:
            return None, f"the photo cannot be read on the station: {exc.strerror}"
        return base64.b64encode(data).decode(), None
