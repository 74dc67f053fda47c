"""The case desk's API: find a parcel, its evidence and photos, open and decide a case.

Customer service (`service`) reads evidence and opens and decides cases; a decision worth more
than `[central] approval_above` needs a supervisor. Every change is audited and, from the page,
needs the CSRF token (`Central.check`).
"""

import json
from datetime import timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Path, Query
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, Field

from scale_agent.central.auth import User
from scale_agent.central.desk import (
    ChainFacts,
    ClaimAnswer,
    ClaimInput,
    ClaimKind,
    OrderEvidence,
    assess_claim,
    final_body,
    order_evidence,
)
from scale_agent.central.lessons import Lessons, carrier_of, lessons
from scale_agent.central.report_copy import appeal_archive, central_facts
from scale_agent.central.web.central import Central, CentralDep, Service
from scale_agent.domain.phrases import phrase
from scale_agent.errors import UsageError
from scale_agent.io.messages import NO_NUL
from scale_agent.io.translations import Translator
from scale_agent.tools.report.facts import PhotoFact

router = APIRouter(prefix="/api", tags=["case desk"])

CaseStatus = Literal["open", "answered", "appealed", "closed"]
# Text from outside reaches PostgreSQL, whose text cannot hold NUL: refused here with a reason.
OrderId = Annotated[str, Path(max_length=128, pattern=NO_NUL)]
ReportLanguage = Literal["en", "zh_CN"]
CaseNumber = Annotated[int, Path(ge=1, le=2**62, description="the case number")]


class ParcelHit(BaseModel):
    """An order the search found."""

    order_id: str
    records: int
    last_at: str
    tracking_number: str | None
    marketplace_order: str | None


class ClaimRequest(BaseModel):
    """What the customer says, and in which language to answer."""

    order_id: str = Field(max_length=128, pattern=NO_NUL)
    claim: ClaimKind
    sku: str | None = Field(default=None, max_length=128, pattern=NO_NUL)
    qty: int = Field(default=1, ge=1, le=10_000)
    grams: Decimal | None = Field(default=None, gt=0, le=1_000_000)
    language: Literal["en", "zh_CN"] = "en"


class DecisionRequest(BaseModel):
    """The agent's decision: the remedy, the money, why, and the case's new status."""

    remedy: Literal["refund", "reship", "voucher", "reject", "appeal"]
    amount: Decimal | None = Field(default=None, ge=0, le=1_000_000)
    reason: str = Field(min_length=3, max_length=1000, pattern=NO_NUL)
    status: CaseStatus = "answered"


class CaseView(BaseModel):
    """A case with the record's assessment, the suggested remedy and the reply to send."""

    id: int
    order_id: str
    claim: str
    claim_detail: dict[str, Any]
    finding: str  # supported, contradicted, inconclusive, not_decidable
    because: str
    suggested: str
    suggested_amount: str | None
    reply: str  # to the customer, in their language
    status: str
    opened_by: str
    opened_at: str
    decision: dict[str, Any] | None


@router.get("/evidence/search")
def api_search(
    _user: Service,
    central: CentralDep,
    q: Annotated[str, Query(min_length=2, max_length=128, pattern=NO_NUL)],
) -> list[ParcelHit]:
    """Orders whose id, tracking number or marketplace order starts with `q` (any case)."""
    return [
        ParcelHit(
            order_id=row["order_id"],
            records=row["records"],
            last_at=row["last_at"].astimezone(central.zone).isoformat(),
            tracking_number=row["reference"],
            marketplace_order=row["marketplace_order"],
        )
        for row in central.store.find_parcels(q)
    ]


@router.get("/evidence/orders/{order_id}")
def api_order_evidence(_user: Service, central: CentralDep, order_id: OrderId) -> OrderEvidence:
    """Every record of one order with its verification state; 404 when none is held."""
    return evidence_of(central, order_id)


def _file(content: bytes, media_type: str, name: str) -> dict[str, Any]:
    """A download's response: its bytes, their type, and the name to save it as."""
    headers = {"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"}
    return {"content": content, "media_type": media_type, "headers": headers}


