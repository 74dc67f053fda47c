"""`scale-agent monitor`: the supervisors' view, de-duplicated, shareable between instances."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import paho.mqtt.publish as mqtt_publish
import pytest

from scale_agent.domain.verifier import VerdictKind
from scale_agent.io.messages import (
    HealthPayload,
    OutputHealth,
    ScaleHealth,
    StatusPayload,
    VerdictPayload,
)
from scale_agent.tools.monitor import MonitorState, filters

if TYPE_CHECKING:
    from tests.fakes.mosquitto import Mosquitto

ROOT = "scale-agent/v1/mon/line-1"


SENT = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


def who(station: str) -> dict[str, str]:
    return {"site": "mon", "line": "line-1", "station": station}


def alert(
    msg_id: str, order: str, verdict: str = "MISSING_ITEM", station: str = "bench-1"
) -> bytes:
    return (
        VerdictPayload(
            **who(station),
            msg_id=msg_id,
            sent_at=SENT,
            parcel_id=f"p-{msg_id}",
            judged_at=SENT,
            order_id=order,
            verdict=VerdictKind(verdict),
            reason="light by 150.0 g: 1 x SKU-1023 (150 g) missing",
            expected=None,
            lower_limit=None,
            upper_limit=None,
            measured=None,
            difference=None,
            sigma=None,
            policy="default",
            explanation=[],
            is_detectable=True,
            is_rejudged=False,
        )
        .model_dump_json()
        .encode()
    )


def status(station: str, state: str = "online") -> bytes:
    payload = StatusPayload(**who(station), sent_at=SENT, state=state, version="test")
    return payload.model_dump_json().encode()


def health(station: str, sent_at: datetime = SENT) -> bytes:
    return (
        HealthPayload(
            **who(station),
            sent_at=sent_at,
            station_state="idle",
            order_id=None,
            scale=ScaleHealth(
                state="fault",
                fault_reason="no usable weight",
                device="/dev/ttyUSB0",
                model=None,
                serial=None,
                reconnects=0,
                parse_errors=0,
                seconds_since_last_reading=None,
                seconds_since_last_stable=None,
                empty_reading=None,
            ),
            outbox_backlog=7,
            outbox_dropped=0,
            last_verdict=None,
            interval_s=30,
            outputs=[
                OutputHealth(device="console", state="ok", fault_reason=None),
                OutputHealth(device="modbus-tcp://io:502#2", state="fault", fault_reason="off"),
            ],
        )
        .model_dump_json()
        .encode()
    )


def test_the_view_counts_alerts_once_per_message_id() -> None:
    state = MonitorState()
    state.handle(f"{ROOT}/bench-1/status", status("bench-1"))
    first = state.handle(f"{ROOT}/bench-1/alert", alert("m-1", "SO-1"))
    again = state.handle(f"{ROOT}/bench-1/alert", alert("m-1", "SO-1"))  # QoS 1 re-delivery
    state.handle(f"{ROOT}/bench-2/health", health("bench-2"))
    assert first == [
        (
            "2026-11-26T10:00:00 mon/line-1/bench-1 SO-1 MISSING_ITEM: "
            "light by 150.0 g: 1 x SKU-1023 (150 g) missing"
        )
    ]
    assert again == []
    assert state.duplicates == 1
    screen = state.screen("mqtt://broker:1883", is_connected=True)
    assert "mon/line-1/bench-1  online  ?" in screen
    assert "fault (no usable weight); output modbus-tcp://io:502#2 fault (off)" in screen
    assert "1 duplicate(s) dropped" in screen


@pytest.mark.parametrize(
    ("topic", "payload", "reason"),
    [
        (f"{ROOT}/bench-1/alert", b"\xff", "alert is not UTF-8 text"),
        (f"{ROOT}/bench-1/status", b"[]", "status: Input should be a valid dictionary"),
        (f"{ROOT}/bench-1/health", b'{"scale": 5}', "health: "),
        (f"{ROOT}/bench-1/alert", b"[" * 1500 + b"]" * 1500, "alert nests deeper than"),
        ("evil/x/y", b"{}", "not a topic of the contract"),
        (f"{ROOT}/bench-1/alert\x1b[2J", b"{}", "not a topic of the contract"),
    ],
)
def test_a_message_outside_the_contract_is_shown_refused_and_the_monitor_carries_on(
    topic: str, payload: bytes, reason: str
) -> None:
    state = MonitorState()
    [line] = state.handle(topic, payload)
    assert line.startswith("refused ")
    assert reason in line
    assert "\x1b" not in line  # shown escaped, never acted on
    assert state.refused == 1
    assert state.handle(f"{ROOT}/bench-1/alert", alert("m-2", "SO-2"))  # still working
    assert "1 message(s) refused" in state.screen("mqtt://broker:1883", is_connected=True)


def test_control_sequences_in_an_alert_are_shown_escaped() -> None:
    [line] = MonitorState().handle(f"{ROOT}/bench-1/alert", alert("m-3", "SO-3\x1b[2J\r"))
    assert "SO-3\\x1b[2J\\x0d" in line
    assert "\x1b" not in line
    assert "\r" not in line


MONITOR = [sys.executable, "-m", "scale_agent", "monitor"]


def test_monitor_plain_with_no_broker_says_so_and_exits_non_zero() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    done = subprocess.run(
        [*MONITOR, "--mqtt", f"mqtt://127.0.0.1:{port}", "--plain", "--duration", "2"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 69
    assert f"never reached the broker at mqtt://127.0.0.1:{port}" in done.stderr


def test_shared_monitors_split_the_alerts_between_them() -> None:
    assert filters("mon", "supervisors")[2] == "$share/supervisors/scale-agent/v1/mon/+/+/alert"


def run_monitor(broker: Mosquitto, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "scale_agent",
            "monitor",
            "--mqtt",
            broker.url,
            "--site",
            "mon",
            "--plain",
            "--duration",
            "6",
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


class Lines:
    """Collects a subprocess's stdout lines as they come."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.lines: list[str] = []
        assert process.stdout is not None
        self._thread = threading.Thread(
            target=lambda: self.lines.extend(iter(process.stdout.readline, "")),  # type: ignore[union-attr]
            daemon=True,
        )
        self._thread.start()

    def wait_for(self, text: str, timeout: float = 15) -> None:
        deadline = time.monotonic() + timeout
        while not any(text in line for line in self.lines):
            assert time.monotonic() < deadline, f"no {text!r} in {self.lines!r}"
            time.sleep(0.02)

    def join(self) -> str:
        self._thread.join(timeout=20)
        for pipe in (self.process.stdout, self.process.stderr):
            if pipe is not None:
                pipe.close()
        return "".join(self.lines)


