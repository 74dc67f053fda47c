"""The case desk's page: one search box, the parcel's evidence, the claim, the decision.

Server-rendered like the other pages; its two forms post here with the page's CSRF token and
come back to the order (`/cases?order=...`), a refusal said in words at the top.
"""

from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from scale_agent.central.desk import ClaimKind
from scale_agent.central.language import Texts
from scale_agent.central.lessons import lessons
from scale_agent.central.web.bulk import assess_list
from scale_agent.central.web.cases import (
    ClaimRequest,
    DecisionRequest,
    case_view,
    decide,
    evidence_of,
    open_case,
)
from scale_agent.central.web.central import CentralDep, texts_for
from scale_agent.central.web.pages import page, render

router = APIRouter(include_in_schema=False)
LESSON_DAYS = 90


@router.get("/cases")
def desk(
    request: Request, central: CentralDep, q: str = "", order: str = "", error: str = ""
) -> Response:
    """Search; with `order`, its evidence, the claim form and its cases."""
    user = central.who(request)
    if user is not None and not user.may("service"):
        texts = texts_for(request)
        body = render(central, "cases.html", texts, "/cases", user=user, forbidden=True)
        return HTMLResponse(body, status_code=403)

    # Typed text reaches PostgreSQL, whose text cannot hold NUL: dropped, not an error page.
    q, order = q.replace("\x00", ""), order.replace("\x00", "")

    def values(texts: Texts) -> dict[str, Any]:
        hits = central.store.find_parcels(q) if len(q.strip()) >= 2 else []  # noqa: PLR2004
        chosen = order or (hits[0]["order_id"] if len(hits) == 1 else "")
        shown: dict[str, Any] = {"q": q, "hits": hits, "error": error[:300], "order": chosen}
        if not chosen and not q:  # the desk's front page: what the last 90 days taught
            since = central.clock() - timedelta(days=LESSON_DAYS)
            shown["lessons"] = lessons(central.store.cases_since(since), central.zone)
        if chosen:
            try:
                shown["evidence"] = evidence_of(central, chosen[:128])
            except HTTPException:
                shown["evidence"] = None
            shown["cases"] = [
                case_view(central, row["id"], texts.language)
                for row in central.store.cases_of(chosen[:128])
            ]
        return shown

    return page(request, central, "cases.html", values)


@router.post("/cases/claim")
def claim(
    request: Request,
    central: CentralDep,
    *,
    csrf: Annotated[str, Form(max_length=128)],
    order_id: Annotated[str, Form(max_length=128)],
    kind: Annotated[ClaimKind, Form()],
    language: Annotated[str, Form(max_length=8)] = "en",
    sku: Annotated[str, Form(max_length=128)] = "",
    qty: Annotated[int, Form(ge=1, le=10_000)] = 1,
    grams: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    """Open a case from the form; back to the order."""
    user = central.check(request, "service", csrf)
    try:
        asked = ClaimRequest(
            order_id=order_id,
            claim=kind,
            sku=sku or None,
            qty=qty,
            grams=_decimal(grams),
            language="zh_CN" if language == "zh_CN" else "en",
        )
        number, _answer = open_case(central, asked, user.name)
    except (HTTPException, ValueError) as exc:
        return _back(order_id, _why(exc))
    return RedirectResponse(f"/cases?order={quote(order_id)}#case-{number}", status_code=303)


@router.post("/cases/{number}/decide")
def decide_page(
    request: Request,
    central: CentralDep,
    number: int,
    *,
    csrf: Annotated[str, Form(max_length=128)],
    remedy: Annotated[str, Form(max_length=16)],
    reason: Annotated[str, Form(max_length=1000)],
    status: Annotated[str, Form(max_length=16)] = "answered",
    amount: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    """Record a decision from the form; back to the order."""
    user = central.check(request, "service", csrf)
    found = central.store.case(number) if 1 <= number <= 2**62 else None
    if found is None:
        raise HTTPException(404, "no such case")
    try:
        decision = DecisionRequest.model_validate(
            {"remedy": remedy, "amount": _decimal(amount), "reason": reason, "status": status}
        )
        decide(central, user, number, decision)
    except (HTTPException, ValueError) as exc:
        return _back(found["order_id"], _why(exc))
    return RedirectResponse(
        f"/cases?order={quote(found['order_id'])}#case-{number}", status_code=303
    )


@router.post("/cases/bulk")
def bulk_page(
    request: Request,
    central: CentralDep,
    file: Annotated[UploadFile, File()],
    *,
    csrf: Annotated[str, Form(max_length=128)],
    order: Annotated[str, Form(max_length=64)] = "",
    claim: Annotated[str, Form(max_length=64)] = "",
    sku: Annotated[str, Form(max_length=64)] = "",
    qty: Annotated[str, Form(max_length=64)] = "",
    grams: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """The after-sales list from the page: the table of findings, or why the file was refused."""
    user = central.check(request, "service", csrf)
    texts = texts_for(request)
    given = {"order": order, "claim": claim, "sku": sku, "qty": qty, "grams": grams}
    try:
        result, error = assess_list(central, file, given, texts.language, user.name), ""
    except HTTPException as exc:
        result, error = None, str(exc.detail)
    body = render(
        central, "cases_bulk.html", texts, "/cases", user=user, result=result, error=error
    )
    return HTMLResponse(body, status_code=200 if result else 422)


def _decimal(text: str) -> Decimal | None:
    try:
        return Decimal(text.strip()) if text.strip() else None
    except InvalidOperation as exc:
        raise ValueError(f"not a number: {text[:16]}") from exc


def _why(exc: Exception) -> str:
    return str(exc.detail) if isinstance(exc, HTTPException) else str(exc).splitlines()[0]


def _back(order_id: str, error: str) -> Response:
    return RedirectResponse(
        f"/cases?order={quote(order_id)}&error={quote(error[:300])}", status_code=303
    )
