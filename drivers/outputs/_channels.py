"""Lights and relays as named channels, and the worker that keeps a channel board in step.

Config maps each signal to channel steps, e.g. ``fail = ["red", "buzzer:2s"]`` or
``settling = ["amber:blink"]``: a channel name, optionally ``blink``, optionally a time after
which it goes off (``"amber:blink:5s"``). A board driver (Modbus coils, a USB relay module)
only knows how to set numbered channels; everything about patterns lives here.

The seal interlock is a channel of its own, named by ``interlock``: energised while the
indication enables sealing (a PASS or an override), and never by a signal pattern.

`ChannelLight.show` never blocks the station loop: it hands the indication to a worker thread,
which writes it at once and then keeps the board in step (blink edges, timeouts, a periodic
full rewrite that also feeds I/O-module watchdogs and notices a lost link). When the board
cannot be reached the worker retries on the station's one jittered backoff
(`scale_agent.backoff`, as scales and scanners do) and `problem` says why; verdicts go on.

The worker outlives a hung station loop (a deadlock, a stuck call), so it does not keep a
PASS and an open seal on its own word: the loop vouches for the board on every turn
(`vouch`), and after `station_silent_s` without that the worker shows the safe state itself
(seal locked) until the loop turns again. A stopped process (SIGSTOP, a frozen PC) writes
nothing at all: there an I/O module's own communication watchdog locks the seal.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol, Self

import structlog
from pydantic import Field, model_validator

from scale_agent.backoff import NOT_OPENED, Backoff
from scale_agent.errors import DeviceError
from scale_agent.plugins import SAFE_INDICATION, DriverSettings, Indication, Signal

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

# What a four-lamp tower (red, amber, green, buzzer) shows when the config names no pattern
# for a signal. Steps naming a channel the board does not have are left out.
DEFAULT_SIGNALS: dict[Signal, list[str]] = {
    Signal.IDLE: [],
    Signal.READY: ["amber"],
    Signal.SETTLING: ["amber:blink"],
    Signal.PASS: ["green"],
    Signal.FAIL: ["red", "buzzer:2s"],
    Signal.RECHECK: ["red", "amber:blink", "buzzer:0.5s"],
    Signal.ITEM_MISMATCH: ["amber", "red:blink", "buzzer:0.5s"],
    Signal.FAULT: ["red:blink", "buzzer:1s"],
}
_STEP = re.compile(r"^(?P<name>[A-Za-z0-9_-]+)(?P<blink>:blink)?(?::(?P<for_s>\d+(?:\.\d+)?)s)?$")


@dataclass(frozen=True)
class Step:
    """One channel in a signal's pattern."""

    channel: str
    is_blinking: bool = False
    for_s: float | None = None  # off after this long; None: as long as the signal lasts


def parse_step(text: str) -> Step:
    """``"red"``, ``"amber:blink"``, ``"buzzer:2s"``, ``"amber:blink:5s"``.

    Raises:
        ValueError: for anything else, saying what is allowed.
    """
    match = _STEP.match(text)
    if match is None:
        raise ValueError(
            f"{text!r} is not a channel step: write NAME, NAME:blink, NAME:2s or NAME:blink:2s"
        )
    for_s = match["for_s"]
    return Step(match["name"], match["blink"] is not None, None if for_s is None else float(for_s))


