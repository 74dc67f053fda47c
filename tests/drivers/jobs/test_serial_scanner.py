"""A serial barcode scanner on a pseudo-terminal."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import pytest

from drivers.jobs.serial_scanner import SerialScanner, Settings
from scale_agent.errors import DeviceUnavailableError
from scale_agent.testing.pty_peer import PtyPeer

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture
def peer() -> Iterator[PtyPeer]:
    fake = PtyPeer(lambda _request: b"")
    yield fake
    fake.close()


def codes(scanner: SerialScanner, count: int) -> list[str]:
    seen: list[str] = []
    deadline = time.monotonic() + 3
    while len(seen) < count and time.monotonic() < deadline:
        seen += scanner.read()
    return seen


def with_even_parity(text: bytes) -> bytes:
    return bytes(b | (0x80 if b.bit_count() % 2 else 0) for b in text)


def test_codes_split_at_the_terminator_in_any_fragmentation(peer: PtyPeer) -> None:
    scanner = SerialScanner(Settings(port=peer.path))
    try:
        scanner.open()
        peer.push(b"SO-10")
        peer.push(b"01\r4006381333931\r\r  \r")  # empty scans are not codes
        assert codes(scanner, 2) == ["SO-1001", "4006381333931"]
    finally:
        scanner.close()


def test_7e1_framing_prefix_and_suffix_are_stripped(peer: PtyPeer) -> None:
    settings = Settings(
        port=peer.path,
        bytesize=7,
        parity="E",
        strip_prefix="]E0",
        strip_suffix="#",
        terminator="\r\n",
    )
    scanner = SerialScanner(settings)
    try:
        scanner.open()
        peer.push(with_even_parity(b"]E04006381333931#\r\n"))
        assert codes(scanner, 1) == ["4006381333931"]
    finally:
        scanner.close()


def test_an_unplugged_scanner_is_a_device_error(peer: PtyPeer) -> None:
    scanner = SerialScanner(Settings(port=peer.path))
    try:
        scanner.open()
        peer.hang_up()
        with pytest.raises(DeviceUnavailableError):
            codes(scanner, 1)
    finally:
        scanner.close()
    with pytest.raises(DeviceUnavailableError, match="is missing"):
        SerialScanner(Settings(port="/dev/does-not-exist")).open()
