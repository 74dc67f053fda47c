"""What operations people run on a packing PC: `scale-agent status` and `install-check`.

`status` reads the status file the daemon rewrites every second beside its ledger, so it works
without MQTT and without privileges beyond reading the state folder; a file that stopped
changing means a daemon that is gone or hung. `install-check` looks at what usually goes wrong
on a new station: the config, the state folder, the scale's device and its permissions,
programs that grab USB-serial adapters, the broker, and the clock.
"""

from __future__ import annotations

import grp
import json
import os
import pwd
import shutil
import socket
import stat
import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from scale_agent.station.telemetry import STATUS_FILE

if TYPE_CHECKING:
    from scale_agent.io.config import StationConfig

STALE_AFTER_S = 5.0
GRABBERS = {
    "ModemManager": "ModemManager probes new ttyUSB/ttyACM devices: tag the adapter with "
    'ENV{ID_MM_DEVICE_IGNORE}="1" in the udev rule, or remove the modemmanager package',
    "brltty": "brltty claims common USB-serial chips (CH340, CP210x) for braille displays: "
    "remove the brltty package on a packing PC",
}


@dataclass(frozen=True)
class Finding:
    """One line of `install-check`."""

    level: Literal["OK", "WARN", "FAIL"]
    what: str

    def __str__(self) -> str:
        return f"{self.level:4} {self.what}"


def read_status(data_dir: Path, now: float | None = None) -> tuple[dict[str, Any], list[str]]:
    """The daemon's last status and what is wrong with it (an empty list when all is well)."""
    path = data_dir / STATUS_FILE
    try:
        status: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except OSError:
        return {}, [f"no status in {data_dir}: the daemon is not running (or never ran here)"]
    except ValueError:
        return {}, [f"{path} is not readable JSON"]
    problems = []
    age = (time.time() if now is None else now) - float(status.get("written_at", 0))
    status["age_s"] = round(age, 1)
    if status.get("stopped_at") is not None:
        return status, []  # stopped cleanly: not a problem, and not running (see is_stopped)
    if age > STALE_AFTER_S:
        problems.append(f"status is {age:.0f} s old: the daemon is stopped or hung")
    elif not _alive(int(status.get("pid", 0))):
        problems.append(f"process {status.get('pid')} is gone")
    scale = status.get("scale") or {}
    if scale.get("state") != "ok":
        problems.append(f"scale fault: {scale.get('fault_reason')}")
    return status, problems


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user (the service user)
    return True


def is_stopped(status: dict[str, Any]) -> bool:
    """Whether the daemon wrote that it stopped cleanly (its last status)."""
    return status.get("stopped_at") is not None


def describe_status(status: dict[str, Any]) -> str:
    """The status for people."""
    if is_stopped(status):
        stopped = datetime.fromtimestamp(float(status["stopped_at"]), UTC).astimezone()
        identity = f"{status.get('site')}/{status.get('line')}/{status.get('station')}"
        return (
            f"station {identity}: stopped cleanly at {stopped:%Y-%m-%d %H:%M:%S %Z} "
            f"(pid {status.get('pid')}); outbox backlog {status.get('outbox_backlog')}, "
            f"last verdict {status.get('last_verdict') or '-'}"
        )
    scale = status.get("scale") or {}
    last_stable = scale.get("seconds_since_last_stable")
    stable = "never" if last_stable is None else f"{last_stable:.1f} s ago"
    identity = f"{status.get('site')}/{status.get('line')}/{status.get('station')}"
    station = (
        f"station {identity}: {status.get('station_state')}, "
        f"light {status.get('signal') or '?'}, order {status.get('order_id') or '-'}"
    )
    device = (
        f"scale {scale.get('state')} ({scale.get('fault_reason') or 'no fault'}), "
        f"{scale.get('model') or '?'} s/n {scale.get('serial') or '?'} on "
        f"{scale.get('device')}, last stable reading {stable}"
    )
    outbox = (
        f"outbox backlog {status.get('outbox_backlog')}, dropped "
        f"{status.get('outbox_dropped')}, last verdict {status.get('last_verdict') or '-'}; "
        f"status written {status.get('age_s')} s ago by pid {status.get('pid')}"
    )
    lines = [station, device, outbox]
    if (test := status.get("routine_test")) is not None:
        lines.append(describe_routine_test(test))
    return "\n".join(lines)


def describe_routine_test(test: dict[str, Any]) -> str:
    """`last routine test 06:02 (local), passed; none due`."""
    last = test.get("last")
    when = "never"
    if last:
        at = datetime.fromisoformat(str(last["at"])).astimezone()
        when = f"{at:%Y-%m-%d %H:%M}, {last['outcome']}"
    state = "none due"
    if test.get("scale_held"):
        state = "SCALE HELD OUT OF TOLERANCE until a test passes or a supervisor releases it"
    elif test.get("running"):
        state = f"a test is running ({test['running']})"
    elif test.get("due"):
        state = f"a test is due ({test['due']})"
    if released := test.get("released"):
        state += f"; released by {released['by']} at {released['at'][:19]}"
    if restored := test.get("restored"):
        state += f" (rebuilt from the ledger at start: {restored})"
    return f"last routine test {when}; {state}"


SERVICE_USER = "scale-agent"  # the units' User=


