"""No message can stall the central's ingest: on SQLite and on a real PostgreSQL.

The writer thread (`Ingest`) is fed deliveries as the durable subscription hands them over,
and acknowledges through a list, so each test sees exactly what the broker would be told.
"""

from __future__ import annotations

import json
import socket
import threading
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import httpx
import psycopg
import uvicorn
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from scale_agent.central.auth import Sessions, hash_password
from scale_agent.central.ingest import Ingest, Refusal, classify, derived_msg_id
from scale_agent.central.store import Search, Store
from scale_agent.central.web import Feed, make_app
from scale_agent.testing import wait_until
from tests.central.conftest import POSTGRES

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
TOPIC = "scale-agent/v1/sz/l1/s1/alert"


def alert(**fields: Any) -> bytes:
    body = {
        "msg_id": str(uuid.uuid4()),
        "sent_at": NOW.isoformat(),
        "site": "sz",
        "line": "l1",
        "station": "s1",
        "parcel_id": "p-1",
        "judged_at": NOW.isoformat(),
        "order_id": "SO-1",
        "verdict": "MISSING_ITEM",
        "reason": "light by 150 g",
        "expected": None,
        "lower_limit": None,
        "upper_limit": None,
        "measured": None,
        "difference": None,
        "sigma": None,
        "policy": "default",
        "explanation": [],
        "is_detectable": True,
        "is_rejudged": False,
        **fields,
    }
    return json.dumps({k: v for k, v in body.items() if v is not ...}).encode()


class Acks:
    """What the ingest told the broker."""

    def __init__(self) -> None:
        self.ids: list[int] = []
        self._lock = threading.Lock()

    def __call__(self, mid: int) -> None:
        with self._lock:
            self.ids.append(mid)


@contextmanager
def ingesting(database: str) -> Iterator[tuple[Store, Acks, Ingest]]:
    """A migrated store and a running ingest on it that acknowledges into `Acks`."""
    store = Store(database)
    store.upgrade()
    acks = Acks()
    ingest = Ingest(store, acks)
    ingest.start()
    try:
        yield store, acks, ingest
    finally:
        ingest.stop()
        store.close()


def feed(ingest: Ingest, payloads: list[bytes], first_mid: int = 1) -> list[int]:
    mids = list(range(first_mid, first_mid + len(payloads)))
    for mid, payload in zip(mids, payloads, strict=True):
        ingest.deliver((mid, TOPIC, payload, False))
    return mids


def test_a_schema_valid_message_too_long_for_a_column_is_refused_and_never_stalls_the_rest(
    database: str,
) -> None:
    # Each of these used to make PostgreSQL refuse the whole batch, retried forever: the
    # broker's window filled and no station's message was stored again.
    with ingesting(database) as (store, acks, ingest):
        hostile = [
            alert(msg_id="m" * 65),
            alert(tracking_number="T" * 200),
            alert(packer="P" * 65),
            alert(order_id="SO-\x00-1"),
            alert(marketplace_order="M" * 70),
        ]
        good = alert(order_id="SO-GOOD")
        mids = feed(ingest, [*hostile, good])
        wait_until(lambda: sorted(acks.ids) == mids)
        assert ingest.refused == len(hostile)
        assert [r["order_id"] for r in store.alerts(limit=10)] == ["SO-GOOD"]
        total, refused = store.refusals()
        assert total == len(hostile)
        assert all(
            "String should have at most" in r["reason"] or "pattern" in r["reason"] for r in refused
        )
        assert ingest.state().stalled_since is None


def test_a_message_without_msg_id_is_one_row_however_often_it_is_delivered(
    database: str,
) -> None:
    with ingesting(database) as (store, acks, ingest):
        bare = json.loads(alert(order_id="SO-BARE"))
        del bare["msg_id"]
        payload = json.dumps(bare).encode()
        mids = feed(ingest, [payload, payload])  # QoS 1 redelivers the same bytes
        mids += feed(ingest, [payload], first_mid=10)  # and again after a restart
        wait_until(lambda: sorted(acks.ids) == mids)
        assert store.count("alert") == 1
        [row] = store.alerts(limit=5)
        assert row["msg_id"] == derived_msg_id(TOPIC, payload)


def test_a_row_the_database_refuses_on_its_own_is_refused_alone() -> None:
    # A value PostgreSQL will not hold even though the contract allows it (here a CHECK the
    # site added): the batch is stored message by message, and only that one is refused.
    with fresh_postgres() as url, ingesting(url) as (store, acks, ingest):
        with store.engine.begin() as connection:
            connection.execute(
                text("ALTER TABLE messages ADD CONSTRAINT no_evil CHECK (order_id <> 'SO-EVIL')")
            )
        mids = feed(ingest, [alert(order_id=f"SO-{n}") for n in range(5)])
        mids += feed(ingest, [alert(order_id="SO-EVIL")], first_mid=6)
        mids += feed(ingest, [alert(order_id="SO-AFTER")], first_mid=7)
        wait_until(lambda: sorted(acks.ids) == mids)
        stored = {r["order_id"] for r in store.alerts(limit=20)}
        assert stored == {"SO-0", "SO-1", "SO-2", "SO-3", "SO-4", "SO-AFTER"}
        _, [refused] = store.refusals()
        assert "the database refused it" in refused["reason"]
        assert "no_evil" in refused["reason"]


