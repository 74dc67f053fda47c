"""`scale-agent monitor`: the supervisors' view, de-duplicated, shareable between instances."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from typing import TYPE_CHECKING

import paho.mqtt.publish as mqtt_publish

from scale_agent.tools.monitor import MonitorState, filters

if TYPE_CHECKING:
    from tests.fakes.mosquitto import Mosquitto

ROOT = "scale-agent/v1/mon/line-1"


def alert(msg_id: str, order: str, verdict: str = "MISSING_ITEM") -> bytes:
    return json.dumps(
        {
            "msg_id": msg_id,
            "order_id": order,
            "verdict": verdict,
            "judged_at": "2026-11-26T10:00:00+00:00",
            "reason": "light by 150.0 g: 1 x SKU-1023 (150 g) missing",
        }
    ).encode()


def test_the_view_counts_alerts_once_per_message_id() -> None:
    state = MonitorState()
    state.handle(f"{ROOT}/bench-1/status", b'{"state": "online", "sent_at": "2026-11-26T09:00"}')
    first = state.handle(f"{ROOT}/bench-1/alert", alert("m-1", "SO-1"))
    again = state.handle(f"{ROOT}/bench-1/alert", alert("m-1", "SO-1"))  # QoS 1 re-delivery
    state.handle(
        f"{ROOT}/bench-2/health",
        json.dumps(
            {
                "outbox_backlog": 7,
                "scale": {"state": "fault", "fault_reason": "no usable weight"},
                "outputs": [
                    {"device": "console", "state": "ok", "fault_reason": None},
                    {"device": "modbus-tcp://io:502#2", "state": "fault", "fault_reason": "off"},
                ],
            }
        ).encode(),
    )
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


def test_messages_that_are_not_json_are_named_not_fatal() -> None:
    assert MonitorState().handle(f"{ROOT}/bench-1/alert", b"\xff") == [
        "?? mon/line-1/bench-1: alert message that is not JSON"
    ]


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
        b'{"state": "online"}',
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
