"""All the outputs of a station, driven together; one failing output never stops the rest."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scale_agent.errors import DeviceError
from scale_agent.io.logs import RateLimiter
from scale_agent.io.messages import OutputHealth
from scale_agent.signals import SAFE_INDICATION, Indication

if TYPE_CHECKING:
    from collections.abc import Callable

    from scale_agent.io.logs import Log
    from scale_agent.plugins import OutputDriver


class Outputs:
    """All configured outputs; one failing output never stops the others or the verdicts."""

    def __init__(self, drivers: list[OutputDriver], log: Log) -> None:
        self.drivers = drivers
        self._log = log
        self._limiter = RateLimiter()
        # Drivers that keep a board in step from a thread of their own have `vouch`: without
        # it from the loop for a while they fall back to the safe state (a hung station).
        self._vouchers: list[Callable[[], None]] = [
            vouch for driver in drivers if callable(vouch := getattr(driver, "vouch", None))
        ]

    def _each(self, action: str, call: Callable[[OutputDriver], None]) -> None:
        for driver in self.drivers:
            try:
                call(driver)
            except DeviceError as exc:
                held = self._limiter.allow(f"{action}:{id(driver)}")
                if held is not None:
                    self._log.error(
                        "output_failed", action=action, reason=str(exc), suppressed=held
                    )

    def open(self) -> None:
        """Open every output (each shows its safe state)."""
        self._each("open", lambda driver: driver.open())

    def show(self, indication: Indication) -> None:
        """Show an indication on every output."""
        self._each("show", lambda driver: driver.show(indication))

    def vouch(self) -> None:
        """The station loop turned: outputs that watch for a hung loop hear it (every turn)."""
        for vouch in self._vouchers:
            vouch()

    def close(self) -> None:
        """Leave every output in its safe state."""
        self._each("show", lambda driver: driver.show(SAFE_INDICATION))
        self._each("close", lambda driver: driver.close())

    def health(self) -> list[OutputHealth]:
        """Each output's name and whether it shows what it should (for health and status)."""
        return [
            OutputHealth.of(
                str(getattr(driver, "device", type(driver).__name__)),
                getattr(driver, "problem", None),
            )
            for driver in self.drivers
        ]
