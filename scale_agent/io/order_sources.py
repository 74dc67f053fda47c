"""Looking up a scanned order id: orders the WMS pushed (cached on disk), HTTP, or a folder.

Every source answers with a `Job` or raises `JobError` with a reason the packer can read
("order SO-9 not found", "order service timed out after 2 s", "order SO-9: lines: ...").
The station shows that reason as a FAULT: an order it could not get is never weighed as if
it were complete. Look-ups run in a worker thread, never in the station loop.

- `cache`: orders pushed on the station's `orders` topic (`scale-agent/v1/.../orders`, the same
  JSON as `job`) are kept in `orders.sqlite` beside the ledger, so they survive a restart; a
  scan of the order id loads it.
- `http`: GET `url` with `{order_id}` filled in (URL-quoted); 200 with the order JSON, 404 for
  an unknown order; anything else, a timeout or a refused connection is a failed look-up.
- `folder`: `<folder>/<order_id>.json` (the order JSON) or `<order_id>.csv` (`sku,qty` rows,
  an optional `unit_weight` and `spread` column).
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import threading
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

from pydantic import Field

from scale_agent.domain.jobs import parse_job
from scale_agent.errors import JobError
from scale_agent.models import StrictModel

if TYPE_CHECKING:
    from collections.abc import Callable

    from scale_agent.domain.jobs import Job

CACHE_FILE = "orders.sqlite"
CACHE_MAX_ORDERS = 50_000
MAX_ANSWER_BYTES = 1_000_000


class OrdersSection(StrictModel):
    """The `[orders]` section: where a scanned order id is looked up."""

    source: Literal["cache", "http", "folder"] = "cache"
    url: str | None = None  # e.g. "https://wms.example/api/orders/{order_id}"
    timeout_s: float = Field(default=3.0, gt=0, le=60)
    folder: Path | None = None


class OrderSource(Protocol):
    """Something that turns an order id into a `Job`."""

    def find(self, order_id: str) -> Job:
        """The order, or JobError with the reason."""
        ...


class OrderCache:
    """Pushed orders on disk (SQLite), shared by the MQTT thread and the look-up worker."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / CACHE_FILE
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS orders (order_id TEXT PRIMARY KEY, body BLOB NOT NULL,"
            " stored_at REAL DEFAULT (unixepoch('subsec')))"
        )

    def put(self, data: bytes) -> str:
        """Validate and keep a pushed order; returns its id. Raises JobError for bad input."""
        job = parse_job(data)
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO orders (order_id, body) VALUES (?, ?)", (job.order_id, data)
            )
            self._db.execute(
                "DELETE FROM orders WHERE order_id NOT IN"
                " (SELECT order_id FROM orders ORDER BY stored_at DESC LIMIT ?)",
                (CACHE_MAX_ORDERS,),
            )
        return job.order_id

    def find(self, order_id: str) -> Job:
        """A pushed order by id."""
        with self._lock:
            row = self._db.execute(
                "SELECT body FROM orders WHERE order_id = ?", (order_id,)
            ).fetchone()
        if row is None:
            raise JobError(
                f"order {order_id} not found (not pushed to this station)", order_id=order_id
            )
        return parse_job(row[0])

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()


class HttpOrders:
    """GET an order from the WMS."""

    def __init__(self, url: str, timeout_s: float) -> None:
        self.url = url
        self.timeout_s = timeout_s

    def find(self, order_id: str) -> Job:
        """Fetch and parse one order."""
        url = self.url.format(order_id=urllib.parse.quote(order_id, safe=""))
        request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as answer:  # noqa: S310
                body = answer.read(MAX_ANSWER_BYTES + 1)
        except urllib.error.HTTPError as exc:
            if exc.code == 404:  # noqa: PLR2004
                raise JobError(
                    f"order {order_id} not found (order service: 404)", order_id=order_id
                ) from exc
            raise JobError(
                f"order service answered {exc.code} for {order_id}", order_id=order_id
            ) from exc
        except TimeoutError as exc:
            raise JobError(
                f"order service timed out after {self.timeout_s:g} s ({order_id})",
                order_id=order_id,
            ) from exc
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise JobError(f"order service unreachable: {reason}", order_id=order_id) from exc
        if len(body) > MAX_ANSWER_BYTES:
            raise JobError(f"order service answer for {order_id} is too large", order_id=order_id)
        return _matching(parse_job(body), order_id)


class FolderOrders:
    """Orders as files dropped into a folder by the WMS."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def find(self, order_id: str) -> Job:
        """Read `<order_id>.json` or `<order_id>.csv`."""
        if "/" in order_id or order_id.startswith("."):
            raise JobError(f"order id {order_id!r} cannot name a file", order_id=order_id)
        for suffix, read in ((".json", parse_job), (".csv", _csv_order(order_id))):
            path = self.folder / f"{order_id}{suffix}"
            try:
                data = path.read_bytes()
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise JobError(f"cannot read {path}: {exc.strerror}", order_id=order_id) from exc
            return _matching(read(data), order_id)
        raise JobError(f"order {order_id} not found in {self.folder}", order_id=order_id)


def _csv_order(order_id: str) -> Callable[[bytes], Job]:
    def read(data: bytes) -> Job:
        try:
            rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
        except (UnicodeDecodeError, csv.Error) as exc:
            raise JobError(f"order {order_id}: not a CSV file: {exc}", order_id=order_id) from exc
        lines = []
        for row in rows:
            line: dict[str, object] = {"sku": row.get("sku"), "qty": _int(row.get("qty"))}
            for key in ("unit_weight", "spread"):
                if row.get(key):
                    line[key] = row[key]
            lines.append(line)
        return parse_job(json.dumps({"order_id": order_id, "lines": lines}))

    return read


def _int(text: str | None) -> int | str | None:
    return int(text) if text is not None and text.strip().isdigit() else text


def _matching(job: Job, order_id: str) -> Job:
    if job.order_id != order_id:
        raise JobError(
            f"asked for order {order_id}, the answer is order {job.order_id}", order_id=order_id
        )
    return job


def make_source(section: OrdersSection, data_dir: Path, cache: OrderCache | None) -> OrderSource:
    """The configured source (the cache is opened by the runtime: MQTT fills it)."""
    if section.source == "http":
        return HttpOrders(str(section.url), section.timeout_s)
    if section.source == "folder":
        return FolderOrders(section.folder or data_dir / "orders")
    return cache or OrderCache(data_dir)
