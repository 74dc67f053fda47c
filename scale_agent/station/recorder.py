"""Writing what the station decided: verdicts into the ledger, messages into the outbox.

A verdict is written with its evidence and its outgoing messages in one transaction, before
any light shows it; an `event` goes through the outbox too, so a command's answer survives a
broker outage. Live data (health, weight) is published straight away or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol
from uuid import uuid4

from scale_agent.io.ledger import Outgoing
from scale_agent.io.messages import EventPayload
from scale_agent.station import evidence
from scale_agent.station.photo_desk import PhotoRequest
from scale_agent.weights import format_grams

if TYPE_CHECKING:
    from collections.abc import Callable

    from scale_agent.domain.verifier import Verdict
    from scale_agent.io.clock import Clock
    from scale_agent.io.config import StationConfig
    from scale_agent.io.ledger import Ledger
    from scale_agent.io.logs import Log
    from scale_agent.io.messages import Payload, StationIdentity, Topics
    from scale_agent.io.mqtt import Publisher
    from scale_agent.io.scale_link import ScaleLink
    from scale_agent.station.effects import Record, RecordTest, ReleaseScale
    from scale_agent.station.photo_desk import PhotoFailed, PhotoTaken


@dataclass(frozen=True)
class RecordedVerdict:
    """A verdict as recorded: what listeners (the demo, tests) are told."""

    parcel_id: str
    verdict: Verdict
    is_flagged: bool


class Station(Protocol):
    """What the recorder reads of the running station (the runtime)."""

    identity: StationIdentity
    topics: Topics
    clock: Clock
    link: ScaleLink
    log: Log

    @property
    def config(self) -> StationConfig:
        """The config in force (a reload may replace it)."""
        ...

    @property
    def ledger(self) -> Ledger:
        """The station loop's ledger connection."""
        ...


