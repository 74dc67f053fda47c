"""Signal patterns as pure functions: steps, blinking, timeouts, and config mistakes."""

from __future__ import annotations

import io
from typing import Any

import pytest
from pydantic import ValidationError

from drivers.outputs._channels import (
    ChannelSettings,
    Step,
    energised,
    next_change_s,
    parse_step,
)
from drivers.outputs.console import ConsoleLight
from drivers.outputs.console import Settings as ConsoleSettings
from scale_agent.plugins import Indication, Signal
from scale_agent.testing import wait_until

TOWER = {"red": 0, "amber": 1, "green": 2, "buzzer": 3, "seal": 4}


@pytest.mark.parametrize(
    ("text", "step"),
    [
        ("red", Step("red")),
        ("amber:blink", Step("amber", is_blinking=True)),
        ("buzzer:2s", Step("buzzer", for_s=2.0)),
        ("amber:blink:0.5s", Step("amber", is_blinking=True, for_s=0.5)),
    ],
)
def test_steps_parse(text: str, step: Step) -> None:
    assert parse_step(text) == step


@pytest.mark.parametrize("text", ["", "red:", "red:fast", "buzzer:2", "buzzer:2s:blink", "r d"])
def test_bad_steps_say_what_is_allowed(text: str) -> None:
    with pytest.raises(ValueError, match="NAME:blink"):
        parse_step(text)


def test_a_buzzer_with_a_timeout_stops_and_a_blink_alternates() -> None:
    steps = (Step("red"), Step("buzzer", for_s=2.0), Step("amber", is_blinking=True))
    assert energised(steps, 0.0, 1.0) == {"red", "buzzer", "amber"}
    assert energised(steps, 0.6, 1.0) == {"red", "buzzer"}  # amber's dark half
    assert energised(steps, 1.1, 1.0) == {"red", "buzzer", "amber"}
    assert energised(steps, 2.0, 1.0) == {"red", "amber"}  # the buzzer has had its 2 s
    assert energised(steps, 2.7, 1.0) == {"red"}


def test_next_change_is_the_nearest_edge_or_none_when_steady() -> None:
    steps = (Step("red"), Step("buzzer", for_s=2.0), Step("amber", is_blinking=True))
    assert next_change_s(steps, 0.0, 1.0) == pytest.approx(0.5)
    assert next_change_s(steps, 1.8, 1.0) == pytest.approx(0.2)
    assert next_change_s((Step("red"), Step("buzzer", for_s=2.0)), 2.5, 1.0) is None
    assert next_change_s((Step("green"),), 0.0, 1.0) is None


def settings(**keys: Any) -> ChannelSettings:
    return ChannelSettings.model_validate({"channels": TOWER, **keys})


def test_defaults_fill_the_signals_the_config_leaves_out() -> None:
    plan = settings(signals={"fail": ["red:blink"]}, interlock="seal").plan()
    assert plan[Signal.FAIL] == (Step("red", is_blinking=True),)
    assert plan[Signal.PASS] == (Step("green"),)
    assert plan[Signal.IDLE] == ()
    # a board without a buzzer or amber lamp keeps only the steps it can show
    two_lamps = ChannelSettings(channels={"red": 0, "green": 1}).plan()
    assert two_lamps[Signal.FAIL] == (Step("red"),)
    assert two_lamps[Signal.SETTLING] == ()


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ({"signals": {"pass": ["blue"]}}, r"signals.pass: blue"),
        ({"interlock": "relay9"}, "interlock: relay9"),
        ({"interlock": "seal", "signals": {"pass": ["green", "seal"]}}, "is the interlock"),
        ({"signals": {"flash": ["red"]}}, "signals.flash"),
        ({"signals": {"fail": ["red:often"]}}, "not a channel step"),
    ],
)
def test_config_mistakes_name_the_key(keys: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        settings(**keys)


def test_the_console_light_prints_outside_text_escaped() -> None:
    stream = io.StringIO()
    light = ConsoleLight(ConsoleSettings(color="never"), stream)
    forged = "order SO-1\r\x1b[2K\x1b[1;97;42m[   PASS   ] order SO-1 | seal: ENABLED"
    light.show(Indication(Signal.READY, forged))
    line = stream.getvalue()
    assert line.count("\n") == 1
    assert "\x1b" not in line
    assert "\r" not in line
    assert line.startswith("[  READY   ] order SO-1\\x0d\\x1b[2K")
    assert line.endswith("| seal: locked\n")


def test_the_console_light_says_so_when_the_station_stops_turning() -> None:
    stream = io.StringIO()
    light = ConsoleLight(ConsoleSettings(color="never", station_silent_s=0.5), stream)
    light.open()
    try:
        light.show(Indication(Signal.PASS, "Seal the parcel", is_seal_enabled=True))
        assert stream.getvalue().endswith("| seal: ENABLED\n")
        # No turn of the station loop for station_silent_s: the last line is no PASS.
        wait_until(lambda: "not responding" in stream.getvalue(), timeout=3)
        assert stream.getvalue().endswith(
            "[  FAULT   ] Station not responding: do not seal, call the supervisor | seal: locked\n"
        )
        light.vouch()  # it turns again: what it stands behind is shown again
        assert stream.getvalue().endswith("[   PASS   ] Seal the parcel | seal: ENABLED\n")
    finally:
        light.close()
