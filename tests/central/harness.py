"""A central monitor in the test process: its ingest, and its web server on a free port."""

from __future__ import annotations

import socket
import threading
from contextlib import contextmanager
from typing import TYPE_CHECKING

import paho.mqtt.publish as mqtt_publish

from scale_agent.central.auth import hash_password, new_token, token_hash
from scale_agent.central.service import CentralService
from scale_agent.central.settings import load_central
from scale_agent.testing import wait_until

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from playwright.sync_api import Page

PASSWORDS = {
    "li.wei": "supervisor-pass",
    "zhang.min": "viewer-pass-1",
    "wang.fang": "service-pass-1",
    "root": "admin-pass-1",
}
ROLES = {"li.wei": "supervisor", "zhang.min": "viewer", "wang.fang": "service", "root": "admin"}


def write_central(folder: Path, database: str, broker_url: str, site: str, **keys: str) -> Path:
    """central.toml for a test, watching one site's stations."""
    extra = "".join(f'{key} = "{value}"\n' for key, value in keys.items())
    path = folder / "central.toml"
    path.write_text(
        f"""
[central]
database = "{database}"
listen = "127.0.0.1:0"
timezone = "Asia/Shanghai"
site = "{site}"
{extra}
[mqtt]
url = "{broker_url}"
client_id = "central-{site}"
"""
    )
    return path


@contextmanager
def running_central(config_path: Path) -> Iterator[tuple[CentralService, str, dict[str, str]]]:
    """(the service, its base URL, an API token per user) while it runs."""
    service = CentralService(load_central(config_path))
    tokens = {}
    for name, password in PASSWORDS.items():
        service.store.put_user(name, hash_password(password), ROLES[name])
        tokens[name] = new_token()
        service.store.set_token(name, token_hash(tokens[name]))
    listener = socket.create_server(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    service.start_ingest()
    # Subscribed before the test publishes: a message sent earlier would be nobody's.
    wait_until(lambda: service.subscription.is_subscribed)
    web = threading.Thread(target=service.serve, args=(listener,), name="central-web")
    web.start()
    try:
        yield service, url, tokens
    finally:
        service.stop()
        web.join(timeout=10)
        listener.close()


def sign_in(page: Page, url: str, name: str) -> None:
    """Sign in on the monitor's page as one of the test users."""
    page.goto(f"{url}/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORDS[name])
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/")


def publish_all(port: int, messages: list[tuple[str, bytes]]) -> None:
    """Publish (topic, payload) pairs at QoS 1 as the stations would, on one connection."""
    mqtt_publish.multiple(
        [{"topic": topic, "payload": body, "qos": 1} for topic, body in messages],
        hostname="127.0.0.1",
        port=port,
    )
