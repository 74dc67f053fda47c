from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

from scale_agent.io.ledger import Ledger, Outgoing

if TYPE_CHECKING:
    from pathlib import Path


def fill(ledger: Ledger, count: int) -> None:
    for number in range(count):
        ledger.record(
            f"p{number}",
            order_id=f"SO-{number}",
            verdict="PASS",
            recorded_at="2026-11-26T00:00:00+00:00",
            body={"measured": number},
            outgoing=[Outgoing(f"m{number}", "t/alert", b"{}")],
        )


def test_an_intact_chain_verifies(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path)
    fill(ledger, 5)
    assert ledger.verify_chain() is None
    ledger.close()


def test_an_edited_row_is_named_by_verify(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path)
    fill(ledger, 5)
    ledger.close()
    with sqlite3.connect(tmp_path / "ledger.sqlite3") as db:
        db.execute("UPDATE verdicts SET body = replace(body, '3', '4') WHERE seq = 4")
    ledger = Ledger(tmp_path)
    broken = ledger.verify_chain()
    assert broken is not None
    assert broken.seq == 4
    assert broken.reason == "its content does not match its hash (edited)"
    ledger.close()


def test_a_deleted_row_is_detected(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path)
    fill(ledger, 5)
    ledger.close()
    with sqlite3.connect(tmp_path / "ledger.sqlite3") as db:
        db.execute("DELETE FROM verdicts WHERE seq = 2")
    ledger = Ledger(tmp_path)
    broken = ledger.verify_chain()
    assert broken is not None
    assert broken.seq == 3
    assert broken.reason == "record 2 before it is missing"
    ledger.close()


def test_the_outbox_is_bounded_and_counts_what_it_dropped(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path, max_outbox_rows=3)
    fill(ledger, 5)
    assert ledger.backlog() == 3
    assert ledger.dropped() == 2
    assert [row.msg_id for row in ledger.pending(10)] == ["m2", "m3", "m4"]
    ledger.close()


def test_acknowledged_ids_are_never_reused(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path)
    fill(ledger, 1)
    [row] = ledger.pending(10)
    ledger.acknowledge([row.id])
    ledger.enqueue(Outgoing("next", "t/alert", b"{}"))
    assert [r.id for r in ledger.pending(10, after_id=row.id)] == [row.id + 1]
    ledger.close()
