"""One reconnect loop for every device the station keeps open in a thread of its own.

A device link owns its driver (drivers are used from one thread), opens it, reads until told
to stop, and when anything goes wrong closes it, says why, and tries again after a backoff
with jitter (many stations re-opening serial-to-Ethernet converters at once would otherwise
retry in lockstep). No exception ends the thread: pyserial raises `termios.error`, which is
not an `OSError`, when a USB adapter vanishes mid-open, and a driver may have bugs of its own.
An unexpected exception is a fault with its reason, logged with its traceback (rate-limited),
and retried like any other. Should the thread die all the same, `is_alive` turns False and the
station stops feeding the systemd watchdog, so systemd restarts the service.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

from scale_agent.backoff import NOT_OPENED, Backoff
from scale_agent.errors import DeviceError
from scale_agent.io.logs import RateLimiter

if TYPE_CHECKING:
    from scale_agent.io.clock import Clock
    from scale_agent.io.logs import Log


class Closeable(Protocol):
    """What a link needs of any driver: a name for messages and a close that may be repeated."""

    @property
    def device(self) -> str:
        """The port or address."""
        ...

    def close(self) -> None:
        """Close the device; safe to call twice."""
        ...


Driver = TypeVar("Driver", bound=Closeable)


class DeviceLink(Generic[Driver]):
    """Keeps one device open in its own thread; subclasses say what a session does."""

    kind = "device"  # "scale", "scanner": names the thread and the log events

    def __init__(self, driver: Driver, clock: Clock, log: Log) -> None:
        self.driver = driver
        self._clock = clock
        self._log = log
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"{self.kind}-link", daemon=True)
        self._limiter = RateLimiter()
        self._backoff = Backoff()
        self.problem: str | None = NOT_OPENED
        self.has_opened = False
        self.reconnects = 0

    def start(self) -> None:
        """Start the link's thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread and close the driver."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=3)
        self._close()

    @property
    def is_alive(self) -> bool:
        """False once the thread has ended without being stopped (the watchdog then stops)."""
        return self._thread.is_alive() or self._stop.is_set() or self._thread.ident is None

    def _session(self) -> None:
        """Open the device, call `_opened`, and read until `_stop` is set. Raise on trouble."""
        raise NotImplementedError

    def _on_down(self, reason: str) -> None:
        """The device was lost or could not be opened (hook; the reason is also logged)."""

    def _opened(self, **details: str) -> None:
        """The device answered: one event, `<kind>_connected` or, after a loss, `_reconnected`."""
        event = "reconnected" if self.has_opened and self.problem is not None else "connected"
        self._log.info(f"{self.kind}_{event}", device=self.driver.device, **details)
        self.has_opened = True
        self.problem = None
        self._backoff.reset()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._session()
            except DeviceError as exc:
                self._down(str(exc), error=None)
            except Exception as exc:  # noqa: BLE001 - no exception may end a device thread
                self._down(f"unexpected {_name(exc)}: {exc}", error=exc)

    def _down(self, reason: str, error: Exception | None) -> None:
        self._close()
        self.problem = reason
        self._on_down(reason)
        held = self._limiter.allow(f"{self.kind}_unavailable")
        if held is not None:
            details = {} if error is None else {"exc_info": error}  # a traceback for a bug
            self._log.warning(
                f"{self.kind}_unavailable",
                reason=reason,
                retry_in_s=round(self._backoff.delay_s, 2),
                suppressed=held,
                **details,
            )
        self._stop.wait(self._backoff.next_wait_s())
        self.reconnects += 1

    def _close(self) -> None:
        try:
            self.driver.close()
        except Exception as exc:  # noqa: BLE001 - a close that fails must not end the thread
            self._log.warning(f"{self.kind}_close_failed", reason=f"{_name(exc)}: {exc}")


def _name(exc: Exception) -> str:
    """`termios.error`, not just `error`; `ValueError` for built-ins."""
    kind = type(exc)
    return (
        kind.__qualname__
        if kind.__module__ == "builtins"
        else f"{kind.__module__}.{kind.__qualname__}"
    )
