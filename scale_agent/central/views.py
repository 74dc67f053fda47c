"""What the dashboard and the API show, built from stored rows: pure functions, no web here.

Times are shown in the monitor's time zone; a station is "silent" when its last health message
is older than three of its own health intervals (it may be up but cut off, or wedged).
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel

from scale_agent.central.language import ENGLISH, Texts
from scale_agent.central.problems import chain_problems, storage_problems
from scale_agent.central.rows import ChainStatus, Outcome, station_key, utc
from scale_agent.io.chain_head import fingerprint
from scale_agent.text import spreadsheet_cell

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from zoneinfo import ZoneInfo

    from scale_agent.central.rows import Row


SILENT_AFTER_INTERVALS = 3
OPEN = Outcome("open")
PASSED = Outcome("passed")  # a PASS (a verdict copy): nothing to resolve, never "open"


class StationView(BaseModel):
    """One tile of the station grid."""

    key: str
    site: str
    line: str
    station: str
    state: str  # online, offline, silent, unknown
    light: str | None
    station_state: str | None
    order_id: str | None
    scale_state: str | None
    scale_problem: str | None
    seconds_since_stable: float | None
    outbox_backlog: int | None
    problems: list[str]
    seen_at: str
    ledger_records: int | None  # in the station's newest signed chain head
    ledger_signed_at: str | None
    key_fingerprint: str | None  # of the key that signs its heads, to compare by eye
    scale_test: str | None  # passed, warning, failed or due: the newest routine test
    scale_test_at: str | None


class AlertView(BaseModel):
    """One alert in the feed, with what happened next."""

    id: int
    msg_id: str
    kind: str  # alert, or verdict (every judged parcel, when the station publishes them)
    parcel_id: str | None
    station: str
    order_id: str | None
    verdict: str | None
    reason: str  # as the station said it (in English)
    difference_text: str  # `light by 148 g`, in the page's language
    explanation: str
    measured_g: float | None
    expected_g: float | None
    items: str  # what the order held: `1 x Phone case (SKU-1023), 2 x Hardcover book (...)`
    tracking_number: str | None
    marketplace_order: str | None
    packer: str | None
    judged_at: str
    outcome: str  # in English: "open", "re-weighed to PASS", "overridden by li.wei: ..."
    outcome_kind: Literal["open", "reweighed", "overridden", "passed"]
    outcome_text: str  # the outcome in the page's language
    overridden_by: str | None
    override_reason: str | None
    acknowledged_by: str | None
    acknowledged_note: str | None
    acknowledged_at: str | None


def local(moment: datetime | None, zone: ZoneInfo) -> str:
    """`2026-12-02 20:23:05 CST` in the monitor's zone, or an empty string."""
    if moment is None:
        return ""
    return utc(moment).astimezone(zone).strftime("%Y-%m-%d %H:%M:%S %Z")


def station_view(
    row: Row,
    now: datetime,
    zone: ZoneInfo,
    *,
    chain: ChainStatus | None = None,
    scale_test: Row | None = None,
    texts: Texts = ENGLISH,
) -> StationView:
    """A station's tile from its row, its signed chain heads and its newest scale test."""
    health: dict[str, Any] = json.loads(row["health"]) if row["health"] else {}
    scale = health.get("scale") or {}
    state = str(row["state"])
    # How old the health message is: it says when the station was last heard from in full.
    age = None if row["health_at"] is None else (utc(now) - utc(row["health_at"])).total_seconds()
    if state == "online" and age is not None:
        interval = float(health.get("interval_s") or 30.0)
        if age > SILENT_AFTER_INTERVALS * interval:
            state = "silent"
    problems = [
        f"{device.get('device')}: {device.get('fault_reason')}"
        for device in [*health.get("outputs", []), health.get("scanner"), health.get("camera")]
        if isinstance(device, dict) and device.get("state") == "fault"
    ]
    problems += chain_problems(chain, texts) + storage_problems(health.get("storage"), texts)
    test = json.loads(scale_test["payload"]).get("event", "") if scale_test else ""
    test = test.removeprefix("routine_test_") or None
    if test == "failed":
        problems.append(texts("failed its scale test: no parcel is judged until released"))
    light, order_id = health.get("last_verdict"), health.get("order_id")
    if row["verdict_at"] is not None and (
        row["health_at"] is None or utc(row["verdict_at"]) >= utc(row["health_at"])
    ):  # a verdict newer than the last health message: the light as it is now
        light, order_id = row["verdict"], row["verdict_order"]
    since_stable = scale.get("seconds_since_last_stable")
    if since_stable is not None and age is not None:
        since_stable = round(since_stable + age, 1)
    return StationView(
        key=station_key(row),
        site=row["site"],
        line=row["line"],
        station=row["station"],
        state=state,
        light=light,
        station_state=health.get("station_state"),
        order_id=order_id,
        scale_state=scale.get("state"),
        scale_problem=scale.get("fault_reason"),
        seconds_since_stable=since_stable,
        outbox_backlog=health.get("outbox_backlog"),
        problems=problems,
        seen_at=local(row["seen_at"], zone),
        ledger_records=chain.records if chain else None,
        ledger_signed_at=local(chain.signed_at, zone) if chain else None,
        key_fingerprint=fingerprint(chain.public_key) if chain else None,
        scale_test=test,
        scale_test_at=local(scale_test["sent_at"], zone) if scale_test else None,
    )


