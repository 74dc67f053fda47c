"""What the packer is told: one big word and one instruction line, for every state.

Pure. `guide(logic)` reads the state machine (through `Guided`, what it needs of it: the
state machine imports this module, never the other way) and says, in plain words, what to do next:
item names from the catalog rather than codes ("Add 1 x Coffee beans 500 g, then lift and
re-place the parcel"), the amount ("Too heavy by 36 g"), the likely cause ("check for an
extra item or the wrong carton"). The statistics behind a verdict stay in the ledger and
the monitor; `detail` carries the technical reason (shown small, never translated).

A `Guidance` is rendered by a `Translator` for the lights (`indication`) and the screen.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol

from scale_agent.domain.phrases import ClockTime, Grams, ItemName, Phrase, phrase
from scale_agent.domain.verifier import VerdictKind
from scale_agent.io.translations import ENGLISH
from scale_agent.signals import Indication, Signal

if TYPE_CHECKING:
    from collections.abc import Callable
    from enum import StrEnum

    from scale_agent.domain.explanations import Hypothesis
    from scale_agent.domain.jobs import Job
    from scale_agent.domain.verifier import Expectation, Verdict
    from scale_agent.io.translations import Translator


class _Health(Protocol):
    is_faulted: bool
    faulted_at: float | None
    fault_reason: str


class _Override(Protocol):
    @property
    def operator(self) -> str:
        """Who let the parcel go."""
        ...

    @property
    def reason(self) -> str:
        """Why."""
        ...


class Guided(Protocol):
    """What `guide` reads of the state machine (`StationLogic` has all of it)."""

    scale_lock: str | None
    ledger_problem: str | None
    test_prompt: Phrase | None
    last_verdict: Verdict | None
    expectation: Expectation | None
    job: Job | None
    is_packing: bool
    packing_note: Phrase

    @property
    def health(self) -> _Health:
        """The scale as last seen: faulted, since when, why."""
        ...

    @property
    def state(self) -> StrEnum:
        """Where the parcel is in its life (idle, waiting, settling, judged)."""
        ...

    @property
    def override(self) -> _Override | None:
        """A supervisor's release of the judged parcel."""
        ...


SEAL_OPEN = phrase("SEAL OPEN")
SEAL_LOCKED = phrase("SEAL LOCKED")


@dataclass(frozen=True)
class Guidance:
    """One state of the packer's lights and screen."""

    signal: Signal
    headline: Phrase
    instruction: Phrase
    is_seal_enabled: bool = False
    detail: str = ""  # the technical reason (outside or English text), shown small

    def indication(self, translator: Translator = ENGLISH) -> Indication:
        """What the lights show: the big word and the instruction, in the station's language."""
        text = f"{translator.render(self.headline)}: {translator.render(self.instruction)}"
        if self.detail:
            text += f" ({self.detail})"
        seal = translator.render(SEAL_OPEN if self.is_seal_enabled else SEAL_LOCKED)
        return Indication(self.signal, text, is_seal_enabled=self.is_seal_enabled, seal_text=seal)


def fault(reason: str, since_wall: float | None = None) -> Guidance:
    """The scale cannot be trusted: what it means at the bench, and the reason in small.

    The technical reason is shown only where the instruction does not already say it all
    (a port that vanished, a protocol error): it is English and for whoever fixes it.
    """
    detail = ""
    if "overload" in reason:
        instruction = phrase("Scale overloaded: take the weight off the platter")
    elif "underload" in reason:
        instruction = phrase("Scale reads below zero: empty the platter, then zero the scale")
    elif reason == "waiting for the scale":
        instruction = phrase("Waiting for the scale: check that it is switched on and connected")
    elif since_wall is not None:
        instruction = phrase(
            "Scale not answering: check the cable and the power (fault since {time})",
            time=ClockTime(since_wall),
        )
        detail = reason
    else:
        instruction = phrase("Scale not answering: check the cable and the power")
        detail = reason
    return Guidance(Signal.FAULT, phrase("SCALE FAULT"), instruction, detail=detail)


