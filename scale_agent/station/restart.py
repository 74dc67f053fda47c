"""What a restart must not forget: a held scale, and a failed parcel holding its order.

A scale that failed its routine test stays held until a test passes or a supervisor releases
it; the newest test and release are read back from the ledger (`assurance_desk.remembered_in`).

A FAIL holds its order at the bench: later orders wait until it is fixed and re-weighed,
overridden or cancelled. The order lived only in memory, so a restart (a crash, an update, a
power cut) let the next order through while the failed parcel was still on the bench. The
ledger knows: when its newest verdict is a FAIL without an override, the station loads that
order again at start, and the FAIL holds the queue as it did before.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from scale_agent.domain.jobs import Job, JobLine
from scale_agent.domain.verifier import Verdict, VerdictKind
from scale_agent.station.assurance_desk import remembered_in
from scale_agent.station.effects import Show
from scale_agent.weights import Weight

if TYPE_CHECKING:
    from scale_agent.domain.catalog import Catalog
    from scale_agent.io.ledger import Ledger
    from scale_agent.io.logs import Log
    from scale_agent.station.assurance_desk import AssuranceDesk
    from scale_agent.station.effects import Effect
    from scale_agent.station.logic import StationLogic
    from scale_agent.station.recorder import Recorder

VERDICT_KINDS = tuple(kind.value for kind in VerdictKind)


def restore(  # noqa: PLR0917 - the parts a start restores, each named
    ledger: Ledger,
    catalog: Catalog,
    logic: StationLogic,
    assurance: AssuranceDesk | None,
    recorder: Recorder,
    log: Log,
    now: float,
) -> list[Effect]:
    """Rebuild the station's safety state from its ledger at start; the effects to carry out."""
    state = remembered_in(ledger)
    if state.test_id is not None:
        recorder.last_test = {
            "id": state.test_id,
            "at": state.test_at,
            "outcome": state.test_outcome,
        }
    if assurance is not None:
        assurance.restore(state)
    elif state.held is not None:  # no tests set up now: only a supervisor can release it
        logic.hold_scale(state.held)
    effects: list[Effect] = []
    if state.held is not None:
        log.warning("scale_held_from_ledger", reason=state.held)
        effects.append(Show(logic.guidance()))
    if (failure := open_failure_in(ledger, catalog)) is not None:
        job, verdict = failure
        log.warning("failure_restored", order_id=job.order_id, verdict=verdict.kind.value)
        effects += logic.restore_failure(job, verdict, now)
    return effects


def open_failure_in(ledger: Ledger, catalog: Catalog) -> tuple[Job, Verdict] | None:
    """The order whose FAIL the newest verdict record holds unresolved, and that verdict."""
    newest = ledger.newest(VERDICT_KINDS, limit=1)
    if not newest:
        return None
    record = newest[0]
    body = json.loads(record["body"])
    kind = VerdictKind(record["verdict"])
    order, order_id = body.get("order"), record["order_id"]
    if kind is VerdictKind.PASS or body.get("override") or not order_id or not order:
        return None
    job = Job(
        str(order_id),
        tuple(_line(line, catalog) for line in order["lines"]),
        **_carton(order.get("carton") or {}, catalog),
    )
    return job, Verdict(kind, str(order_id), str(body.get("reason") or ""))


def _line(line: dict[str, Any], catalog: Catalog) -> JobLine:
    """A line by SKU, as the catalog has it now (names on the screen); else as recorded."""
    sku, qty = str(line["sku"]), int(line["qty"])
    if sku in catalog.skus:
        return JobLine(sku, qty)
    return JobLine(sku, qty, Weight.grams(line["unit_g"]), Weight.grams(line["spread_g"]))


def _carton(carton: dict[str, Any], catalog: Catalog) -> dict[str, Any]:
    carton_id = carton.get("id")
    if carton_id is None or carton_id in catalog.cartons:
        return {"carton_id": carton_id}
    return {
        "carton_id": carton_id,
        "carton_tare": Weight.grams(carton["tare_g"]),
        "carton_spread": Weight.grams(carton["spread_g"]),
    }
