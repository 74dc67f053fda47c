"""The station state machine, driven event by event with explicit times."""

from __future__ import annotations

from decimal import Decimal

import pytest

from scale_agent.domain.catalog import Catalog, Item
from scale_agent.domain.jobs import Job, JobLine
from scale_agent.domain.scale_range import ScaleRange
from scale_agent.domain.settle import SettleSection
from scale_agent.domain.verifier import VerdictKind
from scale_agent.io.config import ToleranceSection
from scale_agent.plugins import Signal
from scale_agent.station.effects import Effect, Note, Record, Refused, Show, Told, ZeroScale
from scale_agent.station.logic import State, StationLogic
from scale_agent.weights import Reading, ReadingKind, Weight

W = Weight.parse
CATALOG = Catalog(
    skus={
        "CASE": Item("CASE", "Phone case", W("150g"), W("2g")),
        "BOOK": Item("BOOK", "Book", W("420g"), W("4g")),
    },
    cartons={"BOX-S": Item("BOX-S", "Small box", W("35g"), W("1.5g"))},
)
ORDER = Job("SO-1", (JobLine("CASE", 1), JobLine("BOOK", 2)), "BOX-S")  # expects 1025 g
SETTLE = SettleSection(window_readings=3, min_time_s=0.1, timeout_s=5, fault_after_s=2)


class Bench:
    """Feeds a StationLogic readings at 20 Hz and collects the effects."""

    def __init__(self) -> None:
        self.logic = StationLogic(SETTLE, ToleranceSection(), CATALOG)
        self.now = 0.0
        self.effects: list[Effect] = []

    def job(self, job: Job = ORDER) -> None:
        self.effects += self.logic.on_job(job, self.now)

    def weigh(self, grams: str, count: int = 10, *, stable: bool = True) -> None:
        for _ in range(count):
            self.now += 0.05
            reading = Reading(
                ReadingKind.WEIGHT, b"S S", W(grams), is_stable=stable, received_at=self.now
            )
            self.effects += self.logic.on_reading(reading, self.now)
            self.effects += self.logic.on_tick(self.now)

    def wait(self, seconds: float) -> None:
        for _ in range(int(seconds / 0.05)):
            self.now += 0.05
            self.effects += self.logic.on_tick(self.now)

    def signals(self) -> list[Signal]:
        shown: list[Signal] = []
        for effect in self.effects:
            if isinstance(effect, Show) and (not shown or shown[-1] != effect.indication.signal):
                shown.append(effect.indication.signal)
        return shown

    def verdicts(self) -> list[VerdictKind]:
        return [e.verdict.kind for e in self.effects if isinstance(e, Record)]

    def notes(self) -> list[str]:
        return [e.event for e in self.effects if isinstance(e, Note | Told)]

    def told(self) -> list[Told | Refused]:
        return [e for e in self.effects if isinstance(e, Told | Refused)]


@pytest.fixture
def bench() -> Bench:
    bench = Bench()
    bench.weigh("0g", 3)  # the scale is alive and empty
    bench.effects.clear()
    return bench


def test_a_good_parcel_goes_ready_settling_pass_then_idle(bench: Bench) -> None:
    bench.job()
    bench.weigh("1027g")
    bench.weigh("0g", 3)
    assert bench.signals() == [Signal.READY, Signal.SETTLING, Signal.PASS, Signal.IDLE]
    assert bench.verdicts() == [VerdictKind.PASS]
    assert bench.logic.state is State.IDLE


def test_only_a_pass_enables_the_seal(bench: Bench) -> None:
    bench.job()
    bench.weigh("1027g")
    enabled = [
        e.indication for e in bench.effects if isinstance(e, Show) and e.indication.is_seal_enabled
    ]
    assert [i.signal for i in enabled] == [Signal.PASS]
    bench.weigh("0g", 3)
    assert not bench.logic.indication().is_seal_enabled


def test_the_record_comes_before_the_light_that_shows_it(bench: Bench) -> None:
    bench.job()
    bench.weigh("875g")
    kinds = [type(e).__name__ for e in bench.effects]
    record = kinds.index("Record")
    assert isinstance(bench.effects[record + 1], Show)
    assert bench.effects[record + 1].indication.signal is Signal.FAIL  # type: ignore[union-attr]


def test_a_missing_item_fails_and_keeps_the_order_until_fixed(bench: Bench) -> None:
    bench.job()
    bench.weigh("877g")  # the phone case is missing
    assert bench.verdicts() == [VerdictKind.MISSING_ITEM]
    bench.weigh("1026g")  # the packer adds it: judged again, now a pass
    assert bench.verdicts() == [VerdictKind.MISSING_ITEM, VerdictKind.PASS]
    rejudged = [e.is_rejudged for e in bench.effects if isinstance(e, Record)]
    assert rejudged == [False, True]


