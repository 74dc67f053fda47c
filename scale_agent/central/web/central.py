"""What every route of the central shares: its store and settings, the user, the language.

Routes take them as dependencies (`CentralDep`, `Viewer`, `Supervisor`, `Language`); the app
keeps the one `Central` in `app.state`, so a route is a plain function of its inputs.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, HTTPException, Request

from scale_agent.central.auth import (
    SESSION_COOKIE,
    Role,
    Sessions,
    User,
    csrf_matches,
    token_hash,
)
from scale_agent.central.language import COOKIE as LANGUAGE_COOKIE
from scale_agent.central.language import Texts, choose
from scale_agent.central.skus import SkuReport, sku_report
from scale_agent.central.summary import Summary, alerts_from, counts_from, parcels_from, summarize
from scale_agent.central.views import (
    AlertView,
    InstanceView,
    StationView,
    alert_view,
    instance_view,
    station_view,
)
from scale_agent.domain.claims import RemedySettings

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from zoneinfo import ZoneInfo

    from sqlalchemy.engine import RowMapping

    from scale_agent.central.ingest import IngestState
    from scale_agent.central.store import Store

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
DEFAULT_SHIFTS = (time(6), time(14), time(22))
SCALE_TESTS = (  # the events that say how a station's scale did in its routine test
    "routine_test_due",
    "routine_test_passed",
    "routine_test_warning",
    "routine_test_failed",
)
SKU_REPORT_TTL_S = 300.0  # the fleet-wide fit reads every weighing: kept for five minutes


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


@dataclass
class Central:
    """The store and the settings every route reads, and the views built from them."""

    store: Store
    sessions: Sessions
    zone: ZoneInfo
    send: Callable[[str, bytes], bool]  # publishes a command: False when the broker is away
    feed: Feed
    shifts: Sequence[time] = DEFAULT_SHIFTS
    language: str = "en"
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    ingest: Callable[[], IngestState] | None = None
    remedy: RemedySettings = field(default_factory=RemedySettings)
    approval_above: Decimal = Decimal(200)  # a decision worth more needs a supervisor
    _reports: dict[int, tuple[datetime, SkuReport]] = field(default_factory=dict)
    _reports_lock: threading.Lock = field(default_factory=threading.Lock)

    # -- who is asking -------------------------------------------------------------------

    def who(self, request: Request) -> User | None:
        """The user behind a request (a bearer token or the page's session), or None."""
        header = request.headers.get("authorization", "")
        if header.lower().startswith("bearer "):
            row = self.store.user_by_token(token_hash(header[7:].strip()))
            return None if row is None else User(row["name"], row["role"])
        session = self.sessions.read(request.cookies.get(SESSION_COOKIE))
        if session is None:
            return None
        row = self.store.user(session[0])
        return None if row is None else User(row["name"], row["role"], csrf=session[1])

    def check(self, request: Request, role: Role, csrf: str | None = None) -> User:
        """The user, if signed in with `role` or above (and the CSRF token for a change).

        The token comes in the `X-CSRF-Token` header, or as `csrf` from a page's form.
        """
        user = self.who(request)
        if user is None:
            raise HTTPException(401, "sign in, or send a bearer token")
        token = csrf if csrf is not None else request.headers.get("x-csrf-token")
        is_cookie_change = request.method in UNSAFE and user.csrf is not None
        if is_cookie_change and not csrf_matches(user.csrf, token):
            raise HTTPException(403, "missing or wrong CSRF token")
        if not user.may(role):
            raise HTTPException(403, f"{user.role} may not do this: needs {role}")
        return user

    # -- views ---------------------------------------------------------------------------

    def alert_views(self, rows: Sequence[RowMapping], texts: Texts) -> list[AlertView]:
        """Alerts with what happened next and who acknowledged them."""
        outcomes = self.store.outcomes(rows)
        acks = self.store.acknowledgements(row["msg_id"] for row in rows)
        return [
            alert_view(row, self.zone, outcomes.get(row["msg_id"]), acks.get(row["msg_id"]), texts)
            for row in rows
        ]

    def station_views(self, texts: Texts) -> list[StationView]:
        """Every station's tile."""
        now = self.clock()
        chains = self.store.chain_status()
        tests = self.store.latest_events(SCALE_TESTS)
        return [
            station_view(
                row,
                now,
                self.zone,
                chain=chains.get(key := (row["site"], row["line"], row["station"])),
                scale_test=tests.get(key),
                texts=texts,
            )
            for row in self.store.stations()
        ]

    def instance_views(self, texts: Texts) -> list[InstanceView]:
        """The central's own instances as they last reported themselves."""
        now = self.clock()
        return [instance_view(row, now, self.zone, texts) for row in self.store.instances()]

    def summary_of(self, since: datetime, until: datetime) -> Summary:
        """Parcels, pass rate and alerts between two moments."""
        store = self.store
        return summarize(
            counts_from(store.verdict_counts(since, until)),
            parcels_from(store.parcel_counts(since, until)),
            alerts_from(store.alerts_between(since, until)),
            since=since,
            until=until,
            zone=self.zone,
        )

    def skus_of(self, days: int) -> SkuReport:
        """The SKU feedback over the last `days`, fitted at most every five minutes."""
        now = self.clock()
        with self._reports_lock:
            kept = self._reports.get(days)
            if kept is not None and (now - kept[0]).total_seconds() < SKU_REPORT_TTL_S:
                return kept[1]
            report = sku_report(self.store.weighings(now - timedelta(days=days)), days)
            self._reports[days] = (now, report)
            return report


def central(request: Request) -> Central:
    """The app's `Central` (a dependency)."""
    found: Central = request.app.state.central
    return found


def _needs(role: Role) -> Callable[[Request], User]:
    def check(request: Request) -> User:
        return central(request).check(request, role)

    return check


def texts_for(request: Request) -> Texts:
    """The request's language: the user's pick, the browser's, else the monitor's default."""
    default = central(request).language
    cookie = request.cookies.get(LANGUAGE_COOKIE)
    return Texts(choose(cookie, request.headers.get("accept-language"), default))


CentralDep = Annotated[Central, Depends(central)]
Viewer = Annotated[User, Depends(_needs("viewer"))]
Service = Annotated[User, Depends(_needs("service"))]
Supervisor = Annotated[User, Depends(_needs("supervisor"))]
Language = Annotated[Texts, Depends(texts_for)]
