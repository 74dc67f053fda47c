"""Signing and keeping the chain head: after every recorded batch, and once a minute anyway.

Every station signs its head, whatever its transport: a ledger without one cannot show that
its newest records were deleted or the chain rebuilt. Heads are signed at most once a second
while verdicts arrive (the newest head covers all before it) and every `REFRESH_S` otherwise,
and each signed head is

- kept beside the ledger (`chain_head.json`: reports quote it),
- copied into every `[station] head_copies` folder (another disk, a network share, a USB
  stick: somewhere the station's own data folder is not), and
- with a broker, published retained on `<station>/chain_head`, so a monitor that subscribes
  late still gets the newest one (and a head signed while the broker was away goes out when
  it is back).

A key that cannot be read is logged and the station goes on (`scale_agent.io.chain_head` says
what a head proves).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from scale_agent.errors import LedgerError
from scale_agent.io.chain_head import LAST_HEAD_FILE, load_or_create_key, sign_head
from scale_agent.io.files import write_atomically

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from pathlib import Path

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from scale_agent.io.ledger import Ledger
    from scale_agent.io.logs import Log
    from scale_agent.io.mqtt import Publisher

MIN_GAP_S = 1.0
REFRESH_S = 60.0


class HeadAnchor:
    """Signs, keeps and (with a broker) publishes the chain head of one station."""

    def __init__(
        self,
        station: str,
        topic: str,
        publisher: Publisher | None,
        ledger: Callable[[], Ledger],
        log: Log,
        *,
        copies: Sequence[Path] = (),
    ) -> None:
        self._station = station
        self._topic = topic
        self._publisher = publisher
        self._ledger = ledger
        self._log = log
        self._copies = [
            folder / f"chain_head-{station.replace('/', '_')}.json" for folder in copies
        ]
        self._key: Ed25519PrivateKey | None = None
        self._is_dirty = True
        self._next_at = self._refresh_at = 0.0
        self._last_head: Path | None = None
        self._unpublished: bytes | None = None  # signed while the broker was away
        self._failed: set[Path] = set()  # copies that could not be written (said once)

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
        """Sign and keep the head if it moved (at most once a second) or once a minute anyway."""
        if self._key is None:
            return
        if self._unpublished is not None:
            self._publish(self._unpublished)
        if now < (self._next_at if self._is_dirty else self._refresh_at):
            return
        signed = sign_head(self._key, self._station, *self._ledger().head())
        payload = json.dumps(signed.as_json()).encode()
        self._is_dirty = False
        self._next_at, self._refresh_at = now + MIN_GAP_S, now + REFRESH_S
        self._keep(payload)
        if self._publisher is not None:
            self._publish(payload)

    def _publish(self, payload: bytes) -> None:
        """Retained on the broker; a head the broker did not take waits for it to come back."""
        assert self._publisher is not None  # noqa: S101 - only called with one
        is_sent = self._publisher.is_connected and self._publisher.publish_now(
            self._topic, payload, qos=1, retain=True
        )
        self._unpublished = None if is_sent else payload

    def _keep(self, payload: bytes) -> None:
        """Keep the head beside the ledger (reports quote it) and in every copy folder."""
        targets = [self._last_head] if self._last_head is not None else []
        for path in [*targets, *self._copies]:
            try:
                write_atomically(path, payload)
            except OSError as exc:
                if path not in self._failed:
                    self._failed.add(path)
                    self._log.warning("chain_head_not_kept", path=str(path), reason=str(exc))
            else:
                self._failed.discard(path)
