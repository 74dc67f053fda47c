"""Where the demo keeps its ledger: known to the demo and to the commands tried after it.

A module of its own so that `records find` can look there without importing the station.
"""

from __future__ import annotations

import os
from pathlib import Path


def default_data_dir() -> Path:
    """Where the demo keeps its ledger unless told otherwise (XDG state folder)."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "scale-agent" / "demo"
