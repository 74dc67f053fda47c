"""The supervisors' dashboard and its JSON API (FastAPI, on the Starlette the packer's screen uses).

Pages (signed-in users): `/` the station grid and the live alert feed, `/history` search and
CSV export. The page is static markup and one script; everything from outside is set as text.
The API (`/api/...`, described at `/openapi.json`) takes a bearer token or the page's session;
a state change from the page must carry the session's CSRF token (`X-CSRF-Token`). Viewers
read; supervisors acknowledge and send commands; every state change is audited.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from datetime import UTC, datetime, time, timedelta
from importlib import resources
from typing import TYPE_CHECKING, Annotated, Any, Literal

import orjson
from fastapi import Depends, FastAPI, Form, HTTPException, Query, Request
from fastapi import Path as PathPart
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from pydantic import BaseModel, Field
from starlette.responses import StreamingResponse

from scale_agent.central.auth import (
    SESSION_COOKIE,
    SESSION_MAX_AGE_S,
    Role,
    Sessions,
    User,
    csrf_matches,
    password_matches,
    token_hash,
)
from scale_agent.central.charts import BarChart, bar_chart
from scale_agent.central.ingest import IngestState
from scale_agent.central.language import COOKIE as LANGUAGE_COOKIE
from scale_agent.central.language import LANGUAGES, Texts, choose
from scale_agent.central.skus import MIN_PARCELS, SkuReport, sku_report
from scale_agent.central.store import Search, Store
from scale_agent.central.summary import (
    Summary,
    alerts_from,
    counts_from,
    parcels_from,
    shift_at,
    summarize,
)
from scale_agent.central.views import (
    AlertView,
    InstanceView,
    StationView,
    alert_view,
    as_csv,
    instance_view,
    one_per_parcel,
    station_view,
)
from scale_agent.io.messages import TOPIC_NAME, TOPIC_ROOT, CommandPayload

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Sequence
    from zoneinfo import ZoneInfo

    from sqlalchemy.engine import RowMapping

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
FEED_KEEPALIVE_S = 15.0
NAME = f"^{TOPIC_NAME}$"  # a site, line or station id, as stations' configs allow them
DEFAULT_SHIFTS = (time(6), time(14), time(22))
MAX_SUMMARY_DAYS = 31  # a summary reads every alert of its range: a month at most
SCALE_TESTS = (  # the events that say how a station's scale did in its routine test
    "routine_test_due",
    "routine_test_passed",
    "routine_test_warning",
    "routine_test_failed",
)
SKU_REPORT_TTL_S = 300.0  # the fleet-wide fit reads every weighing: kept for five minutes


class AckIn(BaseModel):
    """An acknowledgement: what the supervisor did or found."""

    note: str = Field(min_length=1, max_length=500)


class CommandIn(BaseModel):
    """A command for a station, sent in the signed-in user's name."""

    command: Literal["reweigh", "override"]
    reason: str | None = Field(default=None, min_length=3, max_length=500)
    order_id: str | None = Field(default=None, max_length=128)


class Sent(BaseModel):
    """The command as published (the station's own audit trail records what it did)."""

    request_id: str
    topic: str


class Refused(BaseModel):
    """A message the monitor refused, and why."""

    received_at: str
    topic: str
    reason: str
    excerpt: str


class RefusedList(BaseModel):
    """Refused messages: how many in all, the newest first."""

    total: int
    newest: list[Refused]


class Feed:
    """Wakes the live feeds when new alerts are stored (from the ingest thread)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._changed: asyncio.Event | None = None

    def attach(self) -> asyncio.Event:
        """On the server's loop: the event set on every new alert."""
        with self._lock:
            if self._changed is None:
                self._loop = asyncio.get_running_loop()
                self._changed = asyncio.Event()
            return self._changed

    def notify(self) -> None:
        """New alerts are stored (any thread)."""
        with self._lock:
            loop, changed = self._loop, self._changed
        if loop is not None and changed is not None and not loop.is_closed():
            loop.call_soon_threadsafe(changed.set)


