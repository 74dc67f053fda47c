"""Orders (jobs): what should be in a parcel, and how an order is read from JSON.

The JSON shape is shared by the MQTT `job` topic, the demo and `scale-agent verify`:
`{"order_id": "SO-1", "lines": [{"sku": "A", "qty": 2}], "carton": "BOX-S"}`. A line may carry
its own declared weight and spread (`"unit_weight": "150g", "spread": "2g"`), and the carton may
be an object (`{"id": "BOX-S", "tare": "35g", "spread": "3g"}`); declared weights win over the
catalog.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import Field, ValidationError, field_validator

from scale_agent.errors import JobError, WeightFormatError
from scale_agent.models import StrictModel
from scale_agent.weights import Weight

Identifier = Annotated[str, Field(min_length=1, max_length=128)]


def _weight(value: str | None) -> str | None:
    if value is not None:
        Weight.parse(value)  # raises WeightFormatError, a ValueError pydantic reports
    return value


class LinePayload(StrictModel):
    """One order line as sent by the WMS."""

    sku: Identifier
    qty: int = Field(ge=1, le=10_000)
    unit_weight: str | None = None
    spread: str | None = None

    _check_weights = field_validator("unit_weight", "spread")(_weight)


class CartonPayload(StrictModel):
    """A carton declared inline."""

    id: Identifier
    tare: str
    spread: str = "0g"

    _check_weights = field_validator("tare", "spread")(_weight)


class OrderPayload(StrictModel):
    """An order as JSON (the `job` topic, `scale-agent verify --order`)."""

    schema_id: Literal["scale-agent/job/1"] = "scale-agent/job/1"
    msg_id: str | None = Field(default=None, max_length=128)
    order_id: Identifier
    lines: list[LinePayload] = Field(min_length=1, max_length=1000)
    carton: Identifier | CartonPayload | None = None


@dataclass(frozen=True)
class JobLine:
    """SKU x quantity, with declared weights when the sender supplied them."""

    sku: str
    qty: int
    unit_weight: Weight | None = None
    spread: Weight | None = None


@dataclass(frozen=True)
class Job:
    """An order to verify."""

    order_id: str
    lines: tuple[JobLine, ...]
    carton_id: str | None = None
    carton_tare: Weight | None = None
    carton_spread: Weight | None = None


def _optional(text: str | None) -> Weight | None:
    return None if text is None else Weight.parse(text)


def job_from_payload(payload: OrderPayload) -> Job:
    """Convert a validated payload into a `Job`."""
    lines = tuple(
        JobLine(line.sku, line.qty, _optional(line.unit_weight), _optional(line.spread))
        for line in payload.lines
    )
    carton = payload.carton
    if isinstance(carton, CartonPayload):
        return Job(
            payload.order_id,
            lines,
            carton.id,
            Weight.parse(carton.tare),
            Weight.parse(carton.spread),
        )
    return Job(payload.order_id, lines, carton)


def parse_job(text: str | bytes) -> Job:
    """Parse an order from JSON text.

    Raises:
        JobError: naming what is wrong (not JSON, a missing key, a bad weight, ...).
    """
    try:
        data = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise JobError(f"order is not valid JSON: {exc}") from exc
    order_id = data.get("order_id") if isinstance(data, dict) else None
    try:
        payload = OrderPayload.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)
        reasons = "; ".join(
            f"{'.'.join(str(p) for p in item['loc']) or 'order'}: {item['msg']}" for item in first
        )
        raise JobError(
            f"order rejected: {reasons}", order_id=order_id if isinstance(order_id, str) else None
        ) from exc
    except WeightFormatError as exc:  # pragma: no cover - pydantic wraps ValueErrors
        raise JobError(str(exc)) from exc
    return job_from_payload(payload)
