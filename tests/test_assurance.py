"""Routine scale tests at the bench: due, run step by step, judged, recorded, acted on.

Through a whole station (the real runtime, the MT-SICS driver on a pseudo-terminal, the
ledger on disk): the light says what to place, no parcel is judged meanwhile, and the result
decides whether the station goes on judging.
"""

from __future__ import annotations

import json
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

import structlog

from scale_agent.domain.assurance import (
    Limits,
    Outcome,
    RoutineTest,
    Step,
    due_by_schedule,
    limits_for,
)
from scale_agent.domain.catalog import Catalog
from scale_agent.domain.scan_rules import ScanKind, ScanRules, classify
from scale_agent.io.ledger import Ledger
from scale_agent.io.messages import EventPayload
from scale_agent.signals import Signal
from scale_agent.testing import wait_until
from scale_agent.tools.cli import main
from tests.fakes.mosquitto import Mosquitto, Subscriber
from tests.fakes.recording_light import RecordingLight
from tests.station_files import write_station
from tests.station_harness import running_station

if TYPE_CHECKING:
    from pathlib import Path

    import pytest

    from scale_agent.station.runtime import StationRuntime
    from tests.fakes.mt_sics_scale import FakeMtSicsScale

ORDER = {
    "order_id": "SO-1",
    "lines": [{"sku": "SKU-1023", "qty": 1}, {"sku": "SKU-2040", "qty": 2}],
    "carton": "BOX-S",
}
ASSURANCE = """
[assurance]
enabled = true
points = ["1kg"]
weight_ids = ["W-1001"]
warning_g = 1
control_g = 3
after_restart = {after_restart}
"""


def station(tmp_path: Path, scale: FakeMtSicsScale, *, after_restart: bool = True) -> Path:
    extra = ASSURANCE.format(after_restart=str(after_restart).lower())
    return write_station(tmp_path, scale.path, None, site="gwp", extra=extra)


def last_text(light: RecordingLight) -> str:
    return light.shown[-1].text if light.shown else ""


def kinds(tmp_path: Path) -> list[str]:
    ledger = Ledger(tmp_path / "data", read_only=True)
    try:
        return [str(r["verdict"]) for r in ledger.records()]
    finally:
        ledger.close()


def run_test(scale: FakeMtSicsScale, light: RecordingLight, reading_kg: str) -> None:
    """Zero check (the platter is empty already), the 1 kg weight reading `reading_kg`, off."""
    scale.set_weight("0.000")
    wait_until(lambda: "Place the 1.000 kg test weight W-1001" in last_text(light))
    scale.set_weight(reading_kg)
    wait_until(lambda: "Take the test weight off" in last_text(light))
    scale.set_weight("0.000")


def pack(
    runtime: StationRuntime, scale: FakeMtSicsScale, light: RecordingLight, order: str
) -> None:
    runtime.submit_job_data(json.dumps({**ORDER, "order_id": order}).encode(), "test")
    wait_until(lambda: f"Order {order}:" in last_text(light))
    scale.set_weight("1.025")
    wait_until(lambda: light.signals()[-1:] == [Signal.PASS])
    scale.set_weight("0.000")
    wait_until(lambda: light.signals()[-1:] == [Signal.IDLE])


def test_a_test_due_at_start_runs_first_blocks_judging_and_passes(
    tmp_path: Path, scale: FakeMtSicsScale, capsys: pytest.CaptureFixture[str]
) -> None:
    light = RecordingLight()
    with running_station(station(tmp_path, scale), light) as runtime:
        wait_until(lambda: "SCALE TEST" in last_text(light))
        # An order arrives mid-test: it waits; the test weight on the platter is not a parcel.
        runtime.submit_job_data(json.dumps(ORDER).encode(), "test")
        run_test(scale, light, "1.000")
        wait_until(lambda: "Order SO-1:" in last_text(light))
        assert kinds(tmp_path) == ["ROUTINE_TEST"]
        scale.set_weight("1.025")
        wait_until(lambda: light.signals()[-1:] == [Signal.PASS])
        scale.set_weight("0.000")
        wait_until(lambda: kinds(tmp_path) == ["ROUTINE_TEST", "PASS"])
        status = tmp_path / "data" / "status.json"  # rewritten every second
        wait_until(lambda: status.exists() and '"outcome": "passed"' in status.read_text())
        assert main(["status", "--data-dir", str(tmp_path / "data")]) == 0
        assert "passed; none due" in capsys.readouterr().out.splitlines()[-1]
    ledger = Ledger(tmp_path / "data", read_only=True)
    try:
        test, parcel = ledger.records()
        assert ledger.verify_chain() is None
    finally:
        ledger.close()
    body = json.loads(str(test["body"]))
    assert body["reason"] == "after a restart"
    assert [(s["nominal_g"], s["outcome"]) for s in body["steps"]] == [
        ("0", "passed"),
        ("1000", "passed"),
    ]
    assert body["steps"][1]["weight_id"] == "W-1001"
    # Every verdict after the test says which test the scale passed, and when.
    assert json.loads(str(parcel["body"]))["routine_test"]["id"] == test["parcel_id"]
    assert main(["records", "verify", "--data-dir", str(tmp_path / "data")]) == 0
    assert main(["assurance", "history", "--data-dir", str(tmp_path / "data")]) == 0
    history = capsys.readouterr().out
    assert "passed    after a restart" in history
    assert "1000 g W-1001: 1000.000 g (+0.0 g, passed)" in history


