"""The station loop: one thread that owns the station's state, fed by every other thread.

Threads, each with one job:

- `scale-link` (`scale_agent.io.scale_link`): owns the scale driver, reads, reconnects;
- the station loop (the caller of `StationRuntime.run`): the only owner of station state and
  of the ledger connection that records verdicts;
- paho's network thread and `outbox-drain` (`scale_agent.io.mqtt`).

They talk through one queue into the station loop, so the state machine needs no lock. The parts
and their doors are `StationParts` (`station/parts.py`); the effects are carried out by
`EffectCarrier` (`station/carrying.py`).
"""

from __future__ import annotations

import queue
from typing import TYPE_CHECKING, assert_never

from scale_agent.domain.jobs import Job
from scale_agent.errors import LedgerError
from scale_agent.io import systemd
from scale_agent.io.scale_link import CommandSent, LinkDown, LinkUp
from scale_agent.io.scanner_link import Scanned
from scale_agent.station.effects import Effect, Show, Told
from scale_agent.station.events import FromOutside, Inbound, Reload
from scale_agent.station.parts import StationParts
from scale_agent.station.photo_desk import PhotoFailed, PhotoTaken
from scale_agent.station.reloading import reload_config
from scale_agent.station.restart import restore
from scale_agent.station.scale_inbox import ScaleWaiting
from scale_agent.station.scan_desk import LookedUp
from scale_agent.weights import Reading

if TYPE_CHECKING:
    from scale_agent.io.ledger import Ledger

TICK_S = 0.05
# With nothing on the platter and no parcel in its life the loop's timers (a silent scale, the
# live weight on the screen) need no finer step than this; the next parcel's first frame wakes
# the loop at once (`station.scale_inbox`). Fewer wake-ups are most of an idle station's cost.
IDLE_TICK_S = 0.25
STATUS_EVERY_S = 2.0  # `scale-agent status` calls a status older than 5 s stale
LEDGER_PROBE_S = 5.0  # a ledger that refused a record is tried this often


class StationRuntime(StationParts):
    """Runs one station until stopped."""

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
        self.carrier.carry_out([Show(self.logic.guidance())])
        self._restore_safety(ledger)
        if self.assurance is not None:
            self.carrier.carry_out(self.assurance.started())
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
            self.carrier.carry_out(self._dispatch(waiting, now))
        if self._reload_asked:
            self._reload_asked = False
            self.carrier.carry_out(self._dispatch(Reload(), now))
        if event is not None:
            self.carrier.carry_out(self._dispatch(event, now))
        self.carrier.carry_out(self.logic.on_tick(now))
        self._timers(now)

    def _timers(self, now: float) -> None:
        """What runs on the clock: tests, screen, head, ledger probe, evidence, health, status."""
        if self.assurance is not None:
            self.carrier.carry_out(self.assurance.on_tick(now, self.clock.time()))
        if self.screen is not None:
            self.screen.tick(now)
        self.anchor.tick(now)
        if self.logic.ledger_problem is not None and now >= self._next_ledger_probe:
            self._next_ledger_probe = now + LEDGER_PROBE_S
            self._probe_ledger(now)
        if self.evidence is not None:
            self.evidence.tick(now)
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

    def _dispatch_input(
        self, event: Job | FromOutside | Reload | Scanned | LookedUp, now: float
    ) -> list[Effect]:
        """Orders, commands, scans and look-ups: what people, the WMS and the central send."""
        match event:
            case Job():
                return self.logic.on_job(event, now)
            case FromOutside():
                return self._from_outside(event, now)
            case Reload():
                self._reload()
                return []
            case Scanned():
                return [] if self.desk is None else self.desk.on_scan(event, now)
            case LookedUp():
                return [] if self.desk is None else self.desk.on_looked_up(event, now)
            case _:
                assert_never(event)

    def _from_outside(self, event: FromOutside, now: float) -> list[Effect]:
        match event.kind:
            case "job":
                return self.intake.job(event, now)
            case "command":
                return self.commands.on_data(event.data, now)
            case "order":
                return self.intake.pushed_order(event)
            case "evidence_ack":
                if self.evidence is not None:
                    self.evidence.acknowledged(event.data, now)
                return []
            case _:
                assert_never(event.kind)

    def _reading(self, reading: Reading, now: float) -> list[Effect]:
        self.intake.reading(reading, now)
        effects = self.logic.on_reading(reading, now)
        if self.desk is not None:
            effects += self.desk.on_reading(reading, now)
        if self.assurance is not None:
            effects += self.assurance.on_reading(reading, now)
        return effects

    # -- what a start and a reload change ------------------------------------------------------

    def _restore_safety(self, ledger: Ledger) -> None:
        """What the ledger says of the scale and the bench: a restart never forgets it."""
        self.carrier.carry_out(
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

    def _probe_ledger(self, now: float) -> None:
        """After a refused record: does the ledger write again (space freed)? Then resume."""
        try:
            self.ledger.set_counter("ledger_probe", int(self.clock.time()))
        except LedgerError:
            return
        self.log.info("ledger_writes_again")
        self.carrier.carry_out(self.logic.ledger_recovered(now))

    def _reload(self) -> None:
        """Apply a changed station file; a broken one is refused and the old one kept."""
        fresh = reload_config(self.config, self.log)
        if fresh is not None:
            self.config = fresh
            new = fresh.agent
            self.logic.reconfigure(new.settle, new.tolerance, fresh.catalog, new.policies)


def _command_answer(sent: CommandSent) -> Told:
    """What the scale link did with a zero or tare."""
    name = sent.command.value
    if sent.is_sent:
        return Told("command_done", f"{name} sent to the scale", command=name)
    return Told("command_rejected", f"this scale's protocol cannot {name}", command=name)
