"""The central monitor beside the demo station (`scale-agent demo --central`).

A real monitor (the same service as `central run`) over the demo's broker, with its SQLite
database and settings in `<demo data dir>/central/`, so history builds up from one demo run to
the next. It signs in one user, `supervisor`, with a password made for each run and printed.
"""

from __future__ import annotations

import secrets
import socket
import threading
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from scale_agent.central.auth import hash_password
from scale_agent.central.service import CentralService
from scale_agent.central.settings import load_central

PORT = 8780
USER = "supervisor"


@dataclass
class DemoMonitor:
    """A running monitor: where it is and how to sign in."""

    service: CentralService
    url: str
    password: str
    thread: threading.Thread

    def stop(self) -> None:
        """Store what arrived, stop serving."""
        self.service.stop()
        self.thread.join(timeout=10)


def local_zone() -> str:
    """The machine's IANA time zone (from /etc/localtime), else UTC."""
    try:
        key = Path("/etc/localtime").resolve().as_posix().split("/zoneinfo/", 1)[1]
        ZoneInfo(key)
    except (IndexError, OSError, ZoneInfoNotFoundError, ValueError):
        return "UTC"
    return key


def _listener() -> socket.socket:
    """Port 8780 if free (what the README shows), else any free port."""
    try:
        return socket.create_server(("127.0.0.1", PORT))
    except OSError:
        return socket.create_server(("127.0.0.1", 0))


def start(data_dir: Path, mqtt_url: str, site: str, language: str) -> DemoMonitor:
    """Start a monitor for the demo site's stations over `mqtt_url`."""
    folder = data_dir / "central"
    folder.mkdir(parents=True, exist_ok=True)
    toml = folder / "central.toml"
    toml.write_text(
        "# Written by `scale-agent demo --central` on every run.\n"
        "[central]\n"
        'database = "central.sqlite3"\n'
        f'listen = "127.0.0.1:{PORT}"\n'
        f'timezone = "{local_zone()}"\n'
        f'site = "{site}"\n'
        f'language = "{"zh_CN" if language == "zh_CN" else "en"}"\n'
        "[mqtt]\n"
        f'url = "{mqtt_url}"\n'
        'client_id = "central-demo"\n',
        encoding="utf-8",
    )
    service = CentralService(load_central(toml))
    password = secrets.token_urlsafe(9)
    service.store.put_user(USER, hash_password(password), "supervisor")
    listener = _listener()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/"
    service.start_ingest()
    thread = threading.Thread(target=service.serve, args=(listener,), name="central-web")
    thread.start()
    return DemoMonitor(service, url, password, thread)
