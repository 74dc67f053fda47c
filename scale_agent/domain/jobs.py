"""Orders (jobs): what should be in a parcel, and how an order is read from JSON.

The JSON shape is shared by the MQTT `job` topic, the demo and `scale-agent verify`:
`{"order_id": "SO-1", "lines": [{"sku": "A", "qty": 2}], "carton": "BOX-S"}`. A line may carry
its own declared weight and spread (`"unit_weight": "150g", "spread": "2g"`) and unit price
(`"unit_price": "12.50"`, which prices a claim's refund), and the carton may
be an object (`{"id": "BOX-S", "tare": "35g", "spread": "3g"}`); declared weights win over the
catalog. Optional references travel with the verdict so that an alert can be found by them
later: `"tracking_number"` (the carrier's), `"marketplace_order"` (the shop's order number)
and `"packer"` (who packs it, as the WMS assigned the task); each is at most 64 printable
characters.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field, ValidationError, field_validator

from scale_agent.domain.declared import (
    PriceText,
    WeightText,
    declared_check,
    parse_price,
    price_check,
)
from scale_agent.domain.untrusted import load_json, validation_reasons
from scale_agent.errors import JobError, PayloadError, WeightFormatError
from scale_agent.models import StrictModel
from scale_agent.weights import Weight

if TYPE_CHECKING:
    from decimal import Decimal

MAX_ID_CHARS = 128
Identifier = Annotated[str, Field(min_length=1, max_length=MAX_ID_CHARS)]


MAX_REFERENCE_CHARS = 64
# A reference is shown on pages and in spreadsheets and searched for: printable, bounded.
Reference = Annotated[
    str, Field(min_length=1, max_length=MAX_REFERENCE_CHARS, pattern=r"^[^\x00-\x1f\x7f]+$")
]


# Strict: `"qty": true` is not 1 and `"qty": "2"` is not 2, as the schema says.
Quantity = Annotated[int, Field(strict=True, ge=1, le=10_000)]


class LinePayload(StrictModel):
    """One order line as sent by the WMS."""

    sku: Identifier
    qty: Quantity
    unit_weight: WeightText | None = None
    spread: WeightText | None = None
    unit_price: PriceText | None = None

    _check_unit_weight = field_validator("unit_weight")(declared_check("weight"))
    _check_spread = field_validator("spread")(declared_check("spread"))
    _check_price = field_validator("unit_price")(price_check)


class CartonPayload(StrictModel):
    """A carton declared inline."""

    id: Identifier
    tare: WeightText
    spread: WeightText = "0g"

    _check_tare = field_validator("tare")(declared_check("weight"))
    _check_spread = field_validator("spread")(declared_check("spread"))


class OrderPayload(StrictModel):
    """An order as JSON (the `job` topic, `scale-agent verify --order`)."""

    schema_id: Literal["scale-agent/job/1"] = "scale-agent/job/1"
    msg_id: str | None = Field(default=None, max_length=128)
    order_id: Identifier
    lines: list[LinePayload] = Field(min_length=1, max_length=1000)
    carton: Identifier | CartonPayload | None = None
    tracking_number: Reference | None = None
    marketplace_order: Reference | None = None
    packer: Reference | None = None


@dataclass(frozen=True)
class JobLine:
    """SKU x quantity, with declared weights when the sender supplied them."""

    sku: str
    qty: int
    unit_weight: Weight | None = None
    spread: Weight | None = None
    unit_price: Decimal | None = None


@dataclass(frozen=True)
class References:
    """What else the WMS knows the parcel by, and who packs it: carried to the verdict."""

    tracking_number: str | None = None
    marketplace_order: str | None = None
    packer: str | None = None


@dataclass(frozen=True)
class Job:
    """An order to verify."""

    order_id: str
    lines: tuple[JobLine, ...]
    carton_id: str | None = None
    carton_tare: Weight | None = None
    carton_spread: Weight | None = None
    msg_id: str | None = None  # the sender's message id, to notice a re-delivery
    references: References = field(default_factory=References)


def _optional(text: str | None) -> Weight | None:
    return None if text is None else Weight.parse(text)


def job_from_payload(payload: OrderPayload) -> Job:
    """Convert a validated payload into a `Job`."""
    lines = tuple(
        JobLine(
            line.sku,
            line.qty,
            _optional(line.unit_weight),
            _optional(line.spread),
            None if line.unit_price is None else parse_price(line.unit_price),
        )
        for line in payload.lines
    )
    references = References(payload.tracking_number, payload.marketplace_order, payload.packer)
    carton = payload.carton
    if isinstance(carton, CartonPayload):
        return Job(
            payload.order_id,
            lines,
            carton.id,
            Weight.parse(carton.tare),
            Weight.parse(carton.spread),
            msg_id=payload.msg_id,
            references=references,
        )
    return Job(payload.order_id, lines, carton, msg_id=payload.msg_id, references=references)


def parse_job(text: str | bytes) -> Job:
    """Parse an order from JSON text.

    Raises:
        JobError: naming what is wrong (not JSON, a missing key, a bad weight, ...).
    """
    try:
        data = load_json(text, what="order")
    except PayloadError as exc:
        raise JobError(exc.reason) from exc
    order_id = data.get("order_id") if isinstance(data, dict) else None
    try:
        payload = OrderPayload.model_validate(data)
    except ValidationError as exc:
        raise JobError(
            f"order rejected: {validation_reasons(exc, 'order')}",
            # named in the rejection, bounded as a valid one is: it is outside text
            order_id=order_id[:MAX_ID_CHARS] if isinstance(order_id, str) else None,
        ) from exc
    except WeightFormatError as exc:  # pragma: no cover - pydantic wraps ValueErrors
        raise JobError(str(exc)) from exc
    return job_from_payload(payload)
