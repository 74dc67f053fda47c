"""Alerts: the newest, acknowledging one, searching the history (JSON or CSV), the live feed."""

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, HTTPException, Query, Request
from fastapi import Path as PathPart
from fastapi.responses import PlainTextResponse
from starlette.responses import StreamingResponse

from scale_agent.central.store import Search
from scale_agent.central.views import AlertView, as_csv, one_per_parcel
from scale_agent.central.web.central import CentralDep, Language, Supervisor, Viewer
from scale_agent.central.web.models import AckIn

FEED_KEEPALIVE_S = 15.0

router = APIRouter(prefix="/api", tags=["api"])


@router.get("/alerts")
def api_alerts(
    _user: Viewer,
    texts: Language,
    central: CentralDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[AlertView]:
    """The newest alerts with what happened next and who acknowledged them."""
    return central.alert_views(central.store.alerts(limit=limit), texts)


@router.post("/alerts/{msg_id}/ack")
def api_acknowledge(
    msg_id: Annotated[str, PathPart(max_length=64)],
    body: AckIn,
    user: Supervisor,
    texts: Language,
    central: CentralDep,
) -> AlertView:
    """Acknowledge an alert with a note (audited)."""
    row = central.store.alert(msg_id)
    if row is None:
        raise HTTPException(404, "no such alert")
    central.store.acknowledge(msg_id, user.name, body.note, central.clock())
    return central.alert_views([row], texts)[0]


@router.get("/history", response_model=list[AlertView])
def api_history(
    *,
    _user: Viewer,
    texts: Language,
    central: CentralDep,
    order_id: Annotated[str | None, Query(max_length=128)] = None,
    reference: Annotated[str | None, Query(max_length=128)] = None,
    station: Annotated[str | None, Query(max_length=200)] = None,
    verdict: Annotated[str | None, Query(max_length=32)] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    output: Annotated[Literal["json", "csv"], Query(alias="format")] = "json",
) -> Any:  # noqa: ANN401 - JSON rows or a CSV file
    """Parcels by order id, tracking or marketplace number, station, verdict and time range."""
    search = Search(
        order_id=order_id or None,
        reference=reference or None,
        station=station or None,
        verdict=verdict or None,
        since=since,
        until=until,
    )
    found = one_per_parcel(central.alert_views(central.store.search(search), texts))
    if output == "csv":
        return PlainTextResponse(
            as_csv(found),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="history.csv"'},
        )
    return found


@router.get("/feed", include_in_schema=False)
async def api_feed(
    request: Request, _user: Viewer, texts: Language, central: CentralDep
) -> StreamingResponse:
    """Server-sent events: each new alert as it is stored."""
    changed = central.feed.attach()
    newest = central.store.alerts(limit=1)
    last_id = int(newest[0]["id"]) if newest else 0

    async def events() -> AsyncIterator[bytes]:
        nonlocal last_id
        yield b": connected\n\n"
        while not await request.is_disconnected():
            try:
                await asyncio.wait_for(changed.wait(), timeout=FEED_KEEPALIVE_S)
            except TimeoutError:
                yield b": keep-alive\n\n"
                continue
            changed.clear()
            rows = central.store.alerts(after_id=last_id, limit=200)
            for view in central.alert_views(rows, texts):
                last_id = max(last_id, view.id)
                yield b"data: " + orjson.dumps(view.model_dump()) + b"\n\n"

    return StreamingResponse(
        events(), media_type="text/event-stream", headers={"Cache-Control": "no-store"}
    )
