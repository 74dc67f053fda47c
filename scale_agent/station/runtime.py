"""The I/O shell around `StationLogic`: the station loop, ledger, outputs and MQTT.

Threads, each with one job:

- `scale-link` (`scale_agent.io.scale_link`): owns the scale driver, reads, reconnects;
- the station loop (the caller of `StationRuntime.run`): the only owner of station state and
  of the ledger connection that records verdicts;
- paho's network thread and `outbox-drain` (`scale_agent.io.mqtt`).

They talk through one queue into the station loop, so the state machine needs no lock.
"""

from __future__ import annotations

import json
import os
import queue
import threading
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import structlog
from pydantic import ValidationError

from scale_agent import __version__
from scale_agent.domain.jobs import Job, parse_job
from scale_agent.domain.untrusted import load_json, validation_reasons
from scale_agent.errors import CatalogError, ConfigError, JobError, PayloadError
from scale_agent.io import systemd
from scale_agent.io.clock import Clock, SystemClock
from scale_agent.io.config import load_config, load_station_catalog, resolve
from scale_agent.io.ledger import LEDGER_FILE, Ledger, Outgoing
from scale_agent.io.logs import RateLimiter
from scale_agent.io.messages import (
    CommandPayload,
    EventPayload,
    HealthPayload,
    Mass,
    OutputHealth,
    Payload,
    ScaleHealth,
    StationIdentity,
    StatusPayload,
    Topics,
    WeightPayload,
)
from scale_agent.io.order_sources import OrderCache, make_source
from scale_agent.io.outputs import Outputs
from scale_agent.io.scale_link import CommandSent, LinkDown, LinkUp, ScaleLink
from scale_agent.io.scanner_link import Scanned, ScannerLink
from scale_agent.plugins import OutputDriver, ScaleCommand, ScaleDriver, ScannerDriver
from scale_agent.station import evidence
from scale_agent.station.logic import (
    Effect,
    Note,
    Override,
    Record,
    Refused,
    Show,
    State,
    StationLogic,
    Told,
    ZeroScale,
)
from scale_agent.station.scan_desk import LookedUp, ScanDesk
from scale_agent.weights import ReadingKind

if TYPE_CHECKING:
    from collections.abc import Callable
    from decimal import Decimal

    from scale_agent.domain.verifier import Verdict
    from scale_agent.io.config import StationConfig
    from scale_agent.io.mqtt import Publisher
    from scale_agent.weights import Reading

TICK_S = 0.05
STATUS_FILE = "status.json"
STATUS_EVERY_S = 1.0
# Sections a running station cannot swap: their drivers and connections are open.
RESTART_SECTIONS = ("station", "scale", "outputs", "scanner", "scans", "orders", "mqtt")


@dataclass(frozen=True)
class IncomingJob:
    """An order as raw bytes from an outside source, parsed in the station loop."""

    data: bytes
    source: str


@dataclass(frozen=True)
class IncomingCommand:
    """A command as raw bytes (from the `command` topic), parsed in the station loop."""

    data: bytes


@dataclass(frozen=True)
class PushedOrder:
    """An order pushed for the scanner (the `orders` topic), stored in the station loop."""

    data: bytes


@dataclass(frozen=True)
class Reload:
    """Re-read the station file (SIGHUP)."""


