"""What arrives in the station loop before it is an event of the state machine.

A job payload is parsed and checked against the ledger's memory of message ids (a message
the broker re-delivers is told, not loaded twice); an order the WMS pushes for later
scanning goes to the order cache; a reading feeds the scale's telemetry and, when asked,
the live-weight topic, rate-limited. Runs in the station loop only.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Protocol

from scale_agent.domain.jobs import parse_job
from scale_agent.errors import JobError
from scale_agent.io.messages import Mass, WeightPayload
from scale_agent.station.effects import Effect, Refused, Told
from scale_agent.weights import ReadingKind

if TYPE_CHECKING:
    from scale_agent.io.config import StationConfig
    from scale_agent.io.ledger import Ledger
    from scale_agent.io.logs import Log
    from scale_agent.io.messages import StationIdentity, Topics
    from scale_agent.io.mqtt import Publisher
    from scale_agent.io.order_sources import OrderCache
    from scale_agent.station.events import FromOutside
    from scale_agent.station.logic import StationLogic
    from scale_agent.station.recorder import Recorder
    from scale_agent.station.telemetry import Telemetry
    from scale_agent.weights import Reading


class Station(Protocol):
    """What the intake reads of the running station (the runtime)."""

    identity: StationIdentity
    topics: Topics
    log: Log
    logic: StationLogic
    telemetry: Telemetry
    recorder: Recorder
    publisher: Publisher | None
    order_cache: OrderCache | None

    @property
    def config(self) -> StationConfig:
        """The config in force (a reload may replace it)."""
        ...

    @property
    def ledger(self) -> Ledger:
        """The station loop's ledger connection."""
        ...


class Intake:
    """Job payloads, pushed orders and the readings' side channels."""

    def __init__(self, station: Station) -> None:
        self._station = station
        self._next_weight = 0.0

    def job(self, event: FromOutside, now: float) -> list[Effect]:
        """A job payload: refused with the reason, told as a duplicate, or loaded."""
        station = self._station
        try:
            job = parse_job(event.data)
        except JobError as exc:
            station.log.warning(
                "job_rejected", reason=exc.reason, source=event.source, order_id=exc.order_id
            )
            return [Refused("job", exc.reason, exc.order_id)]
        if job.msg_id is not None and not station.ledger.first_sighting(job.msg_id, time.time()):
            reason = f"order {job.order_id}: message {job.msg_id} was already received; ignored"
            return [Told("job_duplicate", reason, job.order_id)]
        return station.logic.on_job(job, now)

    def pushed_order(self, event: FromOutside) -> list[Effect]:
        """An order the WMS pushed for scanning later: kept in the order cache."""
        station = self._station
        if station.order_cache is None:
            return []
        try:
            order_id = station.order_cache.put(event.data)
        except JobError as exc:
            return [Refused("job", exc.reason, exc.order_id)]
        station.log.info("order_stored", order_id=order_id)
        return []

    def reading(self, reading: Reading, now: float) -> None:
        """Telemetry of every frame, and the live weight when the config asks for it."""
        station = self._station
        if reading.kind is ReadingKind.ERROR:
            station.telemetry.frame_rejected(reading)
            return
        if not reading.is_usable_weight or reading.weight is None:
            return
        grams = reading.weight.in_grams
        if reading.is_stable:
            empty_g = station.config.agent.settle.empty_threshold_g
            station.telemetry.stable(grams, now, station.logic.state, empty_g)
        mqtt = station.config.agent.mqtt
        if mqtt.publish_weight and station.publisher is not None and now >= self._next_weight:
            self._next_weight = now + mqtt.weight_interval_s
            payload = WeightPayload(
                **station.identity, weight=Mass(value=float(grams)), is_stable=reading.is_stable
            )
            station.recorder.publish_live(station.topics.weight, payload, qos=0)