class Gate:
    """Who is asking (a bearer token or the page's session), and whether they may."""

    def __init__(self, store: Store, sessions: Sessions) -> None:
        self._store = store
        self._sessions = sessions

    def who(self, request: Request) -> User | None:
        """The user behind a request, or None."""
        header = request.headers.get("authorization", "")
        if header.lower().startswith("bearer "):
            row = self._store.user_by_token(token_hash(header[7:].strip()))
            return None if row is None else User(row["name"], row["role"])
        session = self._sessions.read(request.cookies.get(SESSION_COOKIE))
        if session is None:
            return None
        row = self._store.user(session[0])
        return None if row is None else User(row["name"], row["role"], csrf=session[1])

    def check(self, request: Request, role: Role) -> User:
        """The user, if signed in with `role` or above (and the CSRF token for a change)."""
        user = self.who(request)
        if user is None:
            raise HTTPException(401, "sign in, or send a bearer token")
        is_cookie_change = request.method in UNSAFE and user.csrf is not None
        if is_cookie_change and not csrf_matches(user.csrf, request.headers.get("x-csrf-token")):
            raise HTTPException(403, "missing or wrong CSRF token")
        if not user.may(role):
            raise HTTPException(403, f"{user.role} may not do this: needs {role}")
        return user


def _needs(role: Role) -> Callable[[Request], User]:
    def check(request: Request) -> User:
        gate: Gate = request.app.state.gate
        return gate.check(request, role)

    return check


Viewer = Annotated[User, Depends(_needs("viewer"))]
Supervisor = Annotated[User, Depends(_needs("supervisor"))]


def _texts(request: Request) -> Texts:
    """The request's language: the user's pick, the browser's, else the monitor's default."""
    default: str = request.app.state.language
    return Texts(
        choose(
            request.cookies.get(LANGUAGE_COOKIE), request.headers.get("accept-language"), default
        )
    )


Language = Annotated[Texts, Depends(_texts)]


