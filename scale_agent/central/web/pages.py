"""The HTML pages: signing in and out, the language, the dashboard, history, SKUs, the summary.

Every page is rendered in one place (`Pages.render`): the templates, the user's language, the
script's texts and the ingest's state (a stalled ingest is a banner on every page).
"""

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import orjson
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from scale_agent.central.auth import SESSION_COOKIE, SESSION_MAX_AGE_S, password_matches
from scale_agent.central.charts import BarChart, bar_chart
from scale_agent.central.language import COOKIE as LANGUAGE_COOKIE
from scale_agent.central.language import LANGUAGES, Texts
from scale_agent.central.skus import MIN_PARCELS
from scale_agent.central.store import Search
from scale_agent.central.summary import Summary, shift_at
from scale_agent.central.views import one_per_parcel
from scale_agent.central.web.central import Central, CentralDep, Language, texts_for

router = APIRouter(include_in_schema=False)
_TEMPLATES = Environment(
    loader=PackageLoader("scale_agent.central", "templates"),
    autoescape=select_autoescape(["html"]),
)


def render(central: Central, template: str, texts: Texts, here: str = "/", **values: Any) -> str:  # noqa: ANN401
    """A page in `texts`' language (`here`: the page's own address, for the language links)."""
    # The script's texts as JSON in a data block: not run (the CSP allows only our script),
    # and `<` escaped so that no text could close the block.
    script_texts = orjson.dumps(texts.for_script()).decode().replace("<", "\\u003c")
    return _TEMPLATES.get_template(template).render(
        _=texts,
        texts=texts,
        script_texts=Markup(script_texts),  # noqa: S704 - JSON with `<` escaped, above
        here=here,
        zone=str(central.zone),
        zone_info=central.zone,
        ingest=central.ingest() if central.ingest is not None else None,
        **values,
    )


def page(
    request: Request,
    central: Central,
    template: str,
    values: Callable[[Texts], dict[str, Any]],
) -> Response:
    """The page for a signed-in user (its values read only then), else the sign-in page."""
    user = central.who(request)
    if user is None:
        return RedirectResponse("/login", status_code=303)
    texts = texts_for(request)
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return HTMLResponse(render(central, template, texts, here, user=user, **values(texts)))


# -- signing in, the language ----------------------------------------------------------------


@router.get("/login", response_class=HTMLResponse)
def login_page(texts: Language, central: CentralDep, error: str | None = None) -> HTMLResponse:
    """The sign-in page."""
    return HTMLResponse(render(central, "login.html", texts, "/login", error=error))


@router.post("/login")
def login(
    name: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=256)],
    texts: Language,
    central: CentralDep,
) -> Response:
    """Sign in: a session cookie (signed, HTTP only, same-site strict), audited."""
    row = central.store.user(name)
    if row is None or not password_matches(row["password_hash"], password):
        wrong = texts("wrong name or password")
        failed = render(central, "login.html", texts, "/login", error=wrong)
        return HTMLResponse(failed, status_code=401)
    cookie, _ = central.sessions.issue(name)
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(
        SESSION_COOKIE, cookie, max_age=SESSION_MAX_AGE_S, httponly=True, samesite="strict"
    )
    central.store.record(name, "signed_in", name, {}, central.clock())
    return response


@router.post("/logout")
def logout() -> Response:
    """Sign out: the session cookie is dropped."""
    # No CSRF check: signing someone out is all a forged request could do here.
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/language/{choice}")
def choose_language(choice: str, back: str = "/") -> Response:
    """Remember the user's language; back to the page they were on (on this site only)."""
    is_local = back.startswith("/") and not back.startswith(("//", "/\\"))
    response = RedirectResponse(back if is_local else "/", status_code=303)
    if choice in LANGUAGES:
        response.set_cookie(
            LANGUAGE_COOKIE, choice, max_age=365 * 24 * 3600, samesite="lax", httponly=True
        )
    return response


# -- the pages -------------------------------------------------------------------------------


@router.get("/")
def dashboard(request: Request, central: CentralDep) -> Response:
    """The station grid, the central's instances and the live alert feed."""

    def values(texts: Texts) -> dict[str, Any]:
        total, _ = central.store.refusals(limit=0)
        return {
            "stations": central.station_views(texts),
            "alerts": central.alert_views(central.store.alerts(limit=50), texts),
            "refused": total,
            "instances": central.instance_views(texts),
        }

    return page(request, central, "dashboard.html", values)


@router.get("/history")
def history(
    request: Request,
    central: CentralDep,
    *,
    order_id: str = "",
    reference: str = "",
    station: str = "",
    verdict: str = "",
    since: str = "",
    until: str = "",
) -> Response:
    """Search by order id, tracking or marketplace number, station, verdict and time."""
    search = Search(
        order_id=order_id[:128] or None,
        reference=reference[:128] or None,
        station=station[:200] or None,
        verdict=verdict[:32] or None,
        since=_moment(since, central.zone),
        until=_moment(until, central.zone),
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
        central,
        "history.html",
        lambda texts: {
            "alerts": one_per_parcel(central.alert_views(central.store.search(search), texts)),
            "query": query,
        },
    )


@router.get("/skus")
def skus(request: Request, central: CentralDep, days: int = 7) -> Response:
    """The SKU weight feedback over the last `days` (1 to 90)."""
    days = min(max(days, 1), 90)
    return page(
        request,
        central,
        "skus.html",
        lambda _texts: {"report": central.skus_of(days), "min_parcels": MIN_PARCELS},
    )


@router.get("/summary")
def summary(request: Request, central: CentralDep, at: str = "") -> Response:
    """The shift that `at` (a local date-time) falls in; the running shift by default."""
    zone, shifts = central.zone, central.shifts
    shift = shift_at(_moment(at, zone) or central.clock(), zone, shifts)

    def values(texts: Texts) -> dict[str, Any]:
        found = central.summary_of(shift.start, shift.end)
        return {
            "summary": found,
            "charts": summary_charts(found, texts),
            "previous": _local_iso(shift.previous(zone, shifts).start, zone),
            "following": _local_iso(shift.following(zone, shifts).start, zone),
        }

    return page(request, central, "summary.html", values)


def summary_charts(summary: Summary, texts: Texts) -> list[BarChart]:
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


def _local_iso(moment: datetime, zone: ZoneInfo) -> str:
    """`2026-12-02T14:00` in the monitor's zone, as a link's `at` takes it."""
    return moment.astimezone(zone).strftime("%Y-%m-%dT%H:%M")


def _moment(text: str, zone: ZoneInfo) -> datetime | None:
    """A date or date-time from a search form, in the monitor's zone; None when empty or bad."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment
