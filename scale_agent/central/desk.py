"""The case desk's answers, built from stored records (pure: rows in, views out).

An order's evidence is every record of it the central holds, in time order: each weighing (the
red one, the re-pack, the final PASS) with its figures, items and photos, and how far the
central could verify it, in plain words. A claim is judged with the verifier's own arithmetic
(`domain.claims`) against the record the order finally left the bench as, never an earlier one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import UTC, tzinfo
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field

from scale_agent.domain.claims import (
    Assessment,
    Claim,
    Finding,
    PackedParcel,
    RemedySettings,
    assess,
    packed_parcel,
    suggest,
)
from scale_agent.domain.phrases import Grams, Phrase, phrase
from scale_agent.errors import UsageError

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from scale_agent.central.rows import Row

ClaimKind = Literal["missing", "underweight", "wrong_item", "empty", "damaged"]
Checked = Literal["signed", "linked", "rekeyed", "edited", "broken", "waiting"]
NOT_BY_WEIGHT: frozenset[str] = frozenset({"wrong_item", "damaged"})
# What is not a weighing: kept, shown beside the weighings, never judged as the parcel.
NOT_WEIGHINGS = frozenset({"PHOTO", "ROUTINE_TEST", "SCALE_RELEASED"})


class Photo(BaseModel):
    """A photo of the parcel as the central holds it."""

    sha256: str | None
    state: str  # kept, mismatch, missing, not kept
    moment: str
    taken_at: str | None
    url: str | None  # where the desk shows it, when it is kept


class Weighing(BaseModel):
    """One record of the order: a weighing, with how far the central could verify it."""

    station: str
    chain: str
    seq: int
    kind: str
    recorded_at: str
    measured_g: str | None
    expected_g: str | None
    lower_g: str | None
    upper_g: str | None
    policy: str | None
    packer: str | None
    tracking_number: str | None
    marketplace_order: str | None
    override: str | None
    items: list[dict[str, Any]]
    photos: list[Photo]
    verified: bool
    checked: Checked  # signed, linked (verified); rekeyed, edited, broken, waiting (not)
    verification: str  # in plain words (English; the page says it in its language)
    problem: str | None  # what breaks the chain this record is in, if anything
    is_final: bool = False


class OrderEvidence(BaseModel):
    """Everything the central holds of one order."""

    order_id: str
    weighings: list[Weighing]
    final: Weighing | None = Field(description="the record the order left the bench as")


@dataclass(frozen=True)
class ClaimInput:
    """What the customer says, as the agent typed it."""

    kind: ClaimKind
    sku: str | None = None
    qty: int = 1
    grams: Decimal | None = None


@dataclass(frozen=True)
class ChainFacts:
    """What the central knows of the chain a record sits in."""

    verified_upto: int
    problem: str | None
    signed_upto: int
    rekeyed: bool = False  # heads of this chain signed by a key other than the pinned one


def order_evidence(
    order_id: str,
    rows: Sequence[Row],
    chains: Mapping[tuple[str, ...], ChainFacts],
    zone: tzinfo = UTC,
) -> OrderEvidence:
    """The order's records as the desk shows them; photos hang under their weighing."""
    weighings: list[Weighing] = []
    by_parcel: dict[str, Weighing] = {}
    photos: list[tuple[str, Photo]] = []
    for row in rows:
        body = json.loads(row["body"])
        if row["kind"] == "PHOTO":
            photos.append((str(body.get("of_parcel")), _photo(row, body)))
            continue
        weighing = _weighing(row, body, chains[_chain_key(row)], zone)
        weighings.append(weighing)
        by_parcel[str(body.get("parcel_id"))] = weighing
    for parcel_id, photo in photos:  # a photo hangs under the weighing it was taken for
        if (taken_for := by_parcel.get(parcel_id)) is not None:
            taken_for.photos.append(photo)
    judged = [w for w in weighings if w.kind not in NOT_WEIGHINGS]
    final = judged[-1] if judged else None
    if final is not None:
        final.is_final = True
    return OrderEvidence(order_id=order_id, weighings=weighings, final=final)


def final_body(rows: Sequence[Row]) -> dict[str, Any] | None:
    """The body of the record the order left the bench as (its last weighing)."""
    judged = [row for row in rows if row["kind"] not in NOT_WEIGHINGS]
    return json.loads(judged[-1]["body"]) if judged else None


def claim_of(claim: ClaimInput, parcel: PackedParcel, body: dict[str, Any]) -> Claim:
    """The domain's claim for what the customer says, in the record's own numbers."""
    if claim.kind == "missing":
        if not claim.sku:
            raise UsageError("say which item is missing (its SKU)")
        return Claim(f"missing {claim.qty} x {claim.sku}", sku=claim.sku, qty=claim.qty)
    if claim.kind == "underweight":
        if claim.grams is None or claim.grams <= 0:
            raise UsageError("say by how many grams the parcel was light")
        return Claim(f"short {claim.grams}g", shortfall_g=claim.grams)
    if claim.kind == "empty":  # all that was in it but the carton
        tare = Decimal(str(((body.get("order") or {}).get("carton") or {}).get("tare_g") or 0))
        return Claim("empty parcel", shortfall_g=max(parcel.measured_g - tare, Decimal(0)))
    return Claim(claim.kind.replace("_", " "))


