"""Writing what the station decided: verdicts into the ledger, messages into the outbox.

A verdict is written with its evidence and its outgoing messages in one transaction, before
any light shows it; an `event` goes through the outbox too, so a command's answer survives a
broker outage. Live data (health, weight) is published straight away or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

from scale_agent.io.ledger import Outgoing
from scale_agent.io.messages import EventPayload
from scale_agent.station import evidence

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
    from scale_agent.station.effects import Record


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

    def record(self, effect: Record) -> None:
        """Write the verdict and its messages to the ledger (before any light shows it)."""
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
        station.ledger.record(
            written.parcel_id,
            order_id=verdict.order_id,
            verdict=verdict.kind.value,
            recorded_at=written.judged_at.isoformat(),
            body=written.body,
            outgoing=written.outgoing if config.mqtt.enabled else [],
        )
        station.log.info(
            "parcel_judged",
            order_id=verdict.order_id,
            verdict=verdict.kind.value,
            reason=verdict.reason,
            parcel_id=written.parcel_id,
            override=effect.override.reason if effect.override else None,
        )
        if self._publisher is not None:
            self._publisher.wake()
        recorded = RecordedVerdict(written.parcel_id, verdict, verdict.is_flagged)
        for listener in self.listeners:
            listener(recorded)
