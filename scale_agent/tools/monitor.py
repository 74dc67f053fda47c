"""`scale-agent monitor`: the supervisors' live view of every station and its alerts.

It subscribes to `status`, `health`, `alert` and `event` of every station (of one site, if
asked), de-duplicates by `msg_id` (QoS 1 delivers at least once, and a station re-sends after
a crash with the same id), and shows a table of stations above a scrolling list of alerts.
Several monitors can share the alert stream (`--share GROUP`: an MQTT 5 shared subscription);
status and health, being retained, are read by each.
"""

from __future__ import annotations

import queue
import sys
import time
from collections import OrderedDict, deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TextIO

from pydantic import ValidationError

from scale_agent.domain.untrusted import load_json, validation_reasons
from scale_agent.errors import PayloadError
from scale_agent.io.messages import (
    STATION_PAYLOADS,
    TOPIC_ROOT,
    EventPayload,
    HealthPayload,
    Payload,
    StatusPayload,
    VerdictPayload,
    station_topic,
)
from scale_agent.text import printable

if TYPE_CHECKING:
    from scale_agent.io.config import MqttSection

SHOWN = frozenset({"status", "health", "alert", "event"})  # the topics the monitor reads
MAX_REMEMBERED_IDS = 50_000
SHOWN_ALERTS = 15
REFRESH_S = 0.5
# A station sends `health` every `interval_s`; past this many intervals without one it no
# longer vouches for its last verdict (a hung daemon keeps its retained "online" status).
SILENT_AFTER_INTERVALS = 2.5
CONNECT_WAIT_S = 10.0  # --plain gives up (exit 69) when no broker answered by then
EX_UNAVAILABLE = 69  # sysexits.h: service unavailable


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
    health_at: datetime | None = None  # when the station last sent its health
    interval_s: float | None = None  # how often it said it would
    is_silent: bool = False

    def silent_for(self, now: datetime) -> float | None:
        """Seconds since the last health, once that is too long for an online station."""
        if self.state != "online" or self.health_at is None or self.interval_s is None:
            return None
        age = (now - self.health_at).total_seconds()
        return age if age > SILENT_AFTER_INTERVALS * self.interval_s else None


class MonitorState:
    """Pure state: feed it messages, ask it for lines and the screen."""

    def __init__(self) -> None:
        self.stations: dict[str, StationView] = {}
        self.alerts: deque[str] = deque(maxlen=SHOWN_ALERTS)
        self.duplicates = 0
        self.refused = 0
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
        """Take one message; return the lines worth printing (new alerts, status changes).

        Every topic and payload is checked against the contract first: a message that is not
        one (a retained `[]` on `status`, `{"scale": 5}` on `health`, a topic of its own) is
        counted and shown as refused, and the monitor carries on.
        """
        found = station_topic(topic)
        if found is None or found[3] not in SHOWN:
            return self._refuse(printable(topic, 120), "not a topic of the contract")
        name, kind = "/".join(found[:3]), found[3]
        try:
            message = STATION_PAYLOADS[kind].model_validate(load_json(payload, what=kind))
        except PayloadError as exc:
            return self._refuse(f"{name} {kind}", exc.reason)
        except ValidationError as exc:
            return self._refuse(f"{name} {kind}", validation_reasons(exc, kind))
        if isinstance(message, VerdictPayload | EventPayload) and self._is_duplicate(
            message.msg_id
        ):
            return []
        view = self.stations.setdefault(name, StationView(name))
        lines = [printable(line) for line in _describe(view, message)]
        if kind in {"alert", "event"}:
            self.alerts.extend(lines)
        return lines

    def _refuse(self, where: str, reason: str) -> list[str]:
        self.refused += 1
        line = printable(f"refused {where}: {reason}", 300)
        self.alerts.append(line)
        return [line]

    def silence(self, now: datetime) -> list[str]:
        """Lines for stations that fell silent (or spoke again) since the last look."""
        lines = []
        for view in self.stations.values():
            age = view.silent_for(now)
            if (age is not None) != view.is_silent:
                view.is_silent = age is not None
                lines.append(
                    f"{now.isoformat()[:19]} {view.name} NOT RESPONDING: no health for "
                    f"{age:.0f} s; its last verdict is not vouched for"
                    if age is not None
                    else f"{now.isoformat()[:19]} {view.name} responding again"
                )
        return [printable(line) for line in lines]

    def screen(self, broker: str, is_connected: bool, now: datetime | None = None) -> str:
        """The whole terminal view (a silent station's state and verdict say so)."""
        now = now or datetime.now(UTC)
        header = ("station", "state", "scale", "alerts", "last verdict", "order", "backlog")
        rows = [header]
        for v in sorted(self.stations.values(), key=lambda view: view.name):
            age = v.silent_for(now)
            rows.append(
                (
                    v.name,
                    v.state if age is None else f"NOT RESPONDING ({age:.0f} s)",
                    v.scale,
                    str(v.alerts),
                    v.last_verdict if age is None else f"({v.last_verdict}, not vouched for)",
                    v.last_order,
                    "-" if v.backlog is None else str(v.backlog),
                )
            )
        widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
        table = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
        link = "connected" if is_connected else "NOT CONNECTED"
        return "\n".join(
            [
                (
                    f"scale-agent monitor - {broker} ({link}) - {len(self.stations)} "
                    f"station(s), {self.duplicates} duplicate(s) dropped, "
                    f"{self.refused} message(s) refused"
                ),
                "",
                *table,
                "",
                "latest alerts and events:",
                *(self.alerts or ["  (none yet)"]),
            ]
        )


