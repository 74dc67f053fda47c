"""The I/O shell around `StationLogic`: threads, the scale link, outputs, ledger and MQTT.

Threads, each with one job:

- `scale-link`: opens the scale driver, reads frames, reconnects with backoff and jitter;
- the station loop (the caller of `StationRuntime.run`): the only owner of station state and
  of the ledger connection that records verdicts;
- paho's network thread and `outbox-drain` (in `scale_agent.mqtt`).

They talk through one queue into the station loop, so the state machine never needs a lock.
"""

from __future__ import annotations

import queue
import random
import threading
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from uuid import uuid4

import structlog

from scale_agent import __version__, systemd
from scale_agent.clock import Clock, SystemClock
from scale_agent.errors import DeviceError, JobError
from scale_agent.jobs import Job, parse_job
from scale_agent.ledger import LEDGER_FILE, Ledger, Outgoing
from scale_agent.logs import RateLimiter
from scale_agent.messages import (
    EventPayload,
    StationIdentity,
    StatusPayload,
    Topics,
    VerdictPayload,
)
from scale_agent.plugins import (
    SAFE_INDICATION,
    Indication,
    OutputDriver,
    ScaleDriver,
    ScaleIdentity,
)
from scale_agent.station import Note, Record, Show, StationLogic

if TYPE_CHECKING:
    from collections.abc import Callable

    from scale_agent.config import StationConfig
    from scale_agent.logs import Log
    from scale_agent.mqtt import Publisher
    from scale_agent.verifier import Verdict
    from scale_agent.weights import Reading

TICK_S = 0.05
BACKOFF_MIN_S = 0.5
BACKOFF_MAX_S = 10.0
MAX_EVIDENCE_READINGS = 50


@dataclass(frozen=True)
class LinkUp:
    """The scale link opened its device."""

    identity: ScaleIdentity


@dataclass(frozen=True)
class LinkDown:
    """The scale link lost (or could not open) its device."""

    reason: str


@dataclass(frozen=True)
class IncomingJob:
    """An order as raw bytes from an outside source, parsed in the station loop."""

    data: bytes
    source: str


@dataclass(frozen=True)
class RecordedVerdict:
    """A verdict as recorded: what listeners (the demo, tests) are told."""

    parcel_id: str
    verdict: Verdict
    is_flagged: bool