def order_problem(order_id: str, reason: str) -> Guidance:
    """An order that could not be looked up or cannot be weighed here."""
    return Guidance(
        Signal.FAULT,
        phrase("ORDER PROBLEM"),
        phrase(
            "Order {order} cannot be weighed: scan it again or call the supervisor", order=order_id
        ),
        detail=reason,
    )


def scan_problem(instruction: Phrase, detail: str = "") -> Guidance:
    """A scan the station could not use."""
    return Guidance(Signal.FAULT, phrase("SCAN PROBLEM"), instruction, detail=detail)


def item_mismatch(instruction: Phrase) -> Guidance:
    """Item-by-item: the scan and the weight disagree."""
    return Guidance(Signal.ITEM_MISMATCH, phrase("WRONG ITEM"), instruction)


def looking_up(order_id: str) -> Guidance:
    """A scanned order is being looked up."""
    return Guidance(
        Signal.SETTLING,
        phrase("LOOKING UP"),
        phrase("Looking up order {order}...", order=order_id),
    )


def guide(  # noqa: PLR0911 - one return per state
    logic: Guided, wall_time: Callable[[float], float] | None = None
) -> Guidance:
    """The guidance for the state machine's current state (faults win over everything)."""
    health = logic.health
    if health.is_faulted:
        since = health.faulted_at
        wall = wall_time(since) if wall_time is not None and since is not None else None
        return fault(health.fault_reason, wall)
    if (held := _held(logic)) is not None:
        return held
    if logic.state.value == "judged" and logic.override is not None:
        override = logic.override
        return Guidance(
            Signal.PASS,
            phrase("OVERRIDE"),
            phrase(
                "Released by {operator} ({reason}): seal the parcel",
                operator=override.operator,
                reason=override.reason,
            ),
            is_seal_enabled=True,
        )
    if logic.state.value == "judged" and logic.last_verdict is not None:
        return verdict_guidance(logic.last_verdict, logic.expectation)
    if logic.state.value == "settling":
        return Guidance(
            Signal.SETTLING, phrase("WEIGHING"), phrase("Hands off the parcel: weighing...")
        )
    job = logic.job
    if job is not None and logic.is_packing:
        return Guidance(Signal.READY, phrase("PACK ITEMS"), logic.packing_note)
    if job is not None:
        expected = logic.expectation.expected_g if logic.expectation else None
        if expected is None:
            instruction = phrase("Order {order}: place the parcel on the scale", order=job.order_id)
        else:
            instruction = phrase(
                "Order {order}: place the parcel on the scale (expect {expected})",
                order=job.order_id,
                expected=Grams(expected),
            )
        return Guidance(Signal.READY, phrase("PLACE PARCEL"), instruction)
    return Guidance(Signal.IDLE, phrase("SCAN ORDER"), phrase("Scan the next order"))


def _held(logic: Guided) -> Guidance | None:
    """What stops judging: a ledger that cannot write, a scale out of tolerance, a test."""
    if logic.ledger_problem is not None:
        return Guidance(
            Signal.FAULT,
            phrase("RECORDS NOT KEPT"),
            phrase("The station cannot keep its records (disk full?): call maintenance"),
            detail=logic.ledger_problem,
        )
    if logic.scale_lock is not None:
        return Guidance(
            Signal.FAULT,
            phrase("SCALE OUT OF TOLERANCE"),
            phrase("Scale out of tolerance: call maintenance; no parcel is judged until then"),
            detail=logic.scale_lock,
        )
    if logic.test_prompt is not None:
        return Guidance(Signal.READY, phrase("SCALE TEST"), logic.test_prompt)
    return None


