"""USB HID POS scales: the Dymo capture from the POS usage tables, over a FIFO for hidraw."""

from __future__ import annotations

import os
import threading
import time
from typing import TYPE_CHECKING

import pytest

from drivers.scales.hid_pos import HidPosScale, ReportDecoder, Settings, parse_report
from scale_agent.errors import DeviceUnavailableError
from scale_agent.weights import ReadingKind, Weight

if TYPE_CHECKING:
    from pathlib import Path

W = Weight.parse


@pytest.mark.parametrize(
    ("report", "weight", "stable"),
    [
        ("03040bff3419", W("645.2oz"), True),  # the Dymo capture: 6452 x 0.1 oz
        ("030402003c00", W("60g"), True),
        ("03030c01e803", W("10000lb"), False),  # motion; exponent +1 (QZ Tray got this wrong)
        ("030202000000", W("0g"), True),  # stable at zero
        ("030301fd1027", W("0.01g"), False),  # milligrams, exponent -3: 10000e-3 mg
    ],
)
def test_data_reports(report: str, weight: Weight, stable: bool) -> None:
    reading = parse_report(bytes.fromhex(report))
    assert (reading.kind, reading.weight, reading.is_stable) == (ReadingKind.WEIGHT, weight, stable)


def test_under_zero_over_limit_faults_and_other_units() -> None:
    assert parse_report(bytes.fromhex("030502000a00")).is_underload is True
    assert parse_report(bytes.fromhex("030602000a00")).is_overload is True
    assert parse_report(bytes.fromhex("030102000000")).error == "scale status 1"
    carat = parse_report(bytes.fromhex("030404000a00"))
    assert (carat.weight, carat.detail) == (None, {"value": "10", "unit": "ct"})


def test_reports_are_split_by_id_and_unknown_bytes_skipped() -> None:
    readings = ReportDecoder().feed(bytes.fromhex("03040bff3419040400000000000099030402003c00"))
    assert [r.kind for r in readings] == [
        ReadingKind.WEIGHT,
        ReadingKind.STATUS,
        ReadingKind.ERROR,
        ReadingKind.WEIGHT,
    ]


def read_for(driver: HidPosScale, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        driver.read()


def test_the_driver_drops_the_stale_first_report_and_sees_the_unplug(tmp_path: Path) -> None:
    fifo = tmp_path / "hidraw0"
    os.mkfifo(fifo)
    driver = HidPosScale(Settings(port=str(fifo)))
    writer: list[int] = []
    opener = threading.Thread(target=lambda: writer.append(os.open(fifo, os.O_WRONLY)))
    opener.start()
    try:
        driver.open()
        opener.join(timeout=5)
        os.write(writer[0], bytes.fromhex("030402000a00"))  # stale: 10 g from before
        os.write(writer[0], bytes.fromhex("030402003c00"))  # now: 60 g
        weights: list[Weight | None] = []
        deadline = time.monotonic() + 3
        while not weights and time.monotonic() < deadline:
            weights = [reading.weight for reading in driver.read()]
        assert weights == [W("60g")]
        os.close(writer[0])  # unplugged
        with pytest.raises(DeviceUnavailableError, match="disconnected"):
            read_for(driver, 3.0)
    finally:
        driver.close()


def test_a_missing_device_is_diagnosed() -> None:
    with pytest.raises(DeviceUnavailableError, match="is missing"):
        HidPosScale(Settings(port="/dev/hidraw-does-not-exist")).open()
