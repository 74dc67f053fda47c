"""The evidence a station sends its central, and the central's answer (the MQTT contract).

Every ledger record leaves the bench as one `evidence` message: the record exactly as it was
hashed (`body`, its `prev_hash` and `hash`), so the central can recompute the chain link by link
and needs to trust nothing the station says about it. A photo record carries the photo's bytes
(base64) beside it; the central checks them against the SHA-256 the record holds.

`chain` names the ledger: the hash of its first record. A station whose data folder was wiped
starts a new ledger, hence a new chain, and the central keeps both: the old records stay
answerable and the new chain is visibly new, not a silent restart.

The central answers on `evidence_ack` (retained): for one chain, the highest sequence number up
to which it holds every record, each linked to the one before. The station prunes nothing the
central has not confirmed this way.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from scale_agent.io.messages import NO_NUL, Payload, Text128
from scale_agent.models import StrictModel

Hash = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
MAX_BODY_CHARS = 200_000  # a verdict's body is a few kB; its 200 frames of evidence ~30 kB
MAX_PHOTO_B64 = 780_000  # about 585 kB of photo: with its record, within the 1 MB limit


class EvidencePayload(Payload):
    """One ledger record as it was hashed, and a photo record's photo."""

    schema_id: Literal["scale-agent/evidence/1"] = "scale-agent/evidence/1"
    chain: Hash  # the hash of the ledger's first record
    seq: int = Field(ge=1)
    prev_hash: Hash
    hash: Hash
    kind: Annotated[str, StringConstraints(min_length=1, max_length=32, pattern=NO_NUL)]
    order_id: Text128 | None = None
    recorded_at: datetime
    body: Annotated[str, StringConstraints(min_length=2, max_length=MAX_BODY_CHARS)]
    photo: Annotated[str, StringConstraints(max_length=MAX_PHOTO_B64)] | None = None
    photo_problem: Text128 | None = None  # why a photo record comes without its photo


class EvidenceAck(StrictModel):
    """What the central holds of one chain: every record up to `upto`, linked."""

    schema_id: Literal["scale-agent/evidence_ack/1"] = "scale-agent/evidence_ack/1"
    chain: Hash
    upto: int = Field(ge=0)
    sent_at: datetime
    problem: Annotated[str, StringConstraints(max_length=500)] | None = None
