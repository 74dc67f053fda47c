"""The people: users and their API tokens, acknowledgements, and the audit trail."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    select,
)

from scale_agent.central.schema import (
    acknowledgements,
    audit,
    users,
)

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.engine import Connection, RowMapping


from scale_agent.central.rows import utc
from scale_agent.central.store.base import StoreBase


class People(StoreBase):
    """Users, tokens, acknowledgements and the audit trail."""

    def acknowledge(self, msg_id: str, user: str, note: str, at: datetime) -> None:
        """Record an acknowledgement, and the same in the audit trail."""
        with self.engine.begin() as connection:
            connection.execute(
                acknowledgements.insert().values(
                    msg_id=msg_id, user_name=user, note=note, at=utc(at)
                )
            )
            self._audit(connection, user, "acknowledge", msg_id, {"note": note}, at)

    def record(
        self, user: str, action: str, target: str, detail: dict[str, Any], at: datetime
    ) -> None:
        """Add one line to the audit trail."""
        with self.engine.begin() as connection:
            self._audit(connection, user, action, target, detail, at)

    def _audit(  # noqa: PLR0917 - one column each
        self,
        connection: Connection,
        user: str,
        action: str,
        target: str,
        detail: dict[str, Any],
        at: datetime,
    ) -> None:
        connection.execute(
            audit.insert().values(
                at=utc(at),
                user_name=user,
                action=action,
                target=target[:255],
                detail=json.dumps(detail, ensure_ascii=False),
            )
        )

    def audit_trail(self, limit: int = 100) -> list[RowMapping]:
        """The newest audit lines."""
        with self.engine.connect() as connection:
            query = select(audit).order_by(audit.c.id.desc()).limit(limit)
            return list(connection.execute(query).mappings())

    def put_user(self, name: str, password_hash: str, role: str) -> None:
        """Add a user or change their password and role."""
        with self.engine.begin() as connection:
            insert = self._insert(users).values(name=name, password_hash=password_hash, role=role)
            connection.execute(
                insert.on_conflict_do_update(
                    index_elements=["name"],
                    set_={
                        "password_hash": insert.excluded.password_hash,
                        "role": insert.excluded.role,
                    },
                )
            )

    def set_token(self, name: str, token_hash: str) -> bool:
        """Give a user a new API token (its hash); False for an unknown user."""
        with self.engine.begin() as connection:
            done = connection.execute(
                users.update().where(users.c.name == name).values(token_hash=token_hash)
            )
            return done.rowcount == 1

    def user(self, name: str) -> RowMapping | None:
        """A user by name."""
        with self.engine.connect() as connection:
            return connection.execute(select(users).where(users.c.name == name)).mappings().first()

    def user_by_token(self, token_hash: str) -> RowMapping | None:
        """The user whose API token has this hash."""
        with self.engine.connect() as connection:
            query = select(users).where(users.c.token_hash == token_hash)
            return connection.execute(query).mappings().first()
