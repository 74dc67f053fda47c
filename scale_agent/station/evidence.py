"""What one verdict writes: its MQTT payloads and the ledger body that proves it later.

The ledger body holds everything needed to defend the verdict weeks later: the payload
(verdict, expected, limits, guard band, measured, difference, explanation), the raw frames
behind the settled weight (bounded), the order and the catalog weights it was judged with,
the policy's full settings, the scale's identity, and any override with who and why.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import uuid4

from scale_agent.io.ledger import Outgoing
from scale_agent.io.messages import EventPayload, SealOverride, VerdictPayload

if TYPE_CHECKING:
    from datetime import datetime

    from scale_agent.domain.policies import Policy
    from scale_agent.domain.verifier import Expectation
    from scale_agent.io.messages import StationIdentity, Topics
    from scale_agent.plugins import ScaleIdentity
    from scale_agent.station.effects import Record
    from scale_agent.weights import Reading

MAX_EVIDENCE_READINGS = 50


@dataclass(frozen=True)
class Written:
    """One verdict, ready for the ledger: its id, time, ledger body and outbox messages."""

    parcel_id: str
    judged_at: datetime
    body: dict[str, Any]
    outgoing: list[Outgoing]


def build(
    record: Record,
    *,
    identity: StationIdentity,
    topics: Topics,
    judged_at: datetime,
    scale_device: str,
    scale_identity: ScaleIdentity | None,
    station_policy: Policy,
    publish_verdicts: bool,
) -> Written:
    """The payloads and the ledger body for one recorded verdict."""
    verdict = record.verdict
    parcel_id = str(uuid4())
    override = (
        SealOverride(operator=record.override.operator, reason=record.override.reason)
        if record.override
        else None
    )
    payload = VerdictPayload.build(
        verdict,
        identity=identity,
        parcel_id=parcel_id,
        judged_at=judged_at,
        is_rejudged=record.is_rejudged,
        override=override,
        expectation=record.expectation,
    )
    outgoing = []
    if verdict.is_flagged and override is None:
        outgoing.append(Outgoing(payload.msg_id, topics.alert, payload.model_dump_json().encode()))
    if override is not None:
        event = EventPayload(
            **identity,
            event="override_applied",
            reason=f"{verdict.kind.value} overridden: {override.reason}",
            order_id=verdict.order_id,
            command="override",
            override=override,
        )
        outgoing.append(Outgoing(event.msg_id, topics.event, event.model_dump_json().encode()))
    if publish_verdicts:
        copy = payload.model_copy(update={"msg_id": str(uuid4())})
        outgoing.append(Outgoing(copy.msg_id, topics.verdict, copy.model_dump_json().encode()))
    body = payload.model_dump(mode="json", exclude={"msg_id", "sent_at"})
    body["evidence"] = [_frame(r) for r in record.evidence[-MAX_EVIDENCE_READINGS:]]
    body["order"] = _order(record.expectation)
    policy = record.expectation.policy if record.expectation else station_policy
    body["policy_settings"] = policy.model_dump(mode="json")
    body["scale"] = {
        "device": scale_device,
        "model": scale_identity.model if scale_identity else None,
        "serial": scale_identity.serial if scale_identity else None,
    }
    body["operator"] = override.operator if override else None
    return Written(parcel_id, judged_at, body, outgoing)


def _frame(reading: Reading) -> dict[str, object]:
    return {
        "raw": reading.raw.hex(),
        "weight": str(reading.weight) if reading.weight else None,
        "stable": reading.is_stable,
        "at": reading.wall_time,
    }


def _order(expectation: Expectation | None) -> dict[str, object] | None:
    """The order and the catalog entries it was judged with, as they were at that moment."""
    if expectation is None:
        return None
    return {
        "lines": [
            {
                "sku": line.sku,
                "name": line.name,
                "qty": line.qty,
                "unit_g": str(line.unit_g),
                "spread_g": str(line.spread_g),
                "names": dict(line.names),
                "unit_price": None if line.unit_price is None else str(line.unit_price),
            }
            for line in expectation.lines
        ],
        "carton": {
            "id": expectation.carton_id,
            "tare_g": str(expectation.carton_g),
            "spread_g": str(expectation.carton_spread_g),
        },
    }
