"""A stack light and seal relay on a Modbus I/O module (the in-process pymodbus server)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import pytest

from drivers.scales.modbus_register import ModbusScale
from drivers.scales.modbus_register import Settings as ScaleSettings
from scale_agent.plugins import OUTPUT_GROUP, Indication, Signal, load_driver
from scale_agent.testing import wait_until
from scale_agent.testing.contracts import OutputDriverContract
from scale_agent.weights import Weight
from tests.fakes.modbus_device import COILS, HOLDING, ModbusDevice
from tests.fakes.null_modem import NullModem

if TYPE_CHECKING:
    from collections.abc import Iterator

    from drivers.outputs._channels import ChannelLight

TOWER = {"red": 0, "green": 2, "buzzer": 3, "seal": 5}
SIGNALS = {"fail": ["red", "buzzer:0.3s"], "fault": ["red", "buzzer"]}


def coil_light(**keys: Any) -> ChannelLight:
    module = load_driver(OUTPUT_GROUP, "modbus-coils")
    settings = module.Settings.model_validate(
        {"channels": TOWER, "interlock": "seal", "signals": SIGNALS, "timeout_s": 0.3, **keys}
    )
    return cast("ChannelLight", module.DRIVER(settings))


class TestModbusCoilsContract(OutputDriverContract):
    driver_name = "modbus-coils"

    @pytest.fixture
    def light(self) -> Iterator[ChannelLight]:
        self.device = ModbusDevice()
        light = coil_light(host="127.0.0.1", tcp_port=self.device.port)
        yield light
        light.close()
        self.device.close()

    def energised(self, channel: str) -> bool:
        return bool(self.device.get(COILS, TOWER[channel], 1)[0])

    def unplug(self) -> None:
        self.device.stop()


def test_the_module_is_rewritten_after_it_comes_back() -> None:
    device = ModbusDevice()
    light = coil_light(host="127.0.0.1", tcp_port=device.port, refresh_s=0.2)
    try:
        light.open()
        light.show(Indication(Signal.PASS, "ok", is_seal_enabled=True))
        wait_until(lambda: device.get(COILS, 5, 1) == [True])
        device.stop()  # the I/O module reboots: its coils come back all off
        wait_until(lambda: light.problem is not None)
        assert "modbus-tcp://127.0.0.1" in str(light.device)
        device.start()
        wait_until(lambda: light.problem is None)
        wait_until(lambda: device.get(COILS, 0, 6) == [False, False, True, False, False, True])
    finally:
        light.close()
        device.close()


def test_a_refused_coil_address_is_a_problem_not_a_crash() -> None:
    device = ModbusDevice()
    light = coil_light(host="127.0.0.1", tcp_port=device.port, channels={**TOWER, "red": 200})
    try:
        light.open()
        wait_until(lambda: light.problem is not None and "exception 2" in light.problem)
    finally:
        light.close()
        device.close()


def test_the_light_shares_an_rs485_line_with_the_scale_indicator() -> None:
    line = NullModem()
    device = ModbusDevice(1, more_ids=(2,), serial_port=line.a)
    scale = ModbusScale(
        ScaleSettings(transport="rtu", port=line.b, device_id=1, preset="generic-int32", unit="g")
    )
    light = coil_light(transport="rtu", port=line.b, device_id=2)
    try:
        device.set(HOLDING, 0, [0, 750, 0, 1], unit=1)
        scale.open()
        light.open()
        light.show(Indication(Signal.PASS, "ok", is_seal_enabled=True))
        wait_until(lambda: device.get(COILS, 5, 1, unit=2) == [True])
        readings = scale.read()
        while not readings:
            readings = scale.read()
        assert readings[0].weight == Weight.parse("750g")
        assert device.get(COILS, 5, 1, unit=1) == [False]  # unit 1 is the indicator: untouched
    finally:
        light.close()
        scale.close()
        device.close()
        line.close()


PASS = Indication(Signal.PASS, "ok", is_seal_enabled=True)
READY = Indication(Signal.READY, "next", is_seal_enabled=False)
IDLE = Indication(Signal.IDLE, "", is_seal_enabled=False)


def seal_on(device: ModbusDevice) -> bool:
    return bool(device.get(COILS, TOWER["seal"], 1)[0])


def test_states_faster_than_the_module_end_in_the_latest_and_are_not_replayed() -> None:
    # bench.settled_to_coil once stopped with "the seal coil was never written": parcel N's
    # PASS came while the worker had not yet written the IDLE and READY between it and parcel
    # N-1's PASS. The worker shows the latest state; PASS was what the module already showed,
    # so nothing was written, and the seal (rightly) stayed on. The bench now waits until
    # READY is on the module. This pins the behaviour down: the latest state wins, the
    # states in between are not replayed, and the seal follows the latest state.
    device = ModbusDevice()
    light = coil_light(host="127.0.0.1", tcp_port=device.port, refresh_s=60)
    try:
        light.open()
        light.show(PASS)
        wait_until(lambda: seal_on(device))
        for _ in range(200):  # a flood of changes, none waited for
            light.show(IDLE)
            light.show(READY)
            light.show(PASS)
        wait_until(lambda: seal_on(device))
        assert light.writes < 400
        light.show(READY)  # the last state of a burst is never lost
        wait_until(lambda: not seal_on(device))
    finally:
        light.close()
        device.close()


def test_every_parcel_writes_the_seal_once_ready_was_shown() -> None:
    # The bench's assumption, now true by construction: READY on the module, then PASS,
    # is always one write that turns the seal on.
    device = ModbusDevice()
    light = coil_light(host="127.0.0.1", tcp_port=device.port, refresh_s=60)
    try:
        light.open()
        for _ in range(50):
            light.show(READY)
            wait_until(lambda: not seal_on(device))
            light.show(PASS)
            wait_until(lambda: seal_on(device), timeout=2)
    finally:
        light.close()
        device.close()


def test_a_hung_station_loop_locks_the_seal_by_itself() -> None:
    # The worker thread outlives a deadlocked station loop; it must not hold PASS on its own.
    device = ModbusDevice()
    light = coil_light(host="127.0.0.1", tcp_port=device.port, station_silent_s=0.5)
    seal, red = TOWER["seal"], TOWER["red"]
    try:
        light.open()
        light.show(Indication(Signal.PASS, "ok", is_seal_enabled=True))

        def sealed_open_while_turning() -> bool:
            light.vouch()  # the loop turns while we look
            return bool(device.get(COILS, seal, 1) == [True])

        wait_until(sealed_open_while_turning)
        # The loop stops turning: within station_silent_s the board shows FAULT, seal locked.
        wait_until(lambda: device.get(COILS, seal, 1) == [False], timeout=3)
        assert device.get(COILS, red, 1) == [True]
        # It turns again: the verdict it still stands behind comes back.
        wait_until(sealed_open_while_turning, timeout=3)
    finally:
        light.close()
        device.close()


def test_the_modules_own_watchdog_is_set_on_every_connect() -> None:
    device = ModbusDevice()
    light = coil_light(
        host="127.0.0.1",
        tcp_port=device.port,
        watchdog={"address": 0x10, "seconds": 3, "unit_s": 0.1},
    )
    try:
        light.open()
        wait_until(lambda: device.get(HOLDING, 0x10, 1) == [30])
        device.stop()  # the module reboots: its registers come back zero
        wait_until(lambda: light.problem is not None)
        device.start()
        assert device.get(HOLDING, 0x10, 1) == [0]
        wait_until(lambda: device.get(HOLDING, 0x10, 1) == [30])
    finally:
        light.close()
        device.close()
