"""Carrying out the state machine's effects, in order: the ledger first, then what people see.

The station loop hands every list of effects here (`StationRuntime`). A `Record` goes into the
ledger (and asks the camera for its photo) before the `Show` that follows it lights anything, so
no light ever shows a verdict the ledger does not hold.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, assert_never

from scale_agent.errors import LedgerError
from scale_agent.io import systemd
from scale_agent.plugins import ScaleCommand
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

if TYPE_CHECKING:
    from scale_agent.io.clock import Clock
    from scale_agent.io.logs import Log
    from scale_agent.io.outputs import Outputs
    from scale_agent.io.scale_link import ScaleLink
    from scale_agent.io.translations import Translator
    from scale_agent.station.assurance_desk import AssuranceDesk
    from scale_agent.station.logic import StationLogic
    from scale_agent.station.photo_desk import PhotoDesk
    from scale_agent.station.recorder import Recorder
    from scale_agent.station.screen_feed import ScreenFeed


class EffectCarrier:
    """The station's hands: ledger, lights, screen, scale commands, supervisors' events."""

    def __init__(
        self,
        *,
        logic: StationLogic,
        recorder: Recorder,
        outputs: Outputs,
        translator: Translator,
        link: ScaleLink,
        clock: Clock,
        log: Log,
        screen: ScreenFeed | None,
        photos: PhotoDesk | None,
        assurance: AssuranceDesk | None,
    ) -> None:
        self.logic = logic
        self.recorder, self.outputs, self.translator = recorder, outputs, translator
        self.link, self.clock, self.log = link, clock, log
        self.screen, self.photos, self.assurance = screen, photos, assurance
        self.shown_signal = ""  # the light's signal as last shown (status.json, systemd)

    def carry_out(self, effects: list[Effect]) -> None:
        """Each effect in turn; the screen is sent what changed once the list is done.

        A verdict the ledger refuses is never shown: the rest of the list (its light) is
        dropped and the station shows FAULT until the ledger writes again.
        """
        for effect in effects:
            match effect:
                case Record():
                    if not self._record(effect):
                        return
                case Show():
                    self._show(effect)
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

    def _show(self, effect: Show) -> None:
        """The lights, the screen and systemd's status line."""
        self.outputs.show(effect.guidance.indication(self.translator))
        if self.screen is not None:
            self.screen.shown(effect.guidance)
        self._tell_systemd(effect)

    def _record(self, effect: Record) -> bool:
        """The verdict into the ledger; then, beside the loop, its photo. False if refused."""
        try:
            moment = self.recorder.record(effect)
        except LedgerError as exc:
            self.log.error("verdict_not_recorded", reason=str(exc))  # noqa: TRY400 - said in full
            self.carry_out(self.logic.ledger_failed(str(exc)))
            return False
        if self.photos is not None:
            self.photos.ask(moment)
        return True

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
                self.carry_out([Refused("routine_test", reason, request_id=effect.request_id)])
            case StartTest():
                assert self.assurance is not None  # noqa: S101 - the case above
                self.carry_out(
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

    def _tell_systemd(self, show: Show) -> None:
        """STATUS= for `systemctl status`, whenever the light changes."""
        signal = show.guidance.signal.value  # rendered only when it changed: every Show
        if signal != self.shown_signal:  # is on the way from a verdict to its light
            self.shown_signal = signal
            systemd.notify(f"STATUS={signal}: {show.indication.text}"[:200])
