"""A station driving a stack light and seal relay on a Modbus I/O module (pymodbus server)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from scale_agent.domain.jobs import Job, JobLine
from scale_agent.plugins import Signal
from scale_agent.testing import wait_until
from scale_agent.tools.cli import main
from tests.fakes.modbus_device import COILS, ModbusDevice
from tests.fakes.recording_light import RecordingLight
from tests.station_files import write_station
from tests.station_harness import running_station

if TYPE_CHECKING:
    from pathlib import Path

    from tests.fakes.mt_sics_scale import FakeMtSicsScale

RED, AMBER, GREEN, BUZZER, SEAL = range(5)


def coil_outputs(port: int) -> str:
    return f"""
[[outputs]]
driver = "modbus-coils"
host = "127.0.0.1"
tcp_port = {port}
timeout_s = 0.3
channels = {{ red = 0, amber = 1, green = 2, buzzer = 3, seal = 4 }}
interlock = "seal"
refresh_s = 0.2
retry_max_s = 0.5
signals = {{ fail = ["red", "buzzer:0.3s"], fault = ["red:blink", "amber:blink"] }}
"""


ORDER = Job("SO-1", (JobLine("SKU-1023", 1),), "BOX-S")  # 150 g + 35 g box


def test_coils_follow_pass_fail_fault_and_open_the_interlock_on_shutdown(
    tmp_path: Path, scale: FakeMtSicsScale
) -> None:
    device = ModbusDevice()
    config = write_station(tmp_path, scale.path, None, extra=coil_outputs(device.port))
    light = RecordingLight()

    def coils() -> list[bool]:
        return list(device.get(COILS, 0, 5))

    try:
        with running_station(config, light, with_config_outputs=True) as runtime:
            wait_until(lambda: light.signals()[-1:] == [Signal.IDLE])
            wait_until(lambda: coils() == [False] * 5)  # idle: dark tower, seal locked
            runtime.submit_job(ORDER)
            wait_until(lambda: coils() == [False, True, False, False, False])  # ready: amber
            scale.set_weight("0.185")
            wait_until(lambda: coils()[SEAL])
            assert coils() == [False, False, True, False, True]  # pass: green, seal enabled
            scale.set_weight("0.000")  # parcel taken off: the seal locks again
            wait_until(lambda: coils() == [False] * 5)

            runtime.submit_job(ORDER)
            scale.set_weight("0.150")  # the box is missing
            wait_until(lambda: light.signals()[-1:] == [Signal.FAIL])
            wait_until(lambda: coils()[RED] and coils()[BUZZER])
            assert not coils()[SEAL]
            wait_until(lambda: not coils()[BUZZER])  # the buzzer's 0.3 s are over
            assert coils()[RED]

            scale.set_line(b"")  # the scale falls silent: fault after 1 s
            wait_until(lambda: light.signals()[-1:] == [Signal.FAULT])
            seen: set[tuple[bool, ...]] = set()

            def blinking() -> bool:
                seen.add(tuple(coils()))
                return len(seen) >= 2

            wait_until(blinking)
            assert all(not state[SEAL] for state in seen)
            status = json.loads((tmp_path / "data" / "status.json").read_text())
            assert status["outputs"][-1]["state"] == "ok"
        # shut down: the fault pattern (red and amber blinking start lit), seal locked
        assert coils() == [True, True, False, False, False]
        verdicts = [indication.signal for indication in light.shown]
        assert Signal.PASS in verdicts
        assert Signal.FAIL in verdicts
    finally:
        device.close()


def test_a_dead_io_module_shows_in_status_and_verdicts_go_on(
    tmp_path: Path, scale: FakeMtSicsScale
) -> None:
    device = ModbusDevice()
    device.stop()  # the I/O module is off
    config = write_station(tmp_path, scale.path, None, extra=coil_outputs(device.port))
    light = RecordingLight()
    status_file = tmp_path / "data" / "status.json"

    def outputs_status() -> list[dict[str, str]]:
        if not status_file.exists():
            return []
        outputs: list[dict[str, str]] = json.loads(status_file.read_text())["outputs"]
        return outputs

    try:
        with running_station(config, light, with_config_outputs=True) as runtime:
            wait_until(lambda: light.signals()[-1:] == [Signal.IDLE])
            runtime.submit_job(ORDER)
            scale.set_weight("0.185")
            wait_until(lambda: light.signals()[-1:] == [Signal.PASS])  # judged all the same

            # Before its first try the module shows "not opened yet"; the refused
            # connection must then be named, not a vague fault.
            def coil() -> dict[str, str]:
                [coil] = [o for o in outputs_status() if o["device"].startswith("modbus-tcp")]
                return coil

            wait_until(
                lambda: bool(outputs_status()) and "cannot connect" in coil()["fault_reason"]
            )
            assert coil()["state"] == "fault"
            device.start()  # switched on: the pass and the seal appear
            wait_until(lambda: device.get(COILS, 0, 5) == [False, False, True, False, True])
            wait_until(lambda: all(o["state"] == "ok" for o in outputs_status()))
    finally:
        device.close()


def test_safe_outputs_locks_the_seal_a_crashed_daemon_left_energised(
    tmp_path: Path, scale: FakeMtSicsScale
) -> None:
    device = ModbusDevice()
    config = write_station(tmp_path, scale.path, None, extra=coil_outputs(device.port))
    try:
        device.set(COILS, 0, [False, False, True, False, True])  # a PASS when the daemon died
        assert main(["safe-outputs", "-c", str(config)]) == 0
        assert device.get(COILS, 0, 5) == [True, True, False, False, False]  # fault, locked
        device.stop()
        assert main(["safe-outputs", "-c", str(config)]) == 1  # says so when it cannot
    finally:
        device.close()