class ChannelSettings(DriverSettings):
    """Keys every channel board shares: channel numbers, signal patterns, interlock, timing."""

    channels: dict[str, int] = Field(min_length=1)  # name -> coil address or relay number
    signals: dict[Signal, list[str]] = Field(default_factory=dict)
    interlock: str | None = None  # the seal-enable channel
    safe_signal: Literal["fault", "idle", "off"] = "fault"  # shown on start, loss and stop
    blink_period_s: float = Field(default=1.0, ge=0.1, le=10)
    refresh_s: float = Field(default=1.0, ge=0.1, le=60)  # full rewrite: watchdogs, link check
    retry_max_s: float = Field(default=10.0, ge=0.1, le=300)  # backoff cap for a lost board
    # The station loop silent this long: the board shows its safe state by itself (seal
    # locked) until the loop turns again.
    station_silent_s: float = Field(default=3.0, ge=0.5, le=60)

    @model_validator(mode="after")
    def _known_channels(self) -> Self:
        unknown: list[str] = []
        for signal, steps in self.signals.items():
            for text in steps:
                step = parse_step(text)
                if step.channel == self.interlock:
                    raise ValueError(
                        f"signals.{signal.value}: {step.channel} is the interlock; it follows "
                        "the seal permission, never a signal pattern"
                    )
                if step.channel not in self.channels:
                    unknown.append(f"signals.{signal.value}: {step.channel}")
        if self.interlock is not None and self.interlock not in self.channels:
            unknown.append(f"interlock: {self.interlock}")
        if unknown:
            raise ValueError(
                f"channels not in [channels] ({', '.join(sorted(self.channels))}): "
                + "; ".join(unknown)
            )
        return self

    def plan(self) -> dict[Signal, tuple[Step, ...]]:
        """Every signal's steps: the configured ones, else the defaults this board can show."""
        plan: dict[Signal, tuple[Step, ...]] = {}
        for signal in Signal:
            if signal in self.signals:
                plan[signal] = tuple(parse_step(text) for text in self.signals[signal])
            else:
                steps = (parse_step(text) for text in DEFAULT_SIGNALS[signal])
                plan[signal] = tuple(
                    s for s in steps if s.channel in self.channels and s.channel != self.interlock
                )
        return plan


def energised(steps: tuple[Step, ...], elapsed_s: float, blink_period_s: float) -> frozenset[str]:
    """The channels on `elapsed_s` after a signal began. Blinking starts with the lamp on."""
    on: set[str] = set()
    for step in steps:
        if step.for_s is not None and elapsed_s >= step.for_s:
            continue
        if step.is_blinking and elapsed_s % blink_period_s >= blink_period_s / 2:
            continue
        on.add(step.channel)
    return frozenset(on)


def next_change_s(steps: tuple[Step, ...], elapsed_s: float, blink_period_s: float) -> float | None:
    """Seconds until the pattern next changes, or None when it is steady from now on."""
    waits: list[float] = []
    half = blink_period_s / 2
    for step in steps:
        if step.for_s is not None:
            if elapsed_s >= step.for_s:
                continue
            waits.append(step.for_s - elapsed_s)
        if step.is_blinking:
            waits.append(half - elapsed_s % half)
    return min(waits) if waits else None


class ChannelBoard(Protocol):
    """The hardware half of a channel light: numbered channels on some link."""

    @property
    def device(self) -> str:
        """Where the board is, for messages."""
        ...

    def open(self) -> None:
        """Connect. Raises DeviceError."""
        ...

    def write(self, states: Mapping[int, bool], *, is_full: bool) -> None:
        """Set channels; `is_full` asks for every channel, not only changed ones.

        Raises DeviceError.
        """
        ...

    def close(self) -> None:
        """Disconnect; safe to call twice."""
        ...


# The safe state of a board configured with `safe_signal = "off"`: every channel off.
DARK = Indication(Signal.IDLE, "outputs off", is_seal_enabled=False)


