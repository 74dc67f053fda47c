"""A station's parts, wired once from its config, and how other threads reach them.

`StationParts` builds what a station is made of (the state machine, the scale and scanner links,
the outputs, the screen, the recorder, the camera and routine-test desks, the head anchor) and
offers the thread-safe doors into the station loop (`submit_*`, `stop`, `reload`). The loop
itself, and what it does with each event, is `StationRuntime` (`station/runtime.py`).
"""

from __future__ import annotations

import queue
import threading
import time
from typing import TYPE_CHECKING

import structlog

from scale_agent import __version__
from scale_agent.io.clock import Clock, SystemClock
from scale_agent.io.ledger import LEDGER_FILE, Ledger
from scale_agent.io.logs import RateLimiter
from scale_agent.io.messages import HealthPayload, StationIdentity, StatusPayload, Topics
from scale_agent.io.order_sources import OrderCache, make_source
from scale_agent.io.outputs import Outputs
from scale_agent.io.scale_link import ScaleLink
from scale_agent.io.scanner_link import Scanned, ScannerLink
from scale_agent.io.storage_health import StorageHealth, storage_of
from scale_agent.io.translations import Translator
from scale_agent.station.anchoring import HeadAnchor
from scale_agent.station.assurance_desk import AssuranceDesk
from scale_agent.station.carrying import EffectCarrier
from scale_agent.station.commands import CommandDesk
from scale_agent.station.events import FromOutside, Inbound
from scale_agent.station.evidence_sync import EvidenceSync
from scale_agent.station.intake import Intake
from scale_agent.station.logic import StationLogic
from scale_agent.station.photo_desk import PhotoDesk
from scale_agent.station.recorder import Recorder
from scale_agent.station.scale_inbox import ScaleInbox
from scale_agent.station.scan_desk import ScanDesk
from scale_agent.station.screen_feed import ScreenFeed
from scale_agent.station.telemetry import Telemetry

if TYPE_CHECKING:
    from collections.abc import Callable

    from scale_agent.domain.jobs import Job
    from scale_agent.io.config import StationConfig
    from scale_agent.io.mqtt import Publisher
    from scale_agent.plugins import CameraDriver, OutputDriver, ScaleDriver, ScannerDriver


class StationParts:
    """Everything one station is made of; `StationRuntime` runs it."""

    def __init__(
        self,
        config: StationConfig,
        scale: ScaleDriver,
        outputs: list[OutputDriver],
        *,
        clock: Clock | None = None,
        publisher_factory: Callable[[StationParts], Publisher] | None = None,
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
        self.scanner_link, self.desk, self.order_cache = self._scanning(config, scanner)
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
        # With a broker, every record also leaves the bench for the central to keep.
        self.evidence: EvidenceSync | None = None
        if self.publisher is not None:
            self.evidence = EvidenceSync(
                lambda: self.ledger,
                self.identity,
                self.topics,
                config.data_dir,
                self.log,
                wake=self.publisher.wake,
                confirmed_until=self._photos_confirmed_until,
            )
            if self.photos is not None:  # nothing is pruned before the central confirms it
                self.photos.store.confirmed_until = float("-inf")
        self.last_loop_at = self.clock.monotonic()
        self.on_started: Callable[[], object] | None = None
        self._stop = threading.Event()
        self._reload_asked = False  # set by `reload` (a signal handler)
        self._limiter = RateLimiter()
        self._ledger: Ledger | None = None
        self._next_health = 0.0
        self._next_status = 0.0
        self._next_ledger_probe = 0.0

        self.carrier = EffectCarrier(
            logic=self.logic,
            recorder=self.recorder,
            outputs=self.outputs,
            translator=self.translator,
            link=self.link,
            clock=self.clock,
            log=self.log,
            screen=self.screen,
            photos=self.photos,
            assurance=self.assurance,
        )

    def _photos_confirmed_until(self, at: float) -> None:
        if self.photos is not None:
            self.photos.store.confirmed_until = at

    def _scanning(
        self, config: StationConfig, scanner: ScannerDriver | None
    ) -> tuple[ScannerLink | None, ScanDesk | None, OrderCache | None]:
        """A scanner's link, its desk and (for `orders.source = cache`) the pushed orders."""
        if scanner is None:
            return None, None, None
        orders = config.agent.orders
        cache = OrderCache(config.data_dir) if orders.source == "cache" else None
        desk = ScanDesk(
            config,
            self.logic,
            make_source(orders, config.data_dir, cache),
            emit=self.events.put,
            log=self.log,
        )
        return ScannerLink(scanner, self.clock, self.events.put, self.log), desk, cache

    # -- inputs from other threads --------------------------------------------------------

    def submit_job(self, job: Job) -> None:
        """Queue an order that is already parsed (the demo, tests)."""
        self.events.put(job)

    def submit_job_data(self, data: bytes, source: str = "mqtt") -> None:
        """Queue an order as JSON bytes; it is validated in the station loop."""
        self.events.put(FromOutside("job", data, source))

    def submit_order_push(self, data: bytes) -> None:
        """Queue an order the WMS pushed for later scanning (the `orders` topic)."""
        self.events.put(FromOutside("order", data))

    def submit_scan(self, code: str) -> None:
        """Queue a code as if scanned (the demo's simulated scanner, tests)."""
        self.events.put(Scanned(code, self.clock.monotonic()))

    def submit_evidence_ack(self, data: bytes) -> None:
        """Queue the central's word on how far it holds this ledger (`evidence_ack`)."""
        self.events.put(FromOutside("evidence_ack", data))

    def submit_command_data(self, data: bytes) -> None:
        """Queue a command as JSON bytes; it is validated in the station loop."""
        self.events.put(FromOutside("command", data))

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

    # -- what the station tells about itself ------------------------------------------------

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
            storage=self.storage(),
        )

    def storage(self) -> StorageHealth:
        """The data folder's free space against its threshold, the ledger, the central's copy."""
        return storage_of(
            self.config.data_dir,
            self.config.agent.station.disk_warn_free_mb * 1_000_000,
            self.logic.ledger_problem,
            None if self.evidence is None else self.evidence.unconfirmed(),
        )

    def _write_status(self, now: float, *, stopped: bool = False) -> None:
        self.telemetry.write_status(
            self.config.data_dir,
            self.health(now),
            signal=self.carrier.shown_signal,
            written_at=self.clock.time(),
            stopped=stopped,
            routine_test=None if self.assurance is None else self.assurance.status(),
        )

    # -- the parts' lives ---------------------------------------------------------------------

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
