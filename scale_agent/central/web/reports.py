"""Reports over many parcels: the shift summary and the SKU weight feedback."""

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query

from scale_agent.central.skus import SkuReport
from scale_agent.central.summary import Summary, shift_at
from scale_agent.central.web.central import CentralDep, Viewer

MAX_SUMMARY_DAYS = 31  # a summary reads every alert of its range: a month at most

router = APIRouter(prefix="/api", tags=["api"])


@router.get("/summary")
def api_summary(
    _user: Viewer,
    central: CentralDep,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Summary:
    """Parcels, pass rate and alerts by verdict, station, packer, SKU and hour.

    Without `since` and `until`: the shift running now. A range is at most 31 days.
    """
    zone = central.zone
    shift = shift_at(central.clock(), zone, central.shifts)
    start = since or shift.start
    start = start.replace(tzinfo=zone) if start.tzinfo is None else start
    end = until or (shift.end if since is None else start + timedelta(days=1))
    end = end.replace(tzinfo=zone) if end.tzinfo is None else end
    if not start < end <= start + timedelta(days=MAX_SUMMARY_DAYS):
        raise HTTPException(422, f"until must be after since, by {MAX_SUMMARY_DAYS} days at most")
    return central.summary_of(start, end)


@router.get("/skus")
def api_skus(
    _user: Viewer, central: CentralDep, days: Annotated[int, Query(ge=1, le=90)] = 7
) -> SkuReport:
    """Per SKU: the unit weight the fleet's scales measured against the declared one.

    A robust fit over every judged weighing of the last `days`, with a 95 % confidence
    interval; flagged when the interval excludes the declared weight by more than 2 %,
    or the spread is clearly wider than declared. Refitted at most every five minutes.
    """
    return central.skus_of(days)
