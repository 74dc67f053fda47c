"""Modbus indicators against an in-process pymodbus server serving each preset's map."""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from typing import TYPE_CHECKING, Any

import pytest
from pydantic import ValidationError

from drivers.scales.modbus_register import ModbusScale, RegisterMap, Settings
from scale_agent.errors import DeviceUnavailableError
from scale_agent.plugins import ScaleCommand
from scale_agent.tools.cli import main
from scale_agent.weights import Mode, Reading, ReadingKind, Weight
from tests.fakes.modbus_device import HOLDING, INPUT, ModbusDevice
from tests.fakes.null_modem import NullModem

if TYPE_CHECKING:
    from collections.abc import Iterator

W = Weight.parse


@pytest.fixture
def device() -> Iterator[ModbusDevice]:
    fake = ModbusDevice()
    yield fake
    fake.close()


def scale(device: ModbusDevice, **keys: Any) -> ModbusScale:
    settings = Settings.model_validate(
        {"host": "127.0.0.1", "tcp_port": device.port, "poll_interval_s": 0.01, **keys}
    )
    return ModbusScale(settings)


def first_reading(driver: ModbusScale) -> Reading:
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        readings = driver.read()
        if readings:
            return readings[0]
    raise AssertionError("no reading")


def words(value: int) -> list[int]:
    return [value >> 16 & 0xFFFF, value & 0xFFFF]


@pytest.mark.parametrize(
    ("status", "magnitude", "weight", "stable", "mode"),
    [
        (1 << 11, 12345, W("12.345kg"), True, Mode.GROSS),  # stable, gross display
        (1 << 11 | 1 << 10 | 1 << 8, 1500, W("-1.5kg"), True, Mode.NET),  # net, negative
        (0, 12000, W("12kg"), False, Mode.GROSS),  # bit 11 clear: in motion
    ],
)
def test_laumas_map(  # noqa: PLR0917 - one parameter per column
    device: ModbusDevice, status: int, magnitude: int, weight: Weight, stable: bool, mode: Mode
) -> None:
    # 40007 status, 40010/40011 net, high word first, a magnitude with 3 implied decimals
    device.set(HOLDING, 6, [status, 0, 0, *words(magnitude)])
    driver = scale(device, preset="laumas", unit="kg", decimals=3)
    try:
        driver.open()
        reading = first_reading(driver)
    finally:
        driver.close()
    assert (reading.weight, reading.is_stable, reading.mode) == (weight, stable, mode)


def test_laumas_over_range_and_cell_errors_are_never_weights(device: ModbusDevice) -> None:
    driver = scale(device, preset="laumas", unit="kg")
    try:
        driver.open()
        device.set(HOLDING, 6, [1 << 3, 0, 0, *words(999999)])  # gross > 110 % of full scale
        over = first_reading(driver)
        device.set(HOLDING, 6, [1 << 0, 0, 0, *words(5)])  # load-cell error
        broken = first_reading(driver)
    finally:
        driver.close()
    assert (over.weight, over.is_overload) == (None, True)
    assert (broken.weight, broken.error) == (None, "device_error")


@pytest.mark.parametrize(
    ("status", "is_overload", "is_underload"),
    [
        (1 << 5, True, False),  # net beyond +999999
        (1 << 5 | 1 << 8, False, True),  # net below -999999: the sign bit says under
        (1 << 4 | 1 << 7, False, True),  # gross below -999999
        (1 << 2, True, False),  # 9 divisions over the maximum
    ],
)
def test_laumas_out_of_range_says_which_way(
    device: ModbusDevice, status: int, is_overload: bool, is_underload: bool
) -> None:
    # The transmitters have no underload bit: bits 4/5 are "beyond +-999999", 7/8 the signs.
    device.set(HOLDING, 6, [status, 0, 0, *words(999999)])
    driver = scale(device, preset="laumas", unit="kg")
    try:
        driver.open()
        reading = first_reading(driver)
    finally:
        driver.close()
    assert (reading.weight, reading.is_overload, reading.is_underload) == (
        None,
        is_overload,
        is_underload,
    )


def test_dini_argeo_map_uses_input_registers(device: ModbusDevice) -> None:
    # 30003/30004 net magnitude, 30005 status: 0x45 = net negative, stable, preset tare
    device.set(INPUT, 2, [*words(3055), 0x45])
    driver = scale(device, preset="dini-argeo", unit="kg", decimals=1)
    try:
        driver.open()
        reading = first_reading(driver)
        device.set(INPUT, 4, [1 << 4])  # overload
        overload = first_reading(driver)
    finally:
        driver.close()
    assert (reading.weight, reading.is_stable) == (W("-305.5kg"), True)
    assert reading.mode is Mode.NET  # a preset tare alone (bit 6, bit 5 clear) makes it net
    assert overload.is_overload is True


