"""A simulated bench scale that speaks MT-SICS over a pseudo-terminal.

The simulation behaves like a real bench scale: a parcel lands and the reading overshoots and
rings down with noise; the scale's own stable flag lags behind the real settling; the parcel
leaves. On request it misbehaves (zero drift, overload, silence, line garbage). It serves the
MT-SICS protocol (``S S      1.025 kg``) on the controller side of a pty, and the driver reads
it through the real `mt-sics` driver on the device side, so the demo exercises the same serial
path, termios included, that a real scale uses.
"""

from __future__ import annotations

import contextlib
import math
import os
import random
import select
import threading
import time
import tty
from decimal import Decimal
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from drivers.scales import mt_sics
from scale_agent.plugins import DriverSettings, ScaleCommand, ScaleIdentity

if TYPE_CHECKING:
    from collections.abc import Callable

    from scale_agent.weights import Reading, Weight

FAULTS = ("none", "drift", "overload", "silence", "garbage")


class Settings(DriverSettings):
    """Simulation parameters; the defaults resemble a 6 kg x 1 g bench scale."""

    mode: Literal["continuous", "poll"] = "continuous"
    rate_hz: float = Field(default=20.0, gt=0, le=200)
    interval_g: Decimal = Field(default=Decimal(1), gt=0)
    noise_g: float = Field(default=0.3, ge=0)
    ring_period_s: float = Field(default=0.25, gt=0)
    settle_tau_s: float = Field(default=0.15, gt=0)
    stable_lag_s: float = Field(default=0.25, ge=0)
    capacity_g: Decimal = Field(default=Decimal(6000), gt=0)
    drift_g_per_s: float = 2.0
    model: str = "SIM-6000 6 kg"
    serial_number: str = "SIM0001"
    seed: int | None = None


