"""The station's scanner desk: what each scan does, order look-ups, item-by-item packing.

Runs in the station loop (it owns no thread): a scan is classified (`scans.classify`), an
order id starts a look-up in a short-lived worker thread whose answer comes back through the
station queue as `LookedUp`, and in item-by-item mode every item scan and settled platter
weight goes through an `ItemTracker`. Problems reach the packer on the lights at once and
the supervisors as `event` messages.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from scale_agent.domain.packing import ItemTracker
from scale_agent.domain.phrases import phrase
from scale_agent.domain.scan_rules import ScanKind, classify
from scale_agent.domain.settle import Settler
from scale_agent.errors import JobError
from scale_agent.io.translations import ENGLISH
from scale_agent.station.effects import Effect, Override, Show, StartTest, Told
from scale_agent.station.guidance import item_mismatch, looking_up, scan_problem

if TYPE_CHECKING:
    from collections.abc import Callable
    from decimal import Decimal

    from scale_agent.domain.jobs import Job
    from scale_agent.domain.phrases import ItemName, Phrase
    from scale_agent.io.config import StationConfig
    from scale_agent.io.logs import Log
    from scale_agent.io.order_sources import OrderSource
    from scale_agent.io.scanner_link import Scanned
    from scale_agent.station.logic import StationLogic
    from scale_agent.weights import Reading


@dataclass(frozen=True)
class LookedUp:
    """The answer to an order look-up: the job, or why there is none."""

    order_id: str
    job: Job | None
    reason: str = ""


class ScanDesk:
    """Turns scans and look-up answers into station effects."""

    def __init__(
        self,
        config: StationConfig,
        logic: StationLogic,
        source: OrderSource,
        *,
        emit: Callable[[LookedUp], None],
        log: Log,
    ) -> None:
        self.config = config
        self.logic = logic
        self.source = source
        self._emit = emit
        self._log = log
        self.tracker: ItemTracker | None = None
        self._settler = Settler(config.agent.settle)
        self._last_settled_g: Decimal | None = None

    # -- scans ------------------------------------------------------------------------------

    def on_scan(self, scanned: Scanned, now: float) -> list[Effect]:
        """One code from the scanner."""
        scan = classify(scanned.code, self.config.agent.scans, self.logic.catalog)
        self._log.info("code_scanned", kind=scan.kind.value, value=scan.value)
        if scan.kind is ScanKind.ORDER:
            self._look_up(scan.value)
            return [Show(looking_up(scan.value))]
        if scan.kind is ScanKind.COMMAND:
            return self._command(scan.value, scan.operator, now)
        if scan.kind is ScanKind.CARTON:
            job = self.logic.job
            if job is None:
                return self._problem(
                    "scan_rejected",
                    phrase("Carton {carton}: scan the order first", carton=scan.value),
                )
            return self.logic.on_job(replace(job, carton_id=scan.value, carton_tare=None), now)
        if scan.kind is ScanKind.ITEM:
            return self._item(scan.value)
        return self._problem(
            "scan_rejected",
            phrase("Scan {code} not understood: scan it again", code=repr(scan.value)),
            scan.reason,
        )

    def _command(self, name: str, operator: str | None, now: float) -> list[Effect]:
        if name == "reweigh":
            return self.logic.on_reweigh(now)
        if name == "cancel":
            self.tracker = None
            return self.logic.on_cancel(now)
        if name == "override":
            override = Override(str(operator), "override card scanned at the station")
            return self.logic.on_override(override, None, now)
        if name == "test":
            return [StartTest(None, "on demand (scan)")]
        return self._close(now)

    def _close(self, now: float) -> list[Effect]:
        tracker = self.tracker
        if tracker is None:
            return self._problem(
                "scan_rejected", phrase("Close scanned, but no item-by-item parcel is open")
            )
        if tracker.pending is not None:
            return self._mismatch(
                phrase(
                    "{item} was scanned but not placed on the scale: place it",
                    item=tracker.name(tracker.pending),
                )
            )
        self.tracker = None
        return self.logic.finish_packing(now)

    # -- look-ups ---------------------------------------------------------------------------

    def _look_up(self, order_id: str) -> None:
        def work() -> None:
            try:
                job = self.source.find(order_id)
            except JobError as exc:
                self._emit(LookedUp(order_id, None, exc.reason))
                return
            self._emit(LookedUp(order_id, job))

        threading.Thread(target=work, name=f"order-lookup {order_id}", daemon=True).start()

    def on_looked_up(self, answer: LookedUp, now: float) -> list[Effect]:
        """A look-up finished: load the order, or show the packer why not."""
        if answer.job is None:
            self._log.warning("order_lookup_failed", order_id=answer.order_id, reason=answer.reason)
            return self.logic.on_order_unavailable(answer.order_id, answer.reason)
        effects = self.logic.on_job(answer.job, now)
        if self.config.agent.station.item_by_item and self.logic.job is answer.job:
            self.tracker = ItemTracker(answer.job, self.logic.catalog)
            self._settler.reset()
            self._last_settled_g = None
            effects += self.logic.start_packing(self._progress())
        return effects

    # -- item by item -----------------------------------------------------------------------

    def _item(self, sku: str) -> list[Effect]:
        tracker = self.tracker
        if tracker is None:
            return self._problem(
                "scan_rejected", phrase("Item {sku} scanned, but no order is open", sku=sku)
            )
        check = tracker.scan(sku)
        if check.problem is not None:
            return self._mismatch(check.problem)
        return self.logic.note_packing(self._progress(tracker.name(sku)))

    def on_reading(self, reading: Reading, now: float) -> list[Effect]:
        """Item-by-item: watch the platter settle after each item."""
        tracker = self.tracker
        if tracker is None or not reading.is_usable_weight:
            return []
        settled = self._settler.feed(reading)
        if settled is None:
            return []
        self._settler.reset()
        grams = settled.weight.in_grams
        last = self._last_settled_g
        if last is not None and abs(grams - last) <= self.config.agent.settle.band_g:
            return []
        self._last_settled_g = grams
        check = tracker.settled(grams)
        if check.problem is not None:
            return self._mismatch(check.problem)
        if check.is_complete:
            self.tracker = None
            return self.logic.finish_packing(now)
        return self.logic.note_packing(self._progress())

    def _progress(self, placing: ItemName | None = None) -> Phrase:
        """What to do next, with the count so far."""
        tracker = self.tracker
        if tracker is None:
            return phrase("Scan the next item")
        if placing is not None:
            return phrase(
                "Place {item} on the scale ({packed} of {total} packed)",
                item=placing,
                packed=tracker.packed,
                total=tracker.ordered,
            )
        return phrase(
            "Scan the next item ({packed} of {total} packed)",
            packed=tracker.packed,
            total=tracker.ordered,
        )

    def _mismatch(self, problem: Phrase) -> list[Effect]:
        order_id = self.logic.job.order_id if self.logic.job else None
        return [
            Told("item_mismatch", ENGLISH.render(problem), order_id),
            Show(item_mismatch(problem)),
        ]

    def _problem(self, kind: str, problem: Phrase, detail: str = "") -> list[Effect]:
        reason = ENGLISH.render(problem) + (f" ({detail})" if detail else "")
        return [Told(kind, reason), Show(scan_problem(problem, detail))]