@pytest.mark.parametrize(
    ("status", "mode"),
    [(0b0000_0100, Mode.GROSS), (0b0010_0100, Mode.NET), (0b0100_0100, Mode.NET)],
)
def test_dini_argeo_net_with_a_tare_or_a_preset_tare(
    device: ModbusDevice, status: int, mode: Mode
) -> None:
    device.set(INPUT, 2, [*words(1250), status])
    driver = scale(device, preset="dini-argeo", unit="g")
    try:
        driver.open()
        reading = first_reading(driver)
    finally:
        driver.close()
    assert (reading.weight, reading.mode) == (W("1250g"), mode)


def test_generic_float32_little_word_order_and_int32_decimals_register(
    device: ModbusDevice,
) -> None:
    high, low = struct.unpack(">HH", struct.pack(">f", -2.25))
    device.set(HOLDING, 0, [low, high, 0b11])  # low word first; stable, net
    little = scale(
        device,
        map={
            "function": "holding",
            "weight_address": 0,
            "type": "float32",
            "word_order": "little",
            "status_address": 2,
            "stable_bit": 0,
            "net_bit": 1,
        },
        unit="lb",
    )
    try:
        little.open()
        reading = first_reading(little)
    finally:
        little.close()
    assert (reading.weight, reading.mode) == (W("-2.25lb"), Mode.NET)
    device.set(HOLDING, 0, [*words(0xFFFFFFFF - 1234 + 1), 2, 0b1])  # -1234, 2 decimals
    generic = scale(device, preset="generic-int32", unit="kg")
    try:
        generic.open()
        assert first_reading(generic).weight == W("-12.34kg")
    finally:
        generic.close()


def test_an_exception_response_is_an_error_reading_not_a_stale_weight(
    device: ModbusDevice,
) -> None:
    outside = {
        "function": "holding",
        "weight_address": 60,
        "type": "int32",
        "status_address": 70,
    }  # past the 64 registers the device has
    driver = scale(device, map=outside, unit="kg")
    try:
        driver.open()
        reading = first_reading(driver)
    finally:
        driver.close()
    assert (reading.kind, reading.weight, reading.error) == (
        ReadingKind.ERROR,
        None,
        "modbus exception 2",
    )


def test_a_device_that_stops_answering_and_comes_back(device: ModbusDevice) -> None:
    device.set(HOLDING, 0, [*words(1000), 0, 0b1])
    driver = scale(device, preset="generic-int32", unit="g", timeout_s=0.3)
    try:
        driver.open()
        assert first_reading(driver).weight == W("1000g")
        device.stop()
        with pytest.raises(DeviceUnavailableError):
            first_reading(driver)
        driver.close()
        with pytest.raises(DeviceUnavailableError, match="cannot connect"):
            driver.open()
        device.start()
        device.set(HOLDING, 0, [*words(2000), 0, 0b1])
        driver.open()
        assert first_reading(driver).weight == W("2000g")
    finally:
        driver.close()


