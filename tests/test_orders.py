"""Order look-up sources: the pushed-order cache across a restart, and a drop folder."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from scale_agent.errors import JobError
from scale_agent.io.order_sources import FolderOrders, OrderCache

if TYPE_CHECKING:
    from pathlib import Path

ORDER = {"order_id": "SO-5", "lines": [{"sku": "SKU-1023", "qty": 2}], "carton": "BOX-S"}


def test_pushed_orders_survive_a_restart(tmp_path: Path) -> None:
    cache = OrderCache(tmp_path)
    assert cache.put(json.dumps(ORDER).encode()) == "SO-5"
    with pytest.raises(JobError, match="order rejected"):
        cache.put(b'{"order_id": "SO-6"}')  # no lines: refused, not stored
    cache.close()
    again = OrderCache(tmp_path)  # the station restarted
    try:
        assert again.find("SO-5").lines[0].qty == 2
        with pytest.raises(JobError, match="SO-6 not found"):
            again.find("SO-6")
    finally:
        again.close()


def test_a_drop_folder_serves_json_and_csv_orders(tmp_path: Path) -> None:
    (tmp_path / "SO-5.json").write_text(json.dumps(ORDER))
    (tmp_path / "SO-7.csv").write_text("sku,qty,unit_weight\nSKU-1023,1,\nSKU-X,3,12g\n")
    (tmp_path / "SO-8.json").write_text('{"order_id": "SO-9", "lines": [{"sku": "A", "qty": 1}]}')
    (tmp_path / "SO-10.csv").write_text("sku,qty\nSKU-1023,two\n")
    folder = FolderOrders(tmp_path)
    assert folder.find("SO-5").carton_id == "BOX-S"
    seven = folder.find("SO-7")
    assert [(line.sku, line.qty, str(line.unit_weight)) for line in seven.lines] == [
        ("SKU-1023", 1, "None"),
        ("SKU-X", 3, "12g"),
    ]
    with pytest.raises(JobError, match="the answer is order SO-9"):
        folder.find("SO-8")
    with pytest.raises(JobError, match="qty"):
        folder.find("SO-10")
    with pytest.raises(JobError, match="not found"):
        folder.find("SO-11")
    with pytest.raises(JobError, match="cannot name a file"):
        folder.find("../etc/passwd")