class ScaleLink:
    """Keeps a scale driver open and streams its readings into the station queue."""

    def __init__(
        self, driver: ScaleDriver, clock: Clock, emit: Callable[[object], None], log: Log
    ) -> None:
        self.driver = driver
        self._clock = clock
        self._emit = emit
        self._log = log
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="scale-link", daemon=True)
        self._random = random.Random()  # noqa: S311 - jitter, not cryptography
        self.identity: ScaleIdentity | None = None
        self.reconnects = 0
        self._limiter = RateLimiter()

    def start(self) -> None:
        """Start the reader thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop reading and close the driver."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=3)
        self.driver.close()

    def _run(self) -> None:
        delay = BACKOFF_MIN_S
        while not self._stop.is_set():
            try:
                identity = self.driver.open()
                self._connected(identity)
                delay = BACKOFF_MIN_S
                while not self._stop.is_set():
                    readings = self.driver.read()
                    if readings:
                        now, wall = self._clock.monotonic(), self._clock.time()
                        for reading in readings:
                            self._emit(replace(reading, received_at=now, wall_time=wall))
            except DeviceError as exc:
                self.driver.close()
                self._emit(LinkDown(str(exc)))
                held = self._limiter.allow("scale_unavailable")
                if held is not None:
                    self._log.warning(
                        "scale_unavailable", reason=str(exc), retry_in_s=delay, suppressed=held
                    )
                # Backoff with jitter: many stations re-opening converters at once would
                # otherwise retry in lockstep.
                self._stop.wait(delay * (0.5 + self._random.random()))
                delay = min(delay * 2, BACKOFF_MAX_S)
                self.reconnects += 1

    def _connected(self, identity: ScaleIdentity) -> None:
        previous = self.identity
        if previous is not None and previous.serial and identity.serial != previous.serial:
            self._log.warning("scale_replaced", was=previous.describe(), now=identity.describe())
        self.identity = identity
        self._log.info("scale_connected", device=self.driver.device, scale=identity.describe())
        self._emit(LinkUp(identity))


class Outputs:
    """All configured outputs; one failing output never stops the others or the verdicts."""

    def __init__(self, drivers: list[OutputDriver], log: Log) -> None:
        self.drivers = drivers
        self._log = log
        self._limiter = RateLimiter()

    def _each(self, action: str, call: Callable[[OutputDriver], None]) -> None:
        for driver in self.drivers:
            try:
                call(driver)
            except DeviceError as exc:
                held = self._limiter.allow(f"{action}:{id(driver)}")
                if held is not None:
                    self._log.error(
                        "output_failed", action=action, reason=str(exc), suppressed=held
                    )

    def open(self) -> None:
        """Open every output (each shows its safe state)."""
        self._each("open", lambda driver: driver.open())

    def show(self, indication: Indication) -> None:
        """Show an indication on every output."""
        self._each("show", lambda driver: driver.show(indication))

    def close(self) -> None:
        """Leave every output in its safe state."""
        self._each("show", lambda driver: driver.show(SAFE_INDICATION))
        self._each("close", lambda driver: driver.close())


class StationRuntime:
    """Runs one station until stopped."""

    def __init__(
        self,
        config: StationConfig,
        scale: ScaleDriver,
        outputs: list[OutputDriver],
        *,
        clock: Clock | None = None,
        publisher_factory: Callable[[StationRuntime], Publisher] | None = None,
    ) -> None:
        self.config = config
        station = config.agent.station
        self.identity = StationIdentity(site=station.site, line=station.line, station=station.id)
        self.topics = Topics(station.site, station.line, station.id)
        self.clock = clock or SystemClock()
        self.log = structlog.get_logger("scale_agent").bind(
            station_id=f"{station.site}/{station.line}/{station.id}"
        )
        self.logic = StationLogic(config.agent.settle, config.agent.tolerance, config.catalog)
        self.events: queue.Queue[object] = queue.Queue()
        self.link = ScaleLink(scale, self.clock, self.events.put, self.log)
        self.outputs = Outputs(outputs, self.log)
        self.listeners: list[Callable[[RecordedVerdict], None]] = []
        self.publisher = publisher_factory(self) if publisher_factory else None
        self.parse_errors = 0
        self.last_loop_at = self.clock.monotonic()
        self._stop = threading.Event()
        self._limiter = RateLimiter()
        self._ledger: Ledger | None = None
        self.on_started: Callable[[], object] | None = None

    # -- inputs from other threads --------------------------------------------------------

    def submit_job(self, job: Job) -> None:
        """Queue an order that is already parsed (the demo, tests)."""
        self.events.put(job)

    def submit_job_data(self, data: bytes, source: str = "mqtt") -> None:
        """Queue an order as JSON bytes; it is validated in the station loop."""
        self.events.put(IncomingJob(data, source))

    def stop(self) -> None:
        """Ask the station loop to finish."""
        self._stop.set()

    def status_payload(self, state: str) -> bytes:
        """The retained status message (online/offline)."""
        online = "online" if state == "online" else "offline"
        payload = StatusPayload(**self.identity, state=online, version=__version__)
        return payload.model_dump_json().encode()

    # -- the station loop -------------------------------------------------------------------

    def run(self) -> None:
        """Open everything, run the loop until `stop()`, then leave everything safe."""
        self._ledger = Ledger(self.config.data_dir, self.config.agent.mqtt.outbox_max_rows)
        self.outputs.open()
        self._carry_out([Show(self.logic.indication())])
        if self.publisher is not None:
            self.publisher.start()
        self.link.start()
        self.log.info("station_started", ledger=str(self._ledger.path))
        if self.on_started is not None:
            self.on_started()
        watchdog_s = systemd.watchdog_period_s()
        pinged_at = self.clock.monotonic()
        try:
            while not self._stop.is_set():
                self.step(TICK_S)
                # Pinged from this loop only: a wedged loop stops the pings and systemd
                # restarts the service.
                if watchdog_s is not None and self.last_loop_at - pinged_at >= watchdog_s:
                    systemd.notify("WATCHDOG=1", f"STATUS=station {self.logic.state.value}")
                    pinged_at = self.last_loop_at
        finally:
            self.link.stop()
            self.outputs.close()
            if self.publisher is not None:
                self.publisher.stop()
            self._ledger.close()
            self.log.info("station_stopped")

    def step(self, timeout_s: float) -> None:
        """Handle at most one event (waiting up to `timeout_s`), then let time pass."""
        try:
            event = self.events.get(timeout=timeout_s)
        except queue.Empty:
            event = None
        now = self.clock.monotonic()
        self.last_loop_at = now
        if event is not None:
            self._carry_out(self._dispatch(event, now))
        self._carry_out(self.logic.on_tick(now))

    def _dispatch(self, event: object, now: float) -> list[Show | Record | Note]:
        if isinstance(event, LinkDown):
            return self.logic.on_link_down(event.reason, now)
        if isinstance(event, LinkUp):
            return []
        if isinstance(event, Job):
            return self.logic.on_job(event, now)
        if isinstance(event, IncomingJob):
            try:
                job = parse_job(event.data)
            except JobError as exc:
                self._reject_job(exc, event.source)
                return []
            return self.logic.on_job(job, now)
        reading: Reading = event  # type: ignore[assignment]
        if reading.kind.value == "error":
            self._count_parse_error(reading)
        return self.logic.on_reading(reading, now)

    def _count_parse_error(self, reading: Reading) -> None:
        self.parse_errors += 1
        held = self._limiter.allow("frame_rejected")
        if held is not None:
            self.log.warning(
                "scale_frame_rejected",
                error=reading.error,
                raw=reading.raw[:64].hex(),
                suppressed=held,
                total=self.parse_errors,
            )

    def _reject_job(self, exc: JobError, source: str) -> None:
        self.log.warning("job_rejected", reason=exc.reason, source=source, order_id=exc.order_id)
        payload = EventPayload(
            **self.identity,
            event="job_rejected",
            reason=exc.reason,
            order_id=exc.order_id,
        )
        assert self._ledger is not None  # noqa: S101 - run() opened it
        self._ledger.enqueue(
            Outgoing(payload.msg_id, self.topics.event, payload.model_dump_json().encode())
        )
        if self.publisher is not None:
            self.publisher.wake()

    def _carry_out(self, effects: list[Show | Record | Note]) -> None:
        for effect in effects:
            if isinstance(effect, Record):
                self._record(effect)
            elif isinstance(effect, Show):
                self.outputs.show(effect.indication)
            else:
                self.log.info(effect.event, **effect.fields)

    def _record(self, effect: Record) -> None:
        """Write the verdict and its messages to the ledger (before any light shows it)."""
        assert self._ledger is not None  # noqa: S101 - run() opened it
        verdict = effect.verdict
        parcel_id = str(uuid4())
        judged_at = datetime.fromtimestamp(self.clock.time(), UTC)
        payload = VerdictPayload.build(
            verdict,
            identity=self.identity,
            parcel_id=parcel_id,
            judged_at=judged_at,
            is_rejudged=effect.is_rejudged,
        )
        outgoing = []
        if verdict.is_flagged:
            outgoing.append(
                Outgoing(payload.msg_id, self.topics.alert, payload.model_dump_json().encode())
            )
        if self.config.agent.mqtt.publish_verdicts:
            copy = payload.model_copy(update={"msg_id": str(uuid4())})
            outgoing.append(
                Outgoing(copy.msg_id, self.topics.verdict, copy.model_dump_json().encode())
            )
        body = payload.model_dump(mode="json", exclude={"msg_id", "sent_at"})
        body["evidence"] = [_evidence(r) for r in effect.evidence[-MAX_EVIDENCE_READINGS:]]
        identity = self.link.identity
        body["scale"] = {
            "device": self.link.driver.device,
            "model": identity.model if identity else None,
            "serial": identity.serial if identity else None,
        }
        self._ledger.record(
            parcel_id,
            order_id=verdict.order_id,
            verdict=verdict.kind.value,
            recorded_at=judged_at.isoformat(),
            body=body,
            outgoing=outgoing if self._mqtt_enabled else [],
        )
        self.log.info(
            "parcel_judged",
            order_id=verdict.order_id,
            verdict=verdict.kind.value,
            reason=verdict.reason,
            parcel_id=parcel_id,
        )
        if self.publisher is not None:
            self.publisher.wake()
        recorded = RecordedVerdict(parcel_id, verdict, verdict.is_flagged)
        for listener in self.listeners:
            listener(recorded)

    @property
    def _mqtt_enabled(self) -> bool:
        return self.config.agent.mqtt.enabled

    @property
    def ledger_path(self) -> str:
        """Where the ledger file is."""
        return str(self.config.data_dir / LEDGER_FILE)


def _evidence(reading: Reading) -> dict[str, object]:
    return {
        "raw": reading.raw.hex(),
        "weight": str(reading.weight) if reading.weight else None,
        "stable": reading.is_stable,
        "at": reading.wall_time,
    }
