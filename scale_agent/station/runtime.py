"""The I/O shell around `StationLogic`: the station loop, ledger, outputs and MQTT.

Threads, each with one job:

- `scale-link` (`scale_agent.io.scale_link`): owns the scale driver, reads, reconnects;
- the station loop (the caller of `StationRuntime.run`): the only owner of station state and
  of the ledger connection that records verdicts;
- paho's network thread and `outbox-drain` (`scale_agent.io.mqtt`).

They talk through one queue into the station loop, so the state machine needs no lock.
"""

from __future__ import annotations

import queue
import threading
import time
from typing import TYPE_CHECKING, assert_never

import structlog

from scale_agent import __version__
from scale_agent.domain.jobs import Job
from scale_agent.io import systemd
from scale_agent.io.clock import Clock, SystemClock
from scale_agent.io.ledger import LEDGER_FILE, Ledger
from scale_agent.io.logs import RateLimiter
from scale_agent.io.messages import (
    HealthPayload,
    StationIdentity,
    StatusPayload,
    Topics,
)
from scale_agent.io.order_sources import OrderCache, make_source
from scale_agent.io.outputs import Outputs
from scale_agent.io.scale_link import CommandSent, LinkDown, LinkUp, ScaleLink
from scale_agent.io.scanner_link import Scanned, ScannerLink
from scale_agent.io.translations import Translator
from scale_agent.plugins import (
    CameraDriver,
    OutputDriver,
    ScaleCommand,
    ScaleDriver,
    ScannerDriver,
)
from scale_agent.station.anchoring import HeadAnchor
from scale_agent.station.assurance_desk import AssuranceDesk
from scale_agent.station.commands import CommandDesk
from scale_agent.station.effects import (
    Effect,
    Note,
    Record,
    RecordTest,
    Refused,
    ReleaseScale,
    Show,
    StartTest,
    Told,
    ZeroScale,
)
from scale_agent.station.events import Inbound, IncomingCommand, IncomingJob, PushedOrder, Reload
from scale_agent.station.intake import Intake
from scale_agent.station.logic import StationLogic
from scale_agent.station.photo_desk import PhotoDesk, PhotoFailed, PhotoTaken
from scale_agent.station.recorder import Recorder
from scale_agent.station.reloading import reload_config
from scale_agent.station.restart import restore
from scale_agent.station.scale_inbox import ScaleInbox, ScaleWaiting
from scale_agent.station.scan_desk import LookedUp, ScanDesk
from scale_agent.station.screen_feed import ScreenFeed
from scale_agent.station.telemetry import Telemetry
from scale_agent.weights import Reading

if TYPE_CHECKING:
    from collections.abc import Callable

    from scale_agent.io.config import StationConfig
    from scale_agent.io.mqtt import Publisher

