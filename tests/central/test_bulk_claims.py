"""The day's after-sales list, assessed in one go: a GB18030 CSV with Chinese headers, an XLSX
with its own headers mapped (and the mapping remembered), a bad file refused whole."""

from __future__ import annotations

import io
import zipfile
from typing import TYPE_CHECKING

import httpx
from openpyxl import Workbook

from tests.central.test_case_desk import one_order_at_the_central

if TYPE_CHECKING:
    from pathlib import Path

    import pytest

    from tests.fakes.mosquitto import Mosquitto

LIST = """订单号,售后类型,商品编码,数量
SF1402007919,少件,SKU-1023,1
so-c1,错发,,
SO-NOPE,少件,SKU-1023,1
"""


def _xlsx(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_list_is_assessed_row_by_row_and_a_bad_one_opens_nothing(
    tmp_path: Path, broker: Mosquitto, database: str, request: pytest.FixtureRequest
) -> None:
    with (
        one_order_at_the_central(tmp_path, broker, database, request) as (central, url, tokens),
        httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {tokens['wang.fang']}"}, timeout=30
        ) as service,
    ):
        files = {"file": ("售后.csv", LIST.encode("gb18030"), "text/csv")}
        result = service.post("/api/cases/bulk", files=files).json()
        findings = [(line["line"], line["finding"]) for line in result["lines"]]
        assert findings == [(2, "contradicted"), (3, "not_decidable"), (4, "not_found")]
        assert result["counts"] == {"contradicted": 1, "not_decidable": 1, "not_found": 1}
        assert result["lines"][0]["order_id"] == "SO-C1"  # found by its tracking number
        appeals = service.get(result["appeals"])
        assert appeals.status_code == 200
        [inner] = zipfile.ZipFile(io.BytesIO(appeals.content)).namelist()
        assert inner == f"case-{result['lines'][0]['case_id']}.zip"
        opened = len(central.store.cases_of("SO-C1"))

        bad = LIST + "SO-C1,少件,SKU-1023,two\n"
        files = {"file": ("bad.csv", bad.encode(), "text/csv")}
        refused = service.post("/api/cases/bulk", files=files)
        assert refused.status_code == 422
        assert refused.json()["detail"].startswith("row 5, column '数量': 'two'")
        assert len(central.store.cases_of("SO-C1")) == opened  # nothing half done
        binary = {"file": ("x.csv", b"order,claim\nSO-C1\x00,missing\n", "text/csv")}
        assert "NUL" in service.post("/api/cases/bulk", files=binary).json()["detail"]

        workbook = _xlsx(
            [["Waybill No.", "Issue", "Item", "Pieces"], ["SF1402007919", "missing", "SKU-1023", 1]]
        )
        files = {"file": ("list.xlsx", workbook, "application/octet-stream")}
        mapping = {"order": "Waybill No.", "claim": "Issue", "sku": "Item", "qty": "Pieces"}
        mapped = service.post("/api/cases/bulk", files=files, data=mapping).json()
        assert [line["finding"] for line in mapped["lines"]] == ["contradicted"]
        again = service.post("/api/cases/bulk", files=files).json()  # the mapping remembered
        assert again["mapping"] == mapping
        assert [line["finding"] for line in again["lines"]] == ["contradicted"]