def test_two_monitors_in_a_share_group_see_each_alert_once_between_them(
    broker: Mosquitto,
) -> None:
    # A retained status tells us when each monitor has subscribed: it prints "is online".
    mqtt_publish.single(
        f"{ROOT}/bench-9/status",
        status("bench-9"),
        qos=1,
        retain=True,
        hostname="127.0.0.1",
        port=broker.port,
    )
    monitors = [run_monitor(broker, "--share", "desk") for _ in range(2)]
    outputs = [Lines(monitor) for monitor in monitors]
    for output in outputs:
        output.wait_for("bench-9 is online")
    for number in range(10):
        mqtt_publish.single(
            f"{ROOT}/bench-1/alert",
            alert(f"s-{number}", f"SO-{number}"),
            qos=1,
            hostname="127.0.0.1",
            port=broker.port,
        )
    mqtt_publish.single(
        f"{ROOT}/bench-1/alert", alert("s-0", "SO-0"), qos=1, hostname="127.0.0.1", port=broker.port
    )  # a re-send
    for monitor in monitors:
        monitor.wait(timeout=30)
    texts = [output.join() for output in outputs]
    lines = [line for text in texts for line in text.splitlines() if "MISSING_ITEM" in line]
    orders = sorted(line.split()[2] for line in lines)
    assert len(set(orders)) == 10  # every alert reached one of them
    assert all(text.count("MISSING_ITEM") < 11 for text in texts)  # the share split the stream
    mqtt_publish.single(
        f"{ROOT}/bench-9/status", b"", qos=1, retain=True, hostname="127.0.0.1", port=broker.port
    )  # clear the retained status


def test_a_station_that_stops_sending_health_is_shown_not_responding() -> None:
    # A hung daemon keeps its retained "online" status: only its health's age tells.
    state = MonitorState()
    state.handle(f"{ROOT}/bench-1/status", status("bench-1"))
    state.handle(f"{ROOT}/bench-1/health", health("bench-1"))  # every 30 s, it says
    state.handle(f"{ROOT}/bench-1/alert", alert("m-1", "SO-1", verdict="PASS"))
    soon = SENT + timedelta(seconds=60)
    assert state.silence(soon) == []
    assert "mon/line-1/bench-1  online" in state.screen("mqtt://b", is_connected=True, now=soon)
    late = SENT + timedelta(seconds=80)
    [line] = state.silence(late)
    assert "mon/line-1/bench-1 NOT RESPONDING: no health for 80 s" in line
    assert state.silence(late) == []  # said once
    screen = state.screen("mqtt://b", is_connected=True, now=late)
    assert "NOT RESPONDING (80 s)" in screen
    assert "(PASS, not vouched for)" in screen
    state.handle(f"{ROOT}/bench-1/health", health("bench-1", sent_at=late))
    assert state.silence(late) == [f"{late.isoformat()[:19]} mon/line-1/bench-1 responding again"]