TICK_S = 0.05
# With nothing on the platter and no parcel in its life the loop's timers (a silent scale, the
# live weight on the screen) need no finer step than this; the next parcel's first frame wakes
# the loop at once (`station.scale_inbox`). Fewer wake-ups are most of an idle station's cost.
IDLE_TICK_S = 0.25
STATUS_EVERY_S = 2.0  # `scale-agent status` calls a status older than 5 s stale


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
        camera: CameraDriver | None = None,
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
            wall_time=lambda at: time.time() - (self.clock.monotonic() - at),
        )
        self.translator = Translator(config.agent.screen.language)
        self.events: queue.Queue[Inbound] = queue.Queue()
        self.telemetry = Telemetry(self.identity, self.log)
        self.scale_inbox = ScaleInbox(self.events.put, self.logic.is_waiting_for_a_load)
        self.link = ScaleLink(
            scale, self.clock, self.scale_inbox.put, self.log, self.scale_inbox.gather_s
        )
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
                log=self.log,
            )
        self.commands = CommandDesk(lambda: self.config, self.logic, self.link.send, self.log)
        self.publisher = publisher_factory(self) if publisher_factory else None
        self.screen: ScreenFeed | None = None
        if config.agent.screen.enabled:
            self.screen = ScreenFeed(
                config.agent.screen,
                self.logic,
                self.translator,
                self.log,
                station=f"{station.site}/{station.line}/{station.id}",
                tracker=lambda: self.desk.tracker if self.desk else None,
                is_monitor_up=lambda: self.publisher is None or self.publisher.is_connected,
            )
        self.recorder = Recorder(self, self.publisher)
        self.listeners = self.recorder.listeners  # told of every recorded verdict
        self.intake = Intake(self)
        # Every station signs its head, with or without a broker (`station.anchoring`).
        self.anchor = HeadAnchor(
            f"{station.site}/{station.line}/{station.id}",
            self.topics.chain_head,
            self.publisher,
            lambda: self.ledger,
            self.log,
            copies=config.head_copies,
        )
        self.recorder.appended.append(self.anchor.recorded)
        self.assurance: AssuranceDesk | None = None
        if config.agent.assurance.enabled:
            agent = config.agent
            self.assurance = AssuranceDesk(
                agent.assurance, agent.settle, agent.tolerance, self.logic
            )
        self.photos: PhotoDesk | None = None
        if camera is not None and config.agent.camera is not None:
            self.photos = PhotoDesk(
                camera,
                config.agent.camera,
                config.data_dir,
                station=f"{station.site}/{station.line}/{station.id}",
                emit=self.events.put,
                log=self.log,
            )
        self.last_loop_at = self.clock.monotonic()
        self.on_started: Callable[[], object] | None = None
        self._stop = threading.Event()
        self._reload_asked = False  # set by `reload` (a signal handler)
        self._limiter = RateLimiter()
        self._ledger: Ledger | None = None
        self._next_health = 0.0
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
        """Ask the station loop to re-read its config file at its next turn (within a tick).

        Safe from a signal handler because it only sets a flag. Putting on the queue is not:
        the handler runs in the loop's own thread, between two bytecodes, possibly inside
        `Queue.get` while it holds the queue's lock, and `put` would then wait for that lock
        forever (the station would hang, deaf even to SIGTERM).
        """
        self._reload_asked = True

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
        ledger = self._open_all()
        watchdog_s = systemd.watchdog_period_s()
        pinged_at = self.clock.monotonic()
        try:
            while not self._stop.is_set():
                self.step(IDLE_TICK_S if self.logic.is_waiting_for_a_load() else TICK_S)
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
            self._close_all(ledger)

    def _open_all(self) -> Ledger:
        ledger = self.ledger
        self.anchor.open(self.config.data_dir)
        self.outputs.open()
        if self.screen is not None:
            self.screen.start()
        self._carry_out([Show(self.logic.guidance())])
        self._restore_safety(ledger)
        if self.assurance is not None:
            self._carry_out(self.assurance.started())
        if self.publisher is not None:
            self.publisher.start()
        self.link.start()
        if self.scanner_link is not None:
            self.scanner_link.start()
        if self.photos is not None:
            self.photos.start()
        self.log.info("station_started", ledger=str(ledger.path))
        if self.on_started is not None:
            self.on_started()
        return ledger

    def _close_all(self, ledger: Ledger) -> None:
        self.link.stop()
        if self.scanner_link is not None:
            self.scanner_link.stop()
        self.outputs.close()
        if self.photos is not None:
            self.photos.stop()
        if self.screen is not None:
            self.screen.stop()
        if self.order_cache is not None:
            self.order_cache.close()
        if self.publisher is not None:
            self.publisher.stop()
        self._write_status(self.clock.monotonic(), stopped=True)
        ledger.close()
        self._ledger = None
        self.log.info("station_stopped")

    def _links_alive(self) -> bool:
        links: list[ScaleLink | ScannerLink] = [self.link]
        if self.scanner_link is not None:
            links.append(self.scanner_link)
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
        self.outputs.vouch()  # a hung loop stops this: outputs then lock the seal by themselves
        for waiting in self.scale_inbox.take():  # before the event: most arrived before it
            self._carry_out(self._dispatch(waiting, now))
        if self._reload_asked:
            self._reload_asked = False
            self._carry_out(self._dispatch(Reload(), now))
        if event is not None:
            self._carry_out(self._dispatch(event, now))
        self._carry_out(self.logic.on_tick(now))
        if self.assurance is not None:
            self._carry_out(self.assurance.on_tick(now, self.clock.time()))
        if self.screen is not None:
            self.screen.tick(now)
        self.anchor.tick(now)
        if self.publisher is not None and now >= self._next_health:
            self._next_health = now + self.config.agent.mqtt.health_interval_s
            self.recorder.publish_live(self.topics.health, self.health(now), retain=True)
        if now >= self._next_status:
            self._next_status = now + STATUS_EVERY_S
            self._write_status(now)

    def _dispatch(self, event: Inbound, now: float) -> list[Effect]:  # noqa: PLR0911 - one per kind
        """One case per kind of event (mypy proves there is one for each): the devices' here."""
        match event:
            case ScaleWaiting():
                return []  # only a wake-up: step took what waits in the scale inbox
            case Reading():
                return self._reading(event, now)
            case LinkUp():
                return [] if self.assurance is None else self.assurance.link_up(event.identity)
            case LinkDown():
                return self.logic.on_link_down(event.reason, now)
            case CommandSent():
                return [_command_answer(event)]
            case PhotoTaken():
                self.recorder.record_photo(event)
                return []
            case PhotoFailed():
                self.recorder.photo_failed(event)
                return []
            case _:
                return self._dispatch_input(event, now)

    def _dispatch_input(  # noqa: PLR0911 - one return per kind of event
        self,
        event: Job | IncomingJob | IncomingCommand | Reload | PushedOrder | Scanned | LookedUp,
        now: float,
    ) -> list[Effect]:
        """Orders, commands, scans and look-ups: what people and the WMS send."""
        match event:
            case Job():
                return self.logic.on_job(event, now)
            case IncomingJob():
                return self.intake.job(event, now)
            case IncomingCommand():
                return self.commands.on_data(event.data, now)
            case Reload():
                self._reload()
                return []
            case PushedOrder():
                return self.intake.pushed_order(event)
            case Scanned():
                return [] if self.desk is None else self.desk.on_scan(event, now)
            case LookedUp():
                return [] if self.desk is None else self.desk.on_looked_up(event, now)
            case _:
                assert_never(event)

    def _reading(self, reading: Reading, now: float) -> list[Effect]:
        self.intake.reading(reading, now)
        effects = self.logic.on_reading(reading, now)
        if self.desk is not None:
            effects += self.desk.on_reading(reading, now)
        if self.assurance is not None:
            effects += self.assurance.on_reading(reading, now)
        return effects

    # -- effects --------------------------------------------------------------------------------

    def _carry_out(self, effects: list[Effect]) -> None:
        for effect in effects:
            match effect:
                case Record():
                    self._record(effect)
                case Show():
                    self.outputs.show(effect.guidance.indication(self.translator))
                    if self.screen is not None:
                        self.screen.shown(effect.guidance)
                    self._tell_systemd(effect)
                case ZeroScale():
                    self.log.warning("zero_drift_corrected", drift_g=str(effect.drift_g))
                    self.link.send(ScaleCommand.ZERO)
                case Refused() | Told():
                    self._tell(effect)
                case Note():
                    self.log.info(effect.event, **effect.fields)
                case StartTest() | RecordTest() | ReleaseScale():
                    self._assurance_effect(effect)
                case _:
                    assert_never(effect)
        if self.screen is not None:
            self.screen.flush(self.clock.monotonic())

    def _record(self, effect: Record) -> None:
        """The verdict into the ledger; then, beside the loop, its photo."""
        moment = self.recorder.record(effect)
        if self.photos is not None:
            self.photos.ask(moment)

    def _tell(self, effect: Refused | Told) -> None:
        """An `event` for the supervisors: a refusal (job or command) or news."""
        if isinstance(effect, Refused):
            is_job = effect.command == "job"
            event = "job_rejected" if is_job else "command_rejected"
            command = None if is_job else effect.command
        else:
            event, command = effect.event, effect.command
        self.recorder.tell(
            event,
            effect.reason,
            order_id=effect.order_id,
            command=command,
            request_id=effect.request_id,
        )

    def _assurance_effect(self, effect: StartTest | RecordTest | ReleaseScale) -> None:
        """Routine scale tests: start one, record one, record a supervisor's release."""
        match effect:
            case StartTest() if self.assurance is None:
                reason = "this station has no routine test set up ([assurance] enabled = true)"
                self._carry_out([Refused("routine_test", reason, request_id=effect.request_id)])
            case StartTest():
                assert self.assurance is not None  # noqa: S101 - the case above
                self._carry_out(
                    self.assurance.start(effect.operator, effect.reason, effect.request_id)
                )
            case RecordTest():
                record_id, at = self.recorder.record_test(effect)
                if self.assurance is not None:
                    self.assurance.finished(record_id, at, effect.test)
            case ReleaseScale():
                _, at = self.recorder.record_release(effect)
                if self.assurance is not None:
                    override = effect.override
                    self.assurance.release_recorded(override.operator, override.reason, at)

    def _restore_safety(self, ledger: Ledger) -> None:
        """What the ledger says of the scale and the bench: a restart never forgets it."""
        self._carry_out(
            restore(
                ledger,
                self.config.catalog,
                self.logic,
                self.assurance,
                self.recorder,
                self.log,
                self.clock.monotonic(),
            )
        )

    def _tell_systemd(self, show: Show) -> None:
        """STATUS= for `systemctl status`, whenever the light changes."""
        signal = show.guidance.signal.value  # rendered only when it changed: every Show
        if signal != self._shown_signal:  # is on the way from a verdict to its light
            self._shown_signal = signal
            systemd.notify(f"STATUS={signal}: {show.indication.text}"[:200])

    def _reload(self) -> None:
        """Apply a changed station file; a broken one is refused and the old one kept."""
        fresh = reload_config(self.config, self.log)
        if fresh is not None:
            self.config = fresh
            new = fresh.agent
            self.logic.reconfigure(new.settle, new.tolerance, fresh.catalog, new.policies)

    def _write_status(self, now: float, *, stopped: bool = False) -> None:
        self.telemetry.write_status(
            self.config.data_dir,
            self.health(now),
            signal=self._shown_signal,
            written_at=self.clock.time(),
            stopped=stopped,
            routine_test=None if self.assurance is None else self.assurance.status(),
        )

    # -- health ---------------------------------------------------------------------------------

    def health(self, now: float) -> HealthPayload:
        """What `health` reports: the scale as last seen, the backlog, the station's state."""
        return self.telemetry.health(
            now,
            logic=self.logic,
            link=self.link,
            scanner_link=self.scanner_link,
            outputs=self.outputs,
            ledger=self.ledger,
            interval_s=self.config.agent.mqtt.health_interval_s,
            photos=self.photos,
        )


def _command_answer(sent: CommandSent) -> Told:
    """What the scale link did with a zero or tare."""
    name = sent.command.value
    if sent.is_sent:
        return Told("command_done", f"{name} sent to the scale", command=name)
    return Told("command_rejected", f"this scale's protocol cannot {name}", command=name)
