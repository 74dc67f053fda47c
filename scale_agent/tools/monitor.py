"""`scale-agent monitor`: the supervisors' live view of every station and its alerts.

It subscribes to `status`, `health`, `alert` and `event` of every station (of one site, if
asked), de-duplicates by `msg_id` (QoS 1 delivers at least once, and a station re-sends after
a crash with the same id), and shows a table of stations above a scrolling list of alerts.
Several monitors can share the alert stream (`--share GROUP`: an MQTT 5 shared subscription);
status and health, being retained, are read by each.
"""

from __future__ import annotations

import json
import queue
import time
from collections import OrderedDict, deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO

from scale_agent.io.messages import TOPIC_ROOT

if TYPE_CHECKING:
    from scale_agent.io.config import MqttSection

MAX_REMEMBERED_IDS = 50_000
SHOWN_ALERTS = 15
REFRESH_S = 0.5


@dataclass
class StationView:
    """What the monitor knows about one station."""

    name: str
    state: str = "?"
    alerts: int = 0
    last_verdict: str = "-"
    last_order: str = "-"
    backlog: int | None = None
    scale: str = "?"


class MonitorState:
    """Pure state: feed it messages, ask it for lines and the screen."""

    def __init__(self) -> None:
        self.stations: dict[str, StationView] = {}
        self.alerts: deque[str] = deque(maxlen=SHOWN_ALERTS)
        self.duplicates = 0
        self._seen: OrderedDict[str, None] = OrderedDict()

    def _is_duplicate(self, msg_id: str | None) -> bool:
        if msg_id is None:
            return False
        if msg_id in self._seen:
            self.duplicates += 1
            return True
        self._seen[msg_id] = None
        if len(self._seen) > MAX_REMEMBERED_IDS:
            self._seen.popitem(last=False)
        return False

    def handle(self, topic: str, payload: bytes) -> list[str]:
        """Take one message; return the lines worth printing (new alerts, status changes)."""
        parts = topic.split("/")
        if len(parts) != 6 or "/".join(parts[:2]) != TOPIC_ROOT:  # noqa: PLR2004
            return []
        name, kind = "/".join(parts[2:5]), parts[5]
        try:
            message: dict[str, Any] = json.loads(payload)
        except ValueError:
            return [f"?? {name}: {kind} message that is not JSON"]
        if kind in {"alert", "event"} and self._is_duplicate(message.get("msg_id")):
            return []
        view = self.stations.setdefault(name, StationView(name))
        handler = {"status": _status, "health": _health, "alert": _alert, "event": _event}.get(kind)
        lines = handler(view, message) if handler else []
        if kind in {"alert", "event"}:
            self.alerts.extend(lines)
        return lines

    def screen(self, broker: str, is_connected: bool) -> str:
        """The whole terminal view."""
        header = ("station", "state", "scale", "alerts", "last verdict", "order", "backlog")
        rows = [header] + [
            (
                v.name,
                v.state,
                v.scale,
                str(v.alerts),
                v.last_verdict,
                v.last_order,
                "-" if v.backlog is None else str(v.backlog),
            )
            for v in sorted(self.stations.values(), key=lambda view: view.name)
        ]
        widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
        table = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
        link = "connected" if is_connected else "NOT CONNECTED"
        return "\n".join(
            [
                (
                    f"scale-agent monitor - {broker} ({link}) - {len(self.stations)} "
                    f"station(s), {self.duplicates} duplicate(s) dropped"
                ),
                "",
                *table,
                "",
                "latest alerts and events:",
                *(self.alerts or ["  (none yet)"]),
            ]
        )


def _status(view: StationView, message: dict[str, Any]) -> list[str]:
    state = str(message.get("state"))
    changed, view.state = view.state != state, state
    return [f"{_when(message)} {view.name} is {state}"] if changed else []


def _health(view: StationView, message: dict[str, Any]) -> list[str]:
    view.backlog = message.get("outbox_backlog")
    scale = message.get("scale") or {}
    view.scale = scale.get("state", "?")
    if scale.get("fault_reason"):
        view.scale += f" ({scale['fault_reason']})"
    # A dead stack light or seal relay matters to a supervisor as much as a dead scale.
    for output in message.get("outputs") or []:
        if output.get("state") == "fault":
            view.scale += f"; output {output.get('device')} fault ({output.get('fault_reason')})"
    return []


def _alert(view: StationView, message: dict[str, Any]) -> list[str]:
    view.alerts += 1
    view.last_verdict = str(message.get("verdict"))
    view.last_order = str(message.get("order_id") or "-")
    reason = message.get("reason", "")
    return [f"{_when(message)} {view.name} {view.last_order} {view.last_verdict}: {reason}"]


def _event(view: StationView, message: dict[str, Any]) -> list[str]:
    return [f"{_when(message)} {view.name} {message.get('event')}: {message.get('reason', '')}"]


def _when(message: dict[str, Any]) -> str:
    return str(message.get("judged_at") or message.get("sent_at") or "")[:19]


def filters(site: str | None, share: str | None) -> list[str]:
    """The topic filters the monitor subscribes to."""
    root = f"{TOPIC_ROOT}/{site or '+'}/+/+"
    shared = f"$share/{share}/" if share else ""
    return [f"{root}/status", f"{root}/health", f"{shared}{root}/alert", f"{shared}{root}/event"]


def run_monitor(
    settings: MqttSection,
    *,
    site: str | None,
    share: str | None,
    plain: bool,
    duration_s: float | None,
    out: TextIO,
) -> int:
    """Run until interrupted (or for `duration_s`); returns the exit code."""
    from scale_agent.io.mqtt import Subscription  # noqa: PLC0415 - paho only when monitoring

    state = MonitorState()
    inbox: queue.Queue[tuple[str, bytes]] = queue.Queue()
    subscription = Subscription(
        settings, filters(site, share), lambda topic, payload: inbox.put((topic, payload))
    )
    subscription.start()
    deadline = None if duration_s is None else time.monotonic() + duration_s
    next_screen = 0.0
    try:
        while deadline is None or time.monotonic() < deadline:
            try:
                topic, payload = inbox.get(timeout=0.1)
            except queue.Empty:
                topic, payload = "", b""
            lines = state.handle(topic, payload) if topic else []
            if plain:
                out.writelines(line + "\n" for line in lines)
                out.flush()
            elif time.monotonic() >= next_screen:
                next_screen = time.monotonic() + REFRESH_S
                out.write(
                    "\033[H\033[2J"
                    + state.screen(str(subscription.address), subscription.is_connected)
                    + "\n"
                )
                out.flush()
    except KeyboardInterrupt:
        pass
    finally:
        subscription.stop()
    return 0