def make_app(  # noqa: C901, PLR0915 - the routes of one small service, read top to bottom
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
) -> FastAPI:
    """The dashboard and API over `store`; `send(topic, payload)` publishes a command."""
    app = FastAPI(
        title="scale-agent central monitor",
        version="1",
        description="Every station's alerts, kept, acknowledged and searchable.",
        docs_url=None,
        redoc_url=None,
    )
    pages = Environment(
        loader=PackageLoader("scale_agent.central", "templates"),
        autoescape=select_autoescape(["html"]),
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

    gate = Gate(store, sessions)
    app.state.gate = gate
    app.state.language = language

    def alert_views(rows: Sequence[RowMapping], texts: Texts) -> list[AlertView]:
        outcomes = store.outcomes(rows)
        acks = store.acknowledgements(row["msg_id"] for row in rows)
        return [
            alert_view(row, zone, outcomes.get(row["msg_id"]), acks.get(row["msg_id"]), texts)
            for row in rows
        ]

    def station_views(texts: Texts) -> list[StationView]:
        now = clock()
        chains = store.chain_status()
        tests = store.latest_events(SCALE_TESTS)
        return [
            station_view(
                row,
                now,
                zone,
                chain=chains.get(key := (row["site"], row["line"], row["station"])),
                scale_test=tests.get(key),
                texts=texts,
            )
            for row in store.stations()
        ]

    def summary_of(since: datetime, until: datetime) -> Summary:
        return summarize(
            counts_from(store.verdict_counts(since, until)),
            parcels_from(store.parcel_counts(since, until)),
            alerts_from(store.alerts_between(since, until)),
            since=since,
            until=until,
            zone=zone,
        )

    reports: dict[int, tuple[datetime, SkuReport]] = {}
    reports_lock = threading.Lock()

    def skus_of(days: int) -> SkuReport:
        """The SKU feedback over the last `days`, fitted at most every five minutes."""
        now = clock()
        with reports_lock:
            kept = reports.get(days)
            if kept is not None and (now - kept[0]).total_seconds() < SKU_REPORT_TTL_S:
                return kept[1]
            report = sku_report(store.weighings(now - timedelta(days=days)), days)
            reports[days] = (now, report)
            return report

    # -- API -------------------------------------------------------------------------------

    @app.get("/api/stations", response_model=list[StationView], tags=["api"])
    def api_stations(_user: Viewer, texts: Language) -> list[StationView]:
        """Every station: online, offline or silent, its light, scale, ledger and problems."""
        return station_views(texts)

    @app.get(
        "/api/stations/{site}/{line}/{station}/chain_head",
        tags=["api"],
        responses={200: {"content": {"application/json": {}}}, 404: {}},
    )
    def api_chain_head(
        *,
        site: Annotated[str, PathPart(pattern=NAME)],
        line: Annotated[str, PathPart(pattern=NAME)],
        station: Annotated[str, PathPart(pattern=NAME)],
        _user: Viewer,
    ) -> Response:
        """The station's newest signed chain head, as it sent it.

        Saved to a file, it is the anchor for `scale-agent records verify --anchor FILE` at the
        station: deleted newest records, or a rewritten chain, then show.
        """
        head = store.chain_head(site, line, station)
        if head is None:
            raise HTTPException(404, "no signed chain head from this station")
        return Response(head, media_type="application/json")

    @app.get("/api/alerts", response_model=list[AlertView], tags=["api"])
    def api_alerts(
        _user: Viewer, texts: Language, limit: Annotated[int, Query(ge=1, le=500)] = 50
    ) -> list[AlertView]:
        """The newest alerts with what happened next and who acknowledged them."""
        return alert_views(store.alerts(limit=limit), texts)

    @app.post("/api/alerts/{msg_id}/ack", response_model=AlertView, tags=["api"])
    def api_acknowledge(
        msg_id: Annotated[str, PathPart(max_length=64)],
        body: AckIn,
        user: Supervisor,
        texts: Language,
    ) -> AlertView:
        """Acknowledge an alert with a note (audited)."""
        row = store.alert(msg_id)
        if row is None:
            raise HTTPException(404, "no such alert")
        store.acknowledge(msg_id, user.name, body.note, clock())
        return alert_views([row], texts)[0]

    @app.post("/api/stations/{site}/{line}/{station}/command", response_model=Sent, tags=["api"])
    def api_command(
        *,
        site: Annotated[str, PathPart(pattern=NAME)],
        line: Annotated[str, PathPart(pattern=NAME)],
        station: Annotated[str, PathPart(pattern=NAME)],
        body: CommandIn,
        user: Supervisor,
    ) -> Sent:
        """Ask a station to re-weigh, or to let a failed parcel be sealed.

        Audited here and at the station, whose own audit trail stays the truth.
        """
        if body.command == "override" and not body.reason:
            raise HTTPException(422, "an override needs a reason")
        request_id = str(uuid.uuid4())
        payload = CommandPayload(
            request_id=request_id,
            command=body.command,
            operator=user.name,
            reason=body.reason,
            order_id=body.order_id,
        )
        topic = f"{TOPIC_ROOT}/{site}/{line}/{station}/command"
        if not send(topic, payload.model_dump_json(exclude_none=True).encode()):
            raise HTTPException(503, "the broker is not reachable: nothing was sent")
        store.record(user.name, "command", topic, payload.model_dump(mode="json"), clock())
        return Sent(request_id=request_id, topic=topic)

    @app.get("/api/history", response_model=list[AlertView], tags=["api"])
    def api_history(
        *,
        _user: Viewer,
        texts: Language,
        order_id: Annotated[str | None, Query(max_length=128)] = None,
        reference: Annotated[str | None, Query(max_length=128)] = None,
        station: Annotated[str | None, Query(max_length=200)] = None,
        verdict: Annotated[str | None, Query(max_length=32)] = None,
        since: datetime | None = None,
        until: datetime | None = None,
        output: Annotated[Literal["json", "csv"], Query(alias="format")] = "json",
    ) -> Any:  # noqa: ANN401 - JSON rows or a CSV file
        """Parcels by order id, tracking or marketplace number, station, verdict and time range."""
        found = one_per_parcel(
            alert_views(
                store.search(
                    Search(
                        order_id=order_id or None,
                        reference=reference or None,
                        station=station or None,
                        verdict=verdict or None,
                        since=since,
                        until=until,
                    )
                ),
                texts,
            )
        )
        if output == "csv":
            return PlainTextResponse(
                as_csv(found),
                media_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": 'attachment; filename="history.csv"'},
            )
        return found

    @app.get("/api/summary", response_model=Summary, tags=["api"])
    def api_summary(
        _user: Viewer, since: datetime | None = None, until: datetime | None = None
    ) -> Summary:
        """Parcels, pass rate and alerts by verdict, station, packer, SKU and hour.

        Without `since` and `until`: the shift running now. A range is at most 31 days.
        """
        shift = shift_at(clock(), zone, shifts)
        start = since or shift.start
        start = start.replace(tzinfo=zone) if start.tzinfo is None else start
        end = until or (shift.end if since is None else start + timedelta(days=1))
        end = end.replace(tzinfo=zone) if end.tzinfo is None else end
        if not start < end <= start + timedelta(days=MAX_SUMMARY_DAYS):
            raise HTTPException(
                422, f"until must be after since, by {MAX_SUMMARY_DAYS} days at most"
            )
        return summary_of(start, end)

    @app.get("/api/skus", response_model=SkuReport, tags=["api"])
    def api_skus(_user: Viewer, days: Annotated[int, Query(ge=1, le=90)] = 7) -> SkuReport:
        """Per SKU: the unit weight the fleet's scales measured against the declared one.

        A robust fit over every judged weighing of the last `days`, with a 95 % confidence
        interval; flagged when the interval excludes the declared weight by more than 2 %,
        or the spread is clearly wider than declared. Refitted at most every five minutes.
        """
        return skus_of(days)

    @app.get("/api/instances", response_model=list[InstanceView], tags=["api"])
    def api_instances(_user: Viewer, texts: Language) -> list[InstanceView]:
        """Every instance of the central: storing, stalled, or stopped (its share waits)."""
        return instance_views(texts)

    @app.get("/api/ingest", response_model=IngestState, tags=["api"])
    def api_ingest(_user: Viewer) -> IngestState:
        """This instance's ingest: stored, duplicates, refused, and whether it has stalled."""
        if ingest is None:
            raise HTTPException(404, "this instance does not ingest")
        return ingest()

    @app.get("/api/refused", response_model=RefusedList, tags=["api"])
    def api_refused(_user: Viewer) -> RefusedList:
        """Messages that were not the contract: counted and kept, never stored as data."""
        total, rows = store.refusals()
        return RefusedList(
            total=total,
            newest=[
                Refused(
                    received_at=str(row["received_at"]),
                    topic=row["topic"],
                    reason=row["reason"],
                    excerpt=row["excerpt"],
                )
                for row in rows
            ],
        )

    @app.get("/api/feed", include_in_schema=False)
    async def api_feed(request: Request, _user: Viewer, texts: Language) -> StreamingResponse:
        """Server-sent events: each new alert as it is stored."""
        changed = feed.attach()
        newest = store.alerts(limit=1)
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
                rows = store.alerts(after_id=last_id, limit=200)
                for view in alert_views(rows, texts):
                    last_id = max(last_id, view.id)
                    yield b"data: " + orjson.dumps(view.model_dump()) + b"\n\n"

        return StreamingResponse(
            events(), media_type="text/event-stream", headers={"Cache-Control": "no-store"}
        )

    # -- pages -----------------------------------------------------------------------------

    @app.get("/login", response_class=HTMLResponse, include_in_schema=False)
    def login_page(texts: Language, error: str | None = None) -> HTMLResponse:
        return HTMLResponse(render("login.html", texts, "/login", error=error))

    @app.post("/login", include_in_schema=False)
    def login(
        name: Annotated[str, Form(max_length=64)],
        password: Annotated[str, Form(max_length=256)],
        texts: Language,
    ) -> Response:
        row = store.user(name)
        if row is None or not password_matches(row["password_hash"], password):
            failed = render("login.html", texts, "/login", error=texts("wrong name or password"))
            return HTMLResponse(failed, status_code=401)
        cookie, _ = sessions.issue(name)
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(
            SESSION_COOKIE, cookie, max_age=SESSION_MAX_AGE_S, httponly=True, samesite="strict"
        )
        store.record(name, "signed_in", name, {}, clock())
        return response

    @app.post("/logout", include_in_schema=False)
    def logout() -> Response:
        # No CSRF check: signing someone out is all a forged request could do here.
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE)
        return response

    def render(template: str, texts: Texts, here: str = "/", **values: Any) -> str:  # noqa: ANN401
        # The script's texts as JSON in a data block: not run (the CSP allows only our script),
        # and `<` escaped so that no text could close the block.
        script_texts = orjson.dumps(texts.for_script()).decode().replace("<", "\\u003c")
        return pages.get_template(template).render(
            _=texts,
            texts=texts,
            script_texts=Markup(script_texts),  # noqa: S704 - JSON with `<` escaped, above
            here=here,
            zone=str(zone),
            zone_info=zone,
            ingest=ingest() if ingest is not None else None,
            **values,
        )

    def page(
        request: Request, template: str, values: Callable[[Texts], dict[str, Any]]
    ) -> Response:
        """The page for a signed-in user (its values read only then), else the sign-in page."""
        user = gate.who(request)
        if user is None:
            return RedirectResponse("/login", status_code=303)
        texts = _texts(request)
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return HTMLResponse(render(template, texts, here, user=user, **values(texts)))

    def instance_views(texts: Texts) -> list[InstanceView]:
        now = clock()
        return [instance_view(row, now, zone, texts) for row in store.instances()]

    def dashboard_values(texts: Texts) -> dict[str, Any]:
        total, _ = store.refusals(limit=0)
        return {
            "stations": station_views(texts),
            "alerts": alert_views(store.alerts(limit=50), texts),
            "refused": total,
            "instances": instance_views(texts),
        }

    @app.get("/language/{choice}", include_in_schema=False)
    def choose_language(choice: str, back: str = "/") -> Response:
        """Remember the user's language; back to the page they were on (on this site only)."""
        is_local = back.startswith("/") and not back.startswith(("//", "/\\"))
        response = RedirectResponse(back if is_local else "/", status_code=303)
        if choice in LANGUAGES:
            response.set_cookie(
                LANGUAGE_COOKIE, choice, max_age=365 * 24 * 3600, samesite="lax", httponly=True
            )
        return response

    @app.get("/", include_in_schema=False)
    def dashboard(request: Request) -> Response:
        return page(request, "dashboard.html", dashboard_values)

    @app.get("/history", include_in_schema=False)
    def history(
        request: Request,
        *,
        order_id: str = "",
        reference: str = "",
        station: str = "",
        verdict: str = "",
        since: str = "",
        until: str = "",
    ) -> Response:
        search = Search(
            order_id=order_id[:128] or None,
            reference=reference[:128] or None,
            station=station[:200] or None,
            verdict=verdict[:32] or None,
            since=_moment(since, zone),
            until=_moment(until, zone),
        )
        query = {
            "order_id": order_id,
            "reference": reference,
            "station": station,
            "verdict": verdict,
            "since": since,
            "until": until,
        }
        return page(
            request,
            "history.html",
            lambda texts: {
                "alerts": one_per_parcel(alert_views(store.search(search), texts)),
                "query": query,
            },
        )

    @app.get("/skus", include_in_schema=False)
    def skus(request: Request, days: int = 7) -> Response:
        days = min(max(days, 1), 90)
        return page(
            request,
            "skus.html",
            lambda _texts: {"report": skus_of(days), "min_parcels": MIN_PARCELS},
        )

    @app.get("/summary", include_in_schema=False)
    def summary(request: Request, at: str = "") -> Response:
        """The shift that `at` (a local date-time) falls in; the running shift by default."""
        shift = shift_at(_moment(at, zone) or clock(), zone, shifts)

        def values(texts: Texts) -> dict[str, Any]:
            found = summary_of(shift.start, shift.end)
            return {
                "summary": found,
                "charts": _summary_charts(found, texts),
                "previous": _local_iso(shift.previous(zone, shifts).start, zone),
                "following": _local_iso(shift.following(zone, shifts).start, zone),
            }

        return page(request, "summary.html", values)

    return app