def test_past_the_warning_limit_the_supervisor_is_told_and_parcels_are_still_judged(
    tmp_path: Path, scale: FakeMtSicsScale, broker: Mosquitto
) -> None:
    extra = ASSURANCE.format(after_restart="true")
    config = write_station(tmp_path, scale.path, broker.url, site="gwpw", extra=extra)
    supervisors = Subscriber(broker.port, "scale-agent/v1/gwpw/+/+/event")
    light = RecordingLight()
    try:
        with running_station(config, light) as runtime:
            run_test(scale, light, "1.002")  # 2 g off: past the 1 g warning, inside 3 g control
            wait_until(lambda: light.signals()[-1:] == [Signal.IDLE])
            pack(runtime, scale, light, "SO-2")
            wait_until(lambda: kinds(tmp_path) == ["ROUTINE_TEST", "PASS"])
            received = supervisors.wait_for(
                lambda m: any(b"routine_test_warning" in payload for _, payload, _ in m)
            )
    finally:
        supervisors.close()
    [warning] = [
        EventPayload.model_validate_json(payload)
        for _, payload, _ in received
        if b"routine_test_warning" in payload
    ]
    assert "1000 g: 1002 g (+2.0 g, warning)" in warning.reason
    ledger = Ledger(tmp_path / "data", read_only=True)
    try:
        assert json.loads(str(ledger.records()[0]["body"]))["outcome"] == "warning"
    finally:
        ledger.close()


def test_past_the_control_limit_no_parcel_is_judged_until_a_supervisor_releases_it(
    tmp_path: Path, scale: FakeMtSicsScale
) -> None:
    light = RecordingLight()
    with running_station(station(tmp_path, scale), light) as runtime:
        run_test(scale, light, "1.005")  # 5 g off: past the 3 g control limit
        wait_until(lambda: light.signals()[-1:] == [Signal.FAULT])
        assert "SCALE OUT OF TOLERANCE" in last_text(light)
        runtime.submit_job_data(json.dumps(ORDER).encode(), "test")
        scale.set_weight("1.025")  # a parcel on a scale out of tolerance: not judged
        wait_until(lambda: kinds(tmp_path) == ["ROUTINE_TEST"])
        scale.set_weight("0.000")
        release = {"command": "override", "operator": "maria", "reason": "test weight was dirty"}
        runtime.submit_command_data(json.dumps(release).encode())
        wait_until(lambda: "Order SO-1:" in last_text(light))
        scale.set_weight("1.025")
        wait_until(lambda: light.signals()[-1:] == [Signal.PASS])
        wait_until(lambda: kinds(tmp_path) == ["ROUTINE_TEST", "SCALE_RELEASED", "PASS"])
    ledger = Ledger(tmp_path / "data", read_only=True)
    try:
        test, released, _ = ledger.records()
        assert ledger.verify_chain() is None
    finally:
        ledger.close()
    assert json.loads(str(test["body"]))["outcome"] == "failed"
    assert json.loads(str(released["body"]))["operator"] == "maria"


def test_an_overload_makes_a_test_due(tmp_path: Path, scale: FakeMtSicsScale) -> None:
    light = RecordingLight()
    with running_station(station(tmp_path, scale, after_restart=False), light):
        wait_until(lambda: light.signals()[-1:] == [Signal.IDLE])
        scale.set_line(b"S +")
        wait_until(lambda: light.signals()[-1:] == [Signal.FAULT])
        scale.set_weight("0.000")
        wait_until(lambda: "SCALE TEST" in last_text(light))
        run_test(scale, light, "1.000")
        wait_until(lambda: kinds(tmp_path) == ["ROUTINE_TEST"])
    ledger = Ledger(tmp_path / "data", read_only=True)
    try:
        assert json.loads(str(ledger.records()[0]["body"]))["reason"] == "after an overload"
    finally:
        ledger.close()


