"""The desk's bulk path: the day's after-sales list in, every row assessed, one archive out.

Every row is checked first (`central.bulk`): a bad file is refused with the row and column
named and nothing opened. Then each complaint is found by its order id, tracking number or
marketplace order (exactly, any case) and, when found, opened as a case assessed against the
order's final record, all under one batch id. The answer is a table; the appeals of every
contradicted claim are one ZIP (`/api/cases/batches/{batch}/appeals.zip`).
"""

import io
import uuid
import zipfile
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, HTTPException, Path, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel

from scale_agent.central.bulk import BulkRow, bulk_rows, read_table
from scale_agent.central.report_copy import appeal_archive
from scale_agent.central.web.cases import ClaimRequest, open_case, report_of
from scale_agent.central.web.central import Central, CentralDep, Service
from scale_agent.errors import UsageError
from scale_agent.io.translations import Translator

router = APIRouter(prefix="/api", tags=["case desk"])

MAX_FILE_BYTES = 5_000_000
MAPPING = "bulk_mapping"  # the desk setting that remembers the last mapping used


class BulkLine(BaseModel):
    """One row of the list and what the evidence says of it."""

    line: int
    order: str
    order_id: str | None  # the order found, None when the central holds no record of it
    claim: str
    finding: Literal["supported", "contradicted", "inconclusive", "not_decidable", "not_found"]
    because: str | None
    case_id: int | None


class BulkResult(BaseModel):
    """The whole list: a line per row, the counts, and where the appeals archive is."""

    batch: str
    lines: list[BulkLine]
    counts: dict[str, int]
    appeals: str  # the URL of the ZIP of appeal PDFs for the contradicted claims
    mapping: dict[str, str]


@router.post("/cases/bulk")
def api_bulk(
    user: Service,
    central: CentralDep,
    file: Annotated[UploadFile, File(description="CSV (UTF-8 or GB18030) or XLSX")],
    *,
    order: Annotated[str, Form(max_length=64)] = "",
    claim: Annotated[str, Form(max_length=64)] = "",
    sku: Annotated[str, Form(max_length=64)] = "",
    qty: Annotated[str, Form(max_length=64)] = "",
    grams: Annotated[str, Form(max_length=64)] = "",
    language: Annotated[Literal["en", "zh_CN"], Form()] = "zh_CN",
) -> BulkResult:
    """Assess every row of an after-sales list; 422 naming the row and column of a bad one.

    Header names given here map the columns (and are remembered for the next file); without
    them the last mapping, then the usual English and Chinese headers, are used.
    """
    given = {"order": order, "claim": claim, "sku": sku, "qty": qty, "grams": grams}
    return assess_list(central, file, given, language, user.name)


def assess_list(
    central: Central, file: UploadFile, given: dict[str, str], language: str, user: str
) -> BulkResult:
    """Read, check and assess a list (HTTP 413 or 422 for a file that cannot be taken)."""
    data = file.file.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise HTTPException(413, f"the file is over {MAX_FILE_BYTES:,} bytes")
    mapping = {k: v for k, v in given.items() if v} or dict(
        central.store.desk_setting(MAPPING) or {}
    )
    try:
        rows = bulk_rows(read_table(data, file.filename or ""), mapping)
    except UsageError as exc:
        raise HTTPException(422, str(exc)) from exc
    if any(given.values()):
        central.store.remember(MAPPING, mapping, user, central.clock())
    batch = str(uuid.uuid4())
    lines = [_assess(central, row, batch, language, user) for row in rows]
    counts: dict[str, int] = {}
    for line in lines:
        counts[line.finding] = counts.get(line.finding, 0) + 1
    return BulkResult(
        batch=batch,
        lines=lines,
        counts=counts,
        appeals=f"/api/cases/batches/{batch}/appeals.zip",
        mapping=mapping,
    )


@router.get(
    "/cases/batches/{batch}/appeals.zip",
    response_class=Response,
    responses={200: {"content": {"application/zip": {}}}},
)
def api_batch_appeals(
    _user: Service,
    central: CentralDep,
    batch: Annotated[str, Path(pattern=r"^[0-9a-f-]{36}$")],
    language: Literal["en", "zh_CN"] = "zh_CN",
) -> Response:
    """One ZIP with the appeal (report PDF and photos) of every contradicted claim of a batch."""
    cases = central.store.cases_of_batch(batch)
    if not cases:
        raise HTTPException(404, "no such batch")
    out = io.BytesIO()
    done: set[str] = set()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        for case in cases:
            if case["finding"] != "contradicted" or case["order_id"] in done:
                continue
            done.add(case["order_id"])
            pdf, photos = report_of(central, case["order_id"], language)
            archive.writestr(
                f"case-{case['id']}.zip", appeal_archive(case["order_id"], pdf, photos)
            )
    headers = {"Content-Disposition": f"attachment; filename=appeals-{batch[:8]}.zip"}
    return Response(out.getvalue(), media_type="application/zip", headers=headers)


def _assess(central: Central, row: BulkRow, batch: str, language: str, user: str) -> BulkLine:
    order_id = _order_of(central, row.order)
    if order_id is None:
        return BulkLine(
            line=row.line, order=row.order, order_id=None, claim=row.claim,
            finding="not_found", because=None, case_id=None,
        )  # fmt: skip
    asked = ClaimRequest(
        order_id=order_id, claim=row.claim, sku=row.sku, qty=row.qty, grams=row.grams,
        language="zh_CN" if language == "zh_CN" else "en",
    )  # fmt: skip
    try:
        number, found = open_case(central, asked, user, batch=batch)
    except HTTPException as exc:  # the record cannot judge it (an item not in the order...)
        return BulkLine(
            line=row.line, order=row.order, order_id=order_id, claim=row.claim,
            finding="not_decidable", because=str(exc.detail), case_id=None,
        )  # fmt: skip
    return BulkLine(
        line=row.line, order=row.order, order_id=order_id, claim=row.claim,
        finding=str(found.finding),  # one of the assessed findings (pydantic checks it)
        because=Translator(language).render(found.because), case_id=number,
    )  # fmt: skip


def _order_of(central: Central, text: str) -> str | None:
    """The order a list names, by exact order id, tracking number or marketplace order."""
    key = text.strip().casefold()
    for hit in central.store.find_parcels(text, limit=5, exact=True):
        names = (str(hit["order_id"]).casefold(), hit["reference"], hit["marketplace_order"])
        if key in names:
            return str(hit["order_id"])
    return None