@router.get(
    "/evidence/orders/{order_id}/report.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
def api_report(
    _user: Service, central: CentralDep, order_id: OrderId, language: ReportLanguage = "en"
) -> Response:
    """The order's report PDF, built from the central's copy with the central's verification."""
    pdf, _photos = report_of(central, order_id, language)
    return Response(**_file(pdf, "application/pdf", f"report-{order_id}.pdf"))


@router.get(
    "/evidence/orders/{order_id}/appeal.zip",
    response_class=Response,
    responses={200: {"content": {"application/zip": {}}}},
)
def api_appeal(
    _user: Service, central: CentralDep, order_id: OrderId, language: ReportLanguage = "en"
) -> Response:
    """For a marketplace appeal: the report PDF and every photo of the parcel, in one ZIP."""
    pdf, photos = report_of(central, order_id, language)
    archive = appeal_archive(order_id, pdf, photos)
    return Response(**_file(archive, "application/zip", f"appeal-{order_id}.zip"))


@router.get("/evidence/photos/{sha256}")
def api_photo(
    _user: Service, central: CentralDep, sha256: Annotated[str, Path(pattern="^[0-9a-f]{64}$")]
) -> FileResponse:
    """A kept photo, by its SHA-256 (its name is its proof)."""
    path = central.store.photo_path(sha256)
    if path is None or not path.is_file():
        raise HTTPException(404, "no such photo")
    return FileResponse(path, media_type="image/jpeg")


@router.post("/cases", status_code=201)
def api_open_case(user: Service, central: CentralDep, claim: ClaimRequest) -> CaseView:
    """Open a case: the claim is assessed against the order's final record at once."""
    return case_view(central, open_case(central, claim, user.name)[0])


def open_case(
    central: Central, claim: ClaimRequest, user: str, batch: str | None = None
) -> tuple[int, ClaimAnswer]:
    """Assess the claim against the order's final record and store the case; its number."""
    body = final_body(central.store.order_records(claim.order_id))
    if body is None:
        raise HTTPException(404, f"no weighing of order {claim.order_id} is held")
    asked = ClaimInput(claim.claim, claim.sku, claim.qty, claim.grams)
    try:
        found = assess_claim(asked, body, central.remedy)
    except UsageError as exc:
        raise HTTPException(422, str(exc)) from exc
    english = Translator("en")
    number = central.store.open_case(
        {
            "order_id": claim.order_id,
            "claim": claim.claim,
            "claim_detail": json.dumps(
                {"sku": claim.sku, "qty": claim.qty, "grams": _text(claim.grams)}
            ),
            "finding": str(found.finding),
            # The record judged, and the sentences as first said (the page says them again
            # in its own language from the same record).
            "assessment": json.dumps(
                {
                    "because": english.render(found.because),
                    "record": found.record,
                    # What the lessons count by: who packed it where, the item, the carrier.
                    "packer": body.get("packer"),
                    "station": f"{body.get('site')}/{body.get('line')}/{body.get('station')}",
                    "carrier": carrier_of(body.get("tracking_number")),
                    "sku": claim.sku,
                    "claimed": _text(found.claimed),
                }
            ),
            "suggested": json.dumps(
                {"offer": english.render(found.offer), "amount": _text(found.amount)}
            ),
            "language": claim.language,
            "batch": batch,
        },
        user,
        central.clock(),
    )
    return number, found


@router.get("/cases/lessons")
def api_lessons(
    _user: Service, central: CentralDep, days: Annotated[int, Query(ge=1, le=3660)] = 90
) -> Lessons:
    """What the cases of the last `days` teach: by cause, packer, item, station, carrier; money."""
    return lessons(central.store.cases_since(central.clock() - timedelta(days=days)), central.zone)


@router.get("/cases/{number}")
def api_case(_user: Service, central: CentralDep, number: CaseNumber) -> CaseView:
    """One case."""
    return case_view(central, number)


@router.post("/cases/{number}/decision")
def api_decide(
    user: Service, central: CentralDep, number: CaseNumber, decision: DecisionRequest
) -> CaseView:
    """Record the decision (who, when, why); above `approval_above` only a supervisor may."""
    decide(central, user, number, decision)
    return case_view(central, number)


def decide(central: Central, user: User, number: int, decision: DecisionRequest) -> None:
    """Record a decision; above `approval_above` only a supervisor may (HTTP 403)."""
    if central.store.case(number) is None:
        raise HTTPException(404, "no such case")
    amount = decision.amount or Decimal(0)
    if amount > central.approval_above and not user.may("supervisor"):
        raise HTTPException(
            403, f"a decision above {central.approval_above} needs a supervisor's approval"
        )
    record = {
        "remedy": decision.remedy,
        "amount": _text(decision.amount),
        "reason": decision.reason,
        "by": user.name,
        "at": central.clock().isoformat(),
    }
    central.store.decide_case(number, record, decision.status, user.name, central.clock())


def report_of(central: Central, order_id: str, language: str) -> tuple[bytes, list[PhotoFact]]:
    """The report PDF of an order from the central's copy, and its photos; 404 without one."""
    from scale_agent.tools.report import pdf  # noqa: PLC0415 - fpdf2 only when a report is asked

    rows = central.store.order_records(order_id)
    judged = [row for row in rows if row["kind"] != "PHOTO"]
    if not judged:
        raise HTTPException(404, f"no weighing of order {order_id} is held")
    where = (judged[-1]["site"], judged[-1]["line"], judged[-1]["station"])
    facts = central_facts(
        order_id,
        rows,
        central.store.heads_of(*where),
        hash_at=lambda chain, seq: central.store.hash_at(*where, chain, seq),
        photos_dir=central.store.photos,
        zone=central.zone,
        remedy=central.remedy,
    )
    if facts is None:
        raise HTTPException(404, f"no weighing of order {order_id} is held")
    return pdf.render(facts, Translator(language)), list(facts.photos)


def evidence_of(central: Central, order_id: str) -> OrderEvidence:
    """The order's evidence with each chain's facts, or 404."""
    rows = central.store.order_records(order_id)
    if not rows:
        raise HTTPException(404, f"no record of order {order_id} is held")
    chains: dict[tuple[str, ...], ChainFacts] = {}
    for row in rows:
        key = (row["site"], row["line"], row["station"], row["chain"])
        if key not in chains:
            signed, rekeyed = central.store.signed_upto(*key)
            chains[key] = ChainFacts(int(row["verified_upto"]), row["problem"], signed, rekeyed)
    return order_evidence(order_id, rows, chains, central.zone)


def case_view(central: Central, number: int, language: str = "en") -> CaseView:
    """A stored case as the API (English) and the page (its language) show it."""
    row = central.store.case(number)
    if row is None:
        raise HTTPException(404, "no such case")
    suggested = json.loads(row["suggested"])
    because, offer = json.loads(row["assessment"])["because"], suggested["offer"]
    if language != "en":  # said again in that language, from the same final record
        detail = json.loads(row["claim_detail"])
        body = final_body(central.store.order_records(row["order_id"]))
        if body is not None:
            grams = None if detail.get("grams") is None else Decimal(detail["grams"])
            asked = ClaimInput(row["claim"], detail.get("sku"), int(detail.get("qty") or 1), grams)
            found = assess_claim(asked, body, central.remedy)
            translator = Translator(language)
            because, offer = translator.render(found.because), translator.render(found.offer)
    return CaseView(
        id=row["id"],
        order_id=row["order_id"],
        claim=row["claim"],
        claim_detail=json.loads(row["claim_detail"]),
        finding=row["finding"],
        because=because,
        suggested=offer,
        suggested_amount=suggested["amount"],
        reply=_reply(row["finding"], row["order_id"], Translator(row["language"])),
        status=row["status"],
        opened_by=row["opened_by"],
        opened_at=row["opened_at"].astimezone(central.zone).isoformat(),
        decision=json.loads(row["decision"]) if row["decision"] else None,
    )


def _reply(finding: str, order_id: str, translator: Translator) -> str:
    """The answer to copy to the customer, in their language (steps: communicate, verify...)."""
    texts = {
        "supported": phrase(
            "Thank you for telling us. Our packing record of order {order} confirms that the "
            "parcel left us lighter than it should have: we are sorry, and we will make it right.",
            order=order_id,
        ),
        "contradicted": phrase(
            "Thank you for telling us. Our packing record of order {order} shows the parcel "
            "was weighed and sealed complete, with a photo. We have asked the carrier to check "
            "its handling and will come back to you.",
            order=order_id,
        ),
    }
    fallback = phrase(
        "Thank you for telling us. We are checking the packing record and the photos of "
        "order {order} and will come back to you within one working day.",
        order=order_id,
    )
    return translator.render(texts.get(finding, fallback))


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)
