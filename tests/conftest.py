"""Shared fixtures: a broker per session, leak checks, station configs on disk."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.fakes.mosquitto import Mosquitto
from tests.fakes.mt_sics_scale import FakeMtSicsScale

if TYPE_CHECKING:
    from collections.abc import Iterator

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _no_leaked_threads() -> Iterator[None]:
    """Fail a test that leaves threads running (a station or link not stopped)."""
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 3
    while True:
        leaked = [
            t
            for t in set(threading.enumerate()) - before
            # Playwright's event loop starts its executor threads on first use; they belong
            # to the module's browser, which closes them at its end (the station uses none).
            if t.is_alive() and not t.name.startswith("asyncio_")
        ]
        if not leaked or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    assert not leaked, f"threads left running: {[t.name for t in leaked]}"


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
    """A Mosquitto shared by the tests that do not stop it."""
    server = Mosquitto(tmp_path_factory.mktemp("mosquitto"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[Mosquitto]:
    """A Mosquitto this test may stop and restart; it keeps sessions across restarts."""
    server = Mosquitto(tmp_path, persistent=True)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def scale() -> Iterator[FakeMtSicsScale]:
    """An MT-SICS scale on a pseudo-terminal, streaming what the test sets."""
    fake = FakeMtSicsScale()
    yield fake
    fake.close()
