"""The central's web app, assembled: security headers, static files, one router per concern."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from importlib import resources
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request, Response
from fastapi.staticfiles import StaticFiles

from scale_agent.central.web import alerts, bulk, cases, desk_pages, pages, reports, stations
from scale_agent.central.web.central import DEFAULT_SHIFTS, Central
from scale_agent.domain.claims import RemedySettings

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from datetime import time
    from zoneinfo import ZoneInfo

    from scale_agent.central.auth import Sessions
    from scale_agent.central.ingest import IngestState
    from scale_agent.central.store import Store
    from scale_agent.central.web.central import Feed

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def make_app(
    store: Store,
    sessions: Sessions,
    zone: ZoneInfo,
    *,
    send: Callable[[str, bytes], bool],
    feed: Feed,
    shifts: Sequence[time] = DEFAULT_SHIFTS,
    language: str = "en",
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ingest: Callable[[], IngestState] | None = None,
    remedy: RemedySettings | None = None,
    approval_above: Decimal = Decimal(200),
) -> FastAPI:
    """The dashboard and API over `store`; `send(topic, payload)` publishes a command."""
    app = FastAPI(
        title="scale-agent central monitor",
        version="1",
        description="Every station's alerts, kept, acknowledged and searchable.",
        docs_url=None,
        redoc_url=None,
    )
    app.state.central = Central(
        store,
        sessions,
        zone,
        send,
        feed,
        shifts,
        language,
        clock=clock,
        ingest=ingest,
        remedy=remedy or RemedySettings(),
        approval_above=approval_above,
    )
    static = resources.files("scale_agent.central") / "static"
    app.mount("/static", StaticFiles(directory=str(static)), name="static")

    @app.middleware("http")
    async def _headers(request: Request, call_next: Callable[[Request], Any]) -> Response:
        response: Response = await call_next(request)
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    routers = (stations, alerts, reports, cases, bulk, pages, desk_pages)
    for module in routers:
        app.include_router(module.router)
    return app
