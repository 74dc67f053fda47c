"""The parcel's flow on the platter: the weighing half of the station's state machine.

```
IDLE --job--> WAITING --load--> SETTLING --settled--> JUDGED --unload--> IDLE (or next job)
```

`ParcelFlow` owns no threads and does no I/O: the runtime (`scale_agent.station.runtime`) feeds
`StationLogic` (`station/logic.py`, which adds orders, supervisors and holds to it) jobs,
readings, link changes and clock ticks, and carries out the effects it returns, in order:
a verdict is always recorded before the light that shows it. Awkward cases handled on purpose:

- a parcel already on the platter when the order arrives is judged at once;
- a parcel removed before a verdict sends the station back to WAITING;
- a weight that changes after the verdict (item added or taken out) is judged again;
- a parcel with no order is judged NO_JOB; an order then scanned for it is judged at once;
- an order with an unknown SKU or carton, or one the scale cannot weigh, is refused;
- a scale that is silent, sends errors or drops its link shows FAULT; a parcel that was
  settling gets a SCALE_FAULT verdict and is weighed again once the scale is back;
- no settled weight within the timeout gives UNSTABLE (re-seat the parcel).

A failed parcel keeps its order loaded: the packer fixes it and it is judged again. Only a PASS
(or an override) followed by an unload, or a cancel, ends it; a new order waits behind it.
"""

from __future__ import annotations

from collections import deque
from enum import StrEnum
from typing import TYPE_CHECKING

from scale_agent.domain.phrases import Phrase, phrase
from scale_agent.domain.scale_range import ScaleRange
from scale_agent.domain.verifier import Expectation, Verdict, VerdictKind, judge, plan
from scale_agent.errors import JobError
from scale_agent.station.effects import (
    Effect,
    Note,
    Override,
    Record,
    Refused,
    Show,
)
from scale_agent.station.guidance import Guidance, guide, order_problem
from scale_agent.station.scale_health import ScaleHealth, unusable_reason
from scale_agent.station.weighing import Weighing

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from decimal import Decimal

    from scale_agent.domain.catalog import Catalog
    from scale_agent.domain.jobs import Job
    from scale_agent.domain.policies import Policy
    from scale_agent.domain.settle import Settled, SettleSection
    from scale_agent.weights import Reading


class State(StrEnum):
    """Where the station is in a parcel's life."""

    IDLE = "idle"
    WAITING = "waiting"
    SETTLING = "settling"
    JUDGED = "judged"


_QUIET_STATES = frozenset({State.IDLE, State.WAITING})


