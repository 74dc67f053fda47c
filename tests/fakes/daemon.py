"""`scale-agent run` as a real subprocess, as systemd would start it."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path


class Daemon:
    """Start, kill -9, or stop the daemon; read its ledger from outside, as an auditor would."""

    def __init__(self, config: Path, data_dir: Path, env: dict[str, str] | None = None) -> None:
        self.config = config
        self.data_dir = data_dir
        self.env = env or {}
        self.process: subprocess.Popen[bytes] | None = None
        self.log = config.parent / "daemon.log"

    def start(self) -> None:
        """Start `scale-agent run -c CONFIG`."""
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "scale_agent", "run", "-c", str(self.config)],
                stdout=log,
                stderr=log,
                env={**os.environ, **self.env},
            )

    def kill_hard(self) -> None:
        """kill -9: no clean-up of any kind, as in a crash or a power cut of the process."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        self.process = None

    def stop(self) -> int:
        """SIGTERM and wait; returns the exit code."""
        if self.process is None:
            return 0
        self.process.terminate()
        try:
            code = self.process.wait(timeout=10)
        finally:
            if self.process.poll() is None:
                self.process.kill()
            self.process = None
        return code

    def query(self, sql: str) -> list[tuple[object, ...]]:
        """Read the ledger without writing to it."""
        path = self.data_dir / "ledger.sqlite3"
        if not path.exists():
            return []
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as db:
            return db.execute(sql).fetchall()

    def count(self, table: str) -> int:
        """Rows in the ledger's `verdicts` or `outbox`."""
        rows = self.query(f"SELECT COUNT(*) FROM {table}")  # noqa: S608 - test helper
        return int(str(rows[0][0])) if rows else 0
