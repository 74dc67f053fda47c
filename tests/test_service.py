"""scale-agent as systemd runs it: notify protocol, watchdog, signals, units, installation."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from typing import TYPE_CHECKING, Any

import pytest

from scale_agent.testing import wait_until
from scale_agent.tools.cli import main
from scale_agent.tools.operations import read_status
from tests.conftest import REPO
from tests.fakes.daemon import Daemon
from tests.fakes.notify import NotifySocket
from tests.station_files import write_station

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from tests.fakes.mt_sics_scale import FakeMtSicsScale

WATCHDOG_USEC = 300_000  # pings every 0.15 s


@pytest.fixture
def notify(tmp_path: Path) -> Iterator[NotifySocket]:
    socket = NotifySocket(tmp_path / "notify.sock")
    yield socket
    socket.close()


def log_events(daemon: Daemon) -> list[dict[str, Any]]:
    lines = daemon.log.read_text().splitlines()
    return [json.loads(line) for line in lines if line.startswith("{")]


def start(daemon: Daemon, notify: NotifySocket) -> None:
    daemon.start()
    notify.wait_for("READY=1")


def make_daemon(tmp_path: Path, config: Path, notify: NotifySocket, **env: str) -> Daemon:
    return Daemon(
        config,
        tmp_path / "data",
        env={
            "NOTIFY_SOCKET": str(notify.path),
            "WATCHDOG_USEC": str(WATCHDOG_USEC),
            **env,
        },
    )


def test_ready_watchdog_status_and_a_clean_stop(
    tmp_path: Path,
    scale: FakeMtSicsScale,
    notify: NotifySocket,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = write_station(tmp_path, scale.path, None, site="svc")
    daemon = make_daemon(tmp_path, config, notify)
    try:
        start(daemon, notify)
        notify.wait_for("WATCHDOG=1", count=5)
        scale.set_weight("0.800")  # a parcel nobody scanned: NO_JOB, recorded
        wait_until(lambda: daemon.count("verdicts") == 1)
        wait_until(lambda: read_status(tmp_path / "data")[0].get("station_state") == "judged")
        assert main(["status", "--data-dir", str(tmp_path / "data")]) == 0
        out = capsys.readouterr().out
        assert "station svc/line-1/bench-1: judged, light fail" in out
        assert "s/n B123456789" in out
        assert any(
            "STATUS=fail: NO ORDER: Scan the order" in line for _, line in notify.lines("STATUS=")
        )
        assert daemon.process is not None
        stopped_at = time.monotonic()
        assert daemon.stop() == 0
        assert time.monotonic() - stopped_at < 5
    finally:
        daemon.stop()
    notify.wait_for("STOPPING=1")
    console = [line for line in daemon.log.read_text().splitlines() if line.startswith("[")]
    assert console[-1] == "[  FAULT   ] scale-agent stopped | seal: locked"
    events = [event["event"] for event in log_events(daemon)]
    assert events[-1] == "station_stopped"
    assert main(["records", "--data-dir", str(tmp_path / "data"), "verify"]) == 0
    capsys.readouterr()
    assert main(["status", "--data-dir", str(tmp_path / "data")]) == 3  # stopped, not hung
    out = capsys.readouterr().out
    assert "station svc/line-1/bench-1: stopped cleanly at" in out
    assert "PROBLEM" not in out


STUCK_LIGHT = '''"""A light whose show() hangs while a trigger file exists: a wedged loop."""
import time
from pathlib import Path
from scale_agent.plugins import DriverSettings

class Settings(DriverSettings):
    trigger: str

class StuckLight:
    def __init__(self, settings):
        self.trigger = Path(settings.trigger)
    def open(self):
        pass
    def show(self, indication):
        while self.trigger.exists():
            time.sleep(0.05)
    def close(self):
        pass

DRIVER = StuckLight
'''


def test_no_watchdog_pings_while_the_station_loop_is_stuck(
    tmp_path: Path, scale: FakeMtSicsScale, notify: NotifySocket
) -> None:
    plugins = tmp_path / "plugins"
    (plugins / "stuck_light-1.0.dist-info").mkdir(parents=True)
    (plugins / "stuck_light-1.0.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: stuck-light\nVersion: 1.0\n"
    )
    (plugins / "stuck_light-1.0.dist-info" / "entry_points.txt").write_text(
        "[scale_agent.outputs]\nstuck = stuck_light\n"
    )
    (plugins / "stuck_light.py").write_text(STUCK_LIGHT)
    trigger = tmp_path / "stick"
    config = write_station(
        tmp_path,
        scale.path,
        None,
        site="stuck",
        extra=f'\n[[outputs]]\ndriver = "stuck"\ntrigger = "{trigger}"\n',
    )
    daemon = make_daemon(tmp_path, config, notify, PYTHONPATH=str(plugins))
    try:
        start(daemon, notify)
        notify.wait_for("WATCHDOG=1", count=5)
        trigger.touch()
        scale.set_weight("1.000")  # the light must change: its show() now hangs the loop

        def quiet_for(seconds: float) -> bool:
            pings = notify.lines("WATCHDOG=1")
            return bool(pings) and time.monotonic() - pings[-1][0] > seconds

        wait_until(lambda: quiet_for(0.6), timeout=10)  # four periods without a ping: stuck
        stuck_at = time.monotonic()
        time.sleep(1.0)  # six more ping periods
        late = [at for at, _ in notify.lines("WATCHDOG=1") if at > stuck_at]
        assert late == []
        trigger.unlink()  # the loop runs again, and so do the pings
        count = len(notify.lines("WATCHDOG=1"))
        notify.wait_for("WATCHDOG=1", count=count + 3)
    finally:
        daemon.stop()


def test_sighup_with_a_broken_config_keeps_the_old_one(
    tmp_path: Path, scale: FakeMtSicsScale, notify: NotifySocket
) -> None:
    config = write_station(tmp_path, scale.path, None, site="hup")
    good = config.read_text()
    daemon = make_daemon(tmp_path, config, notify)
    try:
        start(daemon, notify)
        assert daemon.process is not None
        config.write_text(good.replace("under_g = 20", "under_g = -20\nundr_pct = 2"))
        daemon.process.send_signal(signal.SIGHUP)
        wait_until(lambda: any(e["event"] == "config_reload_refused" for e in log_events(daemon)))
        [refused] = [e for e in log_events(daemon) if e["event"] == "config_reload_refused"]
        assert any("tolerance.undr_pct" in problem for problem in refused["problems"])
        count = len(notify.lines("WATCHDOG=1"))
        notify.wait_for("WATCHDOG=1", count=count + 3)  # still running
        config.write_text(good.replace("[tolerance]", '[tolerance]\nname = "reloaded"'))
        daemon.process.send_signal(signal.SIGHUP)
        wait_until(lambda: any(e["event"] == "config_reloaded" for e in log_events(daemon)))
        [reloaded] = [e for e in log_events(daemon) if e["event"] == "config_reloaded"]
        assert reloaded["policy"] == "reloaded@1"
        assert reloaded["restart_needed_for"] is None
        notify.wait_for("RELOADING=1", count=2)
    finally:
        assert daemon.stop() == 0


def _verifiable_units(folder: Path, source: Path) -> list[Path]:
    """The units with ExecStart pointing at a program that exists here (verify checks it)."""
    units = []
    for unit in sorted(source.glob("*.service")):
        text = unit.read_text().replace(
            "/opt/scale-agent/venv/bin/scale-agent", shutil.which("scale-agent") or sys.executable
        )
        name = unit.name.replace("@.service", "@bench-1.service")
        (folder / name).write_text(text)
        units.append(folder / name)
    return units


needs_systemd = pytest.mark.skipif(
    shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed"
)


@needs_systemd
def test_the_units_verify_cleanly_and_score_below_2(tmp_path: Path) -> None:
    for unit in _verifiable_units(tmp_path, REPO / "systemd"):
        result = subprocess.run(
            ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, check=False
        )
        assert (result.returncode, result.stdout + result.stderr) == (0, ""), unit.name
        root = tmp_path / "root"
        (root / "etc/systemd/system").mkdir(parents=True, exist_ok=True)
        shutil.copy(unit, root / "etc/systemd/system" / unit.name)
        score = subprocess.run(
            ["systemd-analyze", "security", "--offline=true", f"--root={root}", unit.name],
            capture_output=True,
            text=True,
            check=False,
        ).stdout
        exposure = float(re.findall(r"Overall exposure level for \S+: (\d+\.\d+)", score)[0])
        print(f"systemd-analyze security {unit.name}: {exposure}")
        assert exposure < 2.0


@needs_systemd
def test_the_install_steps_stage_a_station_that_checks_out(tmp_path: Path) -> None:
    stage = tmp_path / "stage"
    subprocess.run(
        [str(REPO / "scripts" / "install"), "--root", str(stage)], check=True, capture_output=True
    )
    agent = stage / "opt/scale-agent/venv/bin/scale-agent"
    config = stage / "etc/scale-agent/bench-1.toml"
    assert (stage / "etc/systemd/system/scale-agent@.service").is_file()
    assert (stage / "etc/udev/rules.d/70-scale-agent.rules").is_file()
    assert (stage / "etc/sysusers.d/scale-agent.conf").is_file()
    checked = subprocess.run(
        [str(agent), "check-config", str(config)], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stderr
    report = subprocess.run(
        [str(agent), "install-check", "-c", str(config)],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    assert f"OK   config {config} is valid" in report
    assert "FAIL scale port /dev/serial/by-id/" in report  # no scale on a build machine
    for unit in _verifiable_units(tmp_path, stage / "etc/systemd/system"):
        result = subprocess.run(
            ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, check=False
        )
        assert (result.returncode, result.stderr) == (0, "")
    assert os.access(agent, os.X_OK)
