"""A configurable line format for the long tail of scales: a regular expression per line.

Named groups: ``value`` (required), ``unit`` (else `unit` from the config: never a guess),
``status`` (compared with `stable_values`, `motion_values`, `overload_values`) and ``mode``
(compared with `net_values`, `gross_values`). Presets cover formats seen in manuals:

- ``liden-a``: ``ww    12.345kg`` (ww gross, wn net, no stability flag), Liden LUW2001 p.17;
- ``fairbanks-ups``: ``   12.34 lb GR`` (upper-case GR stable gross, lower-case gr in motion),
  Fairbanks FB2255 UPS WorldShip format p.72.
(reference/protocols.md section 5)
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Literal, Self

from pydantic import Field, model_validator

from drivers.scales._stream import (
    FrameDecoder,
    SerialScale,
    StreamSettings,
    error,
    line_decoder,
    number,
    text,
    weight_reading,
)
from scale_agent.plugins import ScaleIdentity
from scale_agent.weights import Reading, ReadingKind

if TYPE_CHECKING:
    import serial

PRESETS: dict[str, dict[str, object]] = {
    "liden-a": {
        "pattern": r"^(?P<mode>ww|wn)(?P<value>[-\s\d.]{9})(?P<unit>kg|lb)$",
        "net_values": ["wn"],
        "gross_values": ["ww"],
    },
    "fairbanks-ups": {
        "pattern": r"^\s*(?P<value>-?\s*[\d.]+)\s+(?P<unit>lb|kg)\s+(?P<status>GR|gr)\s*$",
        "stable_values": ["GR"],
        "motion_values": ["gr"],
        "gross_values": [],
    },
}


class Settings(StreamSettings):
    """Line-format keys: a `preset`, or a `pattern` and its value lists."""

    preset: Literal["liden-a", "fairbanks-ups"] | None = None
    pattern: str | None = None
    unit: str | None = None
    stable_values: list[str] = Field(default_factory=list)
    motion_values: list[str] = Field(default_factory=list)
    overload_values: list[str] = Field(default_factory=list)
    net_values: list[str] = Field(default_factory=list)
    gross_values: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _pattern(self) -> Self:
        if self.preset is None and self.pattern is None:
            raise ValueError("give a preset or a pattern")
        try:
            compiled = re.compile(str(self.resolved()["pattern"]))
        except re.error as exc:
            raise ValueError(f"pattern is not a regular expression: {exc}") from exc
        if "value" not in compiled.groupindex:
            raise ValueError("the pattern needs a (?P<value>...) group")
        return self

    def resolved(self) -> dict[str, object]:
        """The preset's keys, overridden by whatever the config sets."""
        keys: dict[str, object] = dict(PRESETS[self.preset]) if self.preset else {}
        for name in (
            "pattern",
            "stable_values",
            "motion_values",
            "overload_values",
            "net_values",
            "gross_values",
        ):
            value = getattr(self, name)
            if value:
                keys[name] = value
        return keys


class LineParser:
    """The parser a `Settings` describes."""

    def __init__(self, settings: Settings) -> None:
        keys = settings.resolved()
        self.pattern = re.compile(str(keys["pattern"]))
        self.unit = settings.unit

        def values(name: str) -> set[str]:
            found = keys.get(name) or []
            return {str(item) for item in found} if isinstance(found, list) else set()

        self.stable, self.motion = values("stable_values"), values("motion_values")
        self.overload = values("overload_values")
        self.net, self.gross = values("net_values"), values("gross_values")

    def __call__(self, frame: bytes) -> Reading:
        """Decode one line. Never raises."""
        line = text(frame)
        match = self.pattern.match(line) if line is not None else None
        if match is None:
            return error(frame, "line does not match the pattern")
        groups = match.groupdict()
        status, mode = groups.get("status"), groups.get("mode")
        if status is not None and status in self.overload:
            return Reading(ReadingKind.STATUS, frame, is_overload=True)
        value = number(groups["value"].replace(" ", ""))
        if value is None:
            return error(frame, "malformed weight")
        unit = groups.get("unit") or self.unit
        if unit is None:
            return error(frame, "no unit in the line: set unit in the config")
        stable = None
        if status is not None:
            stable = True if status in self.stable else False if status in self.motion else None
        resolved_mode = "net" if mode in self.net else "gross" if mode in self.gross else None
        if resolved_mode is None and status is not None and self.gross and not self.net:
            resolved_mode = None
        return weight_reading(frame, value, unit, stable=stable, mode=resolved_mode)


def make_decoder(settings: Settings) -> FrameDecoder:
    """The incremental decoder."""
    return line_decoder(LineParser(settings))


class LineScale(SerialScale[Settings]):
    """A scale whose lines a regular expression describes."""

    @classmethod
    def decoder(cls, settings: Settings) -> FrameDecoder:
        """CR LF lines through the configured pattern."""
        return make_decoder(settings)

    def identify(self, port: serial.SerialBase) -> ScaleIdentity:
        """The model is the line format in use."""
        _ = port
        return ScaleIdentity(model=f"line format {self.settings.preset or 'pattern'}")


DRIVER = LineScale
