"""The sections of a station file, as pydantic models: pass 1 of `scale_agent.io.config`.

Each `[section]` is one model; unknown keys are errors. A driver's section keeps its other keys
for the driver's own `Settings` (pass 2, in `scale_agent.io.config`).
"""

from __future__ import annotations

from datetime import time
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal, Self, get_args
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from scale_agent.domain.declared import WeightText, declared_check
from scale_agent.domain.policies import Policy
from scale_agent.domain.scale_range import ScaleRange
from scale_agent.domain.scan_rules import ScanRules
from scale_agent.domain.settle import SettleSection
from scale_agent.io.messages import TOPIC_NAME
from scale_agent.io.order_sources import OrdersSection
from scale_agent.models import StrictModel
from scale_agent.weights import Weight

TopicSafe = Annotated[str, Field(pattern=f"^{TOPIC_NAME}$")]


class Section(StrictModel):
    """A config section: unknown keys are errors, values are frozen after loading."""


class StationSection(Section):
    """Who this station is (it names the MQTT topics) and where it keeps its files."""

    site: TopicSafe
    line: TopicSafe
    id: TopicSafe
    data_dir: Path = Path("/var/lib/scale-agent")
    catalog: Path
    # Folders that also get every signed chain head (another disk, a network share, a USB
    # stick): a copy the station's own data folder cannot take back.
    head_copies: list[Path] = Field(default_factory=list, max_length=8)
    item_by_item: bool = False  # each scanned item must show up on the platter by weight
    # Below this much free space on the data folder's disk, `health` and the dashboard warn:
    # before the ledger cannot write (then the station shows FAULT and judges nothing).
    disk_warn_free_mb: int = Field(default=500, ge=0, le=10_000_000)


class DriverSection(BaseModel):
    """A section that names a driver; its other keys belong to that driver's `Settings`."""

    model_config = ConfigDict(extra="allow", frozen=True)

    driver: str


class ScaleSection(DriverSection):
    """`[scale]`: the driver and its keys, plus the weighing range every scale has."""

    capacity: WeightText | None = None  # Max: orders that could weigh more are refused
    min_weight: WeightText | None = None  # Min: orders that could weigh less are refused

    _check_range = field_validator("capacity", "min_weight")(declared_check("weight"))

    @property
    def weighing_range(self) -> ScaleRange:
        """The range as the pure rules take it."""
        return ScaleRange(
            None if self.capacity is None else Weight.parse(self.capacity).in_grams,
            None if self.min_weight is None else Weight.parse(self.min_weight).in_grams,
        )


# Keys of [scale] that belong to the station, not to the driver's Settings.
SCALE_RANGE_KEYS = frozenset({"capacity", "min_weight"})

ToleranceSection = Policy  # the [tolerance] section is the station's default policy


Language = Literal["en", "zh_CN", "de"]  # the packer-facing message catalogs we ship
LANGUAGES: tuple[str, ...] = get_args(Language)
CommandName = Literal["zero", "tare", "reweigh", "override", "reload_catalog", "routine_test"]


def _default_commands() -> list[CommandName]:
    # Tare is off by default: a tared carton would vanish from the gross weight we compare.
    return ["zero", "reweigh", "override", "reload_catalog", "routine_test"]


class MqttSection(Section):
    """The broker this station reports to. `url` is mqtt://host:port or mqtts://host:port."""

    enabled: bool = True
    url: str = "mqtt://127.0.0.1:1883"
    client_id: str | None = None
    username: str | None = None
    password_file: Path | None = None
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    keepalive_s: int = Field(default=30, ge=5, le=3600)
    # How long the broker keeps this station's session (its subscriptions and the QoS 1 jobs
    # and commands queued for it) while the station is away; 0 starts clean every time.
    session_expiry_s: int = Field(default=3600, ge=0, le=7 * 24 * 3600)
    publish_verdicts: bool = False
    publish_weight: bool = False
    weight_interval_s: float = Field(default=0.5, ge=0.05, le=60)
    health_interval_s: float = Field(default=30.0, ge=1, le=3600)
    outbox_max_rows: int = Field(default=100_000, ge=100)
    accept_commands: list[CommandName] = Field(default_factory=_default_commands)

    @field_validator("url")
    @classmethod
    def _broker_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in {"mqtt", "mqtts"} or not parts.hostname:
            raise ValueError("must look like mqtt://host:1883 or mqtts://host:8883")
        _ = parts.port  # raises ValueError for a port that is not a number
        return value


