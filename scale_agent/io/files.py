"""Writing a file whole or not at all: readers (status, reports, verify) never see half of one."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path


def write_atomically(path: Path, data: bytes, *, durable: bool = False) -> None:
    """Write `data` to a temporary name beside `path`, then rename it over `path`.

    `durable` also syncs the bytes to disk before the rename: for evidence (a photo whose hash
    is in the chain) that must survive a power cut, not for a status that is rewritten every
    second. Raises OSError.
    """
    partial = path.with_name(f"{path.name}.partial")
    with partial.open("wb") as file:
        file.write(data)
        if durable:
            file.flush()
            os.fsync(file.fileno())
    partial.replace(path)
