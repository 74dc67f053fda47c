"""`catalog audit` finds the catalog entries the scale disagrees with, and only those."""

from __future__ import annotations

import csv
import json
from typing import TYPE_CHECKING

import pytest

from scale_agent.domain.catalog_audit import Declared, Finding, Parcel, audit
from scale_agent.io.messages import CatalogAuditPayload
from scale_agent.tools.cli import main
from tests.fakes.history import CATALOG_CSV, write_history
from tests.fakes.mosquitto import Mosquitto, Subscriber
from tests.station_files import write_station

if TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture(scope="module")
def station(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("audit")
    config = write_station(folder, "/dev/null", None, site="hist")
    (folder / "catalog.csv").write_text(CATALOG_CSV)
    write_history(folder / "data", 600)
    return config


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict[str, object]]:
    assert main(["catalog", "audit", *args, "--json"]) == 0
    findings: list[dict[str, object]] = json.loads(capsys.readouterr().out)
    return findings


def test_the_two_wrong_weights_and_the_wide_spread_are_found_and_nothing_else(
    station: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    findings = run_json(capsys, "-c", str(station))
    off = {f["sku"]: f for f in findings if f["is_weight_off"]}
    wide = {f["sku"] for f in findings if f["is_spread_off"]}
    assert set(off) == {"SKU-2040", "SKU-4102"}
    assert wide == {"SKU-6200"}
    # By how much: within a percent of the truth (+8 % and -8 %).
    assert off["SKU-2040"]["difference_pct"] == pytest.approx(8, abs=1)
    assert off["SKU-4102"]["difference_pct"] == pytest.approx(-8, abs=1)
    ci = off["SKU-2040"]["ci_g"]
    assert isinstance(ci, list)
    assert ci[0] < 420 * 1.08 < ci[1]
    assert len(findings) == 8  # every SKU had enough parcels to be judged


def test_the_table_says_what_to_review(station: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalog", "audit", "-c", str(station)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("600 judged parcel(s); 8 SKU(s) with enough of them; 3 to review")
    first = out.splitlines()[2]  # after the header row: the worst first
    assert "WEIGHT OFF" in first


def test_the_corrected_catalog_passes_check_config_and_fixes_only_the_flagged(
    station: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    corrected = tmp_path / "corrected.csv"
    assert main(["catalog", "audit", "-c", str(station), "--write", str(corrected)]) == 0
    capsys.readouterr()
    lines = corrected.read_text(encoding="utf-8").splitlines()
    rows = {row["id"]: row for row in csv.DictReader(line for line in lines if line[:1] != "#")}
    assert rows["SKU-1001"]["weight"] == "342g"  # untouched
    assert rows["SKU-2040"]["weight"] != "420g"
    assert float(rows["SKU-2040"]["weight"][:-1]) == pytest.approx(453.6, abs=4)
    assert float(rows["SKU-6200"]["spread"][:-1]) == pytest.approx(9, abs=3)
    assert rows["SKU-3310"]["name_zh_CN"] == "咖啡豆"  # translations kept
    # The live catalog is not touched; the corrected one is a valid catalog for the station.
    assert (station.parent / "catalog.csv").read_text() == CATALOG_CSV
    check = station.read_text().replace('catalog = "catalog.csv"', f'catalog = "{corrected}"')
    (tmp_path / "station.toml").write_text(check)
    assert main(["check-config", str(tmp_path / "station.toml")]) == 0


def test_from_the_ledger_alone_declared_weights_come_from_the_records(
    station: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    findings = run_json(capsys, "--data-dir", str(station.parent / "data"))
    assert {f["sku"] for f in findings if f["is_weight_off"]} == {"SKU-2040", "SKU-4102"}


def test_a_correct_catalog_is_left_alone() -> None:
    # Pure: 400 parcels of two SKUs weighed exactly as declared (tiny noise) flag nothing.
    parcels = [
        Parcel((("A", 1), ("B", 1 + i % 2)), 100 + 50 * (1 + i % 2) + (i % 7 - 3) * 0.3, 4.0)
        for i in range(400)
    ]
    findings = audit(parcels, {"A": Declared(100, 1), "B": Declared(50, 1)})
    assert [f.is_flagged for f in findings] == [False, False]


def test_a_write_without_the_station_file_is_a_usage_error(
    station: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = str(station.parent / "data")
    assert main(["catalog", "audit", "--data-dir", data, "--write", "x.csv"]) == 2
    assert "need the station file" in capsys.readouterr().err


def test_published_findings_are_retained_for_the_monitor(
    tmp_path: Path, broker: Mosquitto, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_station(tmp_path, "/dev/null", broker.url, site="pub")
    (tmp_path / "catalog.csv").write_text(CATALOG_CSV)
    write_history(tmp_path / "data", 300)
    assert main(["catalog", "audit", "-c", str(config), "--publish"]) == 0
    assert "published to scale-agent/v1/pub/line-1/bench-1/catalog_audit" in capsys.readouterr().out
    # A monitor that subscribes later still gets it: it is retained.
    late = Subscriber(broker.port, "scale-agent/v1/pub/+/+/catalog_audit")
    try:
        [(_, payload, retained)] = late.wait_for(lambda m: len(m) >= 1)
    finally:
        late.close()
    assert retained
    audit_payload = CatalogAuditPayload.model_validate_json(payload)
    assert audit_payload.parcels == 300
    assert {f.sku for f in audit_payload.findings if f.is_weight_off} == {"SKU-2040", "SKU-4102"}
    assert audit_payload.undetermined == []


def test_a_sku_the_fit_cannot_pin_down_is_never_published_as_zero_grams() -> None:
    nan = float("nan")
    found = Finding(
        "SKU-X",
        "X",
        3,
        0,
        150.0,
        nan,
        nan,
        nan,
        2.0,
        None,
        is_weight_off=False,
        is_spread_off=False,
    )
    assert not found.is_determined
    sure = Finding(
        "SKU-Y",
        "Y",
        30,
        10,
        150.0,
        151.0,
        150.2,
        151.8,
        2.0,
        2.1,
        is_weight_off=False,
        is_spread_off=False,
    )
    assert sure.is_determined
