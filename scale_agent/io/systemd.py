"""sd_notify without a dependency: READY, STATUS, WATCHDOG and STOPPING datagrams.

The protocol is one AF_UNIX datagram to `$NOTIFY_SOCKET` with newline-separated KEY=VALUE
lines; a leading `@` names the abstract namespace (reference/engineering.md section 5.1).
Outside systemd every call is a no-op.
"""

from __future__ import annotations

import os
import socket


def notify(*lines: str) -> bool:
    """Send lines to systemd; False when not running under a notify-aware manager."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return False
    if address.startswith("@"):
        address = "\0" + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.connect(address)
            sock.sendall("\n".join(lines).encode())
    except OSError:
        return False
    return True


def watchdog_period_s() -> float | None:
    """Half of WatchdogSec, or None when the watchdog is off or meant for another process."""
    usec, pid = os.environ.get("WATCHDOG_USEC"), os.environ.get("WATCHDOG_PID")
    if not usec or (pid and int(pid) != os.getpid()):
        return None
    return int(usec) / 2_000_000
