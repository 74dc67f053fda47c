"""The shared suite every serial scale driver reruns over a pseudo-terminal.

A subclass names its driver module and supplies `respond(request) -> bytes` frames for a
stable weight, a moving weight and garbage; the suite opens the real device path.
"""

from __future__ import annotations

import time
from typing import Any, ClassVar, cast

import pytest

from scale_agent.errors import DeviceUnavailableError
from scale_agent.plugins import SCALE_GROUP, Indication, ScaleDriver, Signal, load_driver
from scale_agent.testing.pty_peer import PtyPeer
from scale_agent.testing.waiting import wait_until
from scale_agent.weights import Reading, ReadingKind, Weight


class ScaleDriverContract:
    """Subclass and fill in the class variables."""

    driver_name: ClassVar[str]
    settings: ClassVar[dict[str, Any]] = {}
    request_terminator: ClassVar[bytes | None] = b"\n"
    stable_weight: ClassVar[Weight]
    moving_weight: ClassVar[Weight | None]  # None: in motion the protocol sends a status

    def respond(self, request: bytes) -> bytes:
        """Answer any poll with the current frame (continuous protocols are pushed)."""
        _ = request
        return self.frame if self.settings.get("mode") == "poll" else b""

    frame: bytes = b""  # what the scale currently answers with

    def stable_frame(self) -> bytes:  # pragma: no cover - overridden
        raise NotImplementedError

    def moving_frame(self) -> bytes:  # pragma: no cover - overridden
        raise NotImplementedError

    @pytest.fixture
    def peer(self) -> Any:
        self.frame = self.stable_frame()
        peer = PtyPeer(self.respond, self.request_terminator)
        yield peer
        peer.close()

    def _driver(self, port: str) -> ScaleDriver:
        module = load_driver(SCALE_GROUP, self.driver_name)
        settings = module.Settings.model_validate({"port": port, **self.settings})
        return cast("ScaleDriver", module.DRIVER(settings))

    def _read_until(self, driver: ScaleDriver, peer: PtyPeer, kind: ReadingKind) -> Reading:
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            if self.settings.get("mode") != "poll":
                peer.push(self.frame)
            for reading in driver.read():
                if reading.kind is kind:
                    return reading
        raise AssertionError(f"no {kind} reading within 3 s")

    @staticmethod
    def _read_for(driver: ScaleDriver, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            driver.read()

    def test_reads_a_stable_weight(self, peer: PtyPeer) -> None:
        driver = self._driver(peer.path)
        try:
            driver.open()
            reading = self._read_until(driver, peer, ReadingKind.WEIGHT)
            assert reading.weight == self.stable_weight
            assert reading.is_stable is True
        finally:
            driver.close()

    def test_reads_a_moving_weight_as_not_stable(self, peer: PtyPeer) -> None:
        driver = self._driver(peer.path)
        try:
            driver.open()
            self.frame = self.moving_frame()
            kind = ReadingKind.WEIGHT if self.moving_weight is not None else ReadingKind.STATUS
            reading = self._read_until(driver, peer, kind)
            while reading.is_stable:
                reading = self._read_until(driver, peer, kind)
            assert reading.is_stable is False
            assert reading.weight == self.moving_weight
        finally:
            driver.close()

    def test_garbage_gives_error_readings_and_never_a_weight(self, peer: PtyPeer) -> None:
        driver = self._driver(peer.path)
        try:
            driver.open()
            self.frame = b"\x00\xff garbage \x13\x10\r\n" * 3
            reading = self._read_until(driver, peer, ReadingKind.ERROR)
            assert reading.weight is None
        finally:
            driver.close()

    def test_a_vanished_device_raises_device_unavailable(self, peer: PtyPeer) -> None:
        driver = self._driver(peer.path)
        try:
            driver.open()
            peer.hang_up()
            with pytest.raises(DeviceUnavailableError):
                self._read_for(driver, 3.0)
        finally:
            driver.close()
            driver.close()  # closing twice is safe

    def test_a_missing_port_is_diagnosed_in_plain_words(self) -> None:
        driver = self._driver("/dev/does-not-exist-scale")
        with pytest.raises(DeviceUnavailableError, match="is missing"):
            driver.open()


class OutputDriverContract:
    """The shared suite every channel output (coil module, relay board) reruns on its fake.

    A subclass provides `light` (a fixture yielding the registry-built driver, not yet
    opened, on a tower with red, green, buzzer and seal channels) and `energised(channel)`,
    which reads the fake hardware.
    """

    driver_name: ClassVar[str]

    def energised(self, channel: str) -> bool:  # pragma: no cover - overridden
        raise NotImplementedError

    def unplug(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def lamps(self) -> dict[str, bool]:
        return {name: self.energised(name) for name in ("red", "green", "buzzer", "seal")}

    def assert_lamps(self, expected: dict[str, bool], timeout: float = 3.0) -> None:
        """The fake hardware shows `expected` (it applies a write from a thread of its own)."""
        try:
            wait_until(lambda: self.lamps() == expected, timeout=timeout)
        except AssertionError:
            assert self.lamps() == expected

    def test_open_shows_the_safe_state_with_the_interlock_open(self, light: Any) -> None:
        light.open()
        wait_until(lambda: light.problem is None and light.writes > 0)
        self.assert_lamps({"red": True, "green": False, "buzzer": True, "seal": False})

    def test_only_a_pass_closes_the_seal_relay(self, light: Any) -> None:
        light.open()
        light.show(Indication(Signal.PASS, "ok", is_seal_enabled=True))
        wait_until(lambda: self.energised("seal"))
        self.assert_lamps({"red": False, "green": True, "buzzer": False, "seal": True})
        light.show(Indication(Signal.FAIL, "short"))
        wait_until(lambda: self.energised("red"))
        self.assert_lamps({"red": True, "green": False, "buzzer": True, "seal": False})
        wait_until(lambda: not self.energised("buzzer"))  # buzzer:0.3s
        assert self.energised("red")

    def test_close_leaves_the_interlock_open(self, light: Any) -> None:
        light.open()
        light.show(Indication(Signal.PASS, "ok", is_seal_enabled=True))
        wait_until(lambda: self.energised("seal"))
        light.close()  # written before close returns; a relay board's peer may read it later
        wait_until(lambda: not self.energised("seal"))
        wait_until(lambda: self.energised("red"))  # the fault pattern: the station is not judging

    def test_a_lost_board_is_reported_and_never_blocks_show(self, light: Any) -> None:
        light.open()
        wait_until(lambda: light.problem is None and light.writes > 0)
        self.unplug()
        started = time.perf_counter()
        light.show(Indication(Signal.PASS, "ok", is_seal_enabled=True))
        light.show(Indication(Signal.FAIL, "short"))
        assert time.perf_counter() - started < 0.01
        wait_until(lambda: light.problem is not None)
        light.close()
