"""The configurable line format and its presets (Liden A format, Fairbanks UPS WorldShip)."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
from pydantic import ValidationError

from drivers.scales.line import LineParser, Settings
from scale_agent.testing.contracts import ScaleDriverContract
from scale_agent.weights import Mode, ReadingKind, Weight

W = Weight.parse


def test_liden_a_format() -> None:
    parse = LineParser(Settings(port="x", preset="liden-a"))
    gross = parse(b"ww   12.345kg\r\n")
    net = parse(b"wn-  01.200lb\r\n")
    assert (gross.weight, gross.mode, gross.is_stable) == (W("12.345kg"), Mode.GROSS, None)
    assert (net.weight, net.mode) == (W("-1.2lb"), Mode.NET)


def test_fairbanks_ups_lower_case_means_motion() -> None:
    parse = LineParser(Settings(port="x", preset="fairbanks-ups"))
    assert parse(b"   12.34 lb GR  \r\n").is_stable is True
    assert parse(b"   12.34 lb gr  \r\n").is_stable is False


def test_a_pattern_of_ones_own_with_the_unit_from_the_config() -> None:
    settings = Settings(
        port="x",
        pattern=r"^W=(?P<value>[-\d.]+)(?P<status>[SM])$",
        unit="kg",
        stable_values=["S"],
        motion_values=["M"],
    )
    parse = LineParser(settings)
    assert (parse(b"W=1.250S\r\n").weight, parse(b"W=1.250M\r\n").is_stable) == (W("1.25kg"), False)
    assert parse(b"junk\r\n").kind is ReadingKind.ERROR


def test_without_a_unit_anywhere_nothing_is_guessed() -> None:
    parse = LineParser(Settings(port="x", pattern=r"^(?P<value>[\d.]+)$"))
    assert parse(b"1.25\r\n").error == "no unit in the line: set unit in the config"


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ({}, "preset or a pattern"),
        ({"pattern": "(?P<value"}, "not a regular expression"),
        ({"pattern": r"^\d+$"}, "(?P<value>...)"),
    ],
)
def test_bad_patterns_are_config_errors(keys: dict[str, str], message: str) -> None:
    with pytest.raises(
        ValidationError,
        match=message.replace("(", r"\(")
        .replace(")", r"\)")
        .replace("?", r"\?")
        .replace(".", r"\."),
    ):
        Settings(port="x", **keys)


class TestLineContract(ScaleDriverContract):
    driver_name = "line"
    settings: ClassVar[dict[str, Any]] = {"preset": "fairbanks-ups"}
    stable_weight = W("12.34lb")
    moving_weight = W("12.3lb")

    def stable_frame(self) -> bytes:
        return b"   12.34 lb GR  \r\n"

    def moving_frame(self) -> bytes:
        return b"   12.30 lb gr  \r\n"
