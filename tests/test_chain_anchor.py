"""A signed, anchored chain head catches what the hash chain alone cannot: deleted newest
records and a chain rebuilt from scratch."""

from __future__ import annotations

import json
import sqlite3
from typing import TYPE_CHECKING

import pytest

from scale_agent.io.ledger import GENESIS_HASH, record_hash
from scale_agent.signals import Signal
from scale_agent.testing import wait_until
from scale_agent.tools.cli import main
from tests.fakes.mosquitto import Mosquitto, Subscriber
from tests.fakes.recording_light import RecordingLight
from tests.station_files import write_station
from tests.station_harness import running_station

if TYPE_CHECKING:
    from pathlib import Path

    from scale_agent.station.runtime import StationRuntime
    from tests.fakes.mt_sics_scale import FakeMtSicsScale

ORDER = {
    "lines": [{"sku": "SKU-1023", "qty": 1}, {"sku": "SKU-2040", "qty": 2}],
    "carton": "BOX-S",
}


def pack(
    runtime: StationRuntime, scale: FakeMtSicsScale, light: RecordingLight, order_id: str
) -> None:
    runtime.submit_job_data(json.dumps({**ORDER, "order_id": order_id}).encode(), "test")
    wait_until(lambda: any(f"Order {order_id}:" in i.text for i in light.shown[-1:]))
    scale.set_weight("1.025")
    wait_until(lambda: light.signals()[-1:] == [Signal.PASS])
    scale.set_weight("0.000")
    wait_until(lambda: light.signals()[-1:] == [Signal.IDLE])


@pytest.fixture
def anchored(
    tmp_path: Path, scale: FakeMtSicsScale, broker: Mosquitto
) -> tuple[Path, Path, dict[str, object]]:
    """A station that judged three parcels; its config and the retained head it published."""
    config = write_station(tmp_path, scale.path, broker.url, site="anchor")
    heads = Subscriber(broker.port, "scale-agent/v1/anchor/+/+/chain_head")
    light = RecordingLight()
    try:
        with running_station(config, light) as runtime:
            for number in range(3):
                pack(runtime, scale, light, f"SO-{number}")
            got = heads.wait_for(lambda m: any(json.loads(p)["records"] == 3 for _, p, _ in m))
    finally:
        heads.close()
    head = next(json.loads(p) for _, p, _ in got if json.loads(p)["records"] == 3)
    anchor = tmp_path / "head.json"
    anchor.write_text(json.dumps(head))
    return config, anchor, head


def verify(capsys: pytest.CaptureFixture[str], data: Path, *extra: str) -> tuple[int, str]:
    code = main(["records", "verify", "--data-dir", str(data), *extra])
    return code, capsys.readouterr().out


def test_an_untouched_ledger_holds_its_anchored_head_from_a_file_or_the_broker(
    anchored: tuple[Path, Path, dict[str, object]], capsys: pytest.CaptureFixture[str]
) -> None:
    config, anchor, head = anchored
    data = config.parent / "data"
    code, out = verify(capsys, data, "--anchor", str(anchor))
    assert code == 0, out
    assert "anchored head held: record 3" in out
    assert main(["records", "verify", "-c", str(config), "--anchor", "mqtt"]) == 0
    capsys.readouterr()
    # The station keeps the head it published beside the ledger: a report quotes it.
    assert json.loads((data / "chain_head.json").read_text())["records"] == 3
    assert main(["records", "report", "SO-2", "--data-dir", str(data)]) == 0
    assert "Anchored head: record 3, signed" in capsys.readouterr().out
    # The key the station shows is the key that signed: pinning it passes.
    assert main(["records", "key", "--data-dir", str(data)]) == 0
    public = capsys.readouterr().out.split()[0]
    assert public == head["public_key"]
    assert verify(capsys, data, "--anchor", str(anchor), "--key", public)[0] == 0


def test_deleting_the_newest_records_passes_the_chain_but_not_the_anchor(
    anchored: tuple[Path, Path, dict[str, object]], capsys: pytest.CaptureFixture[str]
) -> None:
    config, anchor, _ = anchored
    data = config.parent / "data"
    with sqlite3.connect(data / "ledger.sqlite3") as db:
        db.execute("DELETE FROM verdicts WHERE seq = (SELECT MAX(seq) FROM verdicts)")
    code, out = verify(capsys, data)
    assert (code, "chain intact: 2 record(s)" in out) == (0, True)  # the chain alone cannot tell
    code, out = verify(capsys, data, "--anchor", str(anchor))
    assert code == 1
    assert "ANCHOR NOT HELD" in out
    assert "1 newest record(s) were deleted" in out


def test_a_chain_rebuilt_with_fresh_hashes_passes_the_chain_but_not_the_anchor(
    anchored: tuple[Path, Path, dict[str, object]], capsys: pytest.CaptureFixture[str]
) -> None:
    config, anchor, _ = anchored
    data = config.parent / "data"
    with sqlite3.connect(data / "ledger.sqlite3") as db:
        rows = db.execute("SELECT seq, body FROM verdicts ORDER BY seq").fetchall()
        previous = GENESIS_HASH
        for seq, stored in rows:
            body = stored
            if seq == 1:  # rewrite history: the first parcel now weighed 2 g more
                body = stored.replace('"value":1025.0', '"value":1027.0')
                assert body != stored
            new_hash = record_hash(previous, body)
            db.execute(
                "UPDATE verdicts SET body = ?, prev_hash = ?, hash = ? WHERE seq = ?",
                (body, previous, new_hash, seq),
            )
            previous = new_hash
    assert verify(capsys, data)[0] == 0  # a consistent forgery
    code, out = verify(capsys, data, "--anchor", str(anchor))
    assert code == 1
    assert "the chain was rewritten" in out


def test_an_altered_anchor_or_another_key_is_refused(
    anchored: tuple[Path, Path, dict[str, object]],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    config, _, head = anchored
    data = config.parent / "data"
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps({**head, "records": 2}))  # to cover up a deletion
    code, out = verify(capsys, data, "--anchor", str(forged))
    assert code == 1
    assert "signature does not match" in out
    code, out = verify(capsys, data, "--anchor", str(tmp_path / "head.json"), "--key", "AAAA")
    assert code == 1
    assert "another key" in out


def test_a_station_without_a_broker_signs_its_head_and_keeps_copies_away_from_its_data(
    tmp_path: Path, scale: FakeMtSicsScale
) -> None:
    elsewhere = tmp_path / "usb-stick"
    elsewhere.mkdir()
    config = write_station(
        tmp_path, scale.path, None, site="nobroker", station_keys=f'head_copies = ["{elsewhere}"]'
    )
    light = RecordingLight()
    with running_station(config, light) as runtime:
        for number in range(3):
            pack(runtime, scale, light, f"SO-{number}")
        copy = elsewhere / "chain_head-nobroker_line-1_bench-1.json"
        wait_until(lambda: copy.exists() and json.loads(copy.read_text())["records"] == 3)
    data = str(tmp_path / "data")
    assert (tmp_path / "data" / "chain_head.json").exists()
    assert main(["records", "verify", "--data-dir", data, "--anchor", str(copy)]) == 0
    # The newest record deleted: the chain still holds, the copy kept elsewhere does not.
    with sqlite3.connect(tmp_path / "data" / "ledger.sqlite3") as db:
        db.execute("DELETE FROM verdicts WHERE seq = 3")
    assert main(["records", "verify", "--data-dir", data]) == 0
    assert main(["records", "verify", "--data-dir", data, "--anchor", str(copy)]) == 1
