"""Weights with their unit, and the readings a scale driver produces.

A weight is never a bare number: `Weight` keeps the value as a `Decimal` together with its
`Unit`, and every comparison goes through exact grams. The pound and the ounce are defined
exactly (international yard and pound agreement, 1959): 1 lb = 453.59237 g and
1 oz = 1/16 lb = 28.349523125 g, so converting any of g, kg, lb and oz into grams is exact.
(Converting grams into pounds divides by 453.59237, which is exact to Decimal's 28
significant digits; comparisons never need it.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import TYPE_CHECKING, Self

from scale_agent.errors import WeightFormatError

if TYPE_CHECKING:
    from collections.abc import Mapping


class Unit(StrEnum):
    """A unit of mass a scale can report."""

    G = "g"
    KG = "kg"
    LB = "lb"
    OZ = "oz"


GRAMS_PER_UNIT: dict[Unit, Decimal] = {
    Unit.G: Decimal(1),
    Unit.KG: Decimal(1000),
    Unit.LB: Decimal("453.59237"),
    Unit.OZ: Decimal("28.349523125"),
}

# The one table of unit names, in config files and on the wire (lower case); drivers use it,
# as text or (the fast decoders) as bytes, and add only what their protocol spells oddly.
UNIT_NAMES: dict[str, Unit] = {
    "g": Unit.G,
    "kg": Unit.KG,
    "lb": Unit.LB,
    "lbs": Unit.LB,
    "oz": Unit.OZ,
}
UNIT_BYTES: dict[bytes, Unit] = {name.encode(): unit for name, unit in UNIT_NAMES.items()}

_WEIGHT_TEXT = re.compile(r"^\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+))\s*([a-zA-Z]+)\s*$")


def parse_unit(text: str) -> Unit:
    """Return the unit named by `text` (case-insensitive, `lbs` accepted).

    Raises:
        WeightFormatError: when the text names no unit of mass we know.
    """
    try:
        return UNIT_NAMES[text.strip().lower()]
    except KeyError:
        known = ", ".join(sorted(UNIT_NAMES))
        raise WeightFormatError(text, f"unknown unit {text!r} (known: {known})") from None


@dataclass(frozen=True, slots=True)
class Weight:
    """A mass: an exact decimal value in a unit.

    Equality and ordering compare the mass, so `Weight.parse("1kg") == Weight.parse("1000g")`.
    """

    value: Decimal
    unit: Unit

    @classmethod
    def parse(cls, text: str) -> Self:
        """Parse text such as `1.025kg`, `36.2 oz`, `1025g` or `-2.26lb`.

        Raises:
            WeightFormatError: when the text is not a number followed by a unit.
        """
        match = _WEIGHT_TEXT.match(text)
        if match is None:
            raise WeightFormatError(
                text, f"{text!r} is not a weight; write a number and a unit, e.g. 150g"
            )
        try:
            value = Decimal(match.group(1))
        except InvalidOperation:  # pragma: no cover - the pattern only admits numbers
            raise WeightFormatError(text, f"{text!r} has no valid number") from None
        return cls(value, parse_unit(match.group(2)))

    @classmethod
    def grams(cls, value: Decimal | int | str) -> Self:
        """Return a weight of `value` grams."""
        return cls(Decimal(value), Unit.G)

    @property
    def in_grams(self) -> Decimal:
        """The exact mass in grams."""
        return self.value * GRAMS_PER_UNIT[self.unit]

    def to(self, unit: Unit) -> Weight:
        """Return the same mass expressed in `unit` (exact into grams; 28 digits otherwise)."""
        if unit is self.unit:
            return self
        return Weight(self.in_grams / GRAMS_PER_UNIT[unit], unit)

    def __str__(self) -> str:
        return f"{self.value}{self.unit.value}"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Weight):
            return NotImplemented
        return self.in_grams == other.in_grams

    def __hash__(self) -> int:
        return hash(self.in_grams)

    def __lt__(self, other: Weight) -> bool:
        return self.in_grams < other.in_grams

    def __le__(self, other: Weight) -> bool:
        return self.in_grams <= other.in_grams

    def __gt__(self, other: Weight) -> bool:
        return self.in_grams > other.in_grams

    def __ge__(self, other: Weight) -> bool:
        return self.in_grams >= other.in_grams


GRAMS_PER_KG = 1000


def format_grams(grams: Decimal) -> str:
    """Render a gram amount for people: `1.027 kg` above a kilogram, else `148 g`."""
    if abs(grams) >= GRAMS_PER_KG:
        return f"{(grams / 1000).quantize(Decimal('0.001'))} kg"
    return f"{grams.quantize(Decimal('0.1')).normalize():f} g"


class Mode(StrEnum):
    """Whether a reading is the gross weight or the net weight (after tare)."""

    GROSS = "gross"
    NET = "net"


class ReadingKind(StrEnum):
    """What a decoded frame carries."""

    WEIGHT = "weight"  # a weight value (possibly unstable)
    STATUS = "status"  # a state without a value: overload, underload, busy
    REPLY = "reply"  # the answer to a command (zero done, identity, ...)
    ERROR = "error"  # bytes that did not form a valid frame, or a device error reply


@dataclass(slots=True)
class Reading:
    """One decoded frame from a scale.

    `weight` is None unless the frame truly carried a value: a reading without a weight can
    never produce a verdict. `received_at` is the monotonic clock (seconds) when the frame was
    complete; `wall_time` is UTC seconds since the epoch, for evidence.

    Not frozen, for speed alone: decoders build hundreds of thousands a second and a frozen
    dataclass costs four times as much to construct. Treat readings as values all the same;
    `dataclasses.replace` makes a changed copy.
    """

    kind: ReadingKind
    raw: bytes
    weight: Weight | None = None
    is_stable: bool | None = None
    mode: Mode | None = None
    is_overload: bool = False
    is_underload: bool = False
    error: str | None = None
    received_at: float = 0.0
    wall_time: float = 0.0
    detail: Mapping[str, str] | None = None  # protocol extras: a reply's command and value

    def at(self, received_at: float, wall_time: float) -> Reading:
        """A copy stamped with when it was complete (a few times faster than `replace`)."""
        return Reading(
            self.kind,
            self.raw,
            self.weight,
            self.is_stable,
            self.mode,
            self.is_overload,
            self.is_underload,
            self.error,
            received_at,
            wall_time,
            self.detail,
        )

    @property
    def is_usable_weight(self) -> bool:
        """True when this reading carries a real weight and no fault."""
        return (
            self.kind is ReadingKind.WEIGHT
            and self.weight is not None
            and self.error is None
            and not self.is_overload
            and not self.is_underload
        )