class ParcelFlow:
    """A parcel from load to verdict to unload; `StationLogic` adds what stops or steers it."""

    def __init__(
        self,
        settle: SettleSection,
        policy: Policy,
        catalog: Catalog,
        policies: Mapping[str, Policy] | None = None,
        scale_range: ScaleRange | None = None,
        *,
        wall_time: Callable[[float], float] | None = None,
    ) -> None:
        self.settle = settle
        self.scale_range = scale_range or ScaleRange()
        self.policy = policy
        self.policies = dict(policies or {})
        self.catalog = catalog
        self.state = State.IDLE
        self._is_below_load = False  # set by each reading: nothing on the platter
        self.job: Job | None = None
        self.expectation: Expectation | None = None
        self.queue: deque[Job] = deque()
        self.last_verdict: Verdict | None = None
        self.health = ScaleHealth()
        self.weighing = Weighing(settle)
        self._started_at: float | None = None
        self.override: Override | None = None
        # Item-by-item packing: loads are not judged until the items are in (see packing.py)
        self.is_packing = False
        # Routine scale tests (station/assurance_desk.py): no parcel is judged while a test
        # runs, nor while a failed one holds the scale out of tolerance.
        self.test_prompt: Phrase | None = None
        self.scale_lock: str | None = None
        # The ledger refused a record (a full disk): nothing is judged until it writes again.
        self.ledger_problem: str | None = None
        self.packing_note: Phrase = phrase("Scan the next item")
        # Maps a monotonic time to wall-clock seconds, for "fault since 14:02" (the runtime's).
        self.wall_time = wall_time

    # -- what the packer sees -------------------------------------------------------------

    def guidance(self) -> Guidance:
        """What the packer is told now (faults win over everything else)."""
        return guide(self, self.wall_time)

    def _show(self) -> Show:
        return Show(self.guidance())

    # -- events -------------------------------------------------------------------------

    def is_waiting_for_a_load(self) -> bool:
        """True while a repeated frame can change nothing that cannot wait a tick.

        No parcel on the platter (the last weight was below the load threshold), no parcel
        in its life (idle or waiting for one), the scale not in fault. Read from the scale
        link's thread as a hint for the scale inbox (`station.scale_inbox`).
        """
        return self._is_below_load and self.state in _QUIET_STATES and not self.health.is_faulted

    def on_reading(self, reading: Reading, now: float) -> list[Effect]:
        """A frame arrived from the scale."""
        self.health.last_frame_at = now
        self._is_below_load = False
        if not reading.is_usable_weight:
            reason = unusable_reason(reading)
            return [] if reason is None else self._fault(reason, now)
        assert reading.weight is not None  # noqa: S101 - is_usable_weight guarantees it
        grams = reading.weight.in_grams
        self._is_below_load = grams < self.settle.load_threshold_g
        effects: list[Effect] = []
        if self.health.usable(grams, now):
            effects += [Note("scale_recovered"), self._show()]
        if self.state in {State.IDLE, State.WAITING}:
            if grams < self.settle.load_threshold_g or self.is_holding_loads:
                self.weighing.cancel_load()
                return effects + self.health.watch_zero(reading, now, self.settle)
            if self.weighing.is_confirmed_load(grams, now):
                effects.extend(self._start_settling(now))
                effects.extend(self._feed(reading, now))
            return effects
        if grams < self.settle.empty_threshold_g:
            return effects + self._on_unload(now)
        return effects + self._feed(reading, now)

    def on_tick(self, now: float) -> list[Effect]:
        """Time passed: check for a silent scale and a settle timeout."""
        if self._started_at is None:
            self._started_at = now
        effects: list[Effect] = []
        silent_s = self.health.silent_for(now, self._started_at)
        if not self.health.is_faulted and silent_s > self.settle.fault_after_s:
            effects.extend(self._fault(f"no usable weight for {silent_s:.1f} s", now))
        if (
            self.state is State.SETTLING
            and not self.health.is_faulted
            and self.weighing.is_timed_out(now)
        ):
            verdict = self._verdict(
                VerdictKind.UNSTABLE,
                f"no settled weight within {self.settle.timeout_s:g} s: re-seat the parcel",
            )
            effects.extend(self._judged(verdict, (), None))
        return effects

    # -- holds -----------------------------------------------------------------------------

    @property
    def is_holding_loads(self) -> bool:
        """Loads are not judged now: packing, a scale test, a failed test, a ledger that fails."""
        holds = (self.test_prompt, self.scale_lock, self.ledger_problem)
        return self.is_packing or any(hold is not None for hold in holds)

    # -- internals ------------------------------------------------------------------------

    def _parcel_present(self) -> bool:
        return self.health.last_weight_g is not None and (
            self.health.last_weight_g >= self.settle.load_threshold_g
        )

    def _activate(self, job: Job, now: float) -> list[Effect]:
        self.job, self.expectation = job, None
        try:
            self.expectation = self._weighable(plan(job, self.catalog, self.policy, self.policies))
        except JobError as exc:
            self.job = None
            # One rejection naming the order; nothing was weighed, so nothing is recorded.
            return [
                Refused("job", f"order {job.order_id}: {exc.reason}", job.order_id),
                Show(order_problem(job.order_id, exc.reason)),
            ]
        effects: list[Effect] = [
            Note(
                "job_loaded",
                {
                    "order_id": job.order_id,
                    "expected_g": str(self.expectation.expected_g),
                    "is_detectable": str(self.expectation.is_detectable),
                },
            )
        ]
        if self._parcel_present() and not self.health.is_faulted:
            # Parcel already on the platter: weigh it for this order now.
            effects.extend(self._start_settling(now))
        else:
            self.state = State.WAITING
            effects.append(self._show())
        return effects

    def _weighable(self, expectation: Expectation) -> Expectation:
        if out_of_range := self.scale_range.problem(expectation):
            raise JobError(out_of_range, order_id=expectation.order_id)
        return expectation

    def _start_settling(self, now: float) -> list[Effect]:
        self.state = State.SETTLING
        self.weighing.start(now)
        return [self._show()]

    def _feed(self, reading: Reading, now: float) -> list[Effect]:
        if self.state is State.JUDGED:
            changed = self.weighing.changed_after_verdict(reading, now)
            return [] if changed is None else self._judge(changed, is_rejudged=True)
        settled = self.weighing.settle_reading(reading)
        return [] if settled is None else self._judge(settled)

    def _judge(self, settled: Settled, *, is_rejudged: bool = False) -> list[Effect]:
        if self.expectation is None:
            verdict = Verdict(
                VerdictKind.NO_JOB,
                None,
                "parcel weighed with no order loaded: scan the order",
                measured_g=settled.weight.in_grams,
            )
        else:
            verdict = judge(self.expectation, settled.weight)
        return self._judged(
            verdict, settled.readings, settled.weight.in_grams, is_rejudged=is_rejudged
        )

    def _judged(
        self,
        verdict: Verdict,
        evidence: tuple[Reading, ...],
        judged_g: Decimal | None,
        *,
        is_rejudged: bool = False,
    ) -> list[Effect]:
        """Judged at `judged_g` (None for UNSTABLE: any later settled weight is judged)."""
        self.state = State.JUDGED
        self.last_verdict = verdict
        self.override = None  # an override was for the parcel as it was
        self.weighing.judged(judged_g)
        record = Record(verdict, evidence, is_rejudged=is_rejudged, expectation=self.expectation)
        return [record, self._show()]

    def _verdict(self, kind: VerdictKind, reason: str) -> Verdict:
        expectation = self.expectation
        return Verdict(
            kind,
            self.job.order_id if self.job else None,
            reason,
            expected_g=expectation.expected_g if expectation else None,
            lower_g=expectation.lower_g if expectation else None,
            upper_g=expectation.upper_g if expectation else None,
            measured_g=self.health.last_weight_g,
            policy=expectation.policy.label if expectation else "",
        )

    def _on_unload(self, now: float) -> list[Effect]:
        previous = self.state
        verdict = self.last_verdict
        effects: list[Effect] = []
        if previous is State.SETTLING:
            effects.append(Note("parcel_removed_before_verdict", {"order_id": self._order_id()}))
        is_done = previous is State.JUDGED and (
            (verdict is not None and verdict.kind is VerdictKind.PASS) or self.override is not None
        )
        self.override = None
        if is_done or self.expectation is None:
            self.job = self.expectation = None
        self.state = State.WAITING if self.job is not None else State.IDLE
        self.weighing.judged(None)
        if self.queue:
            effects.extend(self._activate(self.queue.popleft(), now))
            return effects
        effects.append(self._show())
        return effects

    def _fault(self, reason: str, now: float) -> list[Effect]:
        effects: list[Effect] = []
        if self.health.fault(reason, now):
            effects.append(Note("scale_faulted", {"reason": reason}))
        if self.state is State.SETTLING:
            verdict = self._verdict(
                VerdictKind.SCALE_FAULT, f"scale fault while weighing: {reason}"
            )
            self.last_verdict = verdict
            effects.append(Record(verdict))
            # Weigh again once the scale is back: the order stays loaded.
            self.state = State.WAITING if self.job is not None else State.IDLE
            self.weighing.stop()
        effects.append(self._show())
        return effects

    def _order_id(self) -> str:
        return self.job.order_id if self.job else ""