class ChannelLight:
    """An `OutputDriver` that drives a `ChannelBoard` from a worker thread."""

    def __init__(
        self,
        settings: ChannelSettings,
        board: ChannelBoard,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.board = board
        self._plan = settings.plan()
        self._clock = clock
        self._log = structlog.get_logger("scale_agent").bind(output=board.device)
        self._changed = threading.Condition()
        self._indication = self.safe_indication()
        self._since = clock()
        self._version = 0  # bumped on every hand-over, so the worker never sleeps through one
        self._is_stopping = False
        self._vouched_at = clock()  # the station loop's last turn (see `vouch`)
        self._silent_since: float | None = None  # when the worker took over with the safe state
        self._thread: threading.Thread | None = None
        self._problem: str | None = NOT_OPENED
        self._has_connected = False  # "restored" is logged only after a loss
        self.writes = 0  # board writes so far, for tests and the bench

    @property
    def device(self) -> str:
        """The board's address."""
        return self.board.device

    @property
    def problem(self) -> str | None:
        """Why the board is not showing what it should, or None while it is."""
        return self._problem

    def safe_indication(self) -> Indication:
        """What this board shows on start, while the station is not running, and on stop."""
        if self.settings.safe_signal == "fault":
            return SAFE_INDICATION
        if self.settings.safe_signal == "idle":
            return Indication(Signal.IDLE, SAFE_INDICATION.text, is_seal_enabled=False)
        return DARK

    def open(self) -> None:
        """Start the worker; it connects and shows the safe state first."""
        if self._thread is not None:
            return
        self._is_stopping = False
        self._vouched_at = self._clock()
        self._thread = threading.Thread(
            target=self._work, name=f"output {self.board.device}", daemon=True
        )
        self._thread.start()

    def show(self, indication: Indication) -> None:
        """Hand an indication to the worker (returns at once; never raises)."""
        with self._changed:
            if indication == self._indication or self._is_stopping:
                return
            self._hand_over(indication)

    def vouch(self) -> None:
        """The station loop turned: it still stands behind what the board shows."""
        self._vouched_at = self._clock()
        if self._silent_since is not None:  # the worker holds the safe state: wake it now
            with self._changed:
                self._version += 1
                self._changed.notify()

    def close(self) -> None:
        """Show the safe state (interlock open), then disconnect."""
        thread = self._thread
        if thread is None:
            return
        with self._changed:
            self._hand_over(self.safe_indication())
            self._is_stopping = True
        thread.join(timeout=self.settings.refresh_s + 5)
        self._thread = None

    def _hand_over(self, indication: Indication) -> None:
        self._indication = indication
        self._since = self._clock()
        self._version += 1
        self._changed.notify()

    def states(self, indication: Indication, elapsed_s: float) -> dict[int, bool]:
        """Every channel's state for an indication shown for `elapsed_s`."""
        on: set[str] = set()
        if indication is not DARK:
            on |= energised(self._plan[indication.signal], elapsed_s, self._blink_s)
            if indication.is_seal_enabled and self.settings.interlock is not None:
                on.add(self.settings.interlock)
        return {number: name in on for name, number in self.settings.channels.items()}

    @property
    def _blink_s(self) -> float:
        return self.settings.blink_period_s

    def _work(self) -> None:
        link = _LinkState(Backoff(max_s=self.settings.retry_max_s))
        while True:
            with self._changed:
                indication, since = self._indication, self._since
                version, is_stopping = self._version, self._is_stopping
            now = self._clock()
            silent_from = self._vouched_at + self.settings.station_silent_s
            if now >= silent_from and not is_stopping:
                if self._silent_since is None:
                    self._silent_since = now
                    self._log.error("station_silent", shown="safe state, seal locked")
                indication, since = self.safe_indication(), self._silent_since
            elif self._silent_since is not None:
                self._silent_since = None
                self._log.info("station_turning_again")
            self._sync(link, self.states(indication, now - since), now)
            if is_stopping:
                self.board.close()
                return
            wait_s = link.wait_s(now)
            if now < silent_from:  # wake when the station would count as silent
                wait_s = min(wait_s, silent_from - now)
            if indication is not DARK:
                change_s = next_change_s(self._plan[indication.signal], now - since, self._blink_s)
                if change_s is not None:
                    wait_s = min(wait_s, change_s)
            with self._changed:
                if self._version == version:
                    self._changed.wait(timeout=max(0.0, wait_s))

    def _sync(self, link: _LinkState, states: dict[int, bool], now: float) -> None:
        """Bring the board to `states`: connect if needed, write changes or a full refresh."""
        if not link.is_connected:
            link.is_connected = self._connect()
            link.written = None
        if not link.is_connected or (states == link.written and now < link.next_full):
            return
        is_full = link.written is None or now >= link.next_full
        try:
            self.board.write(states, is_full=is_full)
        except DeviceError as exc:
            link.is_connected = False
            self._lost(str(exc))
            return
        self.writes += 1
        link.written = states
        link.backoff.reset()
        if is_full:
            link.next_full = now + self.settings.refresh_s

    def _connect(self) -> bool:
        try:
            self.board.open()
        except DeviceError as exc:
            self._lost(str(exc))
            return False
        if self._has_connected and self._problem is not None:
            self._log.info("output_restored", device=self.board.device)
        self._problem = None
        self._has_connected = True
        return True

    def _lost(self, reason: str) -> None:
        if self._problem != reason:
            self._log.error("output_lost", device=self.board.device, reason=reason)
        self._problem = reason
        self.board.close()


@dataclass
class _LinkState:
    """The worker's view of its board: connected, what it last wrote, when to refresh or retry."""

    backoff: Backoff  # the station's one retry schedule, capped at `retry_max_s`
    is_connected: bool = False
    written: dict[int, bool] | None = None
    next_full: float = 0.0

    def wait_s(self, now: float) -> float:
        """How long the worker may sleep before the next refresh or retry."""
        if self.is_connected:
            return self.next_full - now
        return self.backoff.next_wait_s()
