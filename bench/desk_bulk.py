"""The case desk's bulk path and its report, at a central holding a station's real records.

A station's ledger of `--parcels` judged parcels (the test history: real verdict bodies) is sent
through the central's own evidence intake into a PostgreSQL database made for the run. Then:

- an after-sales list of 1,000 rows ("one item missing", each naming an order's own SKU) goes
  through `POST /api/cases/bulk` (checked whole, each order found, a case opened, assessed and
  audited); reference in the same run: the same 1,000 claims judged by the domain alone on
  bodies fetched by a bare psycopg query each (no case, no audit, no HTTP);
- an order's report PDF built at the central (`GET .../report.pdf`), cold and warm, beside the
  station's own `records report` PDF of the same order from its ledger in the same run.
Run: .venv/bin/python -m bench.desk_bulk [--parcels 3000] [--rows 1000]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
from fastapi.testclient import TestClient

from bench._postgres import fresh_database
from scale_agent.central.auth import Sessions, hash_password, new_token, token_hash
from scale_agent.central.evidence_intake import evidence_incoming
from scale_agent.central.store import Store
from scale_agent.central.web import Feed, make_app
from scale_agent.domain import claims
from scale_agent.io.evidence_messages import EvidencePayload
from scale_agent.io.ledger import Ledger
from scale_agent.io.translations import Translator
from scale_agent.tools.report import pdf
from scale_agent.tools.report.facts import gather
from tests.fakes.history import write_history

ZONE = ZoneInfo("Asia/Shanghai")


def main() -> None:
    options = argparse.ArgumentParser()
    options.add_argument("--parcels", type=int, default=3000)
    options.add_argument("--rows", type=int, default=1000)
    args = options.parse_args()
    folder = Path(tempfile.mkdtemp()) / "data"
    write_history(folder, args.parcels, synchronous="NORMAL")
    with fresh_database("bench_bulk") as url:
        store = Store(url)
        store.upgrade()
        orders = _send(folder, store)
        token = new_token()
        store.put_user("bench", hash_password("bench-pass-1"), "supervisor")
        store.set_token("bench", token_hash(token))
        app = make_app(store, Sessions("x" * 48), ZONE, send=lambda *_: False, feed=Feed())
        client = TestClient(app, headers={"Authorization": f"Bearer {token}"})
        rows = [orders[n % len(orders)] for n in range(args.rows)]
        listing = "order_id,claim,sku,qty\n" + "".join(f"{o},missing,{s},1\n" for o, s in rows)
        started = time.perf_counter()
        answer = client.post("/api/cases/bulk", files={"file": ("list.csv", listing.encode())})
        bulk_s = time.perf_counter() - started
        assert answer.status_code == 200, answer.text
        counts = answer.json()["counts"]
        reference_s = _reference(url, rows)
        order = rows[0][0]
        cold = _seconds(lambda: client.get(f"/api/evidence/orders/{order}/report.pdf"))
        warm = min(
            _seconds(lambda: client.get(f"/api/evidence/orders/{order}/report.pdf"))
            for _ in range(5)
        )
        station = _station_report(folder, order)
        store.close()
    print(f"{args.parcels:,} parcels' records at the central; a list of {args.rows:,} claims")
    print(f"reference, the domain alone on bodies from bare SQL: {reference_s:.2f} s")
    print(
        f"POST /api/cases/bulk: {bulk_s:.2f} s = {args.rows / bulk_s:,.0f} rows/s "
        f"({bulk_s / reference_s:.1f}x the reference); findings {counts}"
    )
    print(
        f"report PDF at the central: cold {cold * 1000:.0f} ms, warm {warm * 1000:.0f} ms; "
        f"the station's own PDF of that order, same run: {station * 1000:.0f} ms"
    )


def _send(folder: Path, store: Store) -> list[tuple[str, str]]:
    """Every ledger record through the central's intake into its store; (order, a SKU) pairs."""
    ledger = Ledger(folder, read_only=True)
    chain = ledger.hash_at(1) or ""
    batch, orders = [], []
    for record in ledger.raw_records(0, 10**9):
        payload = EvidencePayload(
            site="hist", line="line-1", station="bench-1", chain=chain, seq=record.seq,
            prev_hash=record.prev_hash, hash=record.hash, kind=record.kind,
            order_id=record.order_id, recorded_at=datetime.fromisoformat(record.recorded_at),
            body=record.body,
        )  # fmt: skip
        row = evidence_incoming(
            payload.model_dump_json().encode(), datetime.now(UTC), ("hist", "line-1", "bench-1")
        )
        assert not isinstance(row, str), row
        batch.append(row)
        lines = (json.loads(record.body).get("order") or {}).get("lines") or []
        if record.order_id and lines:
            orders.append((record.order_id, str(lines[0]["sku"])))
        if len(batch) == 500:
            store.ingest(batch)
            batch = []
    store.ingest(batch)
    store.verify_chains([("hist", "line-1", "bench-1", chain)])
    ledger.close()
    return orders


def _reference(url: str, rows: list[tuple[str, str]]) -> float:
    started = time.perf_counter()
    with psycopg.connect(url) as db:
        for order, sku in rows:
            body = db.execute(
                "SELECT body FROM evidence WHERE order_key = %s AND kind <> 'PHOTO' "
                "ORDER BY recorded_at DESC, seq DESC LIMIT 1",
                (order.casefold(),),
            ).fetchone()
            assert body is not None
            parcel = claims.packed_parcel(json.loads(body[0]))
            claims.assess(claims.Claim("missing", sku=sku, qty=1), parcel)
    return time.perf_counter() - started


def _station_report(folder: Path, order: str) -> float:
    ledger = Ledger(folder, read_only=True)
    facts = gather(ledger, folder, order, ZONE)
    assert facts is not None
    pdf.render(facts, Translator("en"))  # warm, as the central's warm figure
    took = _seconds(lambda: pdf.render(facts, Translator("en")))
    ledger.close()
    return took


def _seconds(work: object) -> float:
    started = time.perf_counter()
    work()  # type: ignore[operator]
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
