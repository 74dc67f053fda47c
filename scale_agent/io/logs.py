"""structlog set-up: JSON lines for journald, a readable renderer on a terminal.

Event names are snake_case past tense (`parcel_judged`, `scale_reconnected`) and carry the
station's identity as bound keys.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import Any, TextIO

import structlog
from structlog.typing import FilteringBoundLogger

from scale_agent.text import printable

Log = FilteringBoundLogger


def configure(*, json: bool, level: int = logging.INFO, stream: TextIO | None = None) -> None:
    """Configure structlog once for the process."""
    processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    if json:  # JSON escapes every control character itself
        renderer: Any = structlog.processors.JSONRenderer()
    else:  # a terminal acts on them: show outside text escaped (before the traceback is added)
        processors.append(_printable_values)
        renderer = structlog.dev.ConsoleRenderer(colors=bool(stream and stream.isatty()))
    structlog.configure(
        processors=[*processors, structlog.processors.format_exc_info, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(stream or sys.stdout),
        cache_logger_on_first_use=False,
    )


def _printable_values(_logger: object, _name: str, event: dict[str, Any]) -> dict[str, Any]:
    return {key: printable(v) if isinstance(v, str) else v for key, v in event.items()}


class RateLimiter:
    """Lets one message per key through per period, and counts what it held back.

    Garbage on a serial line can arrive hundreds of times a second; the log should say so once
    in a while with a count, not a storm.
    """

    def __init__(self, period_s: float = 10.0) -> None:
        self.period_s = period_s
        self._last: dict[str, float] = {}
        self._held: dict[str, int] = {}

    def allow(self, key: str, now: float | None = None) -> int | None:
        """None when held back; else the number held back since the last one let through."""
        now = time.monotonic() if now is None else now
        last = self._last.get(key)
        if last is not None and now - last < self.period_s:
            self._held[key] = self._held.get(key, 0) + 1
            return None
        self._last[key] = now
        return self._held.pop(key, 0)
