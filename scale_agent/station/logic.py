"""The station's state machine: the parcel's flow plus orders, supervisors and holds.

`ParcelFlow` (`station/parcel_flow.py`) weighs and judges; this layer decides which order is
loaded (a queue behind an open FAIL, a cancel, a replacement), what a supervisor may do (override,
re-weigh, release a held scale) and when loads are not judged at all (item-by-item packing, a
routine scale test, a scale held after a failed one). Pure like its base: events in, effects out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scale_agent.domain.verifier import VerdictKind
from scale_agent.station.effects import (
    Effect,
    Note,
    Override,
    Record,
    Refused,
    ReleaseScale,
    Show,
    Told,
)
from scale_agent.station.guidance import order_problem
from scale_agent.station.parcel_flow import ParcelFlow, State

if TYPE_CHECKING:
    from collections.abc import Mapping

    from scale_agent.domain.catalog import Catalog
    from scale_agent.domain.jobs import Job
    from scale_agent.domain.phrases import Phrase
    from scale_agent.domain.policies import Policy
    from scale_agent.domain.settle import SettleSection
    from scale_agent.domain.verifier import Verdict
    from scale_agent.signals import Indication

MAX_QUEUED_JOBS = 20

__all__ = ["MAX_QUEUED_JOBS", "State", "StationLogic"]


class StationLogic(ParcelFlow):
    """One station's state, driven by `on_*` calls that each return the effects to carry out."""

    # -- rules, devices and what is shown ------------------------------------------------------

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
        self.weighing.reconfigure(settle)

    def indication(self) -> Indication:
        """The lights' indication for the current state, in English (logs, tests)."""
        return self.guidance().indication()

    def on_link_down(self, reason: str, now: float) -> list[Effect]:
        """The driver lost its device (unplugged, port gone, connection refused)."""
        _ = now  # every event carries its time; a lost link needs none
        if self.health.is_faulted and self.health.fault_reason == reason:
            return []
        return self._fault(reason, now)

    # -- orders and supervisors -------------------------------------------------------------

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

    def on_override(self, override: Override, order_id: str | None, now: float) -> list[Effect]:
        """A supervisor lets the judged, failed parcel be sealed anyway (audited).

        With no failed parcel waiting but a scale held out of tolerance by a failed routine
        test, the override releases the scale instead (recorded in the ledger too).
        """
        verdict = self.last_verdict
        if self.state is not State.JUDGED or verdict is None or not verdict.is_flagged:
            if self.scale_lock is not None and self.test_prompt is None:
                return self.release_scale(override, now)
            return [Refused("override", "no failed parcel is waiting on this station")]
        if self.health.is_faulted:
            return [Refused("override", f"the scale is faulted: {self.health.fault_reason}")]
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
        return [Refused("job", reason, order_id), Show(order_problem(order_id, reason))]

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

    def replace_catalog(self, catalog: Catalog) -> None:
        """Take a re-read catalog (a `reload_catalog` command); the loaded order keeps its plan."""
        self.catalog = catalog

    # -- item-by-item packing ---------------------------------------------------------------

    def note_packing(self, note: Phrase) -> list[Effect]:
        """Item-by-item: what the packer should do next (shown while the parcel is open)."""
        self.packing_note = note
        return [self._show()]

    def start_packing(self, note: Phrase) -> list[Effect]:
        """Item-by-item: hold the parcel check while items are scanned in."""
        self.is_packing, self.packing_note = True, note
        return [self._show()]

    def finish_packing(self, now: float) -> list[Effect]:
        """Item-by-item: all items are in (or the packer closed the parcel): check it now."""
        self.is_packing = False
        if self.job is not None and self._parcel_present() and not self.health.is_faulted:
            return self._start_settling(now)
        return [self._show()]

    # -- a ledger that cannot write -----------------------------------------------------------

    def ledger_failed(self, reason: str) -> list[Effect]:
        """The ledger refused the verdict just judged: shown as FAULT, never as that verdict.

        What the ledger did not keep did not happen: the verdict is forgotten, the parcel on
        the platter is judged again once the ledger writes (`ledger_recovered`).
        """
        self.ledger_problem = reason
        self.last_verdict, self.override = None, None
        if self.state in {State.SETTLING, State.JUDGED}:
            self.state = State.WAITING if self.job is not None else State.IDLE
            self.weighing.stop()
        return [self._show()]

    def ledger_recovered(self, now: float) -> list[Effect]:
        """The ledger writes again: judging resumes (the parcel on the platter first)."""
        self.ledger_problem = None
        return self._resume(now)

    # -- routine scale tests ----------------------------------------------------------------

    def is_free_for_test(self) -> bool:
        """Nothing on the platter or in progress that a scale test would interrupt."""
        return (
            not self.health.is_faulted
            and self.state in {State.IDLE, State.WAITING}
            and not self._parcel_present()
            and not self.is_packing
            and self.test_prompt is None
        )

    def start_testing(self, prompt: Phrase) -> list[Effect]:
        """A scale test begins: the packer is told what to place; nothing is judged."""
        self.test_prompt = prompt
        return [self._show()]

    def note_testing(self, prompt: Phrase) -> list[Effect]:
        """The test's next step."""
        self.test_prompt = prompt
        return [self._show()]

    def restore_failure(self, job: Job, verdict: Verdict, now: float) -> list[Effect]:
        """At start: load the order whose FAIL the ledger holds unresolved; it holds the queue.

        As before the restart: fix and re-weigh it, override it or cancel it.
        """
        effects = self._activate(job, now)
        if self.job is job:
            self.last_verdict = verdict
        return effects

    def hold_scale(self, reason: str) -> None:
        """Judge nothing until a test passes or a supervisor releases the scale."""
        self.scale_lock = reason

    def finish_testing(self, lock: str | None, now: float) -> list[Effect]:
        """The test is over: judging resumes, unless it failed (`lock` says why)."""
        self.test_prompt, self.scale_lock = None, lock
        return self._resume(now)

    def release_scale(self, override: Override, now: float) -> list[Effect]:
        """A supervisor lets a scale that failed its test judge again (audited)."""
        was = self.scale_lock
        self.scale_lock = None
        reason = f"released by {override.operator}: {override.reason} (it was: {was})"
        return [
            ReleaseScale(override, str(was)),
            Told("scale_released", reason),
            *self._resume(now),
        ]

    def _resume(self, now: float) -> list[Effect]:
        if (
            not self.is_holding_loads
            and self.job is not None
            and self._parcel_present()
            and self.state is State.WAITING
            and not self.health.is_faulted
        ):
            return self._start_settling(now)
        return [self._show()]

    def can_zero(self) -> str | None:
        """Why the scale may not be zeroed now, or None when it may."""
        if self.state in {State.SETTLING, State.JUDGED} or self._parcel_present():
            return "a parcel is on the platter"
        return None