def _describe(view: StationView, message: Payload) -> list[str]:
    when = message.sent_at.isoformat()[:19]
    match message:
        case StatusPayload():
            changed, view.state = view.state != message.state, message.state
            return [f"{when} {view.name} is {message.state}"] if changed else []
        case HealthPayload():
            view.health_at, view.interval_s = message.sent_at, message.interval_s
            view.backlog = message.outbox_backlog
            scale = message.scale
            view.scale = scale.state + (f" ({scale.fault_reason})" if scale.fault_reason else "")
            # A dead stack light or seal relay matters to a supervisor as much as a dead scale.
            for output in message.outputs:
                if output.state == "fault":
                    view.scale += f"; output {output.device} fault ({output.fault_reason})"
            return []
        case VerdictPayload():
            when = message.judged_at.isoformat()[:19]
            view.alerts += 1
            view.last_verdict = message.verdict
            view.last_order = message.order_id or "-"
            return [f"{when} {view.name} {view.last_order} {view.last_verdict}: {message.reason}"]
        case EventPayload():
            return [f"{when} {view.name} {message.event}: {message.reason}"]
    return []


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
    started = time.monotonic()
    deadline = None if duration_s is None else started + duration_s
    next_screen = 0.0
    was_connected = ever_connected = False
    try:
        while deadline is None or time.monotonic() < deadline:
            try:
                topic, payload = inbox.get(timeout=0.1)
            except queue.Empty:
                topic, payload = "", b""
            lines = state.handle(topic, payload) if topic else []
            lines += state.silence(datetime.now(UTC))
            if subscription.is_connected != was_connected:
                was_connected = subscription.is_connected
                ever_connected = ever_connected or was_connected
                if plain and not was_connected:
                    lines.append(f"broker connection lost: {subscription.last_error}")
            if plain and not ever_connected and time.monotonic() - started > CONNECT_WAIT_S:
                # Silence would look exactly like "no alerts": say so, and fail.
                print(
                    f"scale-agent monitor: cannot reach the broker at {subscription.address}: "
                    f"{subscription.last_error}",
                    file=sys.stderr,
                )
                return EX_UNAVAILABLE
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
    if plain and not ever_connected:
        print(
            f"scale-agent monitor: never reached the broker at {subscription.address}: "
            f"{subscription.last_error}",
            file=sys.stderr,
        )
        return EX_UNAVAILABLE
    return 0