@dataclass(frozen=True)
class RecordedVerdict:
    """A verdict as recorded: what listeners (the demo, tests) are told."""

    parcel_id: str
    verdict: Verdict
    is_flagged: bool


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
        scanner: ScannerDriver | None = None,
    ) -> None:
        self.config = config
        station = config.agent.station
        self.identity = StationIdentity(site=station.site, line=station.line, station=station.id)
        self.topics = Topics(station.site, station.line, station.id)
        self.clock = clock or SystemClock()
        self.log = structlog.get_logger("scale_agent").bind(
            station_id=f"{station.site}/{station.line}/{station.id}",
            driver=config.agent.scale.driver,
        )
        self.logic = StationLogic(
            config.agent.settle,
            config.agent.tolerance,
            config.catalog,
            config.agent.policies,
            config.agent.scale.weighing_range,
        )
        self.events: queue.Queue[object] = queue.Queue()
        self.link = ScaleLink(scale, self.clock, self.events.put, self.log)
        self.outputs = Outputs(outputs, self.log)
        self.scanner_link: ScannerLink | None = None
        self.desk: ScanDesk | None = None
        self.order_cache: OrderCache | None = None
        if scanner is not None:
            self.scanner_link = ScannerLink(scanner, self.clock, self.events.put, self.log)
            orders = config.agent.orders
            if orders.source == "cache":
                self.order_cache = OrderCache(config.data_dir)
            self.desk = ScanDesk(
                config,
                self.logic,
                make_source(orders, config.data_dir, self.order_cache),
                emit=self.events.put,
                event=self._event,
                log=self.log,
            )
        self.listeners: list[Callable[[RecordedVerdict], None]] = []
        self.publisher = publisher_factory(self) if publisher_factory else None
        self.parse_errors = 0
        self.last_loop_at = self.clock.monotonic()
        self.last_stable_at: float | None = None
        self.empty_reading_g: Decimal | None = None
        self.on_started: Callable[[], object] | None = None
        self._stop = threading.Event()
        self._limiter = RateLimiter()
        self._ledger: Ledger | None = None
        self._next_health = 0.0
        self._next_weight = 0.0
        self._next_status = 0.0
        self._shown_signal = ""

    # -- inputs from other threads --------------------------------------------------------

    def submit_job(self, job: Job) -> None:
        """Queue an order that is already parsed (the demo, tests)."""
        self.events.put(job)

    def submit_job_data(self, data: bytes, source: str = "mqtt") -> None:
        """Queue an order as JSON bytes; it is validated in the station loop."""
        self.events.put(IncomingJob(data, source))

    def submit_order_push(self, data: bytes) -> None:
        """Queue an order the WMS pushed for later scanning (the `orders` topic)."""
        self.events.put(PushedOrder(data))

    def submit_scan(self, code: str) -> None:
        """Queue a code as if scanned (the demo's simulated scanner, tests)."""
        self.events.put(Scanned(code, self.clock.monotonic()))

    def submit_command_data(self, data: bytes) -> None:
        """Queue a command as JSON bytes; it is validated in the station loop."""
        self.events.put(IncomingCommand(data))

    def stop(self) -> None:
        """Ask the station loop to finish."""
        self._stop.set()

    def reload(self) -> None:
        """Ask the station loop to re-read its config file (safe from a signal handler)."""
        self.events.put(Reload())

    def status_payload(self, state: str) -> bytes:
        """The retained status message (online/offline)."""
        online = "online" if state == "online" else "offline"
        payload = StatusPayload(**self.identity, state=online, version=__version__)
        return payload.model_dump_json().encode()

    @property
    def ledger_path(self) -> str:
        """Where the ledger file is."""
        return str(self.config.data_dir / LEDGER_FILE)

    @property
    def ledger(self) -> Ledger:
        """The station loop's ledger connection (open while `run` runs)."""
        if self._ledger is None:
            self._ledger = Ledger(self.config.data_dir, self.config.agent.mqtt.outbox_max_rows)
        return self._ledger

    # -- the station loop -------------------------------------------------------------------

    def run(self) -> None:
        """Open everything, run the loop until `stop()`, then leave everything safe."""
        ledger = self.ledger
        self.outputs.open()
        self._carry_out([Show(self.logic.indication())])
        if self.publisher is not None:
            self.publisher.start()
        self.link.start()
        if self.scanner_link is not None:
            self.scanner_link.start()
        self.log.info("station_started", ledger=str(ledger.path))
        if self.on_started is not None:
            self.on_started()
        watchdog_s = systemd.watchdog_period_s()
        pinged_at = self.clock.monotonic()
        try:
            while not self._stop.is_set():
                self.step(TICK_S)
                # Pinged from this loop only, and only while every device thread lives: a
                # wedged loop or a dead link stops the pings and systemd restarts the service.
                if (
                    watchdog_s is not None
                    and self.last_loop_at - pinged_at >= watchdog_s
                    and self._links_alive()
                ):
                    systemd.notify("WATCHDOG=1", f"STATUS=station {self.logic.state.value}")
                    pinged_at = self.last_loop_at
        finally:
            self.link.stop()
            if self.scanner_link is not None:
                self.scanner_link.stop()
            self.outputs.close()
            if self.order_cache is not None:
                self.order_cache.close()
            if self.publisher is not None:
                self.publisher.stop()
            ledger.close()
            self._ledger = None
            self.log.info("station_stopped")

    def _links_alive(self) -> bool:
        links = [self.link] if self.scanner_link is None else [self.link, self.scanner_link]
        dead = [link.kind for link in links if not link.is_alive]
        if dead:
            held = self._limiter.allow("link_dead")
            if held is not None:
                self.log.error("device_thread_died", links=dead, suppressed=held)
        return not dead

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
        if self.publisher is not None and now >= self._next_health:
            self._next_health = now + self.config.agent.mqtt.health_interval_s
            self._publish_live(self.topics.health, self.health(now), retain=True)
        if now >= self._next_status:
            self._next_status = now + STATUS_EVERY_S
            self._write_status(now)

    def _dispatch(self, event: object, now: float) -> list[Effect]:
        effects: list[Effect] = []
        if isinstance(event, LinkDown):
            effects = self.logic.on_link_down(event.reason, now)
        elif isinstance(event, CommandSent):
            self._event(
                "command_done" if event.is_sent else "command_rejected",
                f"{event.command.value} sent to the scale"
                if event.is_sent
                else f"this scale's protocol cannot {event.command.value}",
                command=event.command.value,
            )
        elif isinstance(event, Job):
            effects = self.logic.on_job(event, now)
        elif isinstance(event, IncomingJob):
            effects = self._incoming_job(event, now)
        elif isinstance(event, IncomingCommand):
            effects = self._incoming_command(event.data, now)
        elif isinstance(event, Reload):
            self._reload()
        elif isinstance(event, Scanned | LookedUp | PushedOrder):
            effects = self._scanner_event(event, now)
        elif not isinstance(event, LinkUp):
            effects = self._reading(event, now)  # type: ignore[arg-type]
        return effects

    def _scanner_event(self, event: Scanned | LookedUp | PushedOrder, now: float) -> list[Effect]:
        if isinstance(event, PushedOrder):
            if self.order_cache is not None:
                try:
                    order_id = self.order_cache.put(event.data)
                except JobError as exc:
                    self._event("job_rejected", exc.reason, order_id=exc.order_id)
                else:
                    self.log.info("order_stored", order_id=order_id)
            return []
        if self.desk is None:
            return []
        if isinstance(event, Scanned):
            return self.desk.on_scan(event, now)
        return self.desk.on_looked_up(event, now)

    def _incoming_job(self, event: IncomingJob, now: float) -> list[Effect]:
        try:
            job = parse_job(event.data)
        except JobError as exc:
            self.log.warning(
                "job_rejected", reason=exc.reason, source=event.source, order_id=exc.order_id
            )
            self._event("job_rejected", exc.reason, order_id=exc.order_id)
            return []
        if job.msg_id is not None and not self.ledger.first_sighting(job.msg_id, time.time()):
            self._event(
                "job_duplicate",
                f"order {job.order_id}: message {job.msg_id} was already received; ignored",
                order_id=job.order_id,
            )
            return []
        return self.logic.on_job(job, now)

    def _reading(self, reading: Reading, now: float) -> list[Effect]:
        if reading.kind is ReadingKind.ERROR:
            self._count_parse_error(reading)
        elif reading.is_usable_weight and reading.weight is not None:
            grams = reading.weight.in_grams
            if reading.is_stable:
                self.last_stable_at = now
                if self.logic.state in {State.IDLE, State.WAITING} and (
                    abs(grams) < self.config.agent.settle.empty_threshold_g
                ):
                    self.empty_reading_g = grams
            mqtt = self.config.agent.mqtt
            if mqtt.publish_weight and self.publisher is not None and now >= self._next_weight:
                self._next_weight = now + mqtt.weight_interval_s
                payload = WeightPayload(
                    **self.identity, weight=Mass(value=float(grams)), is_stable=reading.is_stable
                )
                self._publish_live(self.topics.weight, payload, qos=0)
        effects = self.logic.on_reading(reading, now)
        if self.desk is not None:
            effects += self.desk.on_reading(reading, now)
        return effects

    # -- commands -------------------------------------------------------------------------------

    def _incoming_command(self, data: bytes, now: float) -> list[Effect]:
        try:
            raw = load_json(data, what="command")
        except PayloadError as exc:
            self._event("command_rejected", f"invalid command: {exc.reason}", request_id=None)
            return []
        try:
            command = CommandPayload.model_validate(raw)
        except ValidationError as exc:
            self._event(
                "command_rejected",
                f"invalid command: {validation_reasons(exc, 'command')}",
                request_id=_request_id(raw),
            )
            return []
        if command.command not in self.config.agent.mqtt.accept_commands:
            self._event(
                "command_rejected",
                f"this station does not accept '{command.command}' commands",
                command=command.command,
                request_id=command.request_id,
            )
            return []
        self.log.info(
            "command_received",
            command=command.command,
            operator=command.operator,
            request_id=command.request_id,
        )
        return self._carry_command(command, now)

    def _carry_command(self, command: CommandPayload, now: float) -> list[Effect]:
        name, request_id = command.command, command.request_id
        if name == "override":
            if command.operator is None or command.reason is None:
                self._event(
                    "command_rejected",
                    "an override needs an operator and a reason",
                    command=name,
                    request_id=request_id,
                )
                return []
            override = Override(command.operator, command.reason)
            return self.logic.on_override(override, command.order_id, now)
        if name == "reweigh":
            return self.logic.on_reweigh(now)
        if name == "reload_catalog":
            self._reload_catalog(request_id)
            return []
        why_not = self.logic.can_zero()
        if why_not is not None:
            self._event(
                "command_rejected",
                f"cannot {name} now: {why_not}",
                command=name,
                request_id=request_id,
            )
            return []
        self.link.send(ScaleCommand.ZERO if name == "zero" else ScaleCommand.TARE)
        return []

    def _reload_catalog(self, request_id: str | None) -> None:
        path = resolve(self.config.path, self.config.agent.station.catalog)
        try:
            catalog = load_station_catalog(path, self.config.agent.policies)
        except CatalogError as exc:
            problems = "; ".join(str(problem) for problem in exc.problems)
            self._event(
                "command_rejected",
                f"catalog kept, the new one has problems: {problems}",
                command="reload_catalog",
                request_id=request_id,
            )
            return
        self.logic.catalog = catalog
        self._event(
            "catalog_reloaded",
            f"{len(catalog.skus)} SKUs, {len(catalog.cartons)} cartons from {path}",
            command="reload_catalog",
            request_id=request_id,
        )

    # -- effects --------------------------------------------------------------------------------

    def _carry_out(self, effects: list[Effect]) -> None:
        for effect in effects:
            if isinstance(effect, Record):
                self._record(effect)
            elif isinstance(effect, Show):
                self.outputs.show(effect.indication)
                self._tell_systemd(effect)
            elif isinstance(effect, ZeroScale):
                self.log.warning("zero_drift_corrected", drift_g=str(effect.drift_g))
                self.link.send(ScaleCommand.ZERO)
            elif isinstance(effect, Refused):
                kind = "job_rejected" if effect.command == "job" else "command_rejected"
                command = None if effect.command == "job" else effect.command
                self._event(kind, effect.reason, command=command, order_id=effect.order_id)
            elif isinstance(effect, Told):
                self._event(effect.event, effect.reason, order_id=effect.order_id)
            else:
                self._note(effect)

    def _tell_systemd(self, show: Show) -> None:
        """STATUS= for `systemctl status`, whenever the light changes."""
        signal = show.indication.signal.value
        if signal != self._shown_signal:
            self._shown_signal = signal
            systemd.notify(f"STATUS={signal}: {show.indication.text}"[:200])

    def _reload(self) -> None:
        """Apply a changed station file; a broken one is refused and the old one kept."""
        try:
            fresh = load_config(self.config.path)
        except ConfigError as exc:
            self.log.error(  # noqa: TRY400 - a refused file is no crash: no traceback
                "config_reload_refused",
                source=exc.source,
                problems=[str(problem) for problem in exc.problems],
                hint="the station keeps running on the previous config",
            )
            return
        old, new = self.config.agent, fresh.agent
        needs_restart = [
            name for name in RESTART_SECTIONS if getattr(old, name) != getattr(new, name)
        ]
        if fresh.scale_settings != self.config.scale_settings and "scale" not in needs_restart:
            needs_restart.append("scale")
        self.logic.reconfigure(new.settle, new.tolerance, fresh.catalog, new.policies)
        self.config = replace(
            self.config,
            agent=old.model_copy(
                update={
                    "settle": new.settle,
                    "tolerance": new.tolerance,
                    "policies": new.policies,
                }
            ),
            catalog=fresh.catalog,
        )
        self.log.info(
            "config_reloaded",
            skus=len(fresh.catalog.skus),
            policy=new.tolerance.label,
            restart_needed_for=needs_restart or None,
        )

    def _write_status(self, now: float) -> None:
        """A status file beside the ledger, for `scale-agent status` (written atomically)."""
        status = self.health(now).model_dump(mode="json")
        status["pid"] = os.getpid()
        status["written_at"] = self.clock.time()
        status["signal"] = self._shown_signal
        path = self.config.data_dir / STATUS_FILE
        try:
            temporary = path.with_suffix(".tmp")
            temporary.write_text(json.dumps(status), encoding="utf-8")
            temporary.replace(path)
        except OSError as exc:
            held = self._limiter.allow("status_file")
            if held is not None:
                self.log.warning("status_file_not_written", path=str(path), reason=str(exc))

    def _note(self, note: Note) -> None:
        self.log.info(note.event, **note.fields)

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

    def _event(self, event: str, reason: str, **fields: str | None) -> None:
        """Queue an `event` message (through the outbox: command answers are not dropped)."""
        payload = EventPayload(**self.identity, event=event, reason=reason, **fields)
        self.log.info(event, reason=reason, **fields)
        if self.config.agent.mqtt.enabled:
            self.ledger.enqueue(
                Outgoing(payload.msg_id, self.topics.event, payload.model_dump_json().encode())
            )
            if self.publisher is not None:
                self.publisher.wake()

    def _publish_live(
        self, topic: str, payload: Payload, *, qos: int = 1, retain: bool = False
    ) -> None:
        """Publish straight away if connected; live data is not worth replaying later."""
        assert self.publisher is not None  # noqa: S101 - callers check
        self.publisher.publish_now(
            topic, payload.model_dump_json().encode(), qos=qos, retain=retain
        )

    def _record(self, effect: Record) -> None:
        """Write the verdict and its messages to the ledger (before any light shows it)."""
        verdict = effect.verdict
        written = evidence.build(
            effect,
            identity=self.identity,
            topics=self.topics,
            judged_at=datetime.fromtimestamp(self.clock.time(), UTC),
            scale_device=self.link.driver.device,
            scale_identity=self.link.identity,
            station_policy=self.config.agent.tolerance,
            publish_verdicts=self.config.agent.mqtt.publish_verdicts,
        )
        self.ledger.record(
            written.parcel_id,
            order_id=verdict.order_id,
            verdict=verdict.kind.value,
            recorded_at=written.judged_at.isoformat(),
            body=written.body,
            outgoing=written.outgoing if self.config.agent.mqtt.enabled else [],
        )
        self.log.info(
            "parcel_judged",
            order_id=verdict.order_id,
            verdict=verdict.kind.value,
            reason=verdict.reason,
            parcel_id=written.parcel_id,
            override=effect.override.reason if effect.override else None,
        )
        if self.publisher is not None:
            self.publisher.wake()
        recorded = RecordedVerdict(written.parcel_id, verdict, verdict.is_flagged)
        for listener in self.listeners:
            listener(recorded)

    # -- health ---------------------------------------------------------------------------------

    def health(self, now: float) -> HealthPayload:
        """What `health` reports: the scale as last seen, the backlog, the station's state."""
        logic = self.logic
        identity = self.link.identity

        def age(at: float | None) -> float | None:
            return None if at is None else round(now - at, 3)

        scale = ScaleHealth(
            state="fault" if logic.is_faulted else "ok",
            fault_reason=logic.fault_reason if logic.is_faulted else None,
            device=self.link.driver.device,
            model=identity.model if identity else None,
            serial=identity.serial if identity else None,
            reconnects=self.link.reconnects,
            parse_errors=self.parse_errors,
            seconds_since_last_reading=age(logic.last_frame_at),
            seconds_since_last_stable=age(self.last_stable_at),
            empty_reading=Mass.of(self.empty_reading_g),
        )
        ledger = self.ledger
        return HealthPayload(
            **self.identity,
            station_state=logic.state.value,
            order_id=logic.job.order_id if logic.job else None,
            scale=scale,
            outbox_backlog=ledger.backlog(),
            outbox_dropped=ledger.dropped(),
            last_verdict=logic.last_verdict.kind if logic.last_verdict else None,
            interval_s=self.config.agent.mqtt.health_interval_s,
            outputs=self.outputs.health(),
            scanner=None
            if self.scanner_link is None
            else OutputHealth.of(self.scanner_link.driver.device, self.scanner_link.problem),
        )


def _request_id(raw: object) -> str | None:
    value = raw.get("request_id") if isinstance(raw, dict) else None
    return value[:128] if isinstance(value, str) else None
