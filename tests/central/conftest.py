"""The central monitor's test parts: a fresh SQLite file or a fresh PostgreSQL database each.

PostgreSQL must be reachable on 127.0.0.1:5432 (scripts/test starts or installs it); a test
that cannot reach it fails, it is never skipped.
"""

from __future__ import annotations

import os
import uuid
from typing import TYPE_CHECKING

import psycopg
import pytest

from tests.fakes.browser import chromium

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from playwright.sync_api import Browser

POSTGRES = os.environ.get("SCALE_AGENT_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's headless Chromium, one per test module."""
    yield from chromium()


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database URL: an SQLite file, or a PostgreSQL database made for this test."""
    if request.param == "sqlite":
        yield str(tmp_path / "central.sqlite3")
        return
    name = f"central_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(POSTGRES, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        raise AssertionError(
            f"PostgreSQL is not reachable at {POSTGRES} ({exc}): run scripts/test, which starts it"
        ) from exc
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = POSTGRES.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(POSTGRES, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