def test_a_command_asks_for_a_test_and_a_station_without_one_refuses_it(
    tmp_path: Path, scale: FakeMtSicsScale
) -> None:
    light = RecordingLight()
    with running_station(station(tmp_path, scale, after_restart=False), light) as runtime:
        wait_until(lambda: light.signals()[-1:] == [Signal.IDLE])
        runtime.submit_command_data(b'{"command": "routine_test", "operator": "li.wei"}')
        run_test(scale, light, "1.000")
        wait_until(lambda: kinds(tmp_path) == ["ROUTINE_TEST"])
    other = tmp_path / "other"
    other.mkdir()
    config = write_station(other, scale.path, None, site="none")
    with structlog.testing.capture_logs() as logs, running_station(config, light) as runtime:
        runtime.submit_command_data(b'{"command": "routine_test", "request_id": "r1"}')
        wait_until(lambda: any(log["event"] == "command_rejected" for log in logs))
    [refused] = [log for log in logs if log["event"] == "command_rejected"]
    assert "no routine test set up" in refused["reason"]
    assert refused["request_id"] == "r1"
    ledger = Ledger(tmp_path / "data", read_only=True)
    try:
        assert json.loads(str(ledger.records()[0]["body"]))["operator"] == "li.wei"
    finally:
        ledger.close()


def test_the_test_scan_code_is_a_command() -> None:
    scan = classify("CMD-TEST", ScanRules(), Catalog())
    assert (scan.kind, scan.value) == (ScanKind.COMMAND, "test")


# -- the rules themselves (pure) ---------------------------------------------------------


def test_default_limits_are_the_scales_initial_and_in_service_mpe() -> None:
    limits = limits_for(Decimal(1000), interval_g=Decimal(1), accuracy_class="III")
    assert limits == Limits(Decimal(1), Decimal(2))  # 1000 e: 1 e initial, 2 e in service
    explicit = limits_for(
        Decimal(1000),
        interval_g=Decimal(1),
        accuracy_class="III",
        warning_g=Decimal("0.5"),
        control_g=Decimal(3),
    )
    assert explicit == Limits(Decimal("0.5"), Decimal(3))


def test_a_step_is_judged_against_both_limits() -> None:
    step = Step(Decimal(1000), "W-1", Limits(Decimal(1), Decimal(3)))
    test = RoutineTest((step,), "on demand")
    assert not test.settled(Decimal(5), Decimal(20))  # nothing placed yet
    assert test.settled(Decimal("1002.5"), Decimal(20))
    still_on = test.is_done  # the weight is still on: not done
    assert test.settled(Decimal(0), Decimal(20))
    assert (still_on, test.is_done) == (False, True)
    assert test.outcome is Outcome.WARNING


def test_a_test_is_due_at_each_shift_start_and_every_n_hours() -> None:
    zone = datetime.now().astimezone().tzinfo
    six = datetime(2026, 12, 2, 6, 0, tzinfo=zone)
    starts = [time(6, 0), time(14, 0)]
    assert due_by_schedule(six - timedelta(hours=1), six + timedelta(minutes=1), starts, 0) == (
        "shift start 06:00"
    )
    assert due_by_schedule(six + timedelta(minutes=2), six + timedelta(hours=3), starts, 0) is None
    assert due_by_schedule(six, six + timedelta(hours=8, minutes=1), starts, 0) == (
        "shift start 14:00"
    )
    assert due_by_schedule(six, six + timedelta(hours=4), [], 4) == "every 4 h"
    assert due_by_schedule(six, six + timedelta(hours=3), [], 4) is None


def status_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], wanted: str) -> str:
    """`scale-agent status`'s routine-test line, once status.json says `wanted`."""
    status = tmp_path / "data" / "status.json"
    wait_until(lambda: status.exists() and wanted in status.read_text())
    capsys.readouterr()
    main(["status", "--data-dir", str(tmp_path / "data")])  # 1 while the scale reconnects
    out = capsys.readouterr().out.splitlines()
    return next(line for line in out if line.startswith("last routine test"))


