"""Keyboard-wedge scanners: recorded input_event records, from a file and from a pipe."""

from __future__ import annotations

import os
import struct
import time
from typing import TYPE_CHECKING

import pytest

from drivers.jobs.keyboard import KeyboardScanner, KeyDecoder, Settings
from scale_agent.errors import DeviceUnavailableError

if TYPE_CHECKING:
    from pathlib import Path

EVENT = struct.Struct("llHHi")
SHIFT, CTRL, ENTER = 42, 29, 28
# key codes (linux/input-event-codes.h)
KEYS = {"S": 31, "O": 24, "-": 12, "1": 2, "0": 11, "a": 30, "]": 27, "4": 5}


def record(*events: tuple[int, int]) -> bytes:
    """EV_KEY records (code, value) with a SYN_REPORT after each, as the kernel sends."""
    data = b""
    for number, (code, value) in enumerate(events):
        data += EVENT.pack(1_700_000_000, number, 1, code, value)
        data += EVENT.pack(1_700_000_000, number, 0, 0, 0)  # EV_SYN
    return data


def tap(code: int) -> list[tuple[int, int]]:
    return [(code, 1), (code, 0)]


def shifted(code: int) -> list[tuple[int, int]]:
    return [(SHIFT, 1), *tap(code), (SHIFT, 0)]


def typed_order() -> bytes:
    """`SO-1001` then Enter, as a US-layout wedge scanner types it."""
    keys = [*shifted(KEYS["S"]), *shifted(KEYS["O"]), *tap(KEYS["-"])]
    for digit in "1001":
        keys += tap(KEYS[digit])
    return record(*keys, *tap(ENTER))


def test_a_recorded_scan_decodes_with_shift(tmp_path: Path) -> None:
    capture = tmp_path / "scan.events"
    capture.write_bytes(typed_order() + record(*tap(KEYS["a"]), (KEYS["a"], 2), *tap(ENTER)))
    decoder = KeyDecoder(Settings(device=str(capture)))
    data = capture.read_bytes()
    # records split anywhere across reads decode the same
    assert decoder.feed(data[:37]) + decoder.feed(data[37:]) == ["SO-1001", "a"]


def test_unknown_keys_are_counted_not_typed_and_ctrl_bracket_is_gs() -> None:
    decoder = KeyDecoder(Settings(device="x"))
    f13 = 183  # KEY_F13: nothing on a US layout
    codes = decoder.feed(
        record(
            *tap(KEYS["1"]),
            *tap(f13),
            (CTRL, 1),
            *tap(KEYS["]"]),
            (CTRL, 0),
            *tap(KEYS["4"]),
            *tap(ENTER),
        )
    )
    assert codes == ["1\x1d4"]
    assert decoder.unknown == 1


def test_a_german_layout_swaps_y_and_z() -> None:
    decoder = KeyDecoder(Settings(device="x", layout="de"))
    assert decoder.feed(record(*tap(21), *tap(44), *tap(ENTER))) == ["zy"]


def test_an_event_device_that_vanishes_is_a_device_error(tmp_path: Path) -> None:
    fifo = tmp_path / "event-kbd"
    os.mkfifo(fifo)
    writer = os.open(fifo, os.O_RDWR | os.O_NONBLOCK)  # the "device" is plugged in
    scanner = KeyboardScanner(Settings(device=str(fifo)))
    try:
        scanner.open()  # grab: a pipe has nothing to grab, and that is no error
        os.write(writer, typed_order())
        seen: list[str] = []
        deadline = time.monotonic() + 3
        while not seen and time.monotonic() < deadline:
            seen = scanner.read()
        assert seen == ["SO-1001"]
        os.close(writer)  # unplugged
        with pytest.raises(DeviceUnavailableError, match="went away"):
            scanner.read()
    finally:
        scanner.close()


def test_start_up_diagnosis_names_the_missing_device_and_the_input_group(tmp_path: Path) -> None:
    with pytest.raises(DeviceUnavailableError, match="plugged in"):
        KeyboardScanner(Settings(device=str(tmp_path / "usb-Honeywell-event-kbd"))).open()
    locked = tmp_path / "event-locked"
    locked.write_bytes(b"")
    locked.chmod(0)
    if os.geteuid() != 0:  # root reads anything
        with pytest.raises(DeviceUnavailableError, match="'input' group"):
            KeyboardScanner(Settings(device=str(locked))).open()
