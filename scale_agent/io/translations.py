"""Packer-facing text in the station's language: gettext catalogs read with Babel.

The catalogs are the `.po` files under `scale_agent/locales/` (read at start-up, so there is
no compiled file to forget); English is the msgid itself. Weights, numbers, lists and times
follow the locale's conventions (CLDR data through Babel): `1,027.5 g` in English and
Chinese, `1.027,5 g` in German; a list of items reads `A, B and C` or `A、B和C`.
"""

from __future__ import annotations

import string
import time
from decimal import Decimal
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from babel import Locale
from babel.lists import format_list
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, parse_pattern

from scale_agent.domain.phrases import ClockTime, Grams, ItemName, Phrase
from scale_agent.errors import UsageError
from scale_agent.io.config import LANGUAGES

if TYPE_CHECKING:
    from scale_agent.domain.phrases import Value

LOCALES = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "scale_agent"
GRAMS_PER_KG = Decimal(1000)
# Parsed once: Babel parses a pattern string on every call otherwise (a third of the cost).
_KG = parse_pattern("#,##0.000")
_G = parse_pattern("#,##0.#")


def catalog_path(language: str, domain: str = DOMAIN) -> Path:
    """The `.po` file of a language (`domain`: `scale_agent` for stations, `central`)."""
    return LOCALES / language / "LC_MESSAGES" / f"{domain}.po"


@cache
def catalog_messages(language: str, domain: str = DOMAIN) -> dict[str, str]:
    """Msgid -> msgstr of a language's catalog; untranslated and fuzzy entries are left out."""
    if language == "en":
        return {}
    with catalog_path(language, domain).open("rb") as file:
        catalog = read_po(file, locale=language)
    return {
        str(message.id): str(message.string)
        for message in catalog
        if message.id and isinstance(message.string, str) and message.string and not message.fuzzy
    }


class Translator:
    """Renders phrases in one language."""

    def __init__(self, language: str = "en") -> None:
        if language not in LANGUAGES:
            raise UsageError(
                f"language {language!r} is not available: choose one of {', '.join(LANGUAGES)}"
            )
        self.language = language
        self.locale = Locale.parse(language)
        self._messages = catalog_messages(language)

    @property
    def html_lang(self) -> str:
        """The BCP 47 tag for an HTML `lang` attribute (`zh-CN`)."""
        return self.language.replace("_", "-")

    def gettext(self, message: str) -> str:
        """The translation of a msgid, or the msgid (English) itself."""
        return self._messages.get(message, message)

    def render(self, text: Phrase | str) -> str:
        """A phrase in this language; a plain string is outside text and stays as it is."""
        if isinstance(text, str):
            return text
        values = {name: self._value(value) for name, value in text.values}
        template = self.gettext(text.template)
        try:
            return template.format_map(values)
        except (KeyError, IndexError, ValueError):
            # A broken translation must never hide the instruction: fall back to English.
            return text.template.format_map(values)

    def grams(self, grams: Decimal) -> str:
        """`148 g`, `1.027 kg`, `1,250.5 g` as this locale writes numbers."""
        return _grams(self.language, grams)

    def number(self, value: int | Decimal) -> str:
        """A count or amount as this locale writes it."""
        return str(format_decimal(value, locale=self.locale))

    def _value(self, value: Value) -> str:  # noqa: PLR0911 - one case per kind of value
        if isinstance(value, str):
            return value
        if isinstance(value, bool):
            return str(value)
        if isinstance(value, int):
            return self.number(value)
        if isinstance(value, Grams):
            return self.grams(value.value)
        if isinstance(value, ItemName):
            return value.in_language(self.language)
        if isinstance(value, ClockTime):
            return time.strftime("%H:%M", time.localtime(value.epoch_s))
        if isinstance(value, Phrase):
            return self.render(value)
        return str(format_list([self._value(part) for part in value], locale=self.locale))


@lru_cache(maxsize=4096)
def _grams(language: str, grams: Decimal) -> str:
    """Cached: the live weight repeats the same few values many times a second."""
    locale = Locale.parse(language)
    if abs(grams) >= GRAMS_PER_KG:
        value = (grams / GRAMS_PER_KG).quantize(Decimal("0.001"))
        return f"{_KG.apply(value, locale)} kg"
    value = grams.quantize(Decimal("0.1")).normalize()
    return f"{_G.apply(value, locale)} g"


def template_fields(template: str) -> set[str]:
    """The ``{name}`` fields of a template (to check that a translation keeps them all)."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


ENGLISH = Translator("en")