def test_a_failed_parcel_lifted_off_keeps_its_order_loaded(bench: Bench) -> None:
    bench.job()
    bench.weigh("877g")
    bench.weigh("0g", 3)
    assert bench.logic.state is State.WAITING
    assert bench.logic.indication().signal is Signal.READY


def test_a_parcel_already_on_the_platter_is_judged_when_the_order_arrives(bench: Bench) -> None:
    bench.weigh("1024g", 3)
    bench.job()
    bench.weigh("1024g")
    assert bench.verdicts()[-1] is VerdictKind.PASS


def test_a_parcel_without_an_order_is_no_job_then_judged_once_scanned(bench: Bench) -> None:
    bench.weigh("1024g")
    assert bench.verdicts() == [VerdictKind.NO_JOB]
    assert bench.signals()[-1] is Signal.FAIL
    bench.job()
    bench.weigh("1024g")
    assert bench.verdicts() == [VerdictKind.NO_JOB, VerdictKind.PASS]


def test_a_bounce_through_the_load_threshold_is_not_a_parcel(bench: Bench) -> None:
    bench.job()
    bench.weigh("0g", 2)
    bench.weigh("60g", 2, stable=False)  # the platter springs back as a parcel is lifted
    bench.weigh("0g", 4)
    assert Signal.SETTLING not in bench.signals()
    assert bench.notes() == ["job_loaded"]


def test_a_parcel_removed_before_the_verdict_returns_to_waiting(bench: Bench) -> None:
    bench.job()
    bench.weigh("1024g", 5, stable=False)
    bench.weigh("0g", 2)
    assert bench.verdicts() == []
    assert "parcel_removed_before_verdict" in bench.notes()
    assert bench.logic.state is State.WAITING


def test_no_settled_weight_within_the_timeout_is_unstable(bench: Bench) -> None:
    bench.job()
    bench.weigh("1024g", 120, stable=False)  # 6 s of motion
    assert bench.verdicts() == [VerdictKind.UNSTABLE]
    assert Signal.RECHECK in bench.signals()


def test_a_silent_scale_shows_fault_within_two_seconds(bench: Bench) -> None:
    bench.job()
    bench.wait(2.1)
    assert bench.signals()[-1] is Signal.FAULT
    assert "scale_faulted" in bench.notes()
    bench.weigh("0g", 1)
    assert bench.signals()[-1] is Signal.READY  # back, and the order is still loaded


def test_a_scale_fault_while_settling_is_recorded_and_the_parcel_weighed_again(
    bench: Bench,
) -> None:
    bench.job()
    bench.weigh("1024g", 5, stable=False)
    bench.effects += bench.logic.on_link_down("ttyUSB0 disconnected", bench.now)
    assert bench.verdicts() == [VerdictKind.SCALE_FAULT]
    assert bench.signals()[-1] is Signal.FAULT
    bench.weigh("1024g")
    assert bench.verdicts() == [VerdictKind.SCALE_FAULT, VerdictKind.PASS]


def test_overload_is_a_fault_never_a_weight(bench: Bench) -> None:
    bench.job()
    overload = Reading(ReadingKind.STATUS, b"S +", is_overload=True, received_at=bench.now)
    bench.effects += bench.logic.on_reading(overload, bench.now)
    assert bench.signals()[-1] is Signal.FAULT
    assert "overload" in bench.logic.health.fault_reason


def test_garbage_frames_never_produce_a_verdict_and_fault_the_station(bench: Bench) -> None:
    bench.job()
    for _ in range(60):
        bench.now += 0.05
        garbage = Reading(
            ReadingKind.ERROR, b"\xff\x13", error="unknown reply", received_at=bench.now
        )
        bench.effects += bench.logic.on_reading(garbage, bench.now)
        bench.effects += bench.logic.on_tick(bench.now)
    assert bench.verdicts() == []
    assert bench.signals()[-1] is Signal.FAULT


def test_an_order_with_an_unknown_sku_is_one_rejection_naming_the_order(bench: Bench) -> None:
    bench.job(Job("SO-9", (JobLine("NOPE", 1),), "BOX-S"))
    assert bench.verdicts() == []  # nothing was weighed: no verdict, no alert
    [refused] = bench.told()
    assert isinstance(refused, Refused)
    assert refused.order_id == "SO-9"
    assert "NOPE" in refused.reason
    assert bench.signals() == [Signal.FAULT]
    assert bench.logic.job is None


