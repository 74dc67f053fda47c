"""MQTT payloads (contract v1): one pydantic model per topic.

Every payload carries a schema id, a unique `msg_id` (subscribers de-duplicate on it: QoS 1
delivers at least once), UTC timestamps and explicit units. Topics live under
`scale-agent/v1/<site>/<line>/<station>/`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Literal, TypedDict
from uuid import uuid4

from pydantic import Field, StringConstraints

from scale_agent.domain.jobs import References
from scale_agent.domain.verifier import Expectation, Verdict, VerdictKind
from scale_agent.io.storage_health import StorageHealth
from scale_agent.models import StrictModel

if TYPE_CHECKING:
    from collections.abc import Collection

TOPIC_ROOT = "scale-agent/v1"
MILLIGRAM = Decimal("0.001")
# A site, line or station id: one topic level, safe in every broker and file name.
TOPIC_NAME = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}"


# Text a monitor keeps in a column of its own (`central/schema.py`) is limited here to that
# column's width and may not hold NUL (PostgreSQL text cannot): a message the JSON Schemas in
# docs/schemas accept always fits the central's tables, so no valid message can fail a batch.
NO_NUL = r"^[^\x00]*$"
MsgId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=NO_NUL)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=NO_NUL)]
Text64 = Annotated[str, StringConstraints(max_length=64, pattern=NO_NUL)]
Text128 = Annotated[str, StringConstraints(max_length=128, pattern=NO_NUL)]


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
        self.health = f"{self.root}/health"
        self.weight = f"{self.root}/weight"
        self.job = f"{self.root}/job"
        self.command = f"{self.root}/command"
        self.orders = f"{self.root}/orders"
        self.catalog_audit = f"{self.root}/catalog_audit"
        self.chain_head = f"{self.root}/chain_head"
        self.evidence = f"{self.root}/evidence"  # every ledger record, for the central to keep
        self.evidence_ack = f"{self.root}/evidence_ack"  # what the central holds (retained)


class Payload(StrictModel):
    """Fields every payload has."""

    msg_id: MsgId = Field(default_factory=new_msg_id)
    sent_at: datetime = Field(default_factory=utc_now)
    site: Name
    line: Name
    station: Name


class Mass(StrictModel):
    """A weight with its unit spelled out."""

    value: float
    unit: Literal["g"] = "g"

    @classmethod
    def of(cls, grams: Decimal | None) -> Mass | None:
        """A mass in grams, rounded to a milligram; None stays None."""
        return None if grams is None else cls(value=float(grams.quantize(MILLIGRAM)))


class Units(StrictModel):
    """So many units of one SKU."""

    sku: str
    qty: int


class Explanation(StrictModel):
    """One hypothesis that explains a weight difference: these units missing or extra."""

    units: list[Units]
    direction: Literal["missing", "extra"]
    fit_sigma: float


class OrderLine(StrictModel):
    """One line of the order a parcel was judged against, with the weights used for it."""

    sku: str
    name: str  # the catalog's name (the SKU when the catalog has none)
    names: dict[str, str] = Field(default_factory=dict)  # in other languages: {"zh_CN": ...}
    qty: int
    unit: Mass
    spread: Mass


class VerdictPayload(Payload):
    """A judged parcel: sent on `alert` (flagged ones) and on `verdict` (all, if enabled).

    `lines`, the carton's tare and spread, and the references let a monitor name the items,
    search by a tracking or marketplace number, sum up by packer and SKU and check the
    catalog's weights against what the scales measured; they are empty without an order.
    """

    schema_id: Literal["scale-agent/verdict/1"] = "scale-agent/verdict/1"
    parcel_id: Text64
    judged_at: datetime
    order_id: Text128 | None
    verdict: VerdictKind
    reason: str
    expected: Mass | None
    lower_limit: Mass | None
    upper_limit: Mass | None
    measured: Mass | None
    difference: Mass | None
    sigma: Mass | None
    guard: Mass | None = None
    policy: str
    explanation: list[Explanation]
    is_detectable: bool | None
    is_rejudged: bool
    override: SealOverride | None = None
    lines: list[OrderLine] = Field(default_factory=list)
    carton_tare: Mass | None = None
    carton_spread: Mass | None = None
    tracking_number: Text128 | None = None
    marketplace_order: Text64 | None = None
    packer: Text64 | None = None

    @classmethod
    def build(
        cls,
        verdict: Verdict,
        *,
        identity: StationIdentity,
        parcel_id: str,
        judged_at: datetime,
        is_rejudged: bool,
        override: SealOverride | None = None,
        expectation: Expectation | None = None,
    ) -> VerdictPayload:
        """The payload for a verdict (judged against `expectation`, when an order was loaded)."""
        references = expectation.references if expectation else References()
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
            guard=Mass.of(verdict.guard_g),
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
            override=override,
            lines=[
                OrderLine(
                    sku=line.sku,
                    name=line.name,
                    names=dict(line.names),
                    qty=line.qty,
                    unit=Mass(value=float(line.unit_g.quantize(MILLIGRAM))),
                    spread=Mass(value=float(line.spread_g.quantize(MILLIGRAM))),
                )
                for line in (expectation.lines if expectation else ())
            ],
            carton_tare=Mass.of(expectation.carton_g) if expectation else None,
            carton_spread=Mass.of(expectation.carton_spread_g) if expectation else None,
            tracking_number=references.tracking_number,
            marketplace_order=references.marketplace_order,
            packer=references.packer,
        )


class SealOverride(StrictModel):
    """Who let a failed parcel be sealed, and why."""

    operator: str
    reason: str


class StatusPayload(Payload):
    """Retained station status; the broker publishes `offline` as the last will."""

    schema_id: Literal["scale-agent/status/1"] = "scale-agent/status/1"
    state: Literal["online", "offline"]
    version: Text64


class EventPayload(Payload):
    """Command results and rejected input (an invalid job or command, for example)."""

    schema_id: Literal["scale-agent/event/1"] = "scale-agent/event/1"
    event: Literal[
        "job_rejected",
        "job_duplicate",  # a job whose msg_id was already received (a re-delivery): ignored
        "job_replaced",  # a new order took the place of one not yet weighed
        "job_queued",  # a new order waits behind the parcel on the platter or an open FAIL
        "job_cancelled",  # the loaded order was cancelled (a cancel scan)
        "command_rejected",
        "command_done",
        "override_applied",
        "catalog_reloaded",
        "scan_rejected",  # a scan that matches no command, carton, order or item
        "item_mismatch",  # item by item: the scan and the platter weight disagree
        "routine_test_due",  # a scale test is due: the station asks for the test weights
        "routine_test_passed",
        "routine_test_warning",  # past the warning limit: the scale still judges parcels
        "routine_test_failed",  # past the control limit: no parcel is judged until released
        "scale_released",  # a supervisor let an out-of-tolerance scale judge again (audited)
        "camera_failed",  # the parcel camera gave no photo (told once per problem)
    ]
    reason: str
    order_id: Text128 | None = None
    command: str | None = None
    request_id: str | None = None  # the `request_id` of the command this answers
    override: SealOverride | None = None


class SkuFinding(StrictModel):
    """One SKU's declared weight against what the station's scale measured."""

    sku: str
    name: str
    parcels: int
    declared: Mass
    measured: Mass
    ci_low: Mass
    ci_high: Mass
    difference_pct: float
    declared_spread: Mass
    measured_spread: Mass | None
    is_weight_off: bool
    is_spread_off: bool


class CatalogAuditPayload(Payload):
    """What `catalog audit` found (retained, per station): the monitor pools the stations'."""

    schema_id: Literal["scale-agent/catalog_audit/1"] = "scale-agent/catalog_audit/1"
    parcels: int  # judged parcels the audit read
    since: datetime | None  # the oldest of them
    findings: list[SkuFinding]
    undetermined: list[str] = Field(default_factory=list)  # SKUs the fit could not pin down