class BenchPhysics:
    """The platter: what lies on it, and what the load cell would show at a given moment."""

    def __init__(self, settings: Settings, now: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self._now = now
        self._random = random.Random(settings.seed)  # noqa: S311 - noise, not cryptography
        self._lock = threading.Lock()
        self._load_g = 0.0
        self._from_g = 0.0
        self._changed_at = self._now()
        self._zero_g = 0.0
        self._tare_g = 0.0
        self._drift_since: float | None = None
        self.fault = "none"

    # SimulatedBench: the demo's and the tests' hands.
    def place(self, weight: Weight) -> None:
        """Put a parcel of this true weight on the platter."""
        self._set_load(float(weight.in_grams))

    def remove(self) -> None:
        """Take the parcel off."""
        self._set_load(0.0)

    def misbehave(self, fault: str) -> None:
        """Start (or with `none`, stop) a fault: drift, overload, silence or garbage."""
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; choose from {', '.join(FAULTS)}")
        with self._lock:
            self.fault = fault
            self._drift_since = self._now() if fault == "drift" else None

    def _set_load(self, grams: float) -> None:
        with self._lock:
            now = self._now()
            self._from_g = self._raw(now)
            self._load_g = grams
            self._changed_at = now

    def _raw(self, now: float) -> float:
        elapsed = now - self._changed_at
        step = self._from_g - self._load_g
        # A damped ring: the platter overshoots past the new load and swings back.
        envelope = math.exp(-elapsed / self.settings.settle_tau_s)
        ring = math.cos(2 * math.pi * elapsed / self.settings.ring_period_s)
        return self._load_g + step * envelope * ring

    def sample(self) -> tuple[Decimal, bool] | str:
        """The displayed net weight in grams and the stable flag, or a fault reply status."""
        with self._lock:
            now = self._now()
            if self.fault == "overload":
                return "+"
            raw = self._raw(now) + self._random.gauss(0, self.settings.noise_g)
            if self._drift_since is not None:
                raw += self.settings.drift_g_per_s * (now - self._drift_since)
            elapsed = now - self._changed_at
            step = abs(self._from_g - self._load_g)
            unsettled = step * math.exp(-elapsed / self.settings.settle_tau_s)
            settled_for = elapsed - self.settings.settle_tau_s * math.log(
                max(step, 1e-9) / float(self.settings.interval_g)
            )
            # The scale's motion detector needs the motion gone for a while: it lags.
            is_stable = unsettled < float(self.settings.interval_g) and (
                settled_for >= self.settings.stable_lag_s
            )
            shown = raw - self._zero_g - self._tare_g
            if shown > float(self.settings.capacity_g):
                return "+"
            d = self.settings.interval_g
            value = (Decimal(repr(shown)) / d).quantize(Decimal(1)) * d
            return value, is_stable

    def zero(self) -> None:
        """Zero: take the current gross as the new zero (drift included)."""
        with self._lock:
            now = self._now()
            self._zero_g = self._raw(now)
            if self._drift_since is not None:
                self._zero_g += self.settings.drift_g_per_s * (now - self._drift_since)

    def tare(self) -> Decimal:
        """Tare: take what is shown as the tare; returns it in grams."""
        with self._lock:
            self._tare_g = self._raw(self._now()) - self._zero_g
            return Decimal(repr(self._tare_g)).quantize(self.settings.interval_g)


def weight_line(tag: str, grams: Decimal, *, is_stable: bool) -> bytes:
    """An MT-SICS weight reply in kilograms, e.g. ``S S      1.025 kg``."""
    kilograms = (grams / 1000).quantize(Decimal("0.001"))
    return f"{tag} {'S' if is_stable else 'D'} {kilograms:>10} kg\r\n".encode("ascii")


class PtyScaleServer:
    """Serves MT-SICS for a `BenchPhysics` on the controller side of a pseudo-terminal."""

    def __init__(self, physics: BenchPhysics) -> None:
        self.physics = physics
        controller, device = os.openpty()
        tty.setraw(device)  # no echo, no line discipline: bytes pass as they are
        self._controller = controller
        self._device_fd = device
        self.path = os.ttyname(device)
        self._stop = threading.Event()
        self._streaming = False
        self._thread = threading.Thread(target=self._serve, name="sim-scale", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop serving and close the pty."""
        self._stop.set()
        self._thread.join(timeout=2)
        for fd in (self._controller, self._device_fd):
            with contextlib.suppress(OSError):  # already closed
                os.close(fd)

    def _serve(self) -> None:
        buffer = b""
        period = 1.0 / self.physics.settings.rate_hz
        next_frame = time.monotonic()
        while not self._stop.is_set():
            timeout = max(0.0, next_frame - time.monotonic()) if self._streaming else 0.05
            ready, _, _ = select.select([self._controller], [], [], timeout)
            if ready:
                try:
                    buffer += os.read(self._controller, 1024)
                except OSError:
                    return
                while b"\n" in buffer:
                    line, buffer = buffer.split(b"\n", 1)
                    self._answer(line.strip())
            if self._streaming and time.monotonic() >= next_frame:
                next_frame += period
                if next_frame < time.monotonic():
                    next_frame = time.monotonic() + period
                self._emit(self._weight_reply("S"))

    def _emit(self, data: bytes) -> None:
        if not data or self.physics.fault == "silence":
            return
        if self.physics.fault == "garbage":
            data = bytes(random.getrandbits(8) for _ in range(len(data)))
        try:
            os.write(self._controller, data)
        except OSError:
            self._stop.set()

    def _weight_reply(self, tag: str) -> bytes:
        sample = self.physics.sample()
        if isinstance(sample, str):
            return f"{tag} {sample}\r\n".encode()
        grams, is_stable = sample
        return weight_line(tag, grams, is_stable=is_stable)

    def _answer(self, command: bytes) -> None:
        settings = self.physics.settings
        self._streaming = False  # any command ends SIR, as on a real scale
        replies = {
            b"@": f'I4 A "{settings.serial_number}"\r\n'.encode(),
            b"I2": f'I2 A "{settings.model}"\r\n'.encode(),
            b"I4": f'I4 A "{settings.serial_number}"\r\n'.encode(),
        }
        if command in replies:
            self._emit(replies[command])
        elif command in {b"SI", b"S"}:
            self._emit(self._weight_reply("S"))
        elif command == b"SIR":
            self._streaming = True
        elif command == b"Z":
            self.physics.zero()
            self._emit(b"Z A\r\n")
        elif command == b"T":
            tare = self.physics.tare()
            self._emit(weight_line("T", tare, is_stable=True))
        elif command:
            self._emit(b"ES\r\n")


class SimulatedScale:
    """The `simulated` driver: a `BenchPhysics` served over a pty, read by the MT-SICS driver."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.bench = BenchPhysics(settings)
        self._server: PtyScaleServer | None = None
        self._driver: mt_sics.MtSicsScale | None = None

    @property
    def device(self) -> str:
        """The pty path the MT-SICS driver reads."""
        return self._server.path if self._server else "simulated"

    def open(self) -> ScaleIdentity:
        """Start the pty server (once) and open it as an MT-SICS scale."""
        if self._server is None:
            self._server = PtyScaleServer(self.bench)
        driver = mt_sics.MtSicsScale(
            mt_sics.Settings(port=self._server.path, mode=self.settings.mode)
        )
        identity = driver.open()
        self._driver = driver
        return identity

    def read(self) -> list[Reading]:
        """Readings from the MT-SICS driver."""
        if self._driver is None:
            return []
        return self._driver.read()

    def send(self, command: ScaleCommand) -> bool:
        """Zero or tare through MT-SICS."""
        return self._driver.send(command) if self._driver else False

    def close(self) -> None:
        """Close the serial side and stop the simulated device."""
        if self._driver is not None:
            self._driver.close()
            self._driver = None
        if self._server is not None:
            self._server.close()
            self._server = None


DRIVER = SimulatedScale
