"""The station's state machine: pure logic that turns events into effects.

```
IDLE --job--> WAITING --load--> SETTLING --settled--> JUDGED --unload--> IDLE (or next job)
```

It owns no threads and does no I/O: the runtime (`scale_agent.station.runtime`) feeds it jobs,
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
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from scale_agent.domain.scale_range import ScaleRange
from scale_agent.domain.settle import Settled, Settler
from scale_agent.domain.verifier import Expectation, Verdict, VerdictKind, judge, plan
from scale_agent.errors import JobError
from scale_agent.signals import Indication, Signal
from scale_agent.weights import ReadingKind, format_grams

if TYPE_CHECKING:
    from collections.abc import Mapping
    from decimal import Decimal

    from scale_agent.domain.catalog import Catalog
    from scale_agent.domain.jobs import Job
    from scale_agent.domain.policies import Policy
    from scale_agent.domain.settle import SettleSection
    from scale_agent.weights import Reading

MAX_QUEUED_JOBS = 20
# Status frames that mean the weight cannot be read (out of range with no direction, or the
# scale's own error flags); they fault the station at once.
FAULT_STATUSES = frozenset({"out_of_range", "device_error"})


class State(StrEnum):
    """Where the station is in a parcel's life."""

    IDLE = "idle"
    WAITING = "waiting"
    SETTLING = "settling"
    JUDGED = "judged"


@dataclass(frozen=True)
class Show:
    """Effect: show this indication on every output."""

    indication: Indication


@dataclass(frozen=True)
class Override:
    """A supervisor's decision to let a failed parcel be sealed, and why."""

    operator: str
    reason: str


@dataclass(frozen=True)
class Record:
    """Effect: record (and, when flagged, publish) this verdict with its evidence.

    `expectation` is what the verdict was judged against (None when there was no order);
    `override` is set on the record that documents a supervisor's override.
    """

    verdict: Verdict
    evidence: tuple[Reading, ...] = ()
    is_rejudged: bool = False
    expectation: Expectation | None = None
    override: Override | None = None


@dataclass(frozen=True)
class ZeroScale:
    """Effect: send the scale a zero command (zero drift with an empty platter)."""

    drift_g: Decimal


@dataclass(frozen=True)
class Refused:
    """Effect: a command could not be carried out now; the reason goes back to the sender."""

    command: str | None  # "job" for an order, the command's name, None when unreadable
    reason: str
    order_id: str | None = None
    request_id: str | None = None  # the command's, so the sender can match the answer


@dataclass(frozen=True)
class Told:
    """Effect: tell the supervisors (an MQTT `event`, the log) something they must know."""

    event: str
    reason: str
    order_id: str | None = None
    command: str | None = None
    request_id: str | None = None


@dataclass(frozen=True)
class Note:
    """Effect: log an event (snake_case, past tense) with its fields."""

    event: str
    fields: dict[str, str] = field(default_factory=dict)


Effect = Show | Record | Note | Refused | Told | ZeroScale


