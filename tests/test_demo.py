"""`scale-agent demo` as a newcomer runs it: a real subprocess, a real broker."""

from __future__ import annotations

import json
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from typing import TYPE_CHECKING

import httpx

from scale_agent.testing import wait_until
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


def test_demo_beside_the_central_monitor_shows_its_parcels_to_a_supervisor(
    tmp_path: Path, broker: Mosquitto
) -> None:
    options = ["--central", "--parcels", "4", "--no-screen", "--mqtt", broker.url]
    with subprocess.Popen(
        [sys.executable, "-m", "scale_agent", "demo", *options, "--data-dir", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        lines: queue.Queue[str] = queue.Queue()

        def read() -> None:
            for line in process.stdout or []:
                lines.put(line)

        reader = threading.Thread(target=read)
        reader.start()

        def line_with(text: str) -> str:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                try:
                    line = lines.get(timeout=1)
                except queue.Empty:
                    assert process.poll() is None, process.stderr.read() if process.stderr else ""
                    continue
                if text in line:
                    return line
            raise AssertionError(f"the demo never said {text!r}")

        try:
            found = re.search(
                r"monitor: (\S+) \(sign in as supervisor, password (\S+)\)", line_with("monitor: ")
            )
            assert found is not None
            url, password = found.group(1), found.group(2)
            assert "try SF1402007919" in line_with("case desk: ")
            line_with("all parcels packed; the monitor stays up")
            with httpx.Client(base_url=url, timeout=10) as client:
                signed_in = client.post("/login", data={"name": "supervisor", "password": password})
                assert signed_in.status_code == 303
                wait_until(lambda: len(client.get("/api/alerts").json()) >= 1)
                [alert, *_] = client.get("/api/alerts").json()
                assert alert["station"] == "demo/line-1/bench-1"
                assert alert["packer"] in {"wang.fang", "li.na", "chen.jie"}
                found_by_number = client.get(
                    "/api/history", params={"reference": alert["marketplace_order"]}
                ).json()
                # The order's weighings: the alert, and the re-packed parcel's PASS.
                assert {a["order_id"] for a in found_by_number} == {alert["order_id"]}
                assert alert["msg_id"] in {a["msg_id"] for a in found_by_number}
                summary = client.get("/api/summary").json()
                assert summary["parcels"] >= 4  # and each re-pack of a flagged one
                assert summary["alerts"] >= 1
                # The case desk: the re-packed parcel by its tracking number, photos included.
                wait_until(
                    lambda: (
                        client.get("/api/evidence/search", params={"q": "SF1402007919"}).json()
                        != []
                    )
                )
                wait_until(
                    lambda: (
                        all(
                            photo["state"] == "kept"
                            for w in client.get("/api/evidence/orders/SO-1002").json()["weighings"]
                            for photo in w["photos"]
                        )
                        and len(client.get("/api/evidence/orders/SO-1002").json()["weighings"]) == 2
                    )
                )
                evidence = client.get("/api/evidence/orders/SO-1002").json()
                assert [w["kind"] for w in evidence["weighings"]] == ["MISSING_ITEM", "PASS"]
                assert all(len(w["photos"]) == 1 for w in evidence["weighings"])
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=30)
            reader.join(timeout=5)
    assert process.returncode == 0
    assert (tmp_path / "central" / "central.sqlite3").exists()  # history for the next run


def test_a_data_dir_that_cannot_be_a_folder_is_one_sentence() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "scale_agent",
            "demo",
            "--data-dir",
            "/etc/hostname/x",
            "--parcels",
            "1",
            "--mqtt",
            "none",
            "--no-screen",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "--data-dir /etc/hostname/x: cannot make the folder: Not a directory" in result.stderr
    assert "Traceback" not in result.stderr