def test_zero_writes_the_command_then_the_reset(device: ModbusDevice) -> None:
    driver = scale(device, preset="laumas", unit="kg")
    try:
        driver.open()
        assert driver.send(ScaleCommand.ZERO)
    finally:
        driver.close()
    assert device.get(HOLDING, 5, 1) == [0]  # 8 (zero) was written, then 0 to allow a repeat
    generic = scale(device, preset="generic-float32", unit="kg")
    try:
        generic.open()
        assert generic.send(ScaleCommand.ZERO) is False  # this map has no command register
    finally:
        generic.close()


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ({"unit": "kg"}, "preset or a"),
        ({"preset": "laumas"}, "unit"),
        ({"preset": "laumas", "unit": "kg", "transport": "rtu"}, "needs port"),
    ],
)
def test_incomplete_settings_are_config_errors(keys: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Settings.model_validate({"host": "127.0.0.1", **keys})


def test_a_map_too_wide_for_one_read_is_refused() -> None:
    wide = RegisterMap(weight_address=0, status_address=40)
    with pytest.raises(ValueError, match="spans 41 registers"):
        ModbusScale(Settings(host="h", map=wide, unit="kg"))


@pytest.fixture
def rs485() -> Iterator[tuple[ModbusDevice, str]]:
    """An RTU server with units 1 and 2 on one end of a null modem; yields the other end."""
    line = NullModem()
    device = ModbusDevice(1, more_ids=(2,), serial_port=line.a)
    yield device, line.b
    device.close()
    line.close()


def rtu_scale(port: str, unit: int) -> ModbusScale:
    return ModbusScale(
        Settings(
            transport="rtu",
            port=port,
            device_id=unit,
            preset="generic-int32",
            unit="g",
            poll_interval_s=0.02,
        )
    )


def test_rtu_over_a_serial_line_reads_the_weight(rs485: tuple[ModbusDevice, str]) -> None:
    device, port = rs485
    device.set(HOLDING, 0, [*words(4321), 1, 0b1])
    driver = rtu_scale(port, 1)
    try:
        driver.open()
        reading = first_reading(driver)
    finally:
        driver.close()
    assert (reading.weight, reading.is_stable) == (W("432.1g"), True)
    assert driver.device == f"modbus-rtu://{port}#1"


def test_two_indicators_on_one_bus_both_keep_reading(rs485: tuple[ModbusDevice, str]) -> None:
    device, port = rs485
    device.set(HOLDING, 0, [*words(100), 0, 0b1], unit=1)
    device.set(HOLDING, 0, [*words(200), 0, 0b1], unit=2)
    drivers = [rtu_scale(port, 1), rtu_scale(port, 2)]
    seen: dict[int, list[Weight | None]] = {1: [], 2: []}

    def poll(unit: int, driver: ModbusScale) -> None:
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            seen[unit] += [reading.weight for reading in driver.read()]

    try:
        for driver in drivers:
            driver.open()
        threads = [
            threading.Thread(target=poll, args=(unit, driver))
            for unit, driver in zip((1, 2), drivers, strict=True)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        for driver in drivers:
            driver.close()
    # one shared port, one transaction at a time, and neither unit starves the other
    assert set(seen[1]) == {W("100g")}
    assert set(seen[2]) == {W("200g")}
    assert min(len(seen[1]), len(seen[2])) >= 10
    assert min(len(seen[1]), len(seen[2])) * 2 >= max(len(seen[1]), len(seen[2]))


def test_one_bus_refuses_a_second_framing() -> None:
    line = NullModem()
    first = rtu_scale(line.b, 1)
    other = ModbusScale(
        Settings(
            transport="rtu", port=line.b, baudrate=19200, device_id=2, preset="laumas", unit="kg"
        )
    )
    try:
        first.open()
        with pytest.raises(DeviceUnavailableError, match="other framing"):
            other.open()
    finally:
        first.close()
        other.close()
        line.close()


def test_probe_finds_the_unit_and_preset_on_a_serial_bus(
    capsys: pytest.CaptureFixture[str],
) -> None:
    line = NullModem()
    device = ModbusDevice(3, serial_port=line.a)
    try:
        # A Dini Argeo at unit 3: 30003/30004 = 1234, stable. Units 1, 2 and 4 stay silent.
        device.set(INPUT, 2, [*words(1234), 1 << 2])
        device.set(HOLDING, 0, [0xFFFF] * 12)  # holding maps read as absurd or faulted
        assert main(["probe", line.b, "--modbus", "--units", "1-4"]) == 0
    finally:
        device.close()
        line.close()
    out = capsys.readouterr().out
    answers = [json.loads(text) for text in out.splitlines() if text.startswith("{")]
    assert answers == [
        {
            "device_id": 3,
            "preset": "dini-argeo",
            "value": "1234",
            "is_stable": True,
        }
    ]
    assert 'preset = "dini-argeo"' in out
    assert "device_id = 3" in out
    assert 'transport = "rtu"' in out


def test_probe_says_what_to_check_when_no_unit_answers(
    device: ModbusDevice, capsys: pytest.CaptureFixture[str]
) -> None:
    device.set(HOLDING, 0, [0xFFFF] * 12)
    device.set(INPUT, 0, [0xFFFF] * 12)
    assert main(["probe", f"tcp://127.0.0.1:{device.port}", "--modbus", "--units", "1"]) == 1
    assert "unit id, baud rate and parity" in capsys.readouterr().out


def test_probe_on_a_refused_tcp_connection_says_so_not_a_wiring_hint(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nobody listens there
    assert main(["probe", f"tcp://127.0.0.1:{port}", "--modbus", "--units", "1-2"]) == 1
    captured = capsys.readouterr()
    assert f"TCP 127.0.0.1:{port}: Connection refused" in captured.err
    assert "A/B" not in captured.out + captured.err
    assert "pymodbus" not in captured.err.lower()


def test_probe_on_a_missing_serial_port_says_no_such_device(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["probe", "/dev/ttyUSB-not-there", "--modbus", "--units", "1"]) == 1
    err = capsys.readouterr().err
    assert "/dev/ttyUSB-not-there: no such device" in err
