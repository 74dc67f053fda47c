"""Each central instance reports itself; one that stopped taking its share is on the dashboard."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from scale_agent.central.auth import hash_password
from scale_agent.central.ingest import Ingest
from scale_agent.central.language import Texts
from scale_agent.central.store import Store
from scale_agent.central.views import instance_view
from scale_agent.testing import wait_until
from tests.central.harness import running_central, write_central
from tests.central.test_ingest import dashboard_client

if TYPE_CHECKING:
    from pathlib import Path

    from tests.fakes.mosquitto import Mosquitto

ZONE = ZoneInfo("Asia/Shanghai")


def instance(name: str, seen: datetime, **fields: object) -> dict[str, object]:
    return {
        "name": name,
        "share_group": "monitors",
        "started_at": seen - timedelta(hours=1),
        "seen_at": seen,
        "every_s": 10.0,
        "stored": 1200,
        "refused": 0,
        "stalled_since": None,
        "problem": None,
        **fields,
    }


def test_an_instance_that_stopped_reporting_is_shown_with_its_share_waiting(
    database: str,
) -> None:
    store = Store(database)
    store.upgrade()
    now = datetime.now(UTC)
    store.report_instance(instance("central-1", now))
    store.report_instance(instance("central-2", now - timedelta(seconds=95)))  # died
    store.report_instance(instance("central-3", now, stalled_since=now, problem="database away"))
    store.report_instance(instance("central-1", now, stored=1300))  # its next report: one row
    try:
        views = {
            row["name"]: instance_view(row, now, ZONE, Texts("en")) for row in store.instances()
        }
        assert [v.state for v in views.values()] == ["ok", "stopped", "stalled"]
        assert views["central-1"].stored == 1300
        assert "its share of the messages from the stations waits on the broker" in (
            views["central-2"].note
        )
        zh = instance_view(store.instances()[1], now, ZONE, Texts("zh_CN"))
        assert zh.note.startswith("已停止")
        store.put_user("li.wei", hash_password("supervisor-pass"), "supervisor")
        with dashboard_client(store, Ingest(store, lambda _mid: None)) as client:
            page = client.get("/")
            assert "Central instances" in page.text
            assert 'class="instance-stopped" data-name="central-2"' in page.text
            listed = client.get("/api/instances").json()
            assert [i["state"] for i in listed] == ["ok", "stopped", "stalled"]
    finally:
        store.close()


def test_a_running_instance_reports_itself(tmp_path: Path, broker: Mosquitto) -> None:
    database = str(tmp_path / "central.sqlite3")
    with running_central(write_central(tmp_path, database, broker.url, "inst")) as (service, _, _):
        wait_until(lambda: [row["name"] for row in service.store.instances()] == [service.name])
        [row] = service.store.instances()
        view = instance_view(row, datetime.now(UTC), ZONE, Texts("en"))
        assert view.state == "ok"
