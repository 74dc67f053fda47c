"""The stations, their chain heads and commands; the central's instances, ingest and refusals."""

import uuid
from typing import Annotated

from fastapi import APIRouter, HTTPException
from fastapi import Path as PathPart
from fastapi.responses import Response

from scale_agent.central.ingest import IngestState
from scale_agent.central.views import InstanceView, StationView
from scale_agent.central.web.central import CentralDep, Language, Supervisor, Viewer
from scale_agent.central.web.models import CommandIn, Refused, RefusedList, Sent
from scale_agent.io.messages import TOPIC_NAME, TOPIC_ROOT, CommandPayload

NAME = f"^{TOPIC_NAME}$"  # a site, line or station id, as stations' configs allow them
Name = Annotated[str, PathPart(pattern=NAME)]

router = APIRouter(prefix="/api", tags=["api"])


@router.get("/stations")
def api_stations(_user: Viewer, texts: Language, central: CentralDep) -> list[StationView]:
    """Every station: online, offline or silent, its light, scale, ledger and problems."""
    return central.station_views(texts)


@router.get(
    "/stations/{site}/{line}/{station}/chain_head",
    responses={200: {"content": {"application/json": {}}}, 404: {}},
)
def api_chain_head(
    *, site: Name, line: Name, station: Name, _user: Viewer, central: CentralDep
) -> Response:
    """The station's newest signed chain head, as it sent it.

    Saved to a file, it is the anchor for `scale-agent records verify --anchor FILE` at the
    station: deleted newest records, or a rewritten chain, then show.
    """
    head = central.store.chain_head(site, line, station)
    if head is None:
        raise HTTPException(404, "no signed chain head from this station")
    return Response(head, media_type="application/json")


@router.post("/stations/{site}/{line}/{station}/command")
def api_command(
    *, site: Name, line: Name, station: Name, body: CommandIn, user: Supervisor, central: CentralDep
) -> Sent:
    """Ask a station to re-weigh, or to let a failed parcel be sealed.

    Audited here and at the station, whose own audit trail stays the truth.
    """
    if body.command == "override" and not body.reason:
        raise HTTPException(422, "an override needs a reason")
    request_id = str(uuid.uuid4())
    payload = CommandPayload(
        request_id=request_id,
        command=body.command,
        operator=user.name,
        reason=body.reason,
        order_id=body.order_id,
    )
    topic = f"{TOPIC_ROOT}/{site}/{line}/{station}/command"
    if not central.send(topic, payload.model_dump_json(exclude_none=True).encode()):
        raise HTTPException(503, "the broker is not reachable: nothing was sent")
    detail = payload.model_dump(mode="json")
    central.store.record(user.name, "command", topic, detail, central.clock())
    return Sent(request_id=request_id, topic=topic)


@router.get("/instances")
def api_instances(_user: Viewer, texts: Language, central: CentralDep) -> list[InstanceView]:
    """Every instance of the central: storing, stalled, or stopped (its share waits)."""
    return central.instance_views(texts)


@router.get("/ingest")
def api_ingest(_user: Viewer, central: CentralDep) -> IngestState:
    """This instance's ingest: stored, duplicates, refused, and whether it has stalled."""
    if central.ingest is None:
        raise HTTPException(404, "this instance does not ingest")
    return central.ingest()


@router.get("/refused")
def api_refused(_user: Viewer, central: CentralDep) -> RefusedList:
    """Messages that were not the contract: counted and kept, never stored as data."""
    total, rows = central.store.refusals()
    return RefusedList(
        total=total,
        newest=[
            Refused(
                received_at=str(row["received_at"]),
                topic=row["topic"],
                reason=row["reason"],
                excerpt=row["excerpt"],
            )
            for row in rows
        ],
    )
