"""The day's after-sales list, read for the case desk (pure: bytes in, rows or one error out).

Customer service exports the marketplace's after-sales list as CSV (UTF-8 or the GB18030 that
Chinese spreadsheet programs write) or XLSX. A mapping says which column holds the order (our
order id, the tracking number or the marketplace order), the claim, the item, the quantity and
the grams; the usual English and Chinese headers are known without one. Every row is checked
before anything is done: a bad file is one error naming the row and the column, never half
an import.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from scale_agent.errors import UsageError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from scale_agent.central.desk import ClaimKind

MAX_ROWS = 5000
FIELDS = ("order", "claim", "sku", "qty", "grams")
# Headers recognised without a mapping (compared casefolded, spaces and underscores ignored).
KNOWN_HEADERS: dict[str, tuple[str, ...]] = {
    "order": (
        "order",
        "orderid",
        "order_id",
        "ordernumber",
        "tracking",
        "trackingnumber",
        "waybill",
        "marketplaceorder",
        "订单号",
        "订单编号",
        "运单号",
        "快递单号",
        "平台订单号",
    ),
    "claim": ("claim", "claimtype", "reason", "issue", "售后类型", "问题类型", "售后原因", "原因"),
    "sku": ("sku", "item", "itemsku", "商品编码", "商品sku", "sku编码", "货号"),
    "qty": ("qty", "quantity", "count", "数量", "缺少数量", "件数"),
    "grams": ("grams", "shortgrams", "underweightg", "少重克", "缺少重量克", "克数"),
}
CLAIM_WORDS: dict[str, ClaimKind] = {
    "missing": "missing", "itemmissing": "missing", "少件": "missing", "缺件": "missing",
    "漏发": "missing", "少发": "missing",
    "underweight": "underweight", "short": "underweight", "重量不足": "underweight",
    "少重": "underweight", "分量不足": "underweight",
    "wrongitem": "wrong_item", "wrong": "wrong_item", "错发": "wrong_item", "发错": "wrong_item",
    "empty": "empty", "emptyparcel": "empty", "空包": "empty", "空包裹": "empty",
    "damaged": "damaged", "broken": "damaged", "破损": "damaged", "损坏": "damaged",
}  # fmt: skip


@dataclass(frozen=True)
class BulkRow:
    """One complaint of the list, checked."""

    line: int  # the row number as the spreadsheet shows it (the header is row 1)
    order: str
    claim: ClaimKind
    sku: str | None
    qty: int
    grams: Decimal | None


def read_table(data: bytes, filename: str) -> list[list[str]]:
    """The file's cells as text, row by row (XLSX by its name or magic, else CSV)."""
    if filename.lower().endswith(".xlsx") or data[:2] == b"PK":
        return _xlsx(data)
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" in text:  # a binary file, or text PostgreSQL could not hold
            raise UsageError("the file holds NUL characters: not a CSV list")
        try:
            rows = list(csv.reader(io.StringIO(text)))
        except csv.Error as exc:
            raise UsageError(f"not a readable CSV file: {exc}") from exc
        return [row for row in rows if any(cell.strip() for cell in row)]
    raise UsageError("the file is neither UTF-8 nor GB18030 text, nor an XLSX workbook")


def columns(header: list[str], mapping: Mapping[str, str]) -> dict[str, int]:
    """Which column holds each field: the mapping's header names first, else known headers."""
    found: dict[str, int] = {}
    keys = [_key(cell) for cell in header]
    for field in FIELDS:
        wanted = mapping.get(field)
        names = (_key(wanted),) if wanted else tuple(_key(n) for n in KNOWN_HEADERS[field])
        for number, key in enumerate(keys):
            if key in names:
                found[field] = number
                break
        else:
            if wanted:
                raise UsageError(f"row 1: no column {wanted!r} (for {field}) in the header")
    for needed in ("order", "claim"):
        if needed not in found:
            raise UsageError(f"row 1: no column for the {needed}: map it (e.g. {needed}=订单号)")
    return found


def bulk_rows(table: list[list[str]], mapping: Mapping[str, str]) -> list[BulkRow]:
    """Every row checked; the first bad one raises a UsageError naming its row and column."""
    if not table:
        raise UsageError("the file has no rows")
    if len(table) - 1 > MAX_ROWS:
        raise UsageError(f"{len(table) - 1} rows: at most {MAX_ROWS} per file")
    header, *rows = table
    where = columns(header, mapping)
    return [_row(number, row, where, header) for number, row in enumerate(rows, start=2)]


def _row(number: int, row: list[str], where: dict[str, int], header: list[str]) -> BulkRow:
    def cell(field: str) -> str:
        index = where.get(field)
        return row[index].strip() if index is not None and index < len(row) else ""

    def bad(field: str, why: str) -> UsageError:
        return UsageError(f"row {number}, column {header[where[field]]!r}: {why}")

    order = cell("order")
    if not order or len(order) > 128:  # noqa: PLR2004 - the order column's width
        raise bad("order", "no order, tracking or marketplace number" if not order else "too long")
    claim = CLAIM_WORDS.get(_key(cell("claim")))
    if claim is None:
        raise bad("claim", f"{cell('claim')[:40]!r} is not a claim this desk knows")
    qty_text = (cell("qty") or "1").removesuffix(".0")  # a workbook's 2 may read 2.0
    if not qty_text.isdigit() or not 1 <= int(qty_text) <= 10_000:  # noqa: PLR2004
        raise bad("qty", f"{qty_text[:20]!r} is not a whole number from 1 to 10000")
    grams = _grams(cell("grams"), lambda why: bad("grams", why))
    if claim == "underweight" and grams is None:
        raise UsageError(f"row {number}: an underweight claim needs the grams")
    if claim == "missing" and not cell("sku"):
        raise UsageError(f"row {number}: a missing-item claim needs the item (its SKU)")
    return BulkRow(number, order, claim, cell("sku") or None, int(qty_text), grams)


def _grams(text: str, bad: Callable[[str], UsageError]) -> Decimal | None:
    if not text:
        return None
    try:
        grams = Decimal(text)
    except InvalidOperation:
        raise bad(f"{text[:20]!r} is not a number") from None
    if not grams.is_finite() or not 0 < grams <= 1_000_000:  # noqa: PLR2004
        raise bad("must be above 0 and at most 1,000,000")
    return grams


def _key(text: str | None) -> str:
    """A header or word compared loosely: no spaces, underscores or brackets, any case."""
    kept = "".join((text or "").split())
    for mark in "_()\uff08\uff09":  # full-width brackets too, as Chinese headers have them
        kept = kept.replace(mark, "")
    return kept.casefold()


def _xlsx(data: bytes) -> list[list[str]]:
    try:
        from openpyxl import load_workbook  # noqa: PLC0415 - only for a workbook
    except ImportError as exc:
        raise UsageError("reading XLSX needs openpyxl: pip install 'scale-agent[central]'") from exc
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:
        raise UsageError(f"not a readable XLSX workbook: {type(exc).__name__}") from exc
    sheet = book.worksheets[0]
    table = [
        ["" if value is None else str(value).strip().replace("\x00", "") for value in row]
        for row in sheet.iter_rows(values_only=True)
    ]
    book.close()
    return [row for row in table if any(row)]
