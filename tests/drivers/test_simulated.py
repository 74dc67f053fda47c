"""The simulated bench behaves like a scale, and speaks MT-SICS through a real pty."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import pytest

from drivers.simulated import BenchPhysics, Settings, SimulatedScale
from scale_agent.plugins import SimulatedBench
from scale_agent.weights import ReadingKind, Weight

if TYPE_CHECKING:
    from decimal import Decimal


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def samples(physics: BenchPhysics, clock: Clock, seconds: float) -> list[tuple[Decimal, bool]]:
    out = []
    for _ in range(int(seconds * 20)):
        clock.now += 0.05
        sample = physics.sample()
        assert not isinstance(sample, str)
        out.append(sample)
    return out


def test_a_parcel_overshoots_then_settles_and_the_stable_flag_lags() -> None:
    clock = Clock()
    physics = BenchPhysics(Settings(seed=3), now=clock)
    physics.place(Weight.grams(1000))
    trace = samples(physics, clock, 3)
    assert max(grams for grams, _ in trace) > 1050  # the platter overshoots
    first_stable = next(i for i, (_, stable) in enumerate(trace) if stable)
    first_close = next(i for i, (grams, _) in enumerate(trace) if abs(grams - 1000) <= 1)
    assert first_stable > first_close  # the motion detector lags behind the real settling
    assert all(abs(grams - 1000) <= 2 for grams, _ in trace[first_stable:])


def test_faults_on_request() -> None:
    clock = Clock()
    physics = BenchPhysics(Settings(seed=3, drift_g_per_s=2.0), now=clock)
    physics.misbehave("overload")
    assert physics.sample() == "+"
    physics.misbehave("drift")
    drifted = samples(physics, clock, 5)
    assert drifted[-1][0] >= 8  # 2 g/s for 5 s on an empty platter
    with pytest.raises(ValueError, match="unknown fault"):
        physics.misbehave("fire")


def test_the_simulated_scale_streams_mt_sics_over_a_pty() -> None:
    scale = SimulatedScale(Settings(seed=1))
    try:
        identity = scale.open()
        assert identity.serial == "SIM0001"
        assert scale.device.startswith("/dev/pts/")
        assert isinstance(scale.bench, SimulatedBench)
        scale.bench.place(Weight.parse("0.5kg"))
        deadline = time.monotonic() + 5
        stable = None
        has_landed = False  # frames sent before the parcel landed show the empty platter
        while stable is None and time.monotonic() < deadline:
            for reading in scale.read():
                if reading.kind is ReadingKind.REPLY:
                    continue  # the identity replies to @, I2 and I4 that arrive late
                assert reading.kind is ReadingKind.WEIGHT
                assert reading.raw.startswith(b"S ")
                has_landed = has_landed or reading.is_stable is False
                if has_landed and reading.is_stable:
                    stable = reading
        assert stable is not None
        assert stable.weight is not None
        assert abs(stable.weight.in_grams - 500) <= 2
    finally:
        scale.close()
