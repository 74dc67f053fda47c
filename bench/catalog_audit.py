"""`scale-agent catalog audit` over 100,000 judged parcels (target < 5 s), beside the time to
read the same ledger's records alone (the floor any audit pays).

The history is written once by the real verifier and evidence code (tests/fakes/history.py):
two SKUs declared 8 % off, one with a wider spread, 3 % mis-packs.
Run: .venv/bin/python -m bench.catalog_audit
"""

from __future__ import annotations

import io
import sys
import tempfile
import time
from contextlib import redirect_stdout
from pathlib import Path

from scale_agent.io.ledger import Ledger
from scale_agent.tools.cli import main as cli
from tests.fakes.history import CATALOG_CSV, write_history
from tests.station_files import write_station

PARCELS = 100_000


def main() -> None:
    folder = Path(tempfile.mkdtemp())
    config = write_station(folder, "/dev/null", None, site="hist")
    (folder / "catalog.csv").write_text(CATALOG_CSV)
    started = time.perf_counter()
    write_history(folder / "data", PARCELS, synchronous="NORMAL")
    print(f"history of {PARCELS:,} parcels written in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    ledger = Ledger(folder / "data", read_only=True)
    count = len(ledger.records())
    ledger.close()
    read_s = time.perf_counter() - started
    out = io.StringIO()
    started = time.perf_counter()
    with redirect_stdout(out):
        code = cli(["catalog", "audit", "-c", str(config)])
    audit_s = time.perf_counter() - started
    assert code == 0, code
    flagged = [
        line.split()[0] for line in out.getvalue().splitlines() if "OFF" in line or "WIDER" in line
    ]
    print(f"reading {count:,} records alone: {read_s:.2f} s")
    print(
        f"catalog audit over {count:,} parcels: {audit_s:.2f} s "
        f"({audit_s / read_s:.1f}x the read); flagged {', '.join(flagged)}"
    )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
