"""Where a station's evidence stands: its disk, its ledger, and what the central still lacks.

Reported in `health` (and `status.json`), shown on the dashboard's tile: a disk below its
threshold is a warning before it is full; a ledger that refused a record is a FAULT at the
bench (`station.logic.ledger_failed`).
"""

from __future__ import annotations

from pydantic import Field

from scale_agent.models import StrictModel


class StorageHealth(StrictModel):
    """The data folder's disk and the evidence on it."""

    free_bytes: int = Field(ge=0)
    warn_below_bytes: int = Field(ge=0)
    is_low: bool  # free space is below the warning threshold
    ledger_problem: str | None = Field(default=None, max_length=500)
    unconfirmed_records: int | None = Field(default=None, ge=0)  # the central does not hold
