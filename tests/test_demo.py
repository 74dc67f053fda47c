"""`scale-agent demo` as a newcomer runs it: a real subprocess, a real broker."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import TYPE_CHECKING

from tests.fakes.mosquitto import Mosquitto, Subscriber, free_port

if TYPE_CHECKING:
    from pathlib import Path


def run_demo(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scale_agent", "demo", *args],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_demo_of_12_parcels_exits_0_and_alerts_reach_a_subscriber(
    tmp_path: Path, broker: Mosquitto
) -> None:
    subscriber = Subscriber(broker.port, "scale-agent/v1/demo/+/+/alert")
    try:
        result = run_demo("--parcels", "12", "--mqtt", broker.url, "--data-dir", str(tmp_path))
        messages = subscriber.wait_for(lambda m: len(m) >= 1)
    finally:
        subscriber.close()
    assert result.returncode == 0, result.stderr
    verdicts = {json.loads(payload)["verdict"] for _, payload, _ in messages}
    assert verdicts & {"MISSING_ITEM", "UNDER"}
    table = result.stdout.split("\n#")[1]
    assert table.count("\n") >= 12  # the summary has a row per parcel
    assert "PASS" in table
    assert "MISSING_ITEM" in table
    assert f"delivered to {broker.url}" in result.stdout


def test_demo_without_a_broker_still_runs_and_says_where_the_alerts_are(tmp_path: Path) -> None:
    dead = f"mqtt://127.0.0.1:{free_port()}"
    result = run_demo("--parcels", "2", "--mqtt", dead, "--data-dir", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "was not reachable" in result.stdout
    assert "kept in the outbox of" in result.stdout
    assert str(tmp_path / "ledger.sqlite3") in result.stdout
