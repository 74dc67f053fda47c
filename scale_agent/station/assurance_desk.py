"""The station's routine scale tests: when one is due, running it, and what follows.

Runs in the station loop. A test becomes due after a restart, when a different scale answers,
after an overload, at a shift start or every N hours (`[assurance]`); it starts as soon as
nothing is on the platter or being judged, and while it runs no parcel is judged. The steps
read settled weights through a settler of their own (`domain.assurance.RoutineTest`). The
result is recorded in the ledger chain and told to the supervisors; past the control limit
the scale is held out of tolerance until a test passes or a supervisor releases it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from scale_agent.domain.assurance import (
    Outcome,
    Remembered,
    RoutineTest,
    Step,
    due_by_schedule,
    limits_for,
    plan_steps,
    remembered,
)
from scale_agent.domain.settle import Settler
from scale_agent.station.effects import Effect, RecordTest, Refused, Told

if TYPE_CHECKING:
    from scale_agent.domain.assurance import Limits
    from scale_agent.domain.policies import Policy
    from scale_agent.domain.settle import SettleSection
    from scale_agent.io.config import AssuranceSection
    from scale_agent.io.ledger import Ledger
    from scale_agent.plugins import ScaleIdentity
    from scale_agent.station.logic import StationLogic
    from scale_agent.weights import Reading


ASSURANCE_KINDS = ("ROUTINE_TEST", "SCALE_RELEASED")


def remembered_in(ledger: Ledger) -> Remembered:
    """The scale-safety state the ledger holds (its newest tests and releases, as hashed)."""
    found = [
        (str(r["verdict"]), str(r["parcel_id"]), str(r["recorded_at"]), json.loads(r["body"]))
        for r in ledger.newest(ASSURANCE_KINDS, limit=50)
    ]
    return remembered(found)


@dataclass(frozen=True)
class LastTest:
    """The newest finished test, as verdicts and `status` refer to it."""

    test_id: str
    at: float  # epoch seconds
    outcome: str
    summary: str

    def as_json(self) -> dict[str, object]:
        """For the ledger body of every verdict after it, and for status.json."""
        at = datetime.fromtimestamp(self.at, UTC).isoformat()
        return {"id": self.test_id, "at": at, "outcome": self.outcome}


class AssuranceDesk:
    """Schedules and runs routine tests for one station."""

    def __init__(
        self,
        settings: AssuranceSection,
        settle: SettleSection,
        policy: Policy,
        logic: StationLogic,
    ) -> None:
        self.settings = settings
        self.logic = logic
        self._settle = settle
        self._policy = policy
        self._settler = Settler(settle)
        self.due: str | None = None
        self.test: RoutineTest | None = None
        self.last: LastTest | None = None
        self._serial: str | None = None
        self._last_settled_g: Decimal | None = None
        self._operator: str | None = None  # who asked for the due test, when someone did
        self.released: dict[str, str] | None = None  # the release since the last test
        self.restored: str | None = None  # what the start rebuilt from the ledger, said once

    def restore(self, state: Remembered) -> None:
        """Take the safety state the ledger holds (at start): the last test, a hold, a release."""
        if state.test_id is not None and state.test_at is not None:
            at = datetime.fromisoformat(state.test_at).timestamp()
            self.last = LastTest(state.test_id, at, str(state.test_outcome), "")
        if state.released_by is not None:
            self.released = {"by": state.released_by, "at": str(state.released_at)}
        if state.held is not None:
            self.logic.hold_scale(state.held)
            self.restored = f"scale held out of tolerance: {state.held}"
        elif state.test_id is not None:
            self.restored = f"last routine test {state.test_outcome} at {state.test_at}"

    # -- why a test is due --------------------------------------------------------------

    def started(self) -> list[Effect]:
        """The station started."""
        return self._make_due("after a restart") if self.settings.after_restart else []

    def link_up(self, identity: ScaleIdentity) -> list[Effect]:
        """The scale answered; a different serial number means a different scale."""
        was, self._serial = self._serial, identity.serial or self._serial
        if self.settings.after_scale_change and was is not None and identity.serial != was:
            return self._make_due("a different scale was connected")
        return []

    def on_tick(self, now: float, wall: float) -> list[Effect]:
        """Time passed: the schedule, and a due test waiting for a free platter."""
        if self.due is None and self.test is None:
            local = datetime.fromtimestamp(wall).astimezone()
            last = datetime.fromtimestamp(self.last.at).astimezone() if self.last else None
            reason = due_by_schedule(
                last, local, self.settings.shift_times(), self.settings.every_h
            )
            if reason is not None:
                return self._make_due(reason)
        _ = now  # the schedule runs on wall time; the steps carry no time
        return self._begin_if_free()

    def start(self, operator: str | None, reason: str, request_id: str | None) -> list[Effect]:
        """A test asked for now (a command or a scan)."""
        if self.test is not None:
            reason = "a routine test is already running"
            return [Refused("routine_test", reason, request_id=request_id)]
        self.due, self._operator = reason, operator
        told = Told(
            "routine_test_due",
            f"routine test asked for ({reason})",
            command="routine_test",
            request_id=request_id,
        )
        return [told, *self._begin_if_free()]

    def _make_due(self, reason: str) -> list[Effect]:
        if self.due is not None or self.test is not None:
            return []
        self.due, self._operator = reason, None
        return [Told("routine_test_due", f"routine test due: {reason}")]

    # -- running it ---------------------------------------------------------------------

    def _begin_if_free(self) -> list[Effect]:
        if self.due is None or self.test is not None or not self.logic.is_free_for_test():
            return []
        self.test = RoutineTest(self._steps(), self.due, operator=self._operator)
        self.due = None
        self._settler.reset()
        self._last_settled_g = None
        return self.logic.start_testing(self.test.prompt())

    def _steps(self) -> tuple[Step, ...]:
        settings = self.settings
        points = settings.point_weights()
        nominals = [Decimal(0), *(nominal for nominal, _ in points)]
        limits = {nominal: self._limits(nominal) for nominal in nominals}
        return plan_steps(points, limits, zero=settings.zero_check, repeat=settings.repeat)

    def _limits(self, nominal: Decimal) -> Limits:
        return limits_for(
            nominal,
            interval_g=self._policy.scale_interval_g,
            accuracy_class=self._policy.scale_class,
            warning_g=self.settings.warning_g,
            control_g=self.settings.control_g,
        )

    def on_reading(self, reading: Reading, now: float) -> list[Effect]:
        """Every frame: an overload makes a test due; a running test reads settled weights."""
        if reading.is_overload and self.settings.after_overload:
            return self._make_due("after an overload")
        test = self.test
        grams = self._settled(reading) if test is not None else None
        if test is None or grams is None or not test.settled(grams, self._settle.empty_threshold_g):
            return []
        if not test.is_done:
            return self.logic.note_testing(test.prompt())
        return self._finish(test, now)

    def _settled(self, reading: Reading) -> Decimal | None:
        """A new settled weight (one that differs from the last by more than the band)."""
        if not reading.is_usable_weight:
            return None
        settled = self._settler.feed(reading)
        if settled is None:
            return None
        self._settler.reset()
        grams = settled.weight.in_grams
        last = self._last_settled_g
        if last is not None and abs(grams - last) <= self._settle.band_g:
            return None
        self._last_settled_g = grams
        return grams

    def _finish(self, test: RoutineTest, now: float) -> list[Effect]:
        self.test = None
        self.released = self.restored = None
        lock = None
        if test.outcome is Outcome.FAILED:
            lock = test.summary()
        return [RecordTest(test), *self.logic.finish_testing(lock, now)]

    def status(self) -> dict[str, object]:
        """For status.json: the last test, and whether one is due, running or failed."""
        return {
            "last": self.last.as_json() if self.last else None,
            "due": self.due,
            "running": self.test.reason if self.test else None,
            "scale_held": self.logic.scale_lock,
            "released": self.released,
            "restored": self.restored,
        }

    def release_recorded(self, operator: str, reason: str, at: float) -> None:
        """A supervisor's release was recorded: `status` says who let the scale judge again."""
        when = datetime.fromtimestamp(at, UTC).isoformat()
        self.released = {"by": f"{operator}: {reason}", "at": when}
        self.restored = None  # the hold it may have rebuilt is over

    def finished(self, test_id: str, at: float, test: RoutineTest) -> None:
        """The recorder wrote the test: verdicts from now on refer to it."""
        self.last = LastTest(test_id, at, test.outcome.value, test.summary())
