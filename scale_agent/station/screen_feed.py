"""Keeps the packer's screen in step with the station loop.

Every change of what the packer is told goes to the screen at once (the same moment the
lights change); the live weight on the bar is refreshed at most `LIVE_EVERY_S`, which is
smooth to the eye and costs nothing while the platter is still (an unchanged state is not
sent). A screen that cannot start is logged (`screen_unavailable`); the station goes on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scale_agent.errors import DeviceUnavailableError
from scale_agent.io.screen_server import ScreenHub, ScreenServer
from scale_agent.station.screen_view import screen_state

if TYPE_CHECKING:
    from collections.abc import Callable

    from scale_agent.domain.packing import ItemTracker
    from scale_agent.io.config import ScreenSection
    from scale_agent.io.logs import Log
    from scale_agent.io.translations import Translator
    from scale_agent.station.guidance import Guidance
    from scale_agent.station.logic import StationLogic

LIVE_EVERY_S = 0.1


class ScreenFeed:
    """The screen's server and what it is told."""

    def __init__(
        self,
        settings: ScreenSection,
        logic: StationLogic,
        translator: Translator,
        log: Log,
        *,
        station: str,
        tracker: Callable[[], ItemTracker | None],
        is_monitor_up: Callable[[], bool],
    ) -> None:
        self.settings = settings
        self.hub = ScreenHub()
        self._server = ScreenServer(self.hub, settings.address, log)
        self._logic = logic
        self._translator = translator
        self._log = log
        self._station = station
        self._tracker = tracker
        self._is_monitor_up = is_monitor_up
        self._guidance: Guidance | None = None
        self._is_dirty = False
        self._next_live = 0.0
        self.url: str | None = None
        self.problem: str | None = None

    def start(self) -> None:
        """Start serving the page; a screen that cannot start is a problem, not a stop."""
        try:
            self.url = self._server.start()
        except DeviceUnavailableError as exc:
            self.problem = str(exc)
            self._log.error("screen_unavailable", reason=self.problem)

    def stop(self) -> None:
        """Close the page's streams and the server."""
        if self.url is not None:
            self._server.stop()

    def shown(self, guidance: Guidance) -> None:
        """What the packer is told changed; `flush` sends it."""
        self._guidance = guidance
        self._is_dirty = True

    def flush(self, now: float) -> None:
        """Send what changed, once per batch of effects (after the lights have it).

        A batch may hold several states (SETTLING and then PASS for one reading): only the
        last is sent, and never before the lights and the ledger are done with the batch.
        """
        if self._is_dirty:
            self._is_dirty = False
            self._publish(now)

    def tick(self, now: float) -> None:
        """Time passed: the loop turned (the page's heartbeat), and the live weight refreshes."""
        self.hub.beat()
        if now >= self._next_live and self._guidance is not None:
            self._publish(now)

    def _publish(self, now: float) -> None:
        assert self._guidance is not None  # noqa: S101 - set before the first publish
        self._next_live = now + LIVE_EVERY_S
        state = screen_state(
            self._logic,
            self._guidance,
            self._translator,
            station=self._station,
            tracker=self._tracker(),
            is_monitor_up=self._is_monitor_up(),
            sound=self.settings.sound,
        )
        self.hub.publish(state)
