"""MQTT payloads (contract v1): one pydantic model per topic.

Every payload carries a schema id, a unique `msg_id` (subscribers de-duplicate on it: QoS 1
delivers at least once), UTC timestamps and explicit units. Topics live under
`scale-agent/v1/<site>/<line>/<station>/`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Literal, TypedDict
from uuid import uuid4

from pydantic import BaseModel, ConfigDict, Field

from scale_agent.verifier import Verdict, VerdictKind

TOPIC_ROOT = "scale-agent/v1"


def new_msg_id() -> str:
    """A fresh, globally unique message id."""
    return str(uuid4())


def utc_now() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


class StationIdentity(TypedDict):
    """The names that identify a station in every payload."""

    site: str
    line: str
    station: str


class Topics:
    """The topic names of one station."""

    def __init__(self, site: str, line: str, station: str) -> None:
        self.root = f"{TOPIC_ROOT}/{site}/{line}/{station}"
        self.status = f"{self.root}/status"
        self.alert = f"{self.root}/alert"
        self.verdict = f"{self.root}/verdict"
        self.event = f"{self.root}/event"
        self.job = f"{self.root}/job"


class Payload(BaseModel):
    """Fields every payload has."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    msg_id: str = Field(default_factory=new_msg_id)
    sent_at: datetime = Field(default_factory=utc_now)
    site: str
    line: str
    station: str


class Mass(BaseModel):
    """A weight with its unit spelled out."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    value: float
    unit: Literal["g"] = "g"

    @classmethod
    def of(cls, grams: Decimal | None) -> Mass | None:
        """A mass in grams, rounded to a milligram; None stays None."""
        return None if grams is None else cls(value=float(grams.quantize(Decimal("0.001"))))


class Units(BaseModel):
    """So many units of one SKU."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sku: str
    qty: int


class Explanation(BaseModel):
    """One hypothesis that explains a weight difference: these units missing or extra."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    units: list[Units]
    direction: Literal["missing", "extra"]
    fit_sigma: float


class VerdictPayload(Payload):
    """A judged parcel: sent on `alert` (flagged ones) and on `verdict` (all, if enabled)."""

    schema_id: Literal["scale-agent/verdict/1"] = "scale-agent/verdict/1"
    parcel_id: str
    judged_at: datetime
    order_id: str | None
    verdict: VerdictKind
    reason: str
    expected: Mass | None
    lower_limit: Mass | None
    upper_limit: Mass | None
    measured: Mass | None
    difference: Mass | None
    sigma: Mass | None
    policy: str
    explanation: list[Explanation]
    is_detectable: bool | None
    is_rejudged: bool

    @classmethod
    def build(
        cls,
        verdict: Verdict,
        *,
        identity: StationIdentity,
        parcel_id: str,
        judged_at: datetime,
        is_rejudged: bool,
    ) -> VerdictPayload:
        """The payload for a verdict."""
        return cls(
            **identity,
            parcel_id=parcel_id,
            judged_at=judged_at,
            order_id=verdict.order_id,
            verdict=verdict.kind,
            reason=verdict.reason,
            expected=Mass.of(verdict.expected_g),
            lower_limit=Mass.of(verdict.lower_g),
            upper_limit=Mass.of(verdict.upper_g),
            measured=Mass.of(verdict.measured_g),
            difference=Mass.of(verdict.difference_g),
            sigma=Mass.of(verdict.sigma_g),
            policy=verdict.policy,
            explanation=[
                Explanation(
                    units=[Units(sku=sku, qty=qty) for sku, qty, _ in h.parts],
                    direction="missing" if h.direction == "missing" else "extra",
                    fit_sigma=float(h.fit_sigma.quantize(Decimal("0.01"))),
                )
                for h in verdict.explanation
            ],
            is_detectable=verdict.is_detectable,
            is_rejudged=is_rejudged,
        )


class StatusPayload(Payload):
    """Retained station status; the broker publishes `offline` as the last will."""

    schema_id: Literal["scale-agent/status/1"] = "scale-agent/status/1"
    state: Literal["online", "offline"]
    version: str


class EventPayload(Payload):
    """Command results and rejected input (an invalid job, for example)."""

    schema_id: Literal["scale-agent/event/1"] = "scale-agent/event/1"
    event: str
    reason: str
    order_id: str | None = None
