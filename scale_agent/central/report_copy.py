"""The order's report built at the central, from its own copy of the station's records.

The same report the station makes (`records report`): the facts are gathered here from the
central's evidence rows instead of a ledger, the chain's state is the central's own walk of it,
the anchor is the newest signed head of that station the central holds whose hash matches its
copy, and the photos are the central's files, checked against the hashes the records hold.
An appeal archive is that PDF with every photo of the order beside it.
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import datetime
from typing import TYPE_CHECKING, Any

from scale_agent.domain import claims
from scale_agent.errors import LedgerError
from scale_agent.io.chain_head import SignedHead
from scale_agent.io.hashed_facts import from_hashed
from scale_agent.io.photos import PhotoCheck, PhotoState, check
from scale_agent.tools.report import facts as report_facts
from scale_agent.tools.report.facts import Anchor, PhotoFact, ReportFacts

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from pathlib import Path
    from zoneinfo import ZoneInfo

    from scale_agent.central.rows import Row

SOURCE = "the central's copy of the station's signed heads"


def central_facts(
    order_id: str,
    rows: Sequence[Row],
    heads: Sequence[Row],
    *,
    hash_at: Callable[[str, int], str | None],
    photos_dir: Path | None,
    zone: ZoneInfo,
    claim: claims.Claim | None = None,
    remedy: claims.RemedySettings | None = None,
) -> ReportFacts | None:
    """The report of the order's final record from the central's rows; None without one."""
    records = [_record(row) for row in rows]
    weighings = [r for r in records if r["verdict"] != "PHOTO"]
    if not weighings:
        return None
    final = weighings[-1]
    row = next(r for r in rows if int(r["seq"]) == final["seq"] and r["chain"] == final["chain"])
    body = json.loads(final["body"])
    answer = None
    if claim is not None:
        parcel = claims.packed_parcel(body)
        assessment = claims.assess(claim, parcel)
        suggested = claims.suggest(claim, assessment, parcel, remedy or claims.RemedySettings())
        answer = report_facts.ClaimAnswer(claim, assessment, suggested)
    verified = int(row["verified_upto"]) >= final["seq"] and bool(row["hash_ok"])
    return ReportFacts(
        order_id=order_id,
        body=body,
        seq=final["seq"],
        record_hash=final["hash"],
        prev_hash=final["prev_hash"],
        at=datetime.fromisoformat(str(final["recorded_at"])).astimezone(zone),
        lines=claims.packed_lines(body),
        weighings=tuple(report_facts.weighing_of(r, zone) for r in weighings),
        chain={
            "records": int(row["verified_upto"]),
            "head_hash": final["hash"],
            "intact": verified,
            "first_broken_seq": None if verified else final["seq"],
            "problem": row["problem"],
            "hash_rule": "sha256(prev_hash + '\\n' + canonical_json(record))",
            "checked_at": datetime.now(zone).isoformat(),
        },
        anchor=_anchor(heads, hash_at, str(final["chain"]), int(row["verified_upto"])),
        answer=answer,
        photos=tuple(_photos(records, str(final["parcel_id"]), photos_dir, zone)),
        altered=tuple(final.get("altered") or ()),
    )


def appeal_archive(order_id: str, pdf: bytes, photos: Sequence[PhotoFact]) -> bytes:
    """One ZIP for a marketplace appeal: the report and each photo, named by its hash."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in order_id)[:100]
        archive.writestr(f"{safe}/report-{safe}.pdf", pdf)
        for photo in photos:
            if photo.checked.data is not None:
                archive.writestr(
                    f"{safe}/photo-{photo.moment}-{photo.sha256[:16]}.jpg", photo.checked.data
                )
    return out.getvalue()


def _record(row: Row) -> dict[str, Any]:
    """A central row as the ledger returns a record (facts read from the hashed body)."""
    body = json.loads(row["body"])
    indexed = body.get("indexed") or {}
    stored = {
        "seq": int(row["seq"]),
        "parcel_id": indexed.get("parcel_id"),
        "order_id": indexed.get("order_id"),
        "verdict": indexed.get("verdict") or row["kind"],
        "recorded_at": indexed.get("recorded_at") or row["recorded_at"].isoformat(),
        "body": row["body"],
        "prev_hash": row["prev_hash"],
        "hash": row["hash"],
    }
    record = from_hashed(stored)
    record["chain"] = row["chain"]
    return record


def _anchor(
    heads: Sequence[Row], hash_at: Callable[[str, int], str | None], chain: str, verified: int
) -> Anchor | None:
    """The newest signed head of this chain the central can check against its own copy."""
    for head_row in sorted(heads, key=lambda h: int(h["records"]), reverse=True):
        try:
            head = SignedHead.from_json(json.loads(head_row["payload"]))
        except (ValueError, LedgerError):
            continue
        held = hash_at(chain, head.records)
        if held is None:
            continue  # a head of another chain of this station, or not received yet
        if held != head.head_hash:
            return Anchor(head, "the central's copy differs from the signed head", SOURCE)
        problem = None if verified >= head.records else "records before it are not all held"
        return Anchor(head, problem, SOURCE)
    return None


def _photos(
    records: list[dict[str, Any]], parcel_id: str, photos_dir: Path | None, zone: ZoneInfo
) -> list[PhotoFact]:
    """The parcel's photos as this central keeps them: files named by their SHA-256."""
    found = []
    for body in report_facts.photo_bodies(records, parcel_id):
        sha = str(body.get("sha256"))
        name = f"{sha[:2]}/{sha}.jpg"
        checked = (
            check(photos_dir, name, sha)
            if photos_dir is not None
            else PhotoCheck(PhotoState.GONE, f"photo {name} is not kept at this central")
        )
        found.append(report_facts.photo_fact(body, name, checked, zone))
    return found
