"""Headless Chromium (Debian's build) driven by Playwright, for the pages people look at.

Playwright's own browser download is never used: `scripts/test` installs Debian's `chromium`
and the CJK fonts, and a missing browser fails the test with that instruction rather than
skipping it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from playwright.sync_api import sync_playwright

if TYPE_CHECKING:
    from collections.abc import Iterator

    from playwright.sync_api import Browser

CHROMIUM = os.environ.get("SCALE_AGENT_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(
    os.environ.get(
        "SCALE_AGENT_SCREENSHOTS",
        Path(__file__).resolve().parent.parent.parent / "build" / "screenshots",
    )
)
# The flags this machine needs: root needs --no-sandbox; the network is closed, so nothing
# in the background may try to reach Google.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]


def chromium() -> Iterator[Browser]:
    """A headless Chromium for one test module."""
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        raise AssertionError(
            f"{CHROMIUM} is missing: run scripts/test, which installs Debian's chromium"
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            yield browser
        finally:
            browser.close()


def screenshot_folder(name: str) -> Path:
    """Where a test writes its screenshots (`build/screenshots/<name>/`), emptied first."""
    folder = SCREENSHOTS / name
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    return folder