def test_a_restart_keeps_a_scale_held_until_a_test_passes_or_a_release(
    tmp_path: Path, scale: FakeMtSicsScale, capsys: pytest.CaptureFixture[str]
) -> None:
    config = station(tmp_path, scale, after_restart=False)
    light = RecordingLight()
    with running_station(config, light) as runtime:
        runtime.submit_command_data(b'{"command": "routine_test", "operator": "maria"}')
        run_test(scale, light, "1.005")  # past the control limit: held
        wait_until(lambda: "SCALE OUT OF TOLERANCE" in last_text(light))
    # The daemon restarts (no test after a restart configured): the hold is in the ledger.
    light = RecordingLight()
    with running_station(config, light) as runtime:
        wait_until(lambda: "SCALE OUT OF TOLERANCE" in last_text(light))
        runtime.submit_job_data(json.dumps(ORDER).encode(), "test")
        scale.set_weight("1.025")  # a parcel on a scale that failed its test: never judged
        line = status_line(tmp_path, capsys, '"scale_held"')
        assert "SCALE HELD OUT OF TOLERANCE" in line
        assert "failed" in line  # the last test is the failed one, not "never"
        assert "rebuilt from the ledger" in line
        assert kinds(tmp_path) == ["ROUTINE_TEST"]
        scale.set_weight("0.000")
        release = {"command": "override", "operator": "li.wei", "reason": "recalibrated"}
        runtime.submit_command_data(json.dumps(release).encode())
        wait_until(lambda: "Order SO-1:" in last_text(light))
        line = status_line(tmp_path, capsys, "li.wei")
        assert "released by li.wei: recalibrated" in line
        assert "HELD" not in line
    # Released before this restart: it stays released.
    light = RecordingLight()
    with running_station(config, light) as runtime:
        pack(runtime, scale, light, "SO-2")
        assert "released by li.wei: recalibrated" in status_line(tmp_path, capsys, "li.wei")


def test_a_parcel_placed_for_a_test_weight_is_not_read_as_it(
    tmp_path: Path, scale: FakeMtSicsScale
) -> None:
    light = RecordingLight()
    with running_station(station(tmp_path, scale), light):
        scale.set_weight("0.000")
        wait_until(lambda: "Place the 1.000 kg test weight W-1001" in last_text(light))
        scale.set_weight("0.505")  # a 505 g parcel, not the 1 kg reference
        wait_until(lambda: "That is not the 1.000 kg test weight W-1001" in last_text(light))
        assert kinds(tmp_path) == []  # no failed test, no held scale
        scale.set_weight("0.000")
        wait_until(lambda: "Place the 1.000 kg test weight W-1001" in last_text(light))
        scale.set_weight("1.000")
        wait_until(lambda: "Take the test weight off" in last_text(light))
        scale.set_weight("0.000")
        wait_until(lambda: kinds(tmp_path) == ["ROUTINE_TEST"])
    ledger = Ledger(tmp_path / "data", read_only=True)
    try:
        [test] = ledger.records()
    finally:
        ledger.close()
    assert json.loads(str(test["body"]))["outcome"] == "passed"


def test_a_step_takes_only_a_load_that_can_be_its_weight() -> None:
    step = Step(Decimal(1000), "W-1", Limits(Decimal(1), Decimal(3)))
    test = RoutineTest((step,), "on demand")
    assert test.settled(Decimal(505), Decimal(20))  # the prompt changes...
    assert test.results == []  # ...but nothing was read
    assert "That is not the" in test.prompt().template
    assert test.settled(Decimal(0), Decimal(20))  # cleared
    assert test.settled(Decimal(1040), Decimal(20))  # 4 % off: a badly reading scale
    assert test.results[0].outcome is Outcome.FAILED


def test_a_restart_keeps_a_failed_parcel_holding_its_order(
    tmp_path: Path, scale: FakeMtSicsScale
) -> None:
    config = station(tmp_path, scale, after_restart=False)
    light = RecordingLight()
    with running_station(config, light) as runtime:
        runtime.submit_job_data(json.dumps({**ORDER, "order_id": "SO-FAIL"}).encode(), "test")
        wait_until(lambda: "Order SO-FAIL:" in last_text(light))
        scale.set_weight("0.607")  # one book short
        wait_until(lambda: light.signals()[-1:] == [Signal.FAIL])
    scale.set_weight("0.000")  # the packer takes it off while the daemon restarts
    light = RecordingLight()
    with running_station(config, light) as runtime:
        # The failed order is loaded again: the next order waits behind it.
        wait_until(lambda: "Order SO-FAIL:" in last_text(light))
        runtime.submit_job_data(json.dumps({**ORDER, "order_id": "SO-NEXT"}).encode(), "test")
        scale.set_weight("1.025")  # the book added: the failed order passes
        wait_until(lambda: light.signals()[-1:] == [Signal.PASS])
        scale.set_weight("0.000")
        wait_until(lambda: "Order SO-NEXT:" in last_text(light))
    assert kinds(tmp_path) == ["MISSING_ITEM", "PASS"]
    ledger = Ledger(tmp_path / "data", read_only=True)
    try:
        assert [r["order_id"] for r in ledger.records()] == ["SO-FAIL", "SO-FAIL"]
    finally:
        ledger.close()