def _local_iso(moment: datetime, zone: ZoneInfo) -> str:
    """`2026-12-02T14:00` in the monitor's zone, as a link's `at` takes it."""
    return moment.astimezone(zone).strftime("%Y-%m-%dT%H:%M")


def _summary_charts(summary: Summary, texts: Texts) -> list[BarChart]:
    """Alerts per hour, and the fail rate per station (alerts per station if none is known)."""
    hourly = bar_chart(
        texts("Alerts per hour"), [(h.label, h.alerts, str(h.alerts)) for h in summary.per_hour]
    )
    rated = [t for t in summary.by_station if t.fail_rate is not None]
    if rated:
        # Stations failing more parcels than the shift as a whole stand out.
        overall = None if summary.pass_rate is None else 100 - summary.pass_rate
        per_station = bar_chart(
            texts("Fail rate per station"),
            [(t.name, t.fail_rate or 0.0, f"{t.fail_rate:g} %") for t in rated],
            alarm_above=overall,
        )
    else:
        per_station = bar_chart(
            texts("Alerts per station"),
            [(t.name, t.alerts, str(t.alerts)) for t in summary.by_station],
        )
    return [hourly, per_station]


def _moment(text: str, zone: ZoneInfo) -> datetime | None:
    """A date or date-time from a search form, in the monitor's zone; None when empty or bad."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment
