"""The central store on SQLite and on a real PostgreSQL: migrations, one row per msg_id, search."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import inspect

from scale_agent.central.ingest import Refusal, classify
from scale_agent.central.schema import metadata
from scale_agent.central.store import Incoming, Search, Store

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def alert(msg_id: str, order_id: str, *, station: str = "s1", at: datetime = NOW) -> Incoming:
    return Incoming(
        msg_id=msg_id,
        kind="alert",
        site="sz",
        line="l1",
        station=station,
        sent_at=at,
        received_at=at,
        payload={"reason": "light by 150 g", "verdict": "MISSING_ITEM", "order_id": order_id},
        order_id=order_id,
        verdict="MISSING_ITEM",
    )


def test_a_migrated_database_has_every_table_and_index(database: str) -> None:
    store = Store(database)
    try:
        store.upgrade()
        store.upgrade()  # every start runs it: the second time changes nothing
        found = inspect(store.engine)
        assert set(metadata.tables) <= set(found.get_table_names())
        for table in metadata.tables.values():
            wanted = {index.name for index in table.indexes}
            assert wanted <= {index["name"] for index in found.get_indexes(table.name)}
    finally:
        store.close()


def test_a_message_delivered_twice_is_one_row(database: str) -> None:
    store = Store(database)
    try:
        store.upgrade()
        assert store.ingest([alert("m-1", "SO-1"), alert("m-2", "SO-2")]) == 2
        assert store.ingest([alert("m-2", "SO-2"), alert("m-3", "SO-3")]) == 1  # a redelivery
        assert store.count("alert") == 3
        [found] = store.search(Search(order_id="SO-2"))
        assert found["msg_id"] == "m-2"
        assert [row["order_id"] for row in store.alerts(limit=2)] == ["SO-3", "SO-2"]
        [station] = store.stations()
        assert (station["site"], station["line"], station["station"]) == ("sz", "l1", "s1")
    finally:
        store.close()


def test_history_filters_and_retention(database: str) -> None:
    store = Store(database)
    try:
        store.upgrade()
        old = NOW - timedelta(days=100)
        store.ingest([alert("old", "SO-9", at=old), alert("new", "SO-9", station="s2")])
        assert len(store.search(Search(order_id="SO-9"))) == 2
        assert [r["msg_id"] for r in store.search(Search(station="sz/l1/s2"))] == ["new"]
        assert [r["msg_id"] for r in store.search(Search(since=NOW - timedelta(days=1)))] == ["new"]
        assert store.prune(90, NOW) == 1
        assert [r["msg_id"] for r in store.search(Search(order_id="SO-9"))] == ["new"]
    finally:
        store.close()


def test_acknowledgements_and_the_audit_trail(database: str) -> None:
    store = Store(database)
    try:
        store.upgrade()
        store.ingest([alert("m-1", "SO-1")])
        store.acknowledge("m-1", "li.wei", "re-packed, 1 x phone case added", NOW)
        [ack] = store.acknowledgements(["m-1"]).values()
        assert (ack["user_name"], ack["note"]) == ("li.wei", "re-packed, 1 x phone case added")
        [line] = store.audit_trail()
        assert (line["user_name"], line["action"], line["target"]) == (
            "li.wei",
            "acknowledge",
            "m-1",
        )
    finally:
        store.close()


def test_what_is_not_the_contract_is_refused_with_a_reason() -> None:
    topic = "scale-agent/v1/sz/l1/s1/alert"
    cases = {
        (topic, b"{not json"): "JSON",
        (topic, b"[" * 2000 + b"]" * 2000): "depth limit",
        (topic, b'{"x": NaN}'): "not valid JSON",
        (topic, b'{"msg_id": "x"}'): "not a valid alert: site: field required",
        ("scale-agent/v1/sz/l1/s1/whatever", b"{}"): "not a contract topic",
        ("other/topic", b"{}"): "not a contract topic",
    }
    for (where, payload), says in cases.items():
        found = classify(where, payload, NOW)
        assert isinstance(found, Refusal), where
        assert says.lower() in found.reason.lower(), found.reason
    escape = classify(topic, b"\x1b[2J{", NOW)
    assert isinstance(escape, Refusal)
    assert "\x1b" not in escape.excerpt  # shown escaped, never acted on


def test_a_late_old_message_never_hides_a_newer_one_on_the_station_row(database: str) -> None:
    def health(msg_id: str, at: datetime, state: str) -> Incoming:
        return Incoming(
            msg_id=msg_id,
            kind="health",
            site="sz",
            line="l1",
            station="s1",
            sent_at=at,
            received_at=NOW,
            payload={"station_state": state},
        )

    store = Store(database)
    try:
        store.upgrade()
        store.ingest([health("new", NOW, "judged")])
        # Redelivered after a monitor was killed, or from the other instance: older.
        store.ingest([health("old", NOW - timedelta(minutes=5), "idle"), alert("a1", "SO-1")])
        [station] = store.stations()
        assert '"judged"' in station["health"]
        assert station["verdict"] == "MISSING_ITEM"  # the alert's group still changed
    finally:
        store.close()