class Recorder:
    """Ledger and outbox writes for one station, from the station loop only."""

    def __init__(self, station: Station, publisher: Publisher | None) -> None:
        self._station = station
        self._publisher = publisher
        self.listeners: list[Callable[[RecordedVerdict], None]] = []
        self.last_test: dict[str, object] | None = None  # the newest routine test's reference
        self.appended: list[Callable[[], None]] = []  # told after every ledger record
        self._camera_problem: str | None = None

    def tell(self, event: str, reason: str, **fields: str | None) -> None:
        """Queue an `event` message (through the outbox: command answers are not dropped)."""
        station = self._station
        payload = EventPayload(**station.identity, event=event, reason=reason, **fields)
        station.log.info(event, reason=reason, **fields)
        if station.config.agent.mqtt.enabled:
            station.ledger.enqueue(
                Outgoing(payload.msg_id, station.topics.event, payload.model_dump_json().encode())
            )
            if self._publisher is not None:
                self._publisher.wake()

    def publish_live(
        self, topic: str, payload: Payload, *, qos: int = 1, retain: bool = False
    ) -> None:
        """Publish straight away if connected; live data is not worth replaying later."""
        if self._publisher is not None:
            self._publisher.publish_now(
                topic, payload.model_dump_json().encode(), qos=qos, retain=retain
            )

    def record_test(self, effect: RecordTest) -> tuple[str, float]:
        """Write a finished routine test into the chain, and its event; returns (id, time)."""
        test = effect.test
        event = f"routine_test_{test.outcome.value}"
        body: dict[str, object] = {
            "kind": "routine_test",
            "reason": test.reason,
            "operator": test.operator,
            "outcome": test.outcome.value,
            "steps": [
                {
                    "nominal_g": str(result.step.nominal_g),
                    "weight_id": result.step.weight_id or None,
                    "measured_g": str(result.measured_g),
                    "error_g": str(result.error_g),
                    "warning_g": str(result.step.limits.warning_g),
                    "control_g": str(result.step.limits.control_g),
                    "outcome": result.outcome.value,
                }
                for result in test.results
            ],
        }
        record_id, at = self._record_assurance("ROUTINE_TEST", body, event, test.summary())
        self.last_test = {
            "id": record_id,
            "at": datetime.fromtimestamp(at, UTC).isoformat(),
            "outcome": test.outcome.value,
        }
        return record_id, at

    def record_release(self, effect: ReleaseScale) -> tuple[str, float]:
        """Write a supervisor's release of an out-of-tolerance scale into the chain."""
        body: dict[str, object] = {
            "kind": "scale_released",
            "operator": effect.override.operator,
            "reason": effect.override.reason,
            "was": effect.was,
        }
        return self._record_assurance("SCALE_RELEASED", body, None, "")

    def _record_assurance(
        self, kind: str, body: dict[str, object], event: str | None, reason: str
    ) -> tuple[str, float]:
        station = self._station
        at = station.clock.time()
        record_id = str(uuid4())
        identity = station.link.identity
        body["scale"] = {
            "device": station.link.driver.device,
            "model": identity.model if identity else None,
            "serial": identity.serial if identity else None,
        }
        body["weight_class"] = station.config.agent.assurance.weight_class
        outgoing = []
        if event is not None and station.config.agent.mqtt.enabled:
            payload = EventPayload(**station.identity, event=event, reason=reason)
            outgoing.append(
                Outgoing(payload.msg_id, station.topics.event, payload.model_dump_json().encode())
            )
        station.ledger.record(
            record_id,
            order_id=None,
            verdict=kind,
            recorded_at=datetime.fromtimestamp(at, UTC).isoformat(),
            body=body,
            outgoing=outgoing,
        )
        station.log.info(kind.lower(), reason=reason or None, record_id=record_id)
        for appended in self.appended:
            appended()
        if self._publisher is not None:
            self._publisher.wake()
        return record_id, at

    def record(self, effect: Record) -> PhotoRequest:
        """Write the verdict and its messages to the ledger (before any light shows it).

        Returns the moment to photograph, for a camera if there is one.
        """
        station, verdict = self._station, effect.verdict
        config = station.config.agent
        written = evidence.build(
            effect,
            identity=station.identity,
            topics=station.topics,
            judged_at=datetime.fromtimestamp(station.clock.time(), UTC),
            scale_device=station.link.driver.device,
            scale_identity=station.link.identity,
            station_policy=config.tolerance,
            publish_verdicts=config.mqtt.publish_verdicts,
        )
        if self.last_test is not None:  # the scale was tested: this verdict says when
            written.body["routine_test"] = self.last_test
        station.ledger.record(
            written.parcel_id,
            order_id=verdict.order_id,
            verdict=verdict.kind.value,
            recorded_at=written.judged_at.isoformat(),
            body=written.body,
            outgoing=written.outgoing if config.mqtt.enabled else [],
        )
        if self._publisher is not None:
            self._publisher.send_owed(station.ledger)  # the alert first, then the log line
        station.log.info(
            "parcel_judged",
            order_id=verdict.order_id,
            verdict=verdict.kind.value,
            reason=verdict.reason,
            parcel_id=written.parcel_id,
            override=effect.override.reason if effect.override else None,
        )
        for appended in self.appended:
            appended()
        recorded = RecordedVerdict(written.parcel_id, verdict, verdict.is_flagged)
        for listener in self.listeners:
            listener(recorded)
        measured = verdict.measured_g
        return PhotoRequest(
            written.parcel_id,
            verdict.order_id,
            "verdict",
            verdict.kind.value,
            "-" if measured is None else format_grams(measured),
            written.judged_at.timestamp(),
        )

    def record_photo(self, taken: PhotoTaken) -> None:
        """Append a kept photo to the chain: its file and SHA-256, naming the parcel."""
        request, photo = taken.request, taken.photo
        body: dict[str, object] = {
            "kind": "photo",
            "of_parcel": request.parcel_id,
            "moment": request.moment,
            "file": photo.relative,
            "sha256": photo.sha256,
            "bytes": photo.size,
            "camera": taken.camera,
            "taken_at": datetime.fromtimestamp(request.at, UTC).isoformat(),
            "capture_ms": round(taken.took_ms, 1),
        }
        station = self._station
        station.ledger.record(
            f"{request.parcel_id}/photo/{request.moment}",
            order_id=request.order_id,
            verdict="PHOTO",
            recorded_at=datetime.fromtimestamp(station.clock.time(), UTC).isoformat(),
            body=body,
            outgoing=[],
        )
        station.log.info("photo_kept", parcel_id=request.parcel_id, file=photo.relative)
        for appended in self.appended:
            appended()

    def photo_failed(self, failed: PhotoFailed) -> None:
        """Say so: in the log, and to the supervisors once per problem."""
        reason = failed.reason
        self._station.log.warning("photo_failed", parcel_id=failed.request.parcel_id, reason=reason)
        if reason != self._camera_problem:
            self._camera_problem = reason
            self.tell("camera_failed", reason, order_id=failed.request.order_id)
