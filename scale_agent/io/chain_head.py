"""The ledger's chain head, signed by the station, so that nobody can shorten or rewrite it.

The hash chain proves that no record in the middle was edited or removed. It cannot prove
that the newest records were not deleted, or that the whole chain was not rebuilt with new
hashes: that needs a copy of the head kept somewhere else. So the station signs its head
(record count and newest hash) with its own Ed25519 key and publishes it, retained, on
`<station>/chain_head` after every verdict and periodically; the supervisors' monitor (or
anyone) keeps the heads. `records verify --anchor HEAD` then checks that the ledger still
holds that head: fewer records means records were deleted, another hash at that position
means the chain was rewritten.

What it proves: the ledger held at least these records, unchanged, when the head was signed.
What it does not: that a record was true when written (that is the station's job), nor
anything if the station's private key was copied (keep the data folder's permissions tight,
and keep the public key `records key` shows at install somewhere else, to pin it).
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from scale_agent.errors import LedgerError

if TYPE_CHECKING:
    from pathlib import Path

    from scale_agent.io.ledger import Ledger

KEY_FILE = "station-key.pem"
PUBLIC_KEY_FILE = "station-key.pub"  # readable by anyone: what `records key` shows
SCHEMA = "scale-agent/chain_head/1"


LAST_HEAD_FILE = "chain_head.json"  # the head last published, kept beside the ledger


def load_or_create_key(data_dir: Path) -> Ed25519PrivateKey:
    """The station's signing key, made on first use (readable by the service user only)."""
    path = data_dir / KEY_FILE
    try:
        if path.exists():
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
            if not isinstance(key, Ed25519PrivateKey):
                raise LedgerError(f"{path} is not an Ed25519 key")
            return key
        data_dir.mkdir(parents=True, exist_ok=True)
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(pem)
        (data_dir / PUBLIC_KEY_FILE).write_text(public_key_text(key.public_key()) + "\n")
    except (OSError, ValueError) as exc:
        raise LedgerError(f"cannot read or make the station key {path}: {exc}") from exc
    return key


def read_public_key(data_dir: Path) -> str:
    """The station's public key as `records key` shows it.

    Raises:
        LedgerError: the station has not made its key yet (it does on its first run).
    """
    path = data_dir / PUBLIC_KEY_FILE
    try:
        return path.read_text(encoding="ascii").strip()
    except OSError as exc:
        raise LedgerError(
            f"no public key at {path}: the station makes its key on its first run "
            f"with MQTT enabled ({exc.strerror or exc})"
        ) from exc


def public_key_text(key: Ed25519PublicKey) -> str:
    """The public key as base64 of its 32 raw bytes (in every head; `records key` shows it)."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def fingerprint(public_key: str) -> str:
    """A short fingerprint to compare by eye: the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(base64.b64decode(public_key)).hexdigest()[:16]


@dataclass(frozen=True)
class SignedHead:
    """A station's chain head as signed: who, how many records, the newest hash, when."""

    station: str  # site/line/station
    records: int
    head_hash: str
    signed_at: str  # ISO 8601, UTC
    public_key: str
    signature: str

    def message(self) -> bytes:
        """The bytes that are signed (domain-separated, one field per line)."""
        return _message(self.station, self.records, self.head_hash, self.signed_at)

    def as_json(self) -> dict[str, Any]:
        """The published payload."""
        return {
            "schema_id": SCHEMA,
            "station": self.station,
            "records": self.records,
            "head_hash": self.head_hash,
            "signed_at": self.signed_at,
            "public_key": self.public_key,
            "signature": self.signature,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SignedHead:
        """Read a head (from the topic, the monitor or a file).

        Raises:
            LedgerError: it is not a chain head.
        """
        try:
            if data.get("schema_id") != SCHEMA:
                raise LedgerError(f"not a chain head ({SCHEMA})")
            return cls(
                str(data["station"]),
                int(data["records"]),
                str(data["head_hash"]),
                str(data["signed_at"]),
                str(data["public_key"]),
                str(data["signature"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise LedgerError(f"not a chain head: {exc}") from exc


def _message(station: str, records: int, head_hash: str, signed_at: str) -> bytes:
    return f"scale-agent chain head v1\n{station}\n{records}\n{head_hash}\n{signed_at}".encode()


def sign_head(key: Ed25519PrivateKey, station: str, records: int, head_hash: str) -> SignedHead:
    """Sign the chain head as it is now."""
    signed_at = datetime.now(UTC).isoformat(timespec="seconds")
    signature = key.sign(_message(station, records, head_hash, signed_at))
    return SignedHead(
        station,
        records,
        head_hash,
        signed_at,
        public_key_text(key.public_key()),
        base64.b64encode(signature).decode(),
    )


def signature_matches(head: SignedHead) -> bool:
    """The head was signed, as it reads, by the key it names."""
    try:
        public = Ed25519PublicKey.from_public_bytes(base64.b64decode(head.public_key))
        public.verify(base64.b64decode(head.signature), head.message())
    except (InvalidSignature, ValueError):
        return False
    return True


def check_anchor(ledger: Ledger, anchor: SignedHead, pinned_key: str | None = None) -> str | None:
    """Why the ledger does not hold the anchored head, or None when it does.

    The signature is checked first (against `pinned_key` when given, else the key in the
    head, with the caveat the module docstring gives), then that the ledger has at least
    `records` records and that record number `records` carries `head_hash`.
    """
    if pinned_key is not None and pinned_key != anchor.public_key:
        return "the anchor was signed by another key than the station's"
    if not signature_matches(anchor):
        return "the anchor's signature does not match its content (the anchor was altered)"
    count, _ = ledger.head()
    if count < anchor.records:
        missing = anchor.records - count
        return (
            f"the ledger holds {count} record(s) but held {anchor.records} when the anchor "
            f"was signed at {anchor.signed_at}: {missing} newest record(s) were deleted"
        )
    stored = ledger.hash_at(anchor.records)
    if stored != anchor.head_hash:
        return (
            f"record {anchor.records} does not carry the anchored hash: the chain was "
            "rewritten after the anchor was signed"
        )
    return None
