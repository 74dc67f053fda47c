"""Customer service's cases: opened with a claim and its assessment, decided, audited."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from scale_agent.central.rows import utc
from scale_agent.central.schema import cases, desk_settings
from scale_agent.central.store.people import People

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.engine import RowMapping


class Cases(People):
    """Opening, reading and deciding cases; each change is a line in the audit trail."""

    def open_case(self, case: dict[str, Any], user: str, at: datetime) -> int:
        """Store a new case (status `open`); returns its number."""
        row = {**case, "status": "open", "opened_by": user, "opened_at": utc(at)}
        with self.engine.begin() as connection:
            inserted = connection.execute(cases.insert().values(**row)).inserted_primary_key
            number = int(inserted[0]) if inserted else 0
            detail = {
                "order_id": case["order_id"],
                "claim": case["claim"],
                "finding": case["finding"],
            }
            self._audit(connection, user, "case_opened", f"case {number}", detail, at)
        return number

    def case(self, number: int) -> RowMapping | None:
        """One case, or None."""
        with self.engine.connect() as connection:
            return connection.execute(select(cases).where(cases.c.id == number)).mappings().first()

    def cases_of(self, order_id: str) -> list[RowMapping]:
        """The cases opened on one order, newest first."""
        query = select(cases).where(cases.c.order_id == order_id).order_by(cases.c.id.desc())
        with self.engine.connect() as connection:
            return list(connection.execute(query).mappings())

    def decide_case(
        self, number: int, decision: dict[str, Any], status: str, user: str, at: datetime
    ) -> None:
        """Record a decision (who, when, why) and the case's new status."""
        with self.engine.begin() as connection:
            connection.execute(
                cases.update()
                .where(cases.c.id == number)
                .values(
                    decision=json.dumps(decision, ensure_ascii=False),
                    decided_at=utc(at),
                    status=status,
                )
            )
            self._audit(connection, user, "case_decided", f"case {number}", decision, at)

    def cases_since(self, since: datetime) -> list[RowMapping]:
        """The cases opened since a moment (what the lessons count)."""
        query = select(cases).where(cases.c.opened_at >= utc(since)).order_by(cases.c.id)
        with self.engine.connect() as connection:
            return list(connection.execute(query).mappings())

    def cases_of_batch(self, batch: str) -> list[RowMapping]:
        """The cases one bulk import opened, in its rows' order."""
        query = select(cases).where(cases.c.batch == batch).order_by(cases.c.id)
        with self.engine.connect() as connection:
            return list(connection.execute(query).mappings())

    def desk_setting(self, name: str) -> Any:  # noqa: ANN401 - a JSON value
        """A remembered desk choice (None when never set)."""
        query = select(desk_settings.c.value).where(desk_settings.c.name == name)
        with self.engine.connect() as connection:
            found = connection.execute(query).scalar()
        return None if found is None else json.loads(found)

    def remember(self, name: str, value: Any, user: str, at: datetime) -> None:  # noqa: ANN401
        """Remember a desk choice (audited)."""
        text = json.dumps(value, ensure_ascii=False)
        with self.engine.begin() as connection:
            connection.execute(desk_settings.delete().where(desk_settings.c.name == name))
            connection.execute(desk_settings.insert().values(name=name, value=text))
            self._audit(connection, user, "desk_setting", name, {"value": value}, at)
