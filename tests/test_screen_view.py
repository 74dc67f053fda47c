"""What the screen is told, state by state (pure: no browser, no server)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from scale_agent.domain.catalog import Catalog, Item
from scale_agent.domain.jobs import Job, JobLine
from scale_agent.domain.packing import ItemTracker
from scale_agent.io.config import ToleranceSection
from scale_agent.io.translations import Translator
from scale_agent.station.logic import StationLogic
from scale_agent.station.screen_view import screen_state
from scale_agent.weights import Weight
from tests.test_station import SETTLE, Bench

W = Weight.parse
CATALOG = Catalog(
    skus={
        "SKU-1023": Item(
            "SKU-1023", "Phone case", W("150g"), W("2g"), names=(("zh_CN", "手机壳"),)
        ),
        "SKU-2040": Item("SKU-2040", "Hardcover book", W("420g"), W("4g")),
    },
    cartons={"BOX-S": Item("BOX-S", "Small box", W("35g"), W("1g"))},
)
ORDER = Job("SO-1", (JobLine("SKU-1023", 1), JobLine("SKU-2040", 2)), "BOX-S")


def bench() -> Bench:
    station = Bench()
    station.logic = StationLogic(SETTLE, ToleranceSection(), CATALOG)
    return station


def state(
    station: Bench, language: str = "en", tracker: ItemTracker | None = None
) -> dict[str, Any]:
    logic = station.logic
    return screen_state(logic, logic.guidance(), Translator(language), station="s", tracker=tracker)


def test_the_bar_puts_the_needle_in_the_ok_zone_for_a_passing_parcel() -> None:
    station = bench()
    station.job(ORDER)
    station.weigh("1026g")
    shown = state(station)
    assert shown["signal"] == "pass"
    bar = shown["bar"]
    assert bar["ok_from"] < bar["needle"] < bar["ok_to"]
    assert (bar["zone"], bar["measured"], bar["expected"]) == ("ok", "1.026 kg", "1.025 kg")
    assert shown["seal"] is True


def test_a_light_parcel_pins_the_needle_in_the_under_zone_and_names_what_to_add() -> None:
    station = bench()
    station.job(ORDER)
    station.weigh("606g")
    shown = state(station, "zh_CN")
    assert shown["bar"]["zone"] == "under"
    assert shown["bar"]["needle"] == 0.0
    assert shown["headline"] == "缺件"
    assert "Hardcover book × 1" in shown["instruction"]  # no translation: the base name
    assert [row["name"] for row in shown["items"]] == ["手机壳", "Hardcover book"]
    assert shown["seal"] is False


def test_item_by_item_ticks_each_line_as_its_weight_arrives() -> None:
    station = bench()
    station.job(ORDER)
    tracker = ItemTracker(ORDER, CATALOG)
    tracker.settled(Decimal(35))  # the empty carton
    tracker.scan("SKU-2040")
    rows = state(station, tracker=tracker)["items"]
    assert [(r["done"], r["state"]) for r in rows] == [(0, "todo"), (0, "pending")]
    tracker.settled(Decimal(455))
    tracker.scan("SKU-1023")
    tracker.settled(Decimal(605))
    rows = state(station, tracker=tracker)["items"]
    assert [(r["done"], r["state"]) for r in rows] == [(1, "done"), (1, "todo")]


def test_no_order_no_bar_and_every_label_is_translated() -> None:
    station = bench()
    station.weigh("0g")
    shown = state(station, "zh_CN")
    assert shown["bar"] is None
    assert shown["items"] == []
    assert shown["headline"] == "扫描订单"
    assert all(text and not text.isascii() for text in shown["labels"].values() if text != "OK")
