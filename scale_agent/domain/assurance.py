"""Routine scale tests with reference weights, between calibrations (pure).

A test is a short list of steps: optionally a zero check on the empty platter, then each test
weight placed and read (and the largest placed again for repeatability), each followed by
taking the weight off. Each reading is judged against two limits around the nominal value,
as Mettler Toledo's GWP routine testing does: past the warning limit the supervisor is told;
past the control limit the scale is out of tolerance and judges no parcel until a test
passes or a supervisor releases it. By default the control limit is the scale's in-service
maximum permissible error at that load and the warning limit its initial-verification MPE
(OIML R 76, reference/metrology.md section 6.1); a station may set both explicitly.

When a test is due: at given shift-start times, every N hours, after a restart, after a
different scale was connected, after an overload (the station knows the last three; the
schedule is `due_by_schedule`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING

from scale_agent.domain.phrases import Grams, phrase
from scale_agent.domain.policies import scale_mpe_g

if TYPE_CHECKING:
    from scale_agent.domain.phrases import Phrase


class Outcome(StrEnum):
    """How a step, or a whole test, came out (worst step wins)."""

    PASSED = "passed"
    WARNING = "warning"  # past the warning limit: the supervisor is told
    FAILED = "failed"  # past the control limit: the scale is out of tolerance


@dataclass(frozen=True)
class Limits:
    """How far a reading may lie from the nominal value, in grams."""

    warning_g: Decimal
    control_g: Decimal


@dataclass(frozen=True)
class Step:
    """One reading of a test: the empty platter (nominal 0) or a test weight."""

    nominal_g: Decimal
    weight_id: str = ""  # the reference weight's identifier ("" for the zero check)
    limits: Limits = field(default_factory=lambda: Limits(Decimal(0), Decimal(0)))

    @property
    def is_zero(self) -> bool:
        """The zero check on the empty platter."""
        return self.nominal_g == 0


@dataclass(frozen=True)
class StepResult:
    """One step as read."""

    step: Step
    measured_g: Decimal

    @property
    def error_g(self) -> Decimal:
        """Measured minus nominal."""
        return self.measured_g - self.step.nominal_g

    @property
    def outcome(self) -> Outcome:
        """Within the warning limit, between the limits, or past the control limit."""
        error = abs(self.error_g)
        if error > self.step.limits.control_g:
            return Outcome.FAILED
        if error > self.step.limits.warning_g:
            return Outcome.WARNING
        return Outcome.PASSED


def limits_for(
    nominal_g: Decimal,
    *,
    interval_g: Decimal,
    accuracy_class: str,
    warning_g: Decimal | None = None,
    control_g: Decimal | None = None,
) -> Limits:
    """The limits at a load: explicit ones, else the scale's MPE (initial / in service)."""
    warning = warning_g
    if warning is None:
        warning = scale_mpe_g(nominal_g, interval_g, accuracy_class, in_service=False)
    control = control_g
    if control is None:
        control = scale_mpe_g(nominal_g, interval_g, accuracy_class, in_service=True)
    return Limits(min(warning, control), control)


def plan_steps(
    points: list[tuple[Decimal, str]], limits: dict[Decimal, Limits], *, zero: bool, repeat: int
) -> tuple[Step, ...]:
    """The steps of a test: (zero check), each point, the largest `repeat` times more."""
    steps = [Step(Decimal(0), "", limits[Decimal(0)])] if zero else []
    ordered = sorted(points)
    steps += [Step(nominal, weight_id, limits[nominal]) for nominal, weight_id in ordered]
    if repeat and ordered:
        nominal, weight_id = ordered[-1]
        steps += [Step(nominal, weight_id, limits[nominal])] * repeat
    return tuple(steps)


class Phase(StrEnum):
    """What the test waits for."""

    PLACE = "place"  # a settled reading of the step (the empty platter for the zero check)
    REMOVE = "remove"  # the weight taken off before the next step


