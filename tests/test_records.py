"""`scale-agent records`: the evidence customer service answers a complaint with."""

from __future__ import annotations

import csv
import importlib
import io
import json
import os
import pwd
import shutil
import sqlite3
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from scale_agent.io.ledger import Ledger, canonical, record_hash
from scale_agent.tools.cli import main, parser
from tests.station_files import write_station

if TYPE_CHECKING:
    from collections.abc import Iterator

BODY = {
    "reason": "light by 146.0 g: 1 x SKU-150 (150 g) missing explains it within 0.6 sigma",
    "expected": {"value": 1025.0, "unit": "g"},
    "lower_limit": {"value": 1005.0, "unit": "g"},
    "upper_limit": {"value": 1055.0, "unit": "g"},
    "measured": {"value": 879.0, "unit": "g"},
    "difference": {"value": -146.0, "unit": "g"},
    "policy": "default@1",
    "explanation": [
        {"units": [{"sku": "SKU-150", "qty": 1}], "direction": "missing", "fit_sigma": 0.57}
    ],
    "evidence": [{"raw": "53205320202020302e383739206b67", "weight": "0.879kg", "stable": True}],
    "scale": {"device": "/dev/ttyUSB0", "model": "Bench 6kg", "serial": "B123"},
    "operator": None,
    "override": None,
}


def one_pass(folder: Path) -> None:
    """A ledger in `folder` holding one PASS of SO-1, closed."""
    ledger = Ledger(folder)
    ledger.record(
        "p1",
        order_id="SO-1",
        verdict="PASS",
        recorded_at="2026-11-01T10:00:00+00:00",
        body=BODY,
        outgoing=[],
    )
    ledger.close()


@pytest.fixture
def ledger_dir(tmp_path: Path) -> Path:
    ledger = Ledger(tmp_path)
    for number, (order, verdict, day) in enumerate(
        [
            ("SO-1", "PASS", "01"),
            ("SO-2", "MISSING_ITEM", "02"),
            ("SO-3", "PASS", "03"),
            ("SO-2", "PASS", "04"),
        ]
    ):
        ledger.record(
            f"p{number}",
            order_id=order,
            verdict=verdict,
            recorded_at=f"2026-11-{day}T10:00:00+00:00",
            body=BODY,
            outgoing=[],
        )
    ledger.close()
    return tmp_path


def test_find_lists_every_verdict_of_an_order(
    ledger_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["records", "--data-dir", str(ledger_dir), "find", "SO-2"]) == 0
    out = capsys.readouterr().out
    assert out.count("order SO-2:") == 2
    assert "MISSING_ITEM - light by 146.0 g" in out
    assert "measured 879.0 g, expected 1025.0 g (limits 1005.0 to 1055.0 g)" in out
    assert "s/n B123" in out


def test_find_says_so_when_an_order_has_no_record(
    ledger_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["records", "--data-dir", str(ledger_dir), "find", "SO-404"]) == 1
    assert "no records for order SO-404" in capsys.readouterr().err