def _item(sku: str, names: Mapping[str, str]) -> str:
    """`Phone case (SKU-1023)`, or the bare SKU when the station sent no name for it."""
    name = names.get(sku)
    return f"{name} ({sku})" if name and name != sku else sku


def _names(payload: Mapping[str, Any], texts: Texts) -> dict[str, str]:
    """SKU -> the item's name in the page's language (the catalog's, if not translated)."""
    return {
        str(line.get("sku")): texts.name(str(line.get("name")), line.get("names"))
        for line in payload.get("lines") or []
    }


def items_text(payload: Mapping[str, Any], texts: Texts = ENGLISH) -> str:
    """`1 x Phone case (SKU-1023), 2 x Hardcover book (SKU-2040)`: what the order held."""
    names = _names(payload, texts)
    return ", ".join(
        f"{line['qty']} x {_item(line['sku'], names)}" for line in payload.get("lines") or []
    )


def explanation_text(payload: Mapping[str, Any], texts: Texts = ENGLISH) -> str:
    """`missing 1 x Phone case (SKU-1023)` from a verdict's explanation, or an empty string."""
    names = _names(payload, texts)
    parts = []
    for hypothesis in payload.get("explanation") or []:
        units = ", ".join(
            f"{u['qty']} x {_item(u['sku'], names)}" for u in hypothesis.get("units", [])
        )
        if hypothesis.get("direction") == "extra":
            parts.append(texts("extra {units}", units=units))
        else:
            parts.append(texts("missing {units}", units=units))
    return "; ".join(parts)


def _grams(value: float) -> str:
    """Grams as a supervisor reads them: to a tenth, no trailing zeros (`497.5`, `148`)."""
    return f"{abs(value):.1f}".removesuffix(".0")


def difference_text(payload: Mapping[str, Any], texts: Texts = ENGLISH) -> str:
    """Why the verdict, in words of the page's language, from the verdict's figures.

    `light by 148 g`, `heavy by 30 g`; a RECHECK says how close to which limit; a PASS that
    its weight was within limits. The station's own sentence (English) is the cell's title.
    """
    verdict = payload.get("verdict")
    difference = (payload.get("difference") or {}).get("value")
    if verdict == "PASS":
        return texts("weight within limits")
    if verdict == "RECHECK":
        guard = (payload.get("guard") or {}).get("value")
        if isinstance(guard, int | float):
            return texts(
                "within {guard} g of a limit, inside the scale's own uncertainty: weigh again",
                guard=_grams(guard),
            )
    if not isinstance(difference, int | float) or difference == 0:
        return texts.code(verdict)
    if difference < 0:
        return texts("light by {grams} g", grams=_grams(difference))
    return texts("heavy by {grams} g", grams=_grams(difference))


def outcome_text(outcome: Outcome, texts: Texts = ENGLISH) -> str:
    """What happened after an alert, in the page's language."""
    if outcome.kind == "reweighed":
        return texts("re-weighed to PASS")
    if outcome.kind == "overridden":
        return texts("overridden by {who}: {why}", who=outcome.by, why=outcome.reason)
    if outcome.kind == "passed":
        return texts.code(None)
    return texts.code("open")


