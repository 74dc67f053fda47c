"""The case desk through its API: a complaint answered from headquarters, from a tracking number.

A real station packs an order short, the packer fixes it and it passes; weeks later the shopper
says an item was missing. Customer service finds the parcel by a prefix of the tracking number,
sees both weighings (the red one and the final PASS), and the claim is judged against what the
order finally shipped as: contradicted, with the numbers.
"""

from __future__ import annotations

import contextlib
import io
import subprocess
import uuid
import zipfile
from typing import TYPE_CHECKING

import httpx

from scale_agent.testing import wait_until
from tests.central.harness import running_central, write_central
from tests.central.test_evidence_transfer import _shipped, bench
from tests.central.test_service import short_parcel
from tests.station_harness import running_station

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    import pytest

    from scale_agent.central.service import CentralService
    from tests.fakes.mosquitto import Mosquitto


@contextlib.contextmanager
def one_order_at_the_central(
    tmp_path: Path, broker: Mosquitto, database: str, request: pytest.FixtureRequest
) -> Iterator[tuple[CentralService, str, dict[str, str]]]:
    """A central holding order SO-C1 (tracking SF1402007919): packed short, then fixed."""
    site = f"c{uuid.uuid4().hex[:8]}"
    scale, light, config, data = bench(tmp_path, broker, site, request)
    central_toml = write_central(tmp_path, database, broker.url, site, approval_above="50")
    with running_central(central_toml) as (central, url, tokens):
        with running_station(config, light) as station:
            short_parcel(station, light, scale, broker, "SO-C1", tracking_number="SF1402007919")
            scale.set_weight("1.025")  # the packer adds the missing phone case: PASS
            wait_until(lambda: _shipped(data)[0] == 2 and _shipped(data)[1] == 2, timeout=20)
        yield central, url, tokens


def test_a_claim_is_answered_from_the_final_record_with_its_numbers(
    tmp_path: Path, broker: Mosquitto, database: str, request: pytest.FixtureRequest
) -> None:
    with one_order_at_the_central(tmp_path, broker, database, request) as (_central, url, tokens):
        clients = contextlib.ExitStack()
        request.addfinalizer(clients.close)
        service, viewer, boss = (
            clients.enter_context(
                httpx.Client(base_url=url, headers={"Authorization": f"Bearer {tokens[name]}"})
            )
            for name in ("wang.fang", "zhang.min", "li.wei")
        )
        _report_from_the_centrals_copy(service, tmp_path)
        stranger = clients.enter_context(httpx.Client(base_url=url))
        assert stranger.get("/api/evidence/search", params={"q": "sf14"}).status_code == 401
        assert viewer.get("/api/evidence/search", params={"q": "sf14"}).status_code == 403
        hits = service.get("/api/evidence/search", params={"q": "sf140200"}).json()
        assert [hit["order_id"] for hit in hits] == ["SO-C1"]
        evidence = service.get("/api/evidence/orders/SO-C1").json()
        assert [w["kind"] for w in evidence["weighings"]] == ["MISSING_ITEM", "PASS"]
        assert evidence["final"]["kind"] == "PASS"
        assert all(w["verified"] for w in evidence["weighings"])
        assert evidence["final"]["verification"].startswith("verified: record 2")

        opened = service.post(
            "/api/cases", json={"order_id": "SO-C1", "claim": "missing", "sku": "SKU-1023"}
        )
        assert opened.status_code == 201, opened.text
        case = opened.json()
        assert case["finding"] == "contradicted"
        assert "within its limits" in case["because"]  # the numbers, from the final PASS
        assert case["status"] == "open"

        swapped = service.post(
            "/api/cases", json={"order_id": "SO-C1", "claim": "wrong_item", "language": "zh_CN"}
        ).json()
        assert swapped["finding"] == "not_decidable"
        assert "SO-C1" in swapped["reply"]

        big = {"remedy": "refund", "amount": "80", "reason": "goodwill", "status": "closed"}
        number = case["id"]
        refused = service.post(f"/api/cases/{number}/decision", json=big)
        assert refused.status_code == 403
        assert "supervisor" in refused.json()["detail"]
        decided = boss.post(f"/api/cases/{number}/decision", json=big).json()
        assert decided["status"] == "closed"
        assert decided["decision"]["by"] == "li.wei"
        small = {"remedy": "reject", "reason": "record contradicts", "status": "answered"}
        assert service.post(f"/api/cases/{swapped['id']}/decision", json=small).status_code == 200
        assert viewer.post(f"/api/cases/{number}/decision", json=small).status_code == 403
        assert service.get("/api/evidence/orders/SO-NONE").status_code == 404
        # NUL (which PostgreSQL text cannot hold) is refused with a reason, never a 500.
        assert service.get("/api/evidence/search", params={"q": "SF\x00"}).status_code == 422
        assert service.get("/cases", params={"q": "SF14\x00"}).status_code == 200
        taught = service.get("/api/cases/lessons").json()
        assert taught["cases"] == 2
        assert taught["by_cause"] == {
            "contradicted by the record": 1,
            "undecidable by weight": 1,
        }
        assert taught["by_carrier"] == {"SF": 2}
        assert [week["granted"] for week in taught["money"]] == ["80"]


def _report_from_the_centrals_copy(service: httpx.Client, tmp_path: Path) -> None:
    """The report and the appeal archive, built at the central from its own copy."""
    report = service.get("/api/evidence/orders/SO-C1/report.pdf", params={"language": "zh_CN"})
    assert report.status_code == 200
    assert report.headers["content-type"] == "application/pdf"
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(report.content)
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "SO-C1" in text
    assert "合格" in text  # the final PASS, in the report's language
    appeal = service.get("/api/evidence/orders/SO-C1/appeal.zip")
    names = zipfile.ZipFile(io.BytesIO(appeal.content)).namelist()
    assert names == ["SO-C1/report-SO-C1.pdf"]  # this station has no camera