class ScaleHealth(StrictModel):
    """How the scale is doing, as the station sees it (never just "connected")."""

    state: Literal["ok", "fault"]
    fault_reason: str | None
    device: str
    model: str | None
    serial: str | None
    reconnects: int
    parse_errors: int
    seconds_since_last_reading: float | None
    seconds_since_last_stable: float | None
    empty_reading: Mass | None  # the last weight shown with the platter empty: zero drift


class OutputHealth(StrictModel):
    """A device beside the scale (a light, relay board, screen, or the scanner): working?"""

    device: str
    state: Literal["ok", "fault"]
    fault_reason: str | None

    @classmethod
    def of(cls, device: str, problem: str | None) -> OutputHealth:
        """The report for a device and its problem (None while it works)."""
        return cls(device=device, state="fault" if problem else "ok", fault_reason=problem or None)


class HealthPayload(Payload):
    """Periodic station telemetry (retained, so a monitor sees it on start)."""

    schema_id: Literal["scale-agent/health/1"] = "scale-agent/health/1"
    station_state: Literal["idle", "waiting", "settling", "judged"]
    order_id: str | None
    scale: ScaleHealth
    outbox_backlog: int
    outbox_dropped: int
    last_verdict: VerdictKind | None
    interval_s: float
    outputs: list[OutputHealth] = Field(default_factory=list)
    scanner: OutputHealth | None = None
    camera: OutputHealth | None = None  # the parcel camera, when one is set up
    storage: StorageHealth | None = None  # the disk, the ledger, what the central lacks


class WeightPayload(Payload):
    """The live weight, rate-limited (QoS 0: a missed one is replaced by the next)."""

    schema_id: Literal["scale-agent/weight/1"] = "scale-agent/weight/1"
    weight: Mass
    is_stable: bool | None


class CommandPayload(StrictModel):
    """A command for the station (subscribed on `command`).

    `zero` and `tare` go to the scale; `reweigh` weighs the parcel on the platter again;
    `override` lets a failed parcel be sealed (needs `operator` and `reason`);
    `reload_catalog` re-reads the catalog file; `routine_test` starts a scale test with the
    reference weights (`operator` says who runs it).
    """

    schema_id: Literal["scale-agent/command/1"] = "scale-agent/command/1"
    request_id: str | None = Field(default=None, max_length=128)
    command: Literal["zero", "tare", "reweigh", "override", "reload_catalog", "routine_test"]
    operator: str | None = Field(default=None, min_length=1, max_length=128)
    reason: str | None = Field(default=None, min_length=3, max_length=500)
    order_id: str | None = Field(default=None, max_length=128)


# What each station topic carries: the topics a supervisors' tool reads, with their payload.
STATION_PAYLOADS: dict[str, type[Payload]] = {
    "alert": VerdictPayload,
    "verdict": VerdictPayload,
    "status": StatusPayload,
    "health": HealthPayload,
    "event": EventPayload,
    "catalog_audit": CatalogAuditPayload,
}
_STATION_TOPIC = re.compile(
    rf"^{re.escape(TOPIC_ROOT)}/({TOPIC_NAME})/({TOPIC_NAME})/({TOPIC_NAME})/([a-z_]+)$"
)


def station_topic(
    topic: str, kinds: Collection[str] = STATION_PAYLOADS
) -> tuple[str, str, str, str] | None:
    """(site, line, station, kind) of a station's topic of one of `kinds`, or None."""
    match = _STATION_TOPIC.match(topic)
    if match is None or match.group(4) not in kinds:
        return None
    site, line, station, kind = match.groups()
    return site, line, station, kind
