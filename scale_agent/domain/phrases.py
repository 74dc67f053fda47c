"""Packer-facing sentences as data: an English template (the gettext msgid) and its values.

The pure rules say *what* to tell the packer (`phrase("Too heavy by {amount}: ...",
amount=Grams(36))`); `scale_agent.io.translations` says it in the station's language, with
weights, numbers and times formatted for the locale and item names from the catalog's
translations. Values from outside (order ids, operator names) stay plain `str`: they are
never translated and never become markup (the screen sets them as text).

Every literal passed to `phrase` is extracted into the message catalogs
(`scripts/translations`), and a test fails when one has no `zh_CN` translation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from decimal import Decimal


@dataclass(frozen=True)
class Grams:
    """A weight in grams, shown in g or kg as the locale writes numbers."""

    value: Decimal


@dataclass(frozen=True)
class ItemName:
    """A catalog item's name, with its translations (language -> name); never a bare code."""

    name: str
    translations: tuple[tuple[str, str], ...] = ()

    def in_language(self, language: str) -> str:
        """The name in `language` (``zh_CN`` falls back to ``zh``), else the base name."""
        names = dict(self.translations)
        return names.get(language) or names.get(language.split("_", maxsplit=1)[0]) or self.name


@dataclass(frozen=True)
class ClockTime:
    """A wall-clock moment (epoch seconds), shown as local HH:MM."""

    epoch_s: float


@dataclass(frozen=True)
class Phrase:
    """One sentence to translate: `template` with ``{name}`` fields, and their values."""

    template: str
    values: tuple[tuple[str, Value], ...] = ()

    def with_values(self, **values: Value) -> Phrase:
        """The same sentence with its fields filled (labels are declared once, filled later)."""
        return Phrase(self.template, tuple(values.items()))


Value = str | int | Grams | ItemName | ClockTime | Phrase | tuple[Phrase | ItemName, ...]


def phrase(template: str, **values: Value) -> Phrase:
    """A packer-facing sentence (the template is the English text and the msgid)."""
    return Phrase(template, tuple(values.items()))