@dataclass
class RoutineTest:
    """A test in progress: fed settled weights, it says what to do next and how it went."""

    steps: tuple[Step, ...]
    reason: str  # why it was run ("shift start 06:00", "after an overload", "on demand")
    operator: str | None = None
    results: list[StepResult] = field(default_factory=list)
    phase: Phase = Phase.PLACE
    wrong_g: Decimal | None = None  # a settled load that cannot be this step's test weight

    @property
    def is_done(self) -> bool:
        """Every step read and the platter cleared."""
        return len(self.results) == len(self.steps) and self.phase is Phase.PLACE

    @property
    def outcome(self) -> Outcome:
        """The worst step so far."""
        order = [Outcome.PASSED, Outcome.WARNING, Outcome.FAILED]
        return max((r.outcome for r in self.results), key=order.index, default=Outcome.PASSED)

    def settled(self, grams: Decimal, empty_threshold_g: Decimal) -> bool:
        """A settled platter weight; True when the test moved on (or its prompt changed)."""
        if self.is_done:
            return False
        is_empty = grams < empty_threshold_g
        if self.phase is Phase.REMOVE:
            if is_empty:
                self.phase = Phase.PLACE
            return is_empty
        if self.wrong_g is not None:  # something else was on the platter: cleared yet?
            if is_empty:
                self.wrong_g = None
            return is_empty
        return self._read(self.steps[len(self.results)], grams, is_empty=is_empty)

    def _read(self, step: Step, grams: Decimal, *, is_empty: bool) -> bool:
        """A settled load in the PLACE phase of `step`."""
        if step.is_zero:  # the zero check reads the empty platter
            if is_empty:
                self.results.append(StepResult(step, grams))
            return is_empty
        if is_empty:
            return False
        if not is_plausibly(step, grams):
            self.wrong_g = grams  # a parcel, another weight: never read as this step
            return True
        self.results.append(StepResult(step, grams))
        self.phase = Phase.REMOVE
        return True

    def prompt(self) -> Phrase:
        """What the packer or supervisor should do now."""
        if self.phase is Phase.REMOVE:
            return phrase("Take the test weight off the scale")
        step = self.steps[len(self.results)]
        if self.wrong_g is not None:
            return phrase(
                "That is not the {nominal} test weight {weight} ({measured} on the scale): "
                "take it off and place the test weight",
                nominal=Grams(step.nominal_g),
                weight=step.weight_id or "-",
                measured=Grams(self.wrong_g),
            )
        if step.is_zero:
            return phrase("Empty the platter for the zero check")
        return phrase(
            "Place the {nominal} test weight {weight} on the empty platter "
            "(step {number} of {total})",
            nominal=Grams(step.nominal_g),
            weight=step.weight_id or "-",
            number=len(self.results) + 1,
            total=len(self.steps),
        )

    def summary(self) -> str:
        """One line for supervisors and the log (English)."""
        parts = [
            f"{'zero' if r.step.is_zero else _grams(r.step.nominal_g)}: "
            f"{_grams(r.measured_g)} ({r.error_g:+.1f} g, {r.outcome.value})"
            for r in self.results
        ]
        return f"routine test {self.outcome.value} ({self.reason}): " + "; ".join(parts)


# How far a load may lie from a step's nominal value and still be taken for its test weight:
# a scale out of tolerance reads a reference weight off by its error (which the test exists
# to catch), never by a tenth of it; a parcel or the wrong weight is further off.
PLAUSIBLE_SHARE = Decimal("0.1")


def is_plausibly(step: Step, grams: Decimal) -> bool:
    """Whether a settled load can be this step's reference weight (however badly read)."""
    band = max(step.nominal_g * PLAUSIBLE_SHARE, step.limits.control_g * 5)
    return abs(grams - step.nominal_g) <= band


def _grams(value: Decimal) -> str:
    return f"{value.normalize():f} g"


def due_by_schedule(
    last_test: datetime | None, now: datetime, shift_starts: list[time], every_h: float
) -> str | None:
    """Why a test is due by the clock (a shift start passed, or too long since), else None.

    `now` and `last_test` are local, timezone-aware times. With no test yet, the first shift
    start of today that has passed makes one due.
    """
    if every_h and (last_test is None or now - last_test >= timedelta(hours=every_h)):
        return f"every {every_h:g} h"
    for start in shift_starts:
        for day in (now.date() - timedelta(days=1), now.date()):
            moment = datetime.combine(day, start, tzinfo=now.tzinfo)
            if moment <= now and (last_test is None or last_test < moment):
                if last_test is None and day != now.date():
                    continue
                return f"shift start {start:%H:%M}"
    return None


@dataclass(frozen=True)
class Remembered:
    """The station's scale-safety state as its ledger holds it: rebuilt at every start.

    A restart must not clear a held scale: the hold comes from the newest routine test (a
    failed one holds the scale) unless a supervisor's release was recorded after it.
    """

    test_id: str | None = None  # the newest routine test's record
    test_at: str | None = None  # ISO UTC
    test_outcome: str | None = None
    held: str | None = None  # why the scale is held, when the newest test failed
    released_by: str | None = None  # "operator: reason", when released after that test
    released_at: str | None = None


def remembered(records: list[tuple[str, str, str, dict[str, object]]]) -> Remembered:
    """From the newest routine-test and release records, newest first.

    Each record is (kind, record id, recorded_at, body) with kind `ROUTINE_TEST` or
    `SCALE_RELEASED`.
    """
    test = next((r for r in records if r[0] == "ROUTINE_TEST"), None)
    if test is None:
        return Remembered()
    _, test_id, test_at, body = test
    outcome = str(body.get("outcome"))
    newer = records[: records.index(test)]
    release = next((r for r in newer if r[0] == "SCALE_RELEASED"), None)
    released_by = released_at = None
    if release is not None:
        released_by = f"{release[3].get('operator')}: {release[3].get('reason')}"
        released_at = release[2]
    held = None
    if outcome == Outcome.FAILED and release is None:
        held = f"routine test failed ({body.get('reason')}) at {test_at}, recorded in the ledger"
    return Remembered(test_id, test_at, outcome, held, released_by, released_at)