@dataclass(frozen=True)
class ClaimAnswer:
    """What the record says of a claim, and what the site's rule suggests."""

    finding: Finding | Literal["not_decidable"]
    because: Phrase
    offer: Phrase
    amount: Decimal | None
    record: str  # the parcel id of the final weighing the claim was judged on
    claimed: Decimal | None = None  # what granting the claim would cost (refund avoided if not)


def assess_claim(claim: ClaimInput, body: dict[str, Any], settings: RemedySettings) -> ClaimAnswer:
    """The answer to a claim on the order's final record (`body`)."""
    parcel = packed_parcel(body)
    record = str(body.get("parcel_id") or "")
    if claim.kind in NOT_BY_WEIGHT:
        because = phrase(
            "A weight cannot tell a wrong or damaged item from the right one of the same weight: "
            "the parcel weighed {measured}, within {lower} to {upper}. Look at the photos.",
            measured=Grams(parcel.measured_g),
            lower=Grams(parcel.lower_g),
            upper=Grams(parcel.upper_g),
        )
        return ClaimAnswer(
            "not_decidable", because, phrase("Decide from the photos and the item."), None, record
        )
    domain_claim = claim_of(claim, parcel, body)
    found: Assessment = assess(domain_claim, parcel)
    remedy = suggest(domain_claim, found, parcel, settings)
    granted = replace(found, finding=Finding.SUPPORTED)  # as if the record had not answered
    claimed = suggest(domain_claim, granted, parcel, RemedySettings()).amount
    return ClaimAnswer(found.finding, found.because, remedy.offer, remedy.amount, record, claimed)


def verification_words(row: Row, chain: ChainFacts) -> tuple[Checked, str]:
    """(how far this record is checked, the same in plain English words)."""
    seq = int(row["seq"])
    if not row["hash_ok"]:
        return "edited", "NOT verified: its content does not match its hash (edited)"
    if seq <= chain.verified_upto:
        if chain.rekeyed and chain.signed_upto < seq:
            return "rekeyed", (
                f"linked: record {seq}, but the heads covering it are signed by a NEW key, not "
                "the one this chain was pinned to: ask an administrator"
            )
        if chain.signed_upto >= seq:
            words = f"a head the station signed covers it (record {chain.signed_upto})"
            return "signed", f"verified: record {seq}, linked to every record before it; {words}"
        return "linked", f"verified: record {seq}, linked to every record before it"
    if chain.problem:
        return "broken", f"NOT verified: {chain.problem}"
    return "waiting", f"waiting: records before {seq} have not reached the central yet"


def _weighing(row: Row, body: dict[str, Any], chain: ChainFacts, zone: tzinfo) -> Weighing:
    checked, words = verification_words(row, chain)
    order = body.get("order") or {}
    override = body.get("override") or None
    return Weighing(
        station=f"{row['site']}/{row['line']}/{row['station']}",
        chain=str(row["chain"]),
        seq=int(row["seq"]),
        kind=str(row["kind"]),
        recorded_at=row["recorded_at"].astimezone(zone).isoformat(),
        measured_g=_grams(body.get("measured")),
        expected_g=_grams(body.get("expected")),
        lower_g=_grams(body.get("lower_limit")),
        upper_g=_grams(body.get("upper_limit")),
        policy=body.get("policy"),
        packer=body.get("packer"),
        tracking_number=body.get("tracking_number"),
        marketplace_order=body.get("marketplace_order"),
        override=None
        if override is None
        else f"{override.get('operator')}: {override.get('reason')}",
        items=[
            {key: line.get(key) for key in ("sku", "name", "qty", "unit_g", "names")}
            for line in order.get("lines") or []
        ],
        photos=[],
        verified=checked in {"signed", "linked"},
        checked=checked,
        verification=words,
        problem=chain.problem,
    )


def _photo(row: Row, body: dict[str, Any]) -> Photo:
    sha = row["photo_sha256"]
    state = str(row["photo_state"] or "missing")
    return Photo(
        sha256=sha,
        state=state,
        moment=str(body.get("moment") or ""),
        taken_at=body.get("taken_at"),
        url=f"/api/evidence/photos/{sha}" if state == "kept" and sha else None,
    )


def _grams(mass: object) -> str | None:
    return str(mass["value"]) if isinstance(mass, dict) and "value" in mass else None


def _chain_key(row: Row) -> tuple[str, ...]:
    return (str(row["site"]), str(row["line"]), str(row["station"]), str(row["chain"]))
