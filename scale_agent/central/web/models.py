"""The API's request and answer bodies that are not views of stored rows."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class AckIn(BaseModel):
    """An acknowledgement: what the supervisor did or found."""

    note: str = Field(min_length=1, max_length=500)


class CommandIn(BaseModel):
    """A command for a station, sent in the signed-in user's name."""

    command: Literal["reweigh", "override"]
    reason: str | None = Field(default=None, min_length=3, max_length=500)
    order_id: str | None = Field(default=None, max_length=128)


class Sent(BaseModel):
    """The command as published (the station's own audit trail records what it did)."""

    request_id: str
    topic: str


class Refused(BaseModel):
    """A message the monitor refused, and why."""

    received_at: str
    topic: str
    reason: str
    excerpt: str


class RefusedList(BaseModel):
    """Refused messages: how many in all, the newest first."""

    total: int
    newest: list[Refused]
