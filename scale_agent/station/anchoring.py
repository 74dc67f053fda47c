"""Publishing the signed chain head: after every recorded batch, and once a minute anyway.

A head is retained on `<station>/chain_head`, so a monitor that subscribes late still gets the
newest one. Heads are signed at most once a second while verdicts arrive (the newest head
covers all before it) and every `REFRESH_S` otherwise. With no broker there is nothing to
anchor to; a key that cannot be read is logged and the station goes on (`scale_agent.io.
chain_head` says what a head proves).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from scale_agent.errors import LedgerError
from scale_agent.io.chain_head import LAST_HEAD_FILE, load_or_create_key, sign_head
from scale_agent.io.files import write_atomically

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from scale_agent.io.ledger import Ledger
    from scale_agent.io.logs import Log
    from scale_agent.io.mqtt import Publisher

MIN_GAP_S = 1.0
REFRESH_S = 60.0


class HeadAnchor:
    """Signs and publishes the chain head of one station."""

    def __init__(
        self,
        station: str,
        topic: str,
        publisher: Publisher,
        ledger: Callable[[], Ledger],
        log: Log,
    ) -> None:
        self._station = station
        self._topic = topic
        self._publisher = publisher
        self._ledger = ledger
        self._log = log
        self._key: Ed25519PrivateKey | None = None
        self._is_dirty = True
        self._next_at = self._refresh_at = 0.0
        self._last_head: Path | None = None

    def open(self, data_dir: Path) -> None:
        """Load (or make) the station's key."""
        try:
            self._key = load_or_create_key(data_dir)
            self._last_head = data_dir / LAST_HEAD_FILE
        except LedgerError as exc:
            self._log.error("chain_key_unavailable", reason=str(exc))

    def recorded(self) -> None:
        """A record was appended: the head moved."""
        self._is_dirty = True

    def tick(self, now: float) -> None:
        """Publish the head if it moved (at most once a second) or once a minute anyway."""
        if self._key is None:
            return
        if not self._publisher.is_connected:
            self._is_dirty = True  # say it again once the broker is back
            return
        if now < (self._next_at if self._is_dirty else self._refresh_at):
            return
        signed = sign_head(self._key, self._station, *self._ledger().head())
        payload = json.dumps(signed.as_json()).encode()
        if self._publisher.publish_now(self._topic, payload, qos=1, retain=True):
            self._is_dirty = False
            self._next_at, self._refresh_at = now + MIN_GAP_S, now + REFRESH_S
            self._keep(payload)

    def _keep(self, payload: bytes) -> None:
        """Keep the head last published beside the ledger: reports quote it."""
        if self._last_head is None:
            return
        try:
            write_atomically(self._last_head, payload)
        except OSError as exc:
            self._log.warning("chain_head_not_kept", reason=str(exc))