class StationLogic:
    """One station's state, driven by `on_*` calls that each return the effects to carry out."""

    def __init__(
        self,
        settle: SettleSection,
        policy: Policy,
        catalog: Catalog,
        policies: Mapping[str, Policy] | None = None,
        scale_range: ScaleRange | None = None,
    ) -> None:
        self.settle = settle
        self.scale_range = scale_range or ScaleRange()
        self.policy = policy
        self.policies = dict(policies or {})
        self.catalog = catalog
        self.state = State.IDLE
        self.job: Job | None = None
        self.expectation: Expectation | None = None
        self.queue: deque[Job] = deque()
        self.last_verdict: Verdict | None = None
        self.is_faulted = True  # until the scale has sent a first usable reading
        self.fault_reason = "waiting for the scale"
        self.last_frame_at: float | None = None
        self.last_usable_at: float | None = None
        self.last_weight_g: Decimal | None = None
        self._settler = Settler(settle)
        self._settling_since = 0.0
        self._judged_g: Decimal | None = None
        self._started_at: float | None = None
        self._load_since: float | None = None
        self._drift_since: float | None = None
        self.override: Override | None = None
        # Item-by-item packing: loads are not judged until the items are in (see packing.py)
        self.is_packing = False
        self.packing_note = ""

    def reconfigure(
        self,
        settle: SettleSection,
        policy: Policy,
        catalog: Catalog,
        policies: Mapping[str, Policy],
    ) -> None:
        """Take new rules (a reload); the order on the platter keeps the expectation it had."""
        self.settle, self.policy, self.catalog = settle, policy, catalog
        self.policies = dict(policies)
        self._settler = Settler(settle)

    # -- what the packer sees -------------------------------------------------------------

    def indication(self) -> Indication:  # noqa: PLR0911 - one per state
        """The indication for the current state (faults win over everything else)."""
        if self.is_faulted:
            return Indication(Signal.FAULT, f"scale fault: {self.fault_reason}")
        if self.state is State.JUDGED and self.override is not None:
            override = self.override
            return Indication(
                Signal.PASS,
                f"OVERRIDE by {override.operator}: {override.reason}",
                is_seal_enabled=True,
            )
        if self.state is State.JUDGED and self.last_verdict is not None:
            verdict = self.last_verdict
            return Indication(
                verdict.kind.signal,
                f"{verdict.kind.value}: {verdict.reason}",
                is_seal_enabled=verdict.kind is VerdictKind.PASS,
            )
        if self.state is State.SETTLING:
            return Indication(Signal.SETTLING, "weighing...")
        if self.job is not None and self.is_packing:
            return Indication(Signal.READY, f"order {self.job.order_id}: {self.packing_note}")
        if self.job is not None:
            expected = self.expectation.expected_g if self.expectation else None
            text = f"order {self.job.order_id}: place the parcel"
            if expected is not None:
                text += f" (expect {format_grams(expected)})"
            return Indication(Signal.READY, text)
        return Indication(Signal.IDLE, "scan or send the next order")

    def _show(self) -> Show:
        return Show(self.indication())

    # -- events -------------------------------------------------------------------------

    def on_job(self, job: Job, now: float) -> list[Effect]:
        """An order arrived (scanned, pushed by the WMS, or typed)."""
        if self._started_at is None:
            self._started_at = now
        current = self.job
        open_failure = self._open_failure()
        if current is not None and (
            (self._parcel_present() and self.state is not State.IDLE) or open_failure
        ):
            # A parcel on the platter, or a FAILed one not yet fixed, is never dropped by a new
            # order: the new one waits its turn (cancel the old one to skip it).
            if len(self.queue) >= MAX_QUEUED_JOBS:
                return [Refused("job", f"order {job.order_id}: queue full", job.order_id)]
            self.queue.append(job)
            why = (
                f"order {current.order_id} has an unresolved {open_failure}: fix and re-weigh it,"
                " override it or cancel it first"
                if open_failure
                else f"order {current.order_id} is on the platter"
            )
            return [Told("job_queued", f"order {job.order_id} waits ({why})", job.order_id)]
        effects: list[Effect] = []
        if current is not None:
            effects.append(
                Told(
                    "job_replaced",
                    f"order {current.order_id} (not weighed yet) replaced by {job.order_id}",
                    current.order_id,
                )
            )
        effects.extend(self._activate(job, now))
        return effects

    def _open_failure(self) -> str | None:
        """The verdict of the loaded order if it failed and was neither fixed nor overridden."""
        verdict = self.last_verdict
        if (
            self.job is None
            or verdict is None
            or verdict.order_id != self.job.order_id
            or verdict.kind is VerdictKind.PASS
            or self.override is not None
        ):
            return None
        return verdict.kind.value

    def on_reading(self, reading: Reading, now: float) -> list[Effect]:
        """A frame arrived from the scale."""
        self.last_frame_at = now
        if not reading.is_usable_weight:
            return self._on_unusable(reading)
        self.last_usable_at = now
        effects: list[Effect] = []
        if self.is_faulted:
            self.is_faulted = False
            effects += [Note("scale_recovered"), self._show()]
        assert reading.weight is not None  # noqa: S101 - is_usable_weight guarantees it
        grams = reading.weight.in_grams
        self.last_weight_g = grams
        if self.state in {State.IDLE, State.WAITING}:
            if grams < self.settle.load_threshold_g or self.is_packing:
                self._load_since = None
                return effects + self._watch_zero(reading, now)
            # A load must hold for a moment: the platter bounces through the threshold when
            # a parcel is lifted off, and a bounce is not a parcel.
            if self._load_since is None:
                self._load_since = now
            if now - self._load_since >= self.settle.load_confirm_s:
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
        since = self.last_usable_at if self.last_usable_at is not None else self._started_at
        if not self.is_faulted and now - since > self.settle.fault_after_s:
            effects.extend(self._fault(f"no usable weight for {now - since:.1f} s"))
        if (
            self.state is State.SETTLING
            and not self.is_faulted
            and now - self._settling_since > self.settle.timeout_s
        ):
            verdict = self._verdict(
                VerdictKind.UNSTABLE,
                f"no settled weight within {self.settle.timeout_s:g} s: re-seat the parcel",
            )
            effects.extend(self._judged(verdict, ()))
        return effects

    def on_link_down(self, reason: str, now: float) -> list[Effect]:
        """The driver lost its device (unplugged, port gone, connection refused)."""
        _ = now  # every event carries its time; a lost link needs none
        if self.is_faulted and self.fault_reason == reason:
            return []
        return self._fault(reason)

    def on_override(self, override: Override, order_id: str | None, now: float) -> list[Effect]:
        """A supervisor lets the judged, failed parcel be sealed anyway (audited)."""
        _ = now
        verdict = self.last_verdict
        if self.state is not State.JUDGED or verdict is None or not verdict.is_flagged:
            return [Refused("override", "no failed parcel is waiting on this station")]
        if self.is_faulted:
            return [Refused("override", f"the scale is faulted: {self.fault_reason}")]
        if order_id is not None and order_id != verdict.order_id:
            return [Refused("override", f"the parcel on the scale is {verdict.order_id}")]
        self.override = override
        return [Record(verdict, expectation=self.expectation, override=override), self._show()]

    def on_reweigh(self, now: float) -> list[Effect]:
        """Forget the current judgment and weigh the parcel on the platter again."""
        if not self._parcel_present() or self.state not in {State.JUDGED, State.SETTLING}:
            return [Refused("reweigh", "no parcel on the platter")]
        self.override = None
        return [
            Note("reweigh_requested", {"order_id": self._order_id()}),
            *self._start_settling(now),
        ]

    def on_order_unavailable(self, order_id: str, reason: str) -> list[Effect]:
        """A scanned order could not be looked up: the packer sees why; nothing is judged."""
        return [Refused("job", reason, order_id), Show(Indication(Signal.FAULT, reason))]

    def note_packing(self, note: str) -> list[Effect]:
        """Item-by-item: what the packer should do next (shown while the parcel is open)."""
        self.packing_note = note
        return [self._show()]

    def replace_catalog(self, catalog: Catalog) -> None:
        """Take a re-read catalog (a `reload_catalog` command); the loaded order keeps its plan."""
        self.catalog = catalog

    def start_packing(self, note: str) -> list[Effect]:
        """Item-by-item: hold the parcel check while items are scanned in."""
        self.is_packing, self.packing_note = True, note
        return [self._show()]

    def finish_packing(self, now: float) -> list[Effect]:
        """Item-by-item: all items are in (or the packer closed the parcel): check it now."""
        self.is_packing = False
        if self.job is not None and self._parcel_present() and not self.is_faulted:
            return self._start_settling(now)
        return [self._show()]

    def on_cancel(self, now: float) -> list[Effect]:
        """Drop the loaded order (a cancel barcode); refused while a parcel is being judged.

        The next queued order, if any, is loaded. Cancelling an order with an open FAIL is
        told to the supervisors: a failed parcel never vanishes quietly.
        """
        if self.state in {State.SETTLING, State.JUDGED}:
            return [Refused("cancel", "take the parcel off the scale first")]
        dropped = self._order_id()
        failure = self._open_failure()
        self.job = self.expectation = None
        self.is_packing = False
        self.state = State.IDLE
        reason = f"order {dropped} cancelled"
        if failure:
            reason += f" with an unresolved {failure}"
        effects: list[Effect] = [Told("job_cancelled", reason, dropped)]
        if self.queue:
            return effects + self._activate(self.queue.popleft(), now)
        return [*effects, self._show()]

    def can_zero(self) -> str | None:
        """Why the scale may not be zeroed now, or None when it may."""
        if self.state in {State.SETTLING, State.JUDGED} or self._parcel_present():
            return "a parcel is on the platter"
        return None

    # -- internals ------------------------------------------------------------------------

    def _parcel_present(self) -> bool:
        return self.last_weight_g is not None and (
            self.last_weight_g >= self.settle.load_threshold_g
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
                Show(Indication(Signal.FAULT, f"order {job.order_id}: {exc.reason}")),
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
        if self._parcel_present() and not self.is_faulted:
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
        self._load_since = None
        self._settling_since = now
        self._settler.reset()
        return [self._show()]

    def _feed(self, reading: Reading, now: float) -> list[Effect]:
        if self.state is State.JUDGED:
            return self._feed_after_verdict(reading, now)
        settled = self._settler.feed(reading)
        if settled is None:
            return []
        return self._judge(settled)

    def _feed_after_verdict(self, reading: Reading, now: float) -> list[Effect]:
        assert reading.weight is not None  # noqa: S101 - only usable readings come here
        judged = self._judged_g
        if judged is not None and abs(reading.weight.in_grams - judged) <= self.settle.band_g:
            self._settler.reset()
            return []
        settled = self._settler.feed(reading)
        if settled is None:
            return []
        self._settling_since = now
        return self._judge(settled, is_rejudged=True)

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
        self._judged_g = settled.weight.in_grams
        return self._judged(verdict, settled.readings, is_rejudged=is_rejudged)

    def _judged(
        self, verdict: Verdict, evidence: tuple[Reading, ...], *, is_rejudged: bool = False
    ) -> list[Effect]:
        self.state = State.JUDGED
        self.last_verdict = verdict
        self.override = None  # an override was for the parcel as it was
        self._settler.reset()
        if verdict.kind is VerdictKind.UNSTABLE:
            self._judged_g = None  # any later settled weight is judged
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
            measured_g=self.last_weight_g,
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
        self._judged_g = None
        self._settler.reset()
        if self.queue:
            effects.extend(self._activate(self.queue.popleft(), now))
            return effects
        effects.append(self._show())
        return effects

    def _on_unusable(self, reading: Reading) -> list[Effect]:
        if reading.is_overload or reading.is_underload:
            state = "overload" if reading.is_overload else "underload"
            return self._fault(f"scale reports {state}")
        if reading.kind is ReadingKind.STATUS and reading.error in FAULT_STATUSES:
            return self._fault(f"scale reports {reading.error.replace('_', ' ')}")
        return []  # errors and garbage are counted by the runtime, never judged

    def _fault(self, reason: str) -> list[Effect]:
        effects: list[Effect] = []
        was_faulted = self.is_faulted
        self.is_faulted, self.fault_reason = True, reason
        if not was_faulted:
            effects.append(Note("scale_faulted", {"reason": reason}))
        if self.state is State.SETTLING:
            verdict = self._verdict(
                VerdictKind.SCALE_FAULT, f"scale fault while weighing: {reason}"
            )
            self.last_verdict = verdict
            effects.append(Record(verdict))
            # Weigh again once the scale is back: the order stays loaded.
            self.state = State.WAITING if self.job is not None else State.IDLE
            self._settler.reset()
        effects.append(self._show())
        return effects

    def _watch_zero(self, reading: Reading, now: float) -> list[Effect]:
        """An empty platter that reads a few grams off zero for a while is zero drift."""
        assert reading.weight is not None  # noqa: S101 - only usable readings come here
        drift = reading.weight.in_grams
        settle = self.settle
        if (
            not reading.is_stable
            or not settle.zero_drift_g <= abs(drift) < settle.empty_threshold_g
        ):
            if abs(drift) < settle.zero_drift_g / 2:
                self._drift_since = None  # back at zero: a new drift is a new episode
            return []
        if self._drift_since is None:
            self._drift_since = now
            return []
        if now - self._drift_since < settle.zero_drift_after_s or self._drift_since < 0:
            return []
        self._drift_since = -1.0  # reported; not again until the platter is back at zero
        effects: list[Effect] = [Note("zero_drift_detected", {"drift_g": str(drift)})]
        if settle.auto_zero:
            effects.append(ZeroScale(drift))
        return effects

    def _order_id(self) -> str:
        return self.job.order_id if self.job else ""
