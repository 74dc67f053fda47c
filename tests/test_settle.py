from __future__ import annotations

from decimal import Decimal

from scale_agent.domain.settle import Settler, SettleSection
from scale_agent.weights import Reading, ReadingKind, Weight


def reading(grams: str, at: float, *, stable: bool) -> Reading:
    return Reading(
        ReadingKind.WEIGHT, b"", Weight.grams(Decimal(grams)), is_stable=stable, received_at=at
    )


def feed(settler: Settler, values: list[tuple[str, bool]], rate_hz: float = 20) -> list[int]:
    """Indexes of the readings at which the settler answered."""
    return [
        i
        for i, (grams, stable) in enumerate(values)
        if settler.feed(reading(grams, i / rate_hz, stable=stable)) is not None
    ]


def test_device_mode_takes_the_first_stable_frame() -> None:
    settler = Settler(SettleSection(mode="device"))
    assert feed(settler, [("900", False), ("1010", False), ("1000", True)])[0] == 2


def test_window_mode_needs_n_readings_in_band_over_the_minimum_time() -> None:
    settler = Settler(
        SettleSection(mode="window", window_readings=5, band_g=Decimal(2), min_time_s=0.3)
    )
    values = [("1000", False)] * 10
    # 5 readings at 20 Hz span only 0.2 s: the 7th reading (0.3 s after the first) settles.
    assert feed(settler, values)[0] == 6


def test_a_reading_outside_the_band_restarts_the_wait() -> None:
    settler = Settler(
        SettleSection(mode="window", window_readings=3, band_g=Decimal(2), min_time_s=0.1)
    )
    values = [("1000", False)] * 2 + [("1010", False)] + [("1010", False)] * 3
    assert feed(settler, values)[0] == 4  # three 1010 g readings spanning 0.1 s


def test_both_mode_rejects_a_stable_flag_the_window_contradicts() -> None:
    settler = Settler(
        SettleSection(mode="both", window_readings=3, band_g=Decimal(2), min_time_s=0.1)
    )
    # A lazy motion detector says "stable" while the weight still swings by 30 g.
    swinging = [("1000", True), ("1030", True), ("990", True), ("1025", True)]
    assert feed(settler, swinging) == []
    settler.reset()
    assert feed(settler, [("1000", True)] * 4)[0] == 2


def test_both_mode_waits_for_the_device_flag_even_when_the_window_is_steady() -> None:
    settler = Settler(SettleSection(mode="both", window_readings=3, min_time_s=0.1))
    assert feed(settler, [("1000", False)] * 6 + [("1000", True)]) == [6]


def test_the_settled_weight_carries_its_evidence() -> None:
    settler = Settler(SettleSection(mode="window", window_readings=3, min_time_s=0.1))
    result = None
    for i in range(3):
        result = settler.feed(reading("500", i * 0.05, stable=False))
    assert result is not None
    assert result.weight == Weight.grams(500)
    assert len(result.readings) == 3