def test_a_failed_parcel_is_not_dropped_by_the_next_order(bench: Bench) -> None:
    bench.job()
    bench.weigh("700g")  # far too light: FAIL
    assert bench.verdicts() == [VerdictKind.UNDER]
    bench.weigh("0g", 3)  # the packer lifts it off without fixing it
    bench.job(Job("SO-2", (JobLine("CASE", 1),), "BOX-S"))
    [queued] = [t for t in bench.told() if t.order_id == "SO-2"]
    assert isinstance(queued, Told)
    assert queued.event == "job_queued"
    assert "SO-1 has an unresolved UNDER" in queued.reason
    assert bench.logic.job is not None
    assert bench.logic.job.order_id == "SO-1"  # still the one to fix
    bench.weigh("1027g")  # fixed and re-weighed: PASS
    bench.weigh("0g", 3)
    assert bench.logic.job is not None
    assert bench.logic.job.order_id == "SO-2"


def test_cancelling_an_open_failure_is_told_and_loads_the_next_order(bench: Bench) -> None:
    bench.job()
    bench.weigh("700g")
    bench.weigh("0g", 3)
    bench.job(Job("SO-2", (JobLine("CASE", 1),), "BOX-S"))
    bench.effects.clear()
    bench.effects += bench.logic.on_cancel(bench.now)
    [cancelled] = bench.told()
    assert cancelled.reason == "order SO-1 cancelled with an unresolved UNDER"
    assert bench.logic.job is not None
    assert bench.logic.job.order_id == "SO-2"


def test_replacing_an_order_not_yet_weighed_is_told(bench: Bench) -> None:
    bench.job()
    bench.job(Job("SO-2", (JobLine("CASE", 1),), "BOX-S"))
    [replaced] = bench.told()
    assert isinstance(replaced, Told)
    assert (replaced.event, replaced.order_id) == ("job_replaced", "SO-1")
    assert bench.logic.job is not None
    assert bench.logic.job.order_id == "SO-2"


def test_an_order_arriving_while_a_parcel_is_judged_waits_for_the_unload(bench: Bench) -> None:
    bench.job()
    bench.weigh("1027g")
    bench.job(Job("SO-2", (JobLine("CASE", 1),), "BOX-S"))
    assert "job_queued" in bench.notes()
    bench.weigh("0g", 3)
    assert bench.logic.job is not None
    assert bench.logic.job.order_id == "SO-2"
    assert "Order SO-2: place the parcel" in bench.logic.indication().text


def test_expected_weight_is_shown_while_waiting(bench: Bench) -> None:
    bench.job()
    assert bench.logic.indication().text == (
        "PLACE PARCEL: Order SO-1: place the parcel on the scale (expect 1.025 kg)"
    )
    assert bench.logic.expectation is not None
    assert bench.logic.expectation.expected_g == Decimal(1025)


def test_zero_drift_on_an_empty_platter_is_reported_and_zeroed(bench: Bench) -> None:
    bench.weigh("4g", 20)  # 1 s: not yet
    assert not [e for e in bench.effects if isinstance(e, ZeroScale)]
    bench.weigh("4g", 100)  # 5 s more of a steady 4 g with nothing on the platter
    zeros = [e for e in bench.effects if isinstance(e, ZeroScale)]
    assert [z.drift_g for z in zeros] == [Decimal(4)]
    assert "zero_drift_detected" in bench.notes()
    bench.weigh("4g", 100)
    assert len([e for e in bench.effects if isinstance(e, ZeroScale)]) == 1  # once per episode


def test_an_order_heavier_than_the_scale_can_weigh_is_refused_at_job_time() -> None:
    logic = StationLogic(
        SETTLE, ToleranceSection(), CATALOG, scale_range=ScaleRange(capacity_g=Decimal(6000))
    )
    heavy = Job("SO-H", (JobLine("CASE", 200),), "BOX-S")
    [refused, shown] = logic.on_job(heavy, 0.0)
    assert isinstance(refused, Refused)
    assert refused.order_id == "SO-H"
    assert "more than this scale weighs (6.000 kg)" in refused.reason
    assert isinstance(shown, Show)
    assert shown.indication.signal is Signal.FAULT
    assert logic.job is None


def test_an_order_below_the_scales_minimum_weight_is_refused() -> None:
    logic = StationLogic(
        SETTLE, ToleranceSection(), CATALOG, scale_range=ScaleRange(min_g=Decimal(5000))
    )
    [refused, _] = logic.on_job(ORDER, 0.0)
    assert isinstance(refused, Refused)
    assert "below this scale's minimum weight (5.000 kg)" in refused.reason