@dataclass(frozen=True)
class Account:
    """Who the daemon runs as: a user id and every group it is in."""

    name: str
    uid: int
    gids: frozenset[int]

    @classmethod
    def named(cls, name: str) -> Account | None:
        """The account of that name, or None when it does not exist (yet)."""
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            return None
        groups = {g.gr_gid for g in grp.getgrall() if name in g.gr_mem} | {entry.pw_gid}
        return cls(name, entry.pw_uid, frozenset(groups))

    def may(self, info: os.stat_result, *, read: bool, write: bool) -> bool:
        """What the mode bits allow this account (root aside, as the kernel decides)."""
        if self.uid == 0:
            return True
        if info.st_uid == self.uid:
            shift = 6
        elif info.st_gid in self.gids:
            shift = 3
        else:
            shift = 0
        bits = (info.st_mode >> shift) & 0o7
        return (not read or bool(bits & 0o4)) and (not write or bool(bits & 0o2))


def service_account() -> tuple[Account | None, str]:
    """The account to check permissions for, and how to name it in a finding.

    Run as root (as the README shows), every port is "readable": the question is whether the
    service user can open it. Run as anyone else, that user is the one asked about.
    """
    if os.geteuid() != 0:
        return None, "this user"
    account = Account.named(SERVICE_USER)
    if account is None:
        return None, f"root (the service user {SERVICE_USER} does not exist yet)"
    return account, f"the service user {SERVICE_USER}"


def _device_findings(
    port: str, account: Account | None = None, who: str = "this user"
) -> list[Finding]:
    if "://" in port:
        return []
    path = Path(port)
    if not path.exists():
        return [Finding("FAIL", f"scale port {port} does not exist (plugged in? udev rule?)")]
    findings = []
    mode = path.stat()
    if not stat.S_ISCHR(mode.st_mode):
        findings.append(Finding("WARN", f"{port} is not a character device"))
    allowed = (
        os.access(path, os.R_OK | os.W_OK)
        if account is None
        else account.may(mode, read=True, write=True)
    )
    if allowed:
        findings.append(Finding("OK", f"scale port {port} is readable and writable by {who}"))
    else:
        group = _group_name(mode.st_gid)
        findings.append(
            Finding(
                "FAIL",
                f"{who} may not read and write {port}: add the service user to the group "
                f"that owns it ({group}): usermod -aG {group} {SERVICE_USER}",
            )
        )
    if port.startswith(("/dev/ttyUSB", "/dev/ttyACM")):
        findings.append(
            Finding(
                "WARN",
                f"{port} may change name after a replug: use "
                "/dev/serial/by-id/... or a udev symlink",
            )
        )
    return findings


def _group_name(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def _grabbers() -> list[Finding]:
    running = set()
    for comm in Path("/proc").glob("[0-9]*/comm"):
        try:
            running.add(comm.read_text().strip())
        except OSError:
            continue
    findings = [
        Finding("WARN", f"{name} is running: {why}")
        for name, why in GRABBERS.items()
        if name in running
    ]
    return findings or [Finding("OK", "no ModemManager or brltty running")]


def _tcp(host: str, port: int, what: str) -> Finding:
    try:
        socket.create_connection((host, port), timeout=3).close()
    except OSError as exc:
        return Finding("FAIL", f"{what} {host}:{port} is not reachable: {exc.strerror or exc}")
    return Finding("OK", f"{what} {host}:{port} accepts connections")


def _clock() -> list[Finding]:
    year = time.gmtime().tm_year
    if not 2024 <= year <= 2100:  # noqa: PLR2004 - a plausible calendar
        return [Finding("FAIL", f"the clock says {year}: evidence timestamps would be wrong")]
    timedatectl = shutil.which("timedatectl")
    if timedatectl is None:
        return [Finding("WARN", "cannot tell whether the clock is synchronised (no timedatectl)")]
    result = subprocess.run(  # noqa: S603 - a fixed command, no outside input
        [timedatectl, "show", "-p", "NTPSynchronized", "--value"],
        capture_output=True,
        text=True,
        timeout=5,
        check=False,
    )
    if result.stdout.strip() == "yes":
        return [Finding("OK", "the clock is synchronised (NTP)")]
    return [
        Finding(
            "WARN",
            "the clock is not known to be synchronised (NTP): "
            "verdict timestamps are evidence; enable systemd-timesyncd",
        )
    ]


def _state_folder(data_dir: Path) -> Finding:
    """Writable, or creatable by this user (systemd's StateDirectory= creates it anyway)."""
    existing = data_dir
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not os.access(existing, os.W_OK | os.X_OK):
        return Finding("FAIL", f"state folder {data_dir}: {existing} is not writable by this user")
    if existing != data_dir:
        return Finding("OK", f"state folder {data_dir} will be created (under {existing})")
    return Finding("OK", f"state folder {data_dir} is writable")


def install_check(config: StationConfig) -> list[Finding]:
    """Everything `scale-agent install-check` reports for a valid config."""
    from scale_agent.io.mqtt import BrokerAddress  # noqa: PLC0415 - paho only when needed

    findings = [
        Finding("OK", f"config {config.path} is valid; catalog has {len(config.catalog.skus)} SKUs")
    ]
    findings.append(_state_folder(config.data_dir))
    port = getattr(config.scale_settings, "port", None)
    if isinstance(port, str):
        account, who = service_account()
        findings.extend(_device_findings(port, account, who))
        if port.startswith("socket://"):
            host, _, number = port.removeprefix("socket://").partition(":")
            findings.append(_tcp(host, int(number or 0), "serial converter"))
    findings.extend(_grabbers())
    mqtt = config.agent.mqtt
    if mqtt.enabled:
        address = BrokerAddress.parse(mqtt.url)
        findings.append(_tcp(address.host, address.port, "MQTT broker"))
    findings.extend(_clock())
    return findings
