"""What a per-order report says, gathered once from the ledger and shown as PDF, HTML or text.

The report speaks for the record of the parcel that was shipped: the order's newest verdict
record (earlier weighings of the same order, a MISSING_ITEM before a re-pack say, are listed
with it). A report of an earlier record (`--seq`) says at its head that it was superseded and
by what, and a claim is always judged against the final record: the order left the bench as
that. Whatever weakens the record (a broken chain, a head not held, a photo altered or gone,
no routine test in force) is gathered as cautions, which every format shows first.
Everything it shows comes from the ledger's hashed content, so the hash it prints is the one
`records verify` checks; the anchored head is the one given with `--anchor`, else the one
the station last published (`chain_head.json` beside the ledger).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from scale_agent.domain import claims
from scale_agent.domain.phrases import Grams, ItemName, Phrase, phrase
from scale_agent.errors import LedgerError
from scale_agent.io.chain_head import LAST_HEAD_FILE, SignedHead, check_anchor
from scale_agent.io.photos import PhotoCheck, check
from scale_agent.tools import records
from scale_agent.tools.report import labels
from scale_agent.weights import Weight

if TYPE_CHECKING:
    from pathlib import Path
    from zoneinfo import ZoneInfo

    from scale_agent.io.ledger import Ledger


@dataclass(frozen=True)
class Weighing:
    """One verdict record of the order."""

    seq: int
    at: datetime  # in the report's time zone
    verdict: str
    reason: Phrase | str  # in words from the record's figures, else as recorded
    measured_g: str | None


@dataclass(frozen=True)
class PhotoFact:
    """A photo the chain names for the parcel, checked against its recorded hash."""

    file: str
    sha256: str
    moment: str
    taken_at: str
    checked: PhotoCheck  # held (with the picture), altered or gone


@dataclass(frozen=True)
class Anchor:
    """The signed head the report quotes, and whether the ledger holds it."""

    head: SignedHead
    problem: str | None
    source: Phrase | str


@dataclass(frozen=True)
class ClaimAnswer:
    """A claim, the record's answer, and the suggested remedy."""

    claim: claims.Claim
    assessment: claims.Assessment
    remedy: claims.Remedy


@dataclass(frozen=True)
class ReportFacts:
    """Everything one order's report shows."""

    order_id: str
    body: dict[str, Any]  # the shipped parcel's record, as stored
    seq: int
    record_hash: str
    prev_hash: str
    at: datetime
    lines: tuple[claims.PackedLine, ...]
    weighings: tuple[Weighing, ...]
    chain: dict[str, Any]
    anchor: Anchor | None
    answer: ClaimAnswer | None
    photos: tuple[PhotoFact, ...] = ()
    superseded_by: Weighing | None = None  # the order's final record, when this is not it
    altered: tuple[str, ...] = ()  # stored columns that disagree with the hashed record

    @property
    def is_compromised(self) -> bool:
        """The evidence itself does not hold (chain, columns, signed head or a photo)."""
        return (
            not self.chain["intact"]
            or bool(self.altered)
            or (self.anchor is not None and self.anchor.problem is not None)
            or any(p.checked.state.value == "altered" for p in self.photos)
        )

    @property
    def cautions(self) -> list[Phrase]:
        """Everything that weakens this record, most serious first (shown on the first page)."""
        found: list[Phrase] = []
        if self.superseded_by is not None:
            later = self.superseded_by
            found.append(
                labels.CAUTION_SUPERSEDED.with_values(
                    seq=later.seq,
                    at=later.at.strftime("%Y-%m-%d %H:%M:%S %Z"),
                    verdict=labels.VERDICTS.get(later.verdict, later.verdict),
                )
            )
        if not self.chain["intact"]:
            found.append(labels.CAUTION_CHAIN.with_values(seq=int(self.chain["first_broken_seq"])))
        if self.altered:
            found.append(labels.CAUTION_COLUMNS.with_values(columns=", ".join(self.altered)))
        if self.anchor is None:
            found.append(labels.CAUTION_NO_ANCHOR)
        elif self.anchor.problem is not None:
            found.append(labels.CAUTION_ANCHOR.with_values(problem=self.anchor.problem))
        if any(p.checked.state.value == "altered" for p in self.photos):
            found.append(labels.CAUTION_PHOTO_ALTERED)
        if any(p.checked.state.value == "gone" for p in self.photos):
            found.append(labels.CAUTION_PHOTO_GONE)
        test = self.body.get("routine_test")
        if test is None:
            found.append(labels.CAUTION_NO_TEST)
        elif test.get("outcome") == "failed":
            found.append(labels.CAUTION_TEST_FAILED)
        return found

    @property
    def station(self) -> str:
        """Site / line / station."""
        return f"{self.body.get('site')} / {self.body.get('line')} / {self.body.get('station')}"

    @property
    def trace(self) -> list[tuple[float, float, bool]]:
        """The readings behind the verdict: (seconds before the verdict, grams, stable)."""
        judged = self.at.timestamp()
        points = []
        for frame in self.body.get("evidence") or []:
            weight = frame.get("weight")
            if weight is None or frame.get("at") is None:
                continue
            points.append((float(frame["at"]) - judged, _grams(str(weight)), bool(frame["stable"])))
        return points


def gather(
    ledger: Ledger,
    data_dir: Path,
    order_id: str,
    zone: ZoneInfo,
    *,
    anchor: SignedHead | None = None,
    anchor_source: Phrase | str = "",
    pinned_key: str | None = None,
    seq: int | None = None,
    claim: claims.Claim | None = None,
    remedy: claims.RemedySettings | None = None,
) -> ReportFacts | None:
    """The report of one order (its newest record, or record `seq`), None when there is none."""
    of_order = ledger.records(order_id=order_id)
    found = [r for r in of_order if r["verdict"] != "PHOTO"]
    if not found:
        return None
    chosen = [r for r in found if seq is None or r["seq"] == seq]
    if not chosen:
        return None
    final = chosen[-1]  # the record asked for: by default the newest, the parcel shipped
    shipped = found[-1]  # what the order finally left the bench as
    body = json.loads(final["body"])
    if anchor is None:
        anchor, anchor_source = _kept_head(data_dir), labels.ANCHOR_KEPT
    answer = None
    if claim is not None:  # judged on what shipped, whichever record the report shows
        parcel = claims.packed_parcel(json.loads(shipped["body"]))
        assessment = claims.assess(claim, parcel)
        settings = remedy or claims.RemedySettings()
        answer = ClaimAnswer(claim, assessment, claims.suggest(claim, assessment, parcel, settings))
    return ReportFacts(
        order_id=order_id,
        body=body,
        seq=int(final["seq"]),
        record_hash=str(final["hash"]),
        prev_hash=str(final["prev_hash"]),
        at=datetime.fromisoformat(str(final["recorded_at"])).astimezone(zone),
        lines=claims.packed_lines(body),
        weighings=tuple(weighing_of(r, zone) for r in found),
        chain=records.chain_proof(ledger),
        anchor=None
        if anchor is None
        else Anchor(anchor, check_anchor(ledger, anchor, pinned_key), anchor_source),
        answer=answer,
        photos=tuple(_photos(of_order, str(final["parcel_id"]), data_dir, zone)),
        superseded_by=None if shipped is final else weighing_of(shipped, zone),
        altered=tuple(final.get("altered") or ()),
    )


def _photos(
    records: list[dict[str, Any]], parcel_id: str, data_dir: Path, zone: ZoneInfo
) -> list[PhotoFact]:
    return [
        photo_fact(
            body, str(body["file"]), check(data_dir, str(body["file"]), str(body["sha256"])), zone
        )
        for body in photo_bodies(records, parcel_id)
    ]


def photo_bodies(records: list[dict[str, Any]], parcel_id: str) -> list[dict[str, Any]]:
    """The bodies of the photo records of one parcel, in the chain's order."""
    bodies = (json.loads(r["body"]) for r in records if r["verdict"] == "PHOTO")
    return [body for body in bodies if body.get("of_parcel") == parcel_id]


def photo_fact(body: dict[str, Any], file: str, checked: PhotoCheck, zone: ZoneInfo) -> PhotoFact:
    """A photo record as the report shows it: where, its hash, when, and what became of it."""
    taken_at = local_time(str(body.get("taken_at")), zone)
    return PhotoFact(file, str(body["sha256"]), str(body.get("moment")), taken_at, checked)


def local_time(moment: str, zone: ZoneInfo) -> str:
    """An ISO UTC time as the report shows times (its zone, to the second)."""
    try:
        return datetime.fromisoformat(moment).astimezone(zone).strftime("%Y-%m-%d %H:%M:%S %Z")
    except ValueError:
        return moment


def weighing_of(record: dict[str, Any], zone: ZoneInfo) -> Weighing:
    """A verdict record as the report's table of weighings shows it."""
    body = json.loads(record["body"])
    return Weighing(
        int(record["seq"]),
        datetime.fromisoformat(str(record["recorded_at"])).astimezone(zone),
        str(record["verdict"]),
        reason(body),
        _measured(body),
    )


def reason(body: dict[str, Any]) -> Phrase | str:
    """Why the record says what it says, rebuilt from its figures so any language can say it.

    Items are named as the items table names them; a reason the figures cannot rebuild is
    given as recorded.
    """
    kind = str(body.get("verdict"))
    difference = body.get("difference") or {}
    if difference.get("value") is None:
        return labels.WITHIN if kind == "PASS" else str(body.get("reason") or "")
    amount = Grams(abs(Decimal(str(difference["value"]))))
    names = {line.sku: line.name for line in claims.packed_lines(body)}
    hypotheses = body.get("explanation") or []
    if kind in {"MISSING_ITEM", "EXTRA_ITEM"} and hypotheses:
        best = hypotheses[0]
        items = tuple(
            phrase(
                "{qty} x {name}",
                qty=int(unit["qty"]),
                name=names.get(unit["sku"]) or ItemName(str(unit["sku"])),
            )
            for unit in best["units"]
        )
        rule = labels.EXPLAINED_MISSING if kind == "MISSING_ITEM" else labels.EXPLAINED_EXTRA
        return rule.with_values(amount=amount, items=items, sigma=str(best["fit_sigma"]))
    if kind == "PASS":
        return labels.WITHIN
    if kind in {"UNDER", "OVER"}:
        rule = labels.UNEXPLAINED_LIGHT if kind == "UNDER" else labels.UNEXPLAINED_HEAVY
        return rule.with_values(amount=amount)
    return str(body.get("reason") or "")


def _measured(body: dict[str, Any]) -> str | None:
    measured = body.get("measured")
    return None if measured is None else str(measured["value"])


def _grams(weight: str) -> float:
    """A recorded reading ("0.718kg") in grams, for the plot only (the verdict used Decimal)."""
    return float(Weight.parse(weight).in_grams)


def _kept_head(data_dir: Path) -> SignedHead | None:
    path = data_dir / LAST_HEAD_FILE
    try:
        return SignedHead.from_json(json.loads(path.read_bytes()))
    except (OSError, ValueError, LedgerError):
        return None
