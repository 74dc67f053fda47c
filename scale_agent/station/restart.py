"""What a restart must not forget: a parcel that failed and was neither fixed nor overridden.

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
from scale_agent.weights import Weight

if TYPE_CHECKING:
    from scale_agent.domain.catalog import Catalog
    from scale_agent.io.ledger import Ledger

VERDICT_KINDS = tuple(kind.value for kind in VerdictKind)


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
