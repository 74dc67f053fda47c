"""A station's `evidence` message checked before it is kept: what the record itself proves.

The central trusts nothing the message says about the record: it recomputes the record's hash
from the body as hashed, reads the order, tracking number and kind from that body (not from
the message's own fields), and checks a photo's bytes against the SHA-256 its record holds. A
record whose body does not match its hash is still kept (marked), so the break is visible
where it is rather than silently missing; its link to the record before is checked as the
chain is walked (`store.evidence`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from datetime import UTC
from typing import TYPE_CHECKING, Any

import orjson
from pydantic import ValidationError

from scale_agent.central.rows import Incoming
from scale_agent.domain.untrusted import validation_reasons
from scale_agent.io.evidence_messages import EvidencePayload
from scale_agent.io.ledger import record_hash

if TYPE_CHECKING:
    from datetime import datetime

EVIDENCE = "evidence"  # the kind of a ledger record sent for keeping (its own table)


def evidence_incoming(
    payload: bytes, received_at: datetime, where: tuple[str, str, str]
) -> Incoming | str:
    """The record as a row to keep, or why the message is refused. Never raises."""
    try:
        message = EvidencePayload.model_validate_json(payload)
    except ValidationError as exc:
        return f"not a valid evidence record: {validation_reasons(exc, EVIDENCE)}"[:500]
    if (message.site, message.line, message.station) != where:
        return f"the record says it is from {message.site}/{message.line}/{message.station}"
    try:
        body = orjson.loads(message.body)
    except orjson.JSONDecodeError as exc:
        return f"the record's body is not JSON: {exc}"[:500]
    if not isinstance(body, dict):
        return "the record's body is not a JSON object"
    indexed = body.get("indexed")
    facts: dict[str, Any] = indexed if isinstance(indexed, dict) else {}
    order_id = _text(facts.get("order_id"), 128) if facts else message.order_id
    photo_sha, photo_state, photo = _photo(message, body)
    recorded_at = message.recorded_at
    site, line, station = where
    return Incoming(
        msg_id=f"evidence-{message.chain[:16]}-{message.seq}",
        kind=EVIDENCE,
        site=site,
        line=line,
        station=station,
        sent_at=message.sent_at,
        received_at=received_at,
        payload={
            "chain": message.chain,
            "seq": message.seq,
            "prev_hash": message.prev_hash,
            "hash": message.hash,
            "hash_ok": record_hash(message.prev_hash, message.body) == message.hash,
            "kind": _text(facts.get("verdict"), 32) or message.kind,
            "order_id": order_id,
            "order_key": _key(order_id, 128),
            "reference_key": _key(body.get("tracking_number"), 128),
            "marketplace_key": _key(body.get("marketplace_order"), 64),
            "recorded_at": recorded_at if recorded_at.tzinfo else recorded_at.replace(tzinfo=UTC),
            "photo_sha256": photo_sha,
            "photo_state": photo_state,
            "photo": photo,  # the bytes, written as a file by their hash; not a column
            "body": message.body,
        },
        order_id=order_id,
    )


def _photo(message: EvidencePayload, body: dict[str, Any]) -> tuple[str | None, str | None, bytes]:
    """A photo record's (recorded SHA-256, state, bytes): kept, mismatch or missing."""
    if body.get("kind") != "photo":
        return None, None, b""
    recorded = _text(body.get("sha256"), 64)
    if message.photo is None:
        return recorded, "missing", b""
    try:
        data = base64.b64decode(message.photo, validate=True)
    except (binascii.Error, ValueError):
        return recorded, "mismatch", b""
    if hashlib.sha256(data).hexdigest() != recorded:
        return recorded, "mismatch", b""  # not kept: only bytes the record vouches for are
    return recorded, "kept", data


def _text(value: object, width: int) -> str | None:
    return value[:width] if isinstance(value, str) and value and "\x00" not in value else None


def _key(value: object, width: int) -> str | None:
    """The casefolded copy the desk searches (any case, prefix allowed)."""
    text = _text(value, width)
    return None if text is None else text.casefold()[:width]
