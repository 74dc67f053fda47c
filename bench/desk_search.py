"""The case desk's search at a million parcels, and an order's evidence, on PostgreSQL.

A database made for the run is migrated and filled with `--parcels` verdict records (40
stations, tracking numbers SF..., marketplace orders TB-...) by one INSERT ... SELECT. Then
200 searches by a random tracking-number prefix (12 of 14 characters: what an agent types),
any case, through `Store.find_parcels`, and 200 `Store.order_records` of the orders found.
Reference in the same run: bare psycopg, an exact match on the same indexed column (the
cheapest query that can answer at all). Printed: p50 and p99 of each (target: p99 <= 100 ms).
Run: .venv/bin/python -m bench.desk_search [--parcels 1000000]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

import psycopg

from bench._postgres import fresh_database
from scale_agent.central.store import Store

QUERIES = 200
FILL = """
INSERT INTO evidence (site, line, station, chain, seq, prev_hash, hash, hash_ok, kind,
    order_id, order_key, reference_key, marketplace_key, recorded_at, received_at, body)
SELECT 'sz', 'line-' || (n %% 4), 'bench-' || (n %% 40), repeat('a', 64), n,
    repeat('0', 64), md5(n::text) || md5(n::text), true, 'PASS',
    'SO-' || n, 'so-' || n, 'sf' || (1402000000 + n * 7), 'tb-2026-' || n,
    now() - (n || ' seconds')::interval, now(),
    '{"verdict":"PASS","order_id":"SO-' || n || '","measured":{"value":1025.0,"unit":"g"}}'
FROM generate_series(1, %(parcels)s) AS n
"""


def main() -> None:
    options = argparse.ArgumentParser()
    options.add_argument("--parcels", type=int, default=1_000_000)
    args = options.parse_args()
    with fresh_database("bench_desk") as url:
        store = Store(url)
        store.upgrade()
        started = time.perf_counter()
        with psycopg.connect(url, autocommit=True) as db:
            db.execute(FILL, {"parcels": args.parcels})
            db.execute(
                "INSERT INTO evidence_chains SELECT DISTINCT site, line, station, chain, now(),"
                " 0, 0, NULL::text FROM evidence"
            )
            db.execute("ANALYZE evidence")
        print(f"{args.parcels:,} records stored in {time.perf_counter() - started:.0f} s")
        picks = [random.randint(1, args.parcels) for _ in range(QUERIES)]
        prefixes = [f"SF{1402000000 + n * 7}"[:12] for n in picks]
        searched = _timed(store.find_parcels, prefixes)
        found = [f"SO-{n}" for n in picks]
        orders = _timed(store.order_records, found)
        with psycopg.connect(url) as db:
            exact = _timed(
                lambda p: db.execute(
                    "SELECT order_id FROM evidence WHERE reference_key = %s", (p.lower(),)
                ).fetchall(),
                [f"SF{1402000000 + n * 7}" for n in picks],
            )
        store.close()
    for label, (p50, p99) in (
        ("reference, bare psycopg exact match on the index", exact),
        ("desk search by a 12-character prefix, any case", searched),
        ("an order's records (with its chain's state)", orders),
    ):
        print(f"{label}: p50 {p50:.1f} ms, p99 {p99:.1f} ms")


def _timed(run: object, inputs: list[str]) -> tuple[float, float]:
    """(p50, p99) in ms of `run(input)` over the inputs."""
    took = []
    for value in inputs:
        started = time.perf_counter()
        run(value)  # type: ignore[operator]
        took.append((time.perf_counter() - started) * 1000)
    cuts = statistics.quantiles(took, n=100)
    return cuts[49], cuts[98]


if __name__ == "__main__":
    main()
