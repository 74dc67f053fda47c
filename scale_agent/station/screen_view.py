"""What the packer's screen shows, as one JSON-ready dict per state (pure).

Built in the station loop from the state machine and the scan desk, rendered in the station's
language, and handed to the screen server, which sends it to the page. Everything a person
reads is already translated here; values from outside (order ids, operator names, the
technical reason) are plain strings that the page sets as text, never as markup.
"""

from __future__ import annotations

from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any

from scale_agent.domain.phrases import ItemName, phrase
from scale_agent.domain.verifier import VerdictKind
from scale_agent.station.guidance import SEAL_LOCKED, SEAL_OPEN

if TYPE_CHECKING:
    from scale_agent.domain.packing import ItemTracker
    from scale_agent.domain.verifier import Expectation
    from scale_agent.io.translations import Translator
    from scale_agent.station.guidance import Guidance
    from scale_agent.station.logic import StationLogic

# Labels of the page itself, sent with every state so the page needs no text of its own.
LABELS = {
    "order": phrase("Order"),
    "carton": phrase("Carton"),
    "measured": phrase("Measured"),
    "expected": phrase("Expected"),
    "limits": phrase("Limits"),
    "items": phrase("Items"),
    "missing": phrase("missing"),
    "extra": phrase("extra"),
    "seal_open": SEAL_OPEN,
    "seal_locked": SEAL_LOCKED,
    "under": phrase("Under"),
    "ok": phrase("OK"),
    "over": phrase("Over"),
    "not_running": phrase("Station not running"),
    "not_running_hint": phrase(
        "The scale-agent service is not answering: do not seal, call the supervisor"
    ),
    "not_responding": phrase("Station not responding"),
    "not_responding_hint": phrase("Do not seal: call the supervisor"),
    "monitor_down": phrase("Monitor link down: alerts are kept and sent when it is back"),
    "station": phrase("Station"),
}


def screen_state(
    logic: StationLogic,
    guidance: Guidance,
    translator: Translator,
    *,
    station: str,
    tracker: ItemTracker | None = None,
    is_monitor_up: bool = True,
    sound: bool = True,
) -> dict[str, Any]:
    """The whole screen for this moment."""
    render = translator.render
    expectation = logic.expectation
    job = logic.job
    measured = logic.health.last_weight_g
    if measured is not None and measured < logic.settle.empty_threshold_g:
        # An empty platter (or one below zero): "-", never "Measured -20 g", which a packer
        # reads as a fault; a scale really below zero is a fault the headline says in words.
        measured = None
    return {
        "lang": translator.html_lang,
        "station": station,
        "signal": guidance.signal.value,
        "headline": render(guidance.headline),
        "instruction": render(guidance.instruction),
        "detail": guidance.detail,
        "order_id": job.order_id if job else None,
        "carton": (job.carton_id if job else None) or None,
        "seal": guidance.is_seal_enabled,
        "bar": _bar(expectation, measured, translator),
        "items": _items(expectation, tracker, translator, _explained(logic)),
        "monitor_up": is_monitor_up,
        "sound": sound,
        "labels": labels(translator),
    }


@cache
def labels(translator: Translator) -> dict[str, str]:
    """The page's own labels in a language (the same for every state: rendered once)."""
    return {key: translator.render(text) for key, text in LABELS.items()}


def _bar(
    expectation: Expectation | None, measured: Decimal | None, translator: Translator
) -> dict[str, Any] | None:
    """The live weight against the under / OK / over zones (SmartTrac style).

    The bar spans one OK-zone width either side of the limits, so the OK zone is its middle
    third; a weight beyond either end pins the needle there.
    """
    if expectation is None:
        return None
    lower, upper = expectation.lower_g, expectation.upper_g
    span = max(upper - lower, Decimal(1))
    low, high = lower - span, upper + span
    needle = None
    if measured is not None:
        needle = min(max(float((measured - low) / (high - low)), 0.0), 1.0)
    return {
        "needle": needle,
        "ok_from": float((lower - low) / (high - low)),
        "ok_to": float((upper - low) / (high - low)),
        "measured": translator.grams(measured) if measured is not None else "-",
        "expected": translator.grams(expectation.expected_g),
        "limits": f"{translator.grams(lower)} - {translator.grams(upper)}",
        "zone": None if measured is None else _zone(measured, lower, upper),
    }


def _zone(measured: Decimal, lower: Decimal, upper: Decimal) -> str:
    if measured < lower:
        return "under"
    return "over" if measured > upper else "ok"


def _explained(logic: StationLogic) -> dict[str, tuple[str, int]]:
    """SKU -> ("missing" or "extra", units) for the loaded order's MISSING/EXTRA ITEM verdict."""
    verdict, job = logic.last_verdict, logic.job
    if (
        verdict is None
        or job is None
        or verdict.order_id != job.order_id
        or verdict.kind not in {VerdictKind.MISSING_ITEM, VerdictKind.EXTRA_ITEM}
        or not verdict.explanation
    ):
        return {}
    best = verdict.explanation[0]
    state = "missing" if verdict.kind is VerdictKind.MISSING_ITEM else "extra"
    return {sku: (state, qty) for sku, qty, _ in best.parts}


def _items(
    expectation: Expectation | None,
    tracker: ItemTracker | None,
    translator: Translator,
    explained: dict[str, tuple[str, int]],
) -> list[dict[str, Any]]:
    """The order's lines by name; in item-by-item mode each with how many are in.

    On MISSING ITEM / EXTRA ITEM the lines the verdict names are marked (`state` "missing" or
    "extra", `delta` the units), so the packer sees which line to fix.
    """
    if expectation is None:
        return []
    rows = []
    for line in expectation.lines:
        name = ItemName(line.name, line.names).in_language(translator.language)
        row: dict[str, Any] = {
            "name": name,
            "qty": line.qty,
            "weight": translator.grams(line.unit_g),
            "done": None,
            "state": "listed",
            "delta": None,
        }
        if line.sku in explained:
            state, units = explained[line.sku]
            row["state"], row["delta"] = state, f"{'-' if state == 'missing' else '+'}{units}"
            rows.append(row)
            continue
        if tracker is not None:
            remaining = tracker.remaining.get(line.sku, 0)
            pending = 1 if tracker.pending == line.sku else 0
            done = max(line.qty - remaining - pending, 0)
            row["done"] = done
            row["state"] = "pending" if pending else ("done" if done >= line.qty else "todo")
        rows.append(row)
    return rows
