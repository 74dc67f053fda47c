"""No exception ends a device thread: the link reports it as a fault and reconnects."""

from __future__ import annotations

import queue
import termios
import time
from typing import TYPE_CHECKING, cast

import pytest
import structlog

from scale_agent.errors import DeviceUnavailableError
from scale_agent.io.clock import SystemClock
from scale_agent.io.scale_link import CommandSent, LinkDown, LinkUp, ScaleLink
from scale_agent.plugins import SCALE_GROUP, ScaleCommand, ScaleDriver, ScaleIdentity, load_driver
from scale_agent.testing import wait_until
from scale_agent.weights import Reading

if TYPE_CHECKING:
    from tests.fakes.mt_sics_scale import FakeMtSicsScale


class FirstOpenFails:
    """The real MT-SICS driver on a pty, whose first open raises what pyserial really raises
    when a USB adapter vanishes mid-open: `termios.error`, which is not an `OSError`."""

    def __init__(self, driver: ScaleDriver) -> None:
        self.inner = driver
        self.opens = 0

    @property
    def device(self) -> str:
        return self.inner.device

    def open(self) -> ScaleIdentity:
        self.opens += 1
        if self.opens == 1:
            raise termios.error(5, "Input/output error")
        return self.inner.open()

    def read(self) -> list[Reading]:
        return self.inner.read()

    def send(self, command: ScaleCommand) -> bool:
        return self.inner.send(command)

    def close(self) -> None:
        self.inner.close()


def _next(events: queue.Queue[object], kind: type) -> object:
    while True:
        event = events.get(timeout=5)
        if isinstance(event, kind):
            return event


def test_an_unexpected_exception_is_a_fault_and_the_link_reconnects(
    scale: FakeMtSicsScale,
) -> None:
    module = load_driver(SCALE_GROUP, "mt-sics")
    real = cast("ScaleDriver", module.DRIVER(module.Settings.model_validate({"port": scale.path})))
    flaky = FirstOpenFails(real)
    events: queue.Queue[object] = queue.Queue()
    link = ScaleLink(flaky, SystemClock(), events.put, structlog.get_logger())
    with structlog.testing.capture_logs() as logs:
        link.start()
        try:
            down = _next(events, LinkDown)
            assert isinstance(down, LinkDown)
            assert down.reason == "unexpected termios.error: (5, 'Input/output error')"
            up = _next(events, LinkUp)
            assert isinstance(up, LinkUp)
            assert up.identity.serial == "B123456789"
            assert _next(events, Reading)  # weights flow again
            assert link.is_alive
            assert link.problem is None
        finally:
            link.stop()
    [warning] = [log for log in logs if log["event"] == "scale_unavailable"]
    assert "exc_info" in warning  # a bug shows its traceback in the journal
    # The first successful open is a connect, not a reconnect, and is logged once.
    [connected] = [log for log in logs if log["event"].endswith("connected")]
    assert connected["event"] == "scale_connected"
    assert "B123456789" in connected["scale"]


class FirstReadFails(FirstOpenFails):
    """Opens fine, then the cable is pulled on the first read."""

    def __init__(self, driver: ScaleDriver) -> None:
        super().__init__(driver)
        self.reads = 0

    def open(self) -> ScaleIdentity:
        self.opens += 1
        return self.inner.open()

    def read(self) -> list[Reading]:
        self.reads += 1
        if self.reads == 1:
            raise DeviceUnavailableError(self.device, "disconnected")
        return self.inner.read()


def test_a_lost_scale_that_answers_again_is_logged_once_as_reconnected(
    scale: FakeMtSicsScale,
) -> None:
    module = load_driver(SCALE_GROUP, "mt-sics")
    real = cast("ScaleDriver", module.DRIVER(module.Settings.model_validate({"port": scale.path})))
    events: queue.Queue[object] = queue.Queue()
    link = ScaleLink(FirstReadFails(real), SystemClock(), events.put, structlog.get_logger())
    with structlog.testing.capture_logs() as logs:
        link.start()
        try:
            _next(events, LinkDown)
            _next(events, LinkUp)
            assert _next(events, Reading)
        finally:
            link.stop()
    connects = [log["event"] for log in logs if log["event"].endswith("connected")]
    assert connects == ["scale_connected", "scale_reconnected"]


# The thread dying is the point of this test; pytest reports it as a warning, expected here.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_link_whose_thread_died_is_not_alive() -> None:
    class Exploding(FirstOpenFails):
        def open(self) -> ScaleIdentity:
            raise SystemExit  # not an Exception: nothing should catch it, and the link is dead

    module = load_driver(SCALE_GROUP, "mt-sics")
    real = cast("ScaleDriver", module.DRIVER(module.Settings.model_validate({"port": "/nope"})))
    link = ScaleLink(Exploding(real), SystemClock(), lambda _: None, structlog.get_logger())
    assert link.is_alive  # not started yet: nothing to report
    link.start()
    link._thread.join(timeout=5)
    assert not link.is_alive  # the station stops feeding the watchdog on this


def test_while_frames_gather_a_command_still_reaches_the_scale_at_once(
    scale: FakeMtSicsScale,
) -> None:
    module = load_driver(SCALE_GROUP, "mt-sics")
    driver = cast(
        "ScaleDriver", module.DRIVER(module.Settings.model_validate({"port": scale.path}))
    )
    events: queue.Queue[object] = queue.Queue()
    # A station idle for good: the link lets frames gather for 30 s after every read.
    link = ScaleLink(driver, SystemClock(), events.put, structlog.get_logger(), lambda: 30.0)
    link.start()
    try:
        _next(events, Reading)  # the first read; now the link waits
        started = time.monotonic()
        link.send(ScaleCommand.ZERO)
        sent = _next(events, CommandSent)
        assert isinstance(sent, CommandSent)
        assert sent.is_sent
        assert time.monotonic() - started < 5  # not after the 30 s gather
        wait_until(lambda: scale.zeroed == 1)
    finally:
        started = time.monotonic()
        link.stop()
    assert time.monotonic() - started < 3  # stop ends the gathering wait too
