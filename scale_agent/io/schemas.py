"""The JSON Schemas of the MQTT contract, written to docs/schemas by `scale-agent schema`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scale_agent.domain.jobs import OrderPayload
from scale_agent.io.evidence_messages import EvidenceAck, EvidencePayload
from scale_agent.io.messages import (
    CatalogAuditPayload,
    CommandPayload,
    EventPayload,
    HealthPayload,
    StatusPayload,
    VerdictPayload,
    WeightPayload,
)

if TYPE_CHECKING:
    from pydantic import BaseModel


def json_schemas() -> dict[str, dict[str, Any]]:
    """The JSON Schema of every payload, by file name."""
    models: dict[str, type[BaseModel]] = {
        "status": StatusPayload,
        "verdict": VerdictPayload,  # also the `alert` payload
        "event": EventPayload,
        "health": HealthPayload,
        "weight": WeightPayload,
        "command": CommandPayload,
        "job": OrderPayload,
        "catalog_audit": CatalogAuditPayload,
        "evidence": EvidencePayload,
        "evidence_ack": EvidenceAck,
    }
    return {f"{name}.schema.json": model.model_json_schema() for name, model in models.items()}