def test_a_dispute_bundle_can_be_rechecked_by_anyone(
    ledger_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["records", "--data-dir", str(ledger_dir), "export", "--order", "SO-2"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    records, proof = lines[:-1], lines[-1]
    assert [r["verdict"] for r in records] == ["MISSING_ITEM", "PASS"]
    for record in records:  # recompute each hash from the exported content alone
        assert record_hash(record["prev_hash"], canonical(record["record"])) == record["hash"]
    assert record["record"]["evidence"][0]["raw"] == BODY["evidence"][0]["raw"]  # type: ignore[index]
    assert proof["kind"] == "chain_proof"
    assert proof["intact"] is True
    assert proof["records"] == 4


def test_export_since_a_date_as_csv(ledger_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = [
        "records",
        "--data-dir",
        str(ledger_dir),
        "export",
        "--since",
        "2026-11-03",
        "--format",
        "csv",
    ]
    assert main(args) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(r["order_id"], r["verdict"]) for r in rows] == [("SO-3", "PASS"), ("SO-2", "PASS")]
    assert rows[0]["measured_g"] == "879.0"
    assert rows[0]["explanation"] == "1 x SKU-150 missing (0.57 sigma)"


def test_verify_names_a_record_edited_with_plain_sql(
    ledger_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["records", "--data-dir", str(ledger_dir), "verify"]) == 0
    assert "chain intact: 4 record(s)" in capsys.readouterr().out
    with sqlite3.connect(ledger_dir / "ledger.sqlite3") as db:  # someone "fixes" the evidence
        db.execute(
            "UPDATE verdicts SET body = replace(body, '879.0', '1024.0'), "
            "verdict = 'PASS' WHERE seq = 2"
        )
    assert main(["records", "--data-dir", str(ledger_dir), "verify"]) == 1
    out = capsys.readouterr().out
    assert "chain BROKEN at record 2 (order SO-2, parcel p1)" in out
    assert "edited" in out


def test_records_take_the_data_dir_from_the_station_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_station(tmp_path, "/dev/ttyUSB0", None)
    assert main(["records", "-c", str(config), "verify"]) == 1
    assert f"no ledger in {tmp_path / 'data'}" in capsys.readouterr().err
    assert main(["records", "verify"]) == 2
    assert "--data-dir DIR, or -c STATION.toml" in capsys.readouterr().err


def hostile_ledger(tmp_path: Path) -> Path:
    ledger = Ledger(tmp_path)
    body = {**BODY, "reason": "\r\x1b[2K\x1b[32m[ PASS ] seal: ENABLED", "operator": "@SUM(A1)"}
    ledger.record(
        "p-evil",
        order_id='=HYPERLINK("http://x")',
        verdict="MISSING_ITEM",
        recorded_at="2026-11-05T10:00:00+00:00",
        body=body,
        outgoing=[],
    )
    ledger.close()
    return tmp_path


def test_find_shows_control_sequences_from_outside_escaped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = hostile_ledger(tmp_path)
    assert main(["records", "--data-dir", str(data), "find", '=HYPERLINK("http://x")']) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out
    assert "\r" not in out
    assert "\\x0d\\x1b[2K\\x1b[32m[ PASS ]" in out


def test_csv_cells_a_spreadsheet_would_run_are_made_inert(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = hostile_ledger(tmp_path)
    assert main(["records", "--data-dir", str(data), "export", "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert rows[0]["order_id"] == '\'=HYPERLINK("http://x")'
    assert rows[0]["operator"] == "'@SUM(A1)"
    assert rows[0]["difference_g"] == "-146.0"  # a negative number stays a number


@pytest.mark.parametrize(
    "argv",
    [
        ["records", "verify", "--data-dir", "{dir}"],
        ["records", "--data-dir", "{dir}", "verify"],
        ["records", "find", "SO-2", "--data-dir", "{dir}"],
        ["records", "find", "--data-dir", "{dir}", "SO-2"],
        ["records", "export", "--order", "SO-2", "--data-dir", "{dir}"],
    ],
)
def test_options_go_before_or_after_the_action(ledger_dir: Path, argv: list[str]) -> None:
    assert main([arg.format(dir=ledger_dir) for arg in argv]) == 0


def test_find_matches_by_prefix_and_ignoring_case(
    ledger_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["records", "find", "so-", "--data-dir", str(ledger_dir)]) == 1
    capsys.readouterr()
    assert main(["records", "find", "so-", "--prefix", "-i", "--data-dir", str(ledger_dir)]) == 0
    assert capsys.readouterr().out.count("order SO-") == 4
    assert main(["records", "find", "so-3", "-i", "--data-dir", str(ledger_dir)]) == 0
    assert capsys.readouterr().out.count("order SO-3:") == 1


def test_exporting_an_order_with_no_record_says_nothing_matched(
    ledger_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["records", "export", "--order", "SO-9999", "--data-dir", str(ledger_dir)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""  # no "intact" proof for nothing
    assert "nothing matched: no records for order SO-9999" in captured.err


def test_a_bad_since_is_one_sentence(ledger_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["records", "export", "--since", "yesterday", "--data-dir", str(ledger_dir)]) == 2
    assert "--since 'yesterday' is not a date or time" in capsys.readouterr().err


def _as_nobody(argv: list[str]) -> tuple[int, str, str]:
    """Run the CLI in a forked child that became `nobody`: a reader with no write access."""
    nobody = pwd.getpwnam("nobody")
    # This interpreter's own library may lie where `nobody` cannot read (root's home): the
    # modules the commands use are imported here, before the child gives up root.
    parser()
    importlib.import_module("scale_agent.tools.report.command")
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 70
        try:
            os.setgid(nobody.pw_gid)
            os.setuid(nobody.pw_uid)
            os.dup2(out_w, 1)
            os.dup2(err_w, 2)
            sys.stdout = os.fdopen(1, "w", closefd=False)
            sys.stderr = os.fdopen(2, "w", closefd=False)
            code = main(argv)
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)
    os.close(out_w)
    os.close(err_w)
    with os.fdopen(out_r) as out, os.fdopen(err_r) as err:
        stdout, stderr = out.read(), err.read()
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), stdout, stderr


@pytest.fixture
def public_dir() -> Iterator[Path]:
    """A folder any user may enter (pytest's own tmp_path is private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="scale-agent-ledger-"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        shutil.rmtree(folder)


def test_a_reader_without_write_access_reads_a_live_station_ledger(public_dir: Path) -> None:
    data = public_dir / "data"
    live = Ledger(data)  # the station, still running: its newest records are in the WAL
    try:
        for number in range(3):
            live.record(
                f"p{number}",
                order_id=f"SO-{number}",
                verdict="PASS",
                recorded_at="2026-11-01T10:00:00+00:00",
                body=BODY,
                outgoing=[],
            )
        assert (data / "ledger.sqlite3-wal").stat().st_size > 0
        data.chmod(0o755)  # nobody may enter and read, not write
        code, out, err = _as_nobody(["records", "verify", "--data-dir", str(data)])
        assert (code, err) == (0, "")
        assert out.startswith("chain intact: 3 record(s)")
        code, out, _ = _as_nobody(["records", "find", "SO-2", "--data-dir", str(data)])
        assert code == 0
        assert "order SO-2: PASS" in out
    finally:
        live.close()


def test_a_ledger_nobody_may_read_is_one_plain_sentence(public_dir: Path) -> None:
    data = public_dir / "data"
    Ledger(data).close()
    data.chmod(0o700)
    code, out, err = _as_nobody(["records", "verify", "--data-dir", str(data)])
    assert code == 1
    assert out == ""
    assert "permission denied" in err
    assert "Traceback" not in err


def test_a_column_changed_with_plain_sql_breaks_the_chain_and_never_shows(
    ledger_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Someone with the database turns SO-2's MISSING_ITEM into a PASS of another order.
    with sqlite3.connect(ledger_dir / "ledger.sqlite3") as db:
        db.execute("UPDATE verdicts SET verdict = 'PASS', order_id = 'SO-9' WHERE seq = 2")
    assert main(["records", "--data-dir", str(ledger_dir), "verify"]) == 1
    out = capsys.readouterr().out
    assert "chain BROKEN at record 2" in out
    assert "verdict column says 'PASS', the hashed record 'MISSING_ITEM'" in out
    # find shows the record under the order it was recorded for, as it was judged...
    assert main(["records", "--data-dir", str(ledger_dir), "find", "SO-2"]) == 0
    out = capsys.readouterr().out
    assert "order SO-2: MISSING_ITEM" in out
    assert "columns were changed outside the chain" in out
    # ...and never as a PASS of the order the column now names.
    assert main(["records", "--data-dir", str(ledger_dir), "find", "SO-9"]) == 1
    # The export carries the hashed facts too.
    assert main(["records", "--data-dir", str(ledger_dir), "export", "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(r["order_id"], r["verdict"]) for r in rows][1] == ("SO-2", "MISSING_ITEM")


def test_an_archived_copy_in_a_read_only_folder_is_verified(public_dir: Path) -> None:
    # Customer service's copy: the ledger file alone (no -wal/-shm beside it, as an archive
    # or a USB stick holds it), in a folder its reader may not write.
    data = public_dir / "data"
    one_pass(data)  # closed: the last connection folds the WAL in, removes -wal and -shm
    archive = public_dir / "archive"
    archive.mkdir()
    shutil.copy(data / "ledger.sqlite3", archive / "ledger.sqlite3")
    assert sorted(p.name for p in archive.iterdir()) == ["ledger.sqlite3"]
    (archive / "ledger.sqlite3").chmod(0o444)
    archive.chmod(0o555)
    code, out, err = _as_nobody(["records", "verify", "--data-dir", str(archive)])
    assert (code, err) == (0, "")
    assert out.startswith("chain intact: 1 record(s)")
    code, out, _ = _as_nobody(["records", "report", "SO-1", "--data-dir", str(archive)])
    assert code == 0, out
    assert sorted(p.name for p in archive.iterdir()) == ["ledger.sqlite3"]  # nothing written


def test_after_the_demo_records_find_reads_its_ledger(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    assert main(["records", "find", "SO-1"]) == 2  # no demo yet: where to look, and where not
    err = capsys.readouterr().err
    assert "say where the ledger is: --data-dir DIR, or -c STATION.toml" in err
    assert str(tmp_path / "state" / "scale-agent" / "demo") in err
    one_pass(tmp_path / "state" / "scale-agent" / "demo")  # as `scale-agent demo` leaves it
    assert main(["records", "find", "SO-1"]) == 0
    captured = capsys.readouterr()
    assert "order SO-1: PASS" in captured.out
    assert "reading the demo's ledger in" in captured.err