def test_an_unreachable_database_stalls_visibly_and_loses_nothing(tmp_path: Path) -> None:
    with fresh_postgres() as url, ingesting(url) as (store, acks, ingest):
        name = url.rsplit("/", 1)[1]
        first = feed(ingest, [alert(order_id="SO-1")])
        wait_until(lambda: acks.ids == first)
        with psycopg.connect(POSTGRES, autocommit=True) as admin:
            admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (name,),
            )
        held = feed(ingest, [alert(order_id="SO-2")], first_mid=2)
        wait_until(lambda: ingest.state().stalled_since is not None, timeout=20)
        state = ingest.state()
        assert state.stalls == 1
        assert state.problem is not None
        assert state.problem.startswith("database: OperationalError")
        assert acks.ids == first  # nothing acknowledged that was not stored
        # A supervisor sees it on every page, and monitoring on /api/ingest.
        with dashboard_client(SqliteUsers(tmp_path), ingest) as dashboard:
            page = dashboard.get("/")
            assert "Nothing has been stored since" in page.text
            assert "OperationalError" in page.text
            assert dashboard.get("/api/ingest").json()["stalled_since"] is not None
        with psycopg.connect(POSTGRES, autocommit=True) as admin:
            admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        wait_until(lambda: acks.ids == first + held, timeout=20)
        assert ingest.state().stalled_since is None
        assert {r["order_id"] for r in store.alerts(limit=5)} == {"SO-1", "SO-2"}


def SqliteUsers(folder: Path) -> Store:  # noqa: N802 - reads as the store it makes
    """A store of the dashboard's own (users and sessions) beside a stalled ingest."""
    store = Store(str(folder / "users.sqlite3"))
    store.upgrade()
    store.put_user("li.wei", hash_password("supervisor-pass"), "supervisor")
    return store


@contextmanager
def dashboard_client(store: Store, ingest: Ingest) -> Iterator[httpx.Client]:
    """The dashboard over `store`, told how `ingest` is doing, signed in as a supervisor."""
    app = make_app(
        store,
        Sessions("test-secret"),
        ZoneInfo("Asia/Shanghai"),
        send=lambda _topic, _payload: True,
        feed=Feed(),
        ingest=ingest.state,
    )
    listener = socket.create_server(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    web = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    web.start()
    base = f"http://127.0.0.1:{listener.getsockname()[1]}"
    try:
        with httpx.Client(base_url=base, follow_redirects=True, timeout=10) as client:
            wait_until(lambda: server.started)
            form = {"name": "li.wei", "password": "supervisor-pass"}
            assert client.post("/login", data=form).status_code == 200
            yield client
    finally:
        server.should_exit = True
        web.join(timeout=10)
        listener.close()


# Text as a station (or an impostor that speaks the contract) may send it: any Unicode,
# control characters and NUL included, up to a little past every column's width.
ANY_TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=140)
OPTIONAL_TEXT = st.none() | ANY_TEXT


@st.composite
def contract_messages(draw: st.DrawFn) -> bytes:
    return alert(
        msg_id=draw(st.just(...) | ANY_TEXT),
        order_id=draw(OPTIONAL_TEXT),
        reason=draw(ANY_TEXT),
        policy=draw(ANY_TEXT),
        tracking_number=draw(OPTIONAL_TEXT),
        marketplace_order=draw(OPTIONAL_TEXT),
        packer=draw(OPTIONAL_TEXT),
        verdict=draw(st.sampled_from(["PASS", "MISSING_ITEM", "OVER", "UNDER"])),
    )


def test_no_generated_message_can_stall_ingest_on_postgresql() -> None:
    with fresh_postgres() as url, ingesting(url) as (store, acks, ingest):
        sent: list[int] = []

        @settings(
            max_examples=60,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        )
        @given(st.lists(contract_messages(), min_size=1, max_size=8))
        def batch_then_a_good_one(payloads: list[bytes]) -> None:
            good = alert(order_id=f"SO-{uuid.uuid4().hex[:8]}")
            sent.extend(feed(ingest, [*payloads, good], first_mid=len(sent) + 1))
            # Every message is answered (stored or refused with a reason) and acknowledged,
            # and the well-formed one behind them is stored.
            wait_until(lambda: len(acks.ids) == len(sent), timeout=20)
            assert store.search(Search(order_id=json.loads(good)["order_id"]))
            assert ingest.state().stalled_since is None

        batch_then_a_good_one()
        for payload in (alert(order_id="x" * 129), alert(packer="\x00")):
            assert isinstance(classify(TOPIC, payload, NOW), Refusal)


@contextmanager
def fresh_postgres() -> Iterator[str]:
    """A PostgreSQL database of this test's own, dropped afterwards."""
    name = f"central_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES, autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{POSTGRES.rsplit('/', 1)[0]}/{name}"
    finally:
        with psycopg.connect(POSTGRES, autocommit=True) as admin:
            admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
