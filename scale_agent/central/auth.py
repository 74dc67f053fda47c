"""Who may do what on the central monitor: users, roles, passwords, sessions, tokens, CSRF.

Passwords are kept as argon2id hashes (argon2-cffi). The browser holds a signed session cookie
(itsdangerous) naming the user and a CSRF token; every state change from the page sends that
token back (a form field or the `X-CSRF-Token` header) and is refused without it. Scripts use
the JSON API with a bearer token, whose SHA-256 alone is stored.

Roles, each allowed what the one before it may: `viewer` reads; `service` (customer service)
reads the evidence and opens and decides cases; `supervisor` acknowledges alerts, sends stations
commands and approves large decisions; `admin` manages users.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, URLSafeTimedSerializer

Role = Literal["viewer", "service", "supervisor", "admin"]
ROLES: tuple[Role, ...] = ("viewer", "service", "supervisor", "admin")
SESSION_COOKIE = "central_session"
SESSION_MAX_AGE_S = 12 * 3600  # one shift and then some

_hasher = PasswordHasher()


@dataclass(frozen=True)
class User:
    """Someone signed in (or a script with a token)."""

    name: str
    role: Role
    csrf: str | None = None  # None for token users: no cookie, no CSRF

    def may(self, needed: Role) -> bool:
        """True when this user's role is `needed` or above."""
        return ROLES.index(self.role) >= ROLES.index(needed)


def hash_password(password: str) -> str:
    """An argon2id hash of the password."""
    return _hasher.hash(password)


def password_matches(stored_hash: str, password: str) -> bool:
    """True when the password matches the stored hash."""
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def new_token() -> str:
    """A new API token (shown once; only its hash is kept)."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What the database keeps of a token."""
    return hashlib.sha256(token.encode()).hexdigest()


class Sessions:
    """Signed session cookies: the user's name and their CSRF token."""

    def __init__(self, secret: str) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt="central-session")

    def issue(self, name: str) -> tuple[str, str]:
        """(cookie value, CSRF token) for a user who just signed in."""
        csrf = secrets.token_urlsafe(24)
        return self._serializer.dumps({"user": name, "csrf": csrf}), csrf

    def read(self, cookie: str | None) -> tuple[str, str] | None:
        """(user name, CSRF token) from a valid, unexpired cookie, else None."""
        if not cookie:
            return None
        try:
            data = self._serializer.loads(cookie, max_age=SESSION_MAX_AGE_S)
        except BadSignature:
            return None
        if not isinstance(data, dict):
            return None
        name, csrf = data.get("user"), data.get("csrf")
        if not isinstance(name, str) or not isinstance(csrf, str):
            return None
        return name, csrf


def csrf_matches(expected: str | None, given: str | None) -> bool:
    """Constant-time comparison of the session's CSRF token and the one sent back."""
    return bool(expected and given) and hmac.compare_digest(str(expected), str(given))
