"""Every serial transport is read one call per arrival, and a vanished peer is a clear fault.

pyserial's socket:// handler says at most one byte is waiting, so a driver that reads
`in_waiting` bytes makes one call per byte from a serial-to-Ethernet converter. These tests
give a burst of frames to a real TCP socket and a real pty, and count the driver's reads.
"""

from __future__ import annotations

import os
import socket
import threading
import tty
from typing import TYPE_CHECKING

import pytest

from drivers.scales.gs_nt import GsNtScale, Settings
from scale_agent.errors import DeviceUnavailableError
from scale_agent.weights import Weight

if TYPE_CHECKING:
    from collections.abc import Iterator

FRAME = b"ST,GS,+0012.34kg\r\n"
BURST = 100


class Converter:
    """A serial-to-Ethernet converter in TCP server mode: one client, bytes on demand."""

    def __init__(self) -> None:
        self._server = socket.create_server(("127.0.0.1", 0))
        self.url = f"socket://127.0.0.1:{self._server.getsockname()[1]}"
        self._accepted = threading.Event()
        self.client: socket.socket | None = None
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        self.client, _ = self._server.accept()
        self._accepted.set()

    def send(self, data: bytes) -> None:
        assert self._accepted.wait(5)
        assert self.client is not None
        self.client.sendall(data)

    def hang_up(self) -> None:
        assert self._accepted.wait(5)
        assert self.client is not None
        self.client.close()

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
        self._server.close()


@pytest.fixture
def converter() -> Iterator[Converter]:
    server = Converter()
    yield server
    server.close()


def read_burst(driver: GsNtScale) -> tuple[int, int]:
    """(reads, readings) until the whole burst has been decoded."""
    reads = readings = 0
    while readings < BURST and reads < BURST * len(FRAME):
        readings += len(driver.read())
        reads += 1
    return reads, readings


def test_a_burst_over_socket_is_read_in_a_call_or_two(converter: Converter) -> None:
    driver = GsNtScale(Settings(port=converter.url))
    driver.open()
    try:
        converter.send(FRAME * BURST)
        reads, readings = read_burst(driver)
    finally:
        driver.close()
    assert readings == BURST
    assert reads <= 3


def test_a_burst_over_a_pty_is_read_in_a_call_or_two() -> None:
    controller, device = os.openpty()
    tty.setraw(device)
    driver = GsNtScale(Settings(port=os.ttyname(device)))
    driver.open()
    try:
        os.write(controller, FRAME * BURST)
        reads, readings = read_burst(driver)
    finally:
        driver.close()
        os.close(controller)
        os.close(device)
    assert readings == BURST
    assert reads <= 3


def test_the_same_frame_again_is_the_same_weight(converter: Converter) -> None:
    # Repeated frames take a short path in the decoder; a frame split across reads does not.
    driver = GsNtScale(Settings(port=converter.url))
    driver.open()
    try:
        weights = []
        for part in (FRAME, FRAME, FRAME[:7], FRAME[7:], b"US,GS,+0012.30kg\r\n", FRAME):
            converter.send(part)
            for _ in range(20):
                got = driver.read()
                weights += [(r.weight, r.is_stable) for r in got]
                if got or part == FRAME[:7]:
                    break
    finally:
        driver.close()
    kg = Weight.parse
    assert weights == [(kg("12.34kg"), True)] * 3 + [(kg("12.3kg"), False), (kg("12.34kg"), True)]


def read_until_lost(driver: GsNtScale) -> None:
    for _ in range(40):
        driver.read()


def test_a_converter_that_hangs_up_is_a_fault_with_the_reason(converter: Converter) -> None:
    driver = GsNtScale(Settings(port=converter.url))
    driver.open()
    converter.hang_up()
    try:
        with pytest.raises(DeviceUnavailableError, match="disconnected"):
            read_until_lost(driver)
    finally:
        driver.close()