def alert_view(
    row: Row,
    zone: ZoneInfo,
    outcome: Outcome | None,
    acknowledgement: Row | None,
    texts: Texts = ENGLISH,
) -> AlertView:
    """An alert as the feed shows it."""
    # Shown from the message as the station sent it (kept whole in `payload`); the columns
    # beside it are copies for searching, never what a page states.
    payload = json.loads(row["payload"])
    if payload.get("verdict") == "PASS":
        outcome = PASSED
    measured = payload.get("measured") or {}
    expected = payload.get("expected") or {}
    judged = payload.get("judged_at")
    return AlertView(
        id=int(row["id"]),
        msg_id=row["msg_id"],
        kind=row["kind"],
        parcel_id=payload.get("parcel_id"),
        station=station_key(row),
        order_id=payload.get("order_id"),
        verdict=payload.get("verdict"),
        reason=str(payload.get("reason", "")),
        difference_text=difference_text(payload, texts),
        explanation=explanation_text(payload, texts),
        measured_g=measured.get("value"),
        expected_g=expected.get("value"),
        items=items_text(payload, texts),
        tracking_number=payload.get("tracking_number"),
        marketplace_order=payload.get("marketplace_order"),
        packer=payload.get("packer"),
        judged_at=local(datetime.fromisoformat(judged), zone) if judged else "",
        outcome=(outcome or OPEN).text,
        outcome_kind=(outcome or OPEN).kind,
        overridden_by=(outcome or OPEN).by,
        override_reason=(outcome or OPEN).reason,
        outcome_text=outcome_text(outcome or OPEN, texts),
        acknowledged_by=acknowledgement["user_name"] if acknowledgement else None,
        acknowledged_note=acknowledgement["note"] if acknowledgement else None,
        acknowledged_at=local(acknowledgement["at"], zone) if acknowledgement else None,
    )


class InstanceView(BaseModel):
    """One instance of the central, as it last reported itself."""

    name: str
    share_group: str | None
    state: Literal["ok", "stalled", "stopped"]
    seen_at: str
    stored: int
    refused: int
    note: str  # what the state means, in the page's language


# An instance that has not reported for this many of its intervals has stopped.
STOPPED_AFTER_INTERVALS = 3


def instance_view(row: Row, now: datetime, zone: ZoneInfo, texts: Texts) -> InstanceView:
    """An instance's row: ok, stalled (its database away), or stopped (its share waits)."""
    seen = utc(row["seen_at"])
    age_s = (utc(now) - seen).total_seconds()
    state: Literal["ok", "stalled", "stopped"] = "ok"
    note = texts("storing")
    if age_s > STOPPED_AFTER_INTERVALS * float(row["every_s"]):
        state = "stopped"
        note = (
            texts(
                "stopped: its share of the messages from the stations waits on the broker "
                "until it returns or its session expires"
            )
            if row["share_group"]
            else texts("stopped")
        )
    elif row["stalled_since"] is not None:
        state = "stalled"
        since = local(row["stalled_since"], zone)
        note = texts("nothing stored since {since}: {problem}", since=since, problem=row["problem"])
    return InstanceView(
        name=row["name"],
        share_group=row["share_group"],
        state=state,
        seen_at=local(seen, zone),
        stored=int(row["stored"]),
        refused=int(row["refused"]),
        note=note,
    )


def one_per_parcel(views: Sequence[AlertView]) -> list[AlertView]:
    """A parcel once: its alert (which carries the acknowledgement), not also its verdict copy.

    A station that publishes every verdict sends a flagged parcel twice, on `alert` and on
    `verdict`, with different msg_ids and the same `parcel_id`.
    """
    alerted = {view.parcel_id for view in views if view.kind == "alert" and view.parcel_id}
    return [
        view
        for view in views
        if view.kind == "alert" or view.parcel_id is None or view.parcel_id not in alerted
    ]


CSV_COLUMNS = (
    "judged_at",
    "station",
    "order_id",
    "tracking_number",
    "marketplace_order",
    "packer",
    "verdict",
    "reason",
    "items",
    "explanation",
    "measured_g",
    "expected_g",
    "outcome",
    "acknowledged_by",
    "acknowledged_note",
    "msg_id",
)


def as_csv(alerts: Sequence[AlertView]) -> str:
    """The history as CSV, every cell quoted and made inert for spreadsheets."""
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL)
    writer.writerow(CSV_COLUMNS)
    for alert in alerts:
        values = alert.model_dump()
        writer.writerow(
            [spreadsheet_cell("" if values[c] is None else str(values[c])) for c in CSV_COLUMNS]
        )
    return out.getvalue()