class ScreenSection(Section):
    """The packer's screen: a local page served by the daemon, and the packer's language."""

    enabled: bool = True
    listen: str = "127.0.0.1:8765"  # keep it on loopback unless the screen is another PC
    language: Language = "en"  # also the console lamp's language
    sound: bool = True  # a distinct cue for fail, recheck, wrong item and fault

    @field_validator("listen")
    @classmethod
    def _listen(cls, value: str) -> str:
        host, _, port = value.rpartition(":")
        if not host or not port.isdigit() or not 0 <= int(port) <= 65535:  # noqa: PLR2004
            raise ValueError('must look like "127.0.0.1:8765" (host:port; port 0 picks one)')
        return value

    @property
    def address(self) -> tuple[str, int]:
        """(host, port) to bind."""
        host, _, port = self.listen.rpartition(":")
        return host.strip("[]"), int(port)


class AssuranceSection(Section):
    """Routine scale tests with reference weights: which, when, and against which limits."""

    enabled: bool = False
    points: list[WeightText] = Field(default_factory=lambda: ["1kg"], min_length=1, max_length=6)
    weight_ids: list[str] = Field(default_factory=list)  # one per point: the weights' ids
    weight_class: str = Field(default="M1", max_length=8)  # OIML R 111 class of the weights
    zero_check: bool = True
    repeat: int = Field(default=0, ge=0, le=10)  # the largest point again: repeatability
    shift_starts: list[str] = Field(default_factory=list)  # local "06:00", "14:00", ...
    every_h: float = Field(default=0, ge=0, le=24 * 31)  # 0: not by the hour
    after_restart: bool = True
    after_scale_change: bool = True  # a different serial number answers
    after_overload: bool = True
    warning_g: Decimal | None = Field(default=None, gt=0)  # else the initial MPE
    control_g: Decimal | None = Field(default=None, gt=0)  # else the in-service MPE

    _positive = field_validator("points")(
        lambda values: [declared_check("weight")(value) for value in values]
    )

    @field_validator("shift_starts")
    @classmethod
    def _times(cls, values: list[str]) -> list[str]:
        for value in values:
            try:
                time.fromisoformat(value)
            except ValueError:
                raise ValueError(f"{value!r} is not a time of day like 06:00") from None
        return values

    @model_validator(mode="after")
    def _ids(self) -> Self:
        if self.weight_ids and len(self.weight_ids) != len(self.points):
            raise ValueError(
                f"weight_ids names {len(self.weight_ids)} weight(s) for {len(self.points)} "
                "point(s): give one id per point, in the same order"
            )
        return self

    def point_weights(self) -> list[tuple[Decimal, str]]:
        """(nominal grams, weight id) per point."""
        ids = self.weight_ids or [""] * len(self.points)
        return [(Weight.parse(p).in_grams, i) for p, i in zip(self.points, ids, strict=True)]

    def shift_times(self) -> list[time]:
        """The shift starts as times of day."""
        return [time.fromisoformat(value) for value in self.shift_starts]


def _default_outputs() -> list[DriverSection]:
    return [DriverSection(driver="console")]


CAMERA_KEYS = frozenset({"moments", "quota_mb", "keep_days"})
Moment = Literal["verdict"]  # the moment the parcel is judged (order start and seal: not yet)


def _verdict_moment() -> list[Moment]:
    return ["verdict"]


class CameraSection(DriverSection):
    """`[camera]`: the driver and its keys, plus when to capture and how much to keep."""

    moments: list[Moment] = Field(default_factory=_verdict_moment, min_length=1)
    quota_mb: int = Field(default=2000, ge=1, le=10_000_000)  # the oldest photos go past it
    keep_days: int = Field(default=180, ge=1, le=3650)


class RemedySection(Section):
    """How a site compensates a claim the record does not contradict (`records report --claim`)."""

    rule: Literal["reship", "refund", "voucher"] = "refund"
    currency: str = Field(default="CNY", min_length=1, max_length=8)
    voucher_rate: Decimal = Field(default=Decimal(1), ge=0, le=10)  # voucher = refund x rate
    voucher_minimum: Decimal = Field(default=Decimal(0), ge=0, le=100_000)


class AgentConfig(Section):
    """The whole station file (pass 1)."""

    station: StationSection
    scale: ScaleSection
    settle: SettleSection = SettleSection()
    tolerance: Policy = Policy()
    policies: dict[str, Policy] = Field(default_factory=dict)
    outputs: list[DriverSection] = Field(default_factory=_default_outputs)
    scanner: DriverSection | None = None
    camera: CameraSection | None = None
    scans: ScanRules = ScanRules()
    orders: OrdersSection = OrdersSection()
    mqtt: MqttSection = MqttSection()
    screen: ScreenSection = ScreenSection()
    assurance: AssuranceSection = AssuranceSection()
    remedy: RemedySection = RemedySection()

    @model_validator(mode="after")
    def _order_source(self) -> Self:
        orders = self.orders
        if orders.source == "http" and (not orders.url or "{order_id}" not in orders.url):
            raise ValueError('orders.url must contain {order_id} for source = "http"')
        if orders.source == "http" and urlsplit(str(orders.url)).scheme not in {"http", "https"}:
            raise ValueError("orders.url must be an http:// or https:// URL")
        return self
