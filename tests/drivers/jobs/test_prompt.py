"""The typing prompt, fed through a FIFO as a kiosk would."""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING

from drivers.jobs.prompt import Prompt, Settings

if TYPE_CHECKING:
    from pathlib import Path


def test_typed_lines_are_codes(tmp_path: Path) -> None:
    fifo = tmp_path / "prompt"
    os.mkfifo(fifo)
    prompt = Prompt(Settings(path=str(fifo)))
    try:
        prompt.open()
        writer = os.open(fifo, os.O_WRONLY)
        os.write(writer, b"SO-1001\n  \nCMD-REWEIGH\n")
        os.close(writer)
        seen: list[str] = []
        deadline = time.monotonic() + 3
        while len(seen) < 2 and time.monotonic() < deadline:
            seen += prompt.read()
        assert seen == ["SO-1001", "CMD-REWEIGH"]
    finally:
        prompt.close()
