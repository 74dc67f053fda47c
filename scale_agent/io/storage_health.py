"""Where a station's evidence stands: its disk, its ledger, and what the central still lacks.

Reported in `health` (and `status.json`), shown on the dashboard's tile: a disk below its
threshold is a warning before it is full; a ledger that refused a record is a FAULT at the
bench (`station.logic.ledger_failed`).
"""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING

from pydantic import Field

from scale_agent.models import StrictModel

if TYPE_CHECKING:
    from pathlib import Path


class StorageHealth(StrictModel):
    """The data folder's disk and the evidence on it."""

    free_bytes: int = Field(ge=0)
    warn_below_bytes: int = Field(ge=0)
    is_low: bool  # free space is below the warning threshold
    ledger_problem: str | None = Field(default=None, max_length=500)
    unconfirmed_records: int | None = Field(default=None, ge=0)  # the central does not hold


def storage_of(
    data_dir: Path, warn_below_bytes: int, ledger_problem: str | None, unconfirmed: int | None
) -> StorageHealth:
    """The data folder's free space against its threshold, with the ledger's and central's word."""
    try:
        free = shutil.disk_usage(data_dir).free
    except OSError:
        free = 0
    return StorageHealth(
        free_bytes=free,
        warn_below_bytes=warn_below_bytes,
        is_low=free < warn_below_bytes,
        ledger_problem=ledger_problem,
        unconfirmed_records=unconfirmed,
    )