# Verdicts whose guidance needs nothing from the verdict: (headline, instruction).
_FIXED = {
    VerdictKind.RECHECK: (
        phrase("RECHECK"),
        phrase("Too close to the limit to be sure: lift the parcel and place it again"),
    ),
    VerdictKind.UNVERIFIABLE: (
        phrase("COUNT ITEMS"),
        phrase("The weight fits, but it cannot show a missing item: count the items, then seal"),
    ),
    VerdictKind.UNSTABLE: (
        phrase("NOT STEADY"),
        phrase("The weight did not settle: re-seat the parcel and keep the bench still"),
    ),
    VerdictKind.NO_JOB: (phrase("NO ORDER"), phrase("Scan the order for this parcel")),
}


def verdict_guidance(verdict: Verdict, expectation: Expectation | None) -> Guidance:
    """What a verdict asks of the packer."""
    kind = verdict.kind
    if kind is VerdictKind.PASS:
        counted = _counted(expectation)
        instruction = (
            phrase("Count {items} by eye, then seal the parcel", items=counted)
            if counted
            else phrase("Seal the parcel and lift it off")
        )
        return Guidance(kind.signal, phrase("PASS"), instruction, is_seal_enabled=True)
    if kind in {VerdictKind.MISSING_ITEM, VerdictKind.EXTRA_ITEM} and verdict.explanation:
        return _item_guidance(verdict, expectation)
    if kind in {
        VerdictKind.UNDER,
        VerdictKind.MISSING_ITEM,
        VerdictKind.OVER,
        VerdictKind.EXTRA_ITEM,
    }:
        return _weight_guidance(verdict)
    if kind in _FIXED:
        headline, instruction = _FIXED[kind]
        return Guidance(kind.signal, headline, instruction)
    if kind is VerdictKind.SCALE_FAULT:
        return fault(verdict.reason)
    return Guidance(
        kind.signal, phrase("DO NOT SEAL"), phrase("Call the supervisor"), detail=verdict.reason
    )


def _item_guidance(verdict: Verdict, expectation: Expectation | None) -> Guidance:
    """MISSING / EXTRA ITEM with the units that explain it, by name."""
    items = _items(verdict.explanation[0], expectation)
    if verdict.kind is VerdictKind.MISSING_ITEM:
        return Guidance(
            verdict.kind.signal,
            phrase("MISSING ITEM"),
            phrase("Add {items}, then lift and re-place the parcel", items=items),
        )
    return Guidance(
        verdict.kind.signal,
        phrase("EXTRA ITEM"),
        phrase("Take out {items}, then lift and re-place the parcel", items=items),
    )


def _weight_guidance(verdict: Verdict) -> Guidance:
    """Too light or too heavy, by how much, with no units that explain it."""
    amount = Grams(abs((verdict.measured_g or Decimal(0)) - (verdict.expected_g or Decimal(0))))
    if verdict.kind in {VerdictKind.UNDER, VerdictKind.MISSING_ITEM}:
        return Guidance(
            verdict.kind.signal,
            phrase("TOO LIGHT"),
            phrase(
                "Too light by {amount}: check for a missing item or the wrong carton, "
                "then re-place the parcel",
                amount=amount,
            ),
        )
    return Guidance(
        verdict.kind.signal,
        phrase("TOO HEAVY"),
        phrase(
            "Too heavy by {amount}: check for an extra item or the wrong carton",
            amount=amount,
        ),
    )


def _names(expectation: Expectation | None) -> dict[str, ItemName]:
    if expectation is None:
        return {}
    return {line.sku: ItemName(line.name, line.names) for line in expectation.lines}


def _items(hypothesis: Hypothesis, expectation: Expectation | None) -> tuple[Phrase, ...]:
    """`1 x Coffee beans 500 g` per SKU of the explanation, by name."""
    names = _names(expectation)
    return tuple(
        phrase("{qty} x {name}", qty=qty, name=names.get(sku, ItemName(sku)))
        for sku, qty, _ in hypothesis.parts
    )


def _counted(expectation: Expectation | None) -> tuple[ItemName, ...]:
    if expectation is None:
        return ()
    return tuple(ItemName(line.name, line.names) for line in expectation.lines if line.is_counted)
