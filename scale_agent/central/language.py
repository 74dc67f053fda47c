"""The monitor's pages in the supervisor's language: English, or Chinese (`zh_CN`).

Texts are msgids of the `central` gettext catalog (`scale_agent/locales/<language>/
LC_MESSAGES/central.po`), read with Babel like the stations' own; English is the msgid. A page
is in the language its user picked (a cookie set from the language links), else the browser's
first choice it has (`Accept-Language`), else `[central] language`. What stations sent
(reasons, names without a translation, notes) is shown as they sent it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scale_agent.io.translations import catalog_messages

if TYPE_CHECKING:
    from collections.abc import Mapping

LANGUAGES = ("en", "zh_CN")
COOKIE = "central_language"
DOMAIN = "central"

# The texts central.js builds rows and tiles with (the page hands them to the script).
SCRIPT_TEXTS = (
    "Light",
    "order",
    "Scale",
    "Last stable reading",
    "{n} s ago",
    "outbox",
    "last heard {when}",
    "{command} sent",
    "not sent: {status}",
    "not acknowledged: {status}",
    "an override needs a reason",
    "reweigh",
    "override",
    "Ledger",
    "{n} records, signed {when}",
    "key",
    "Scale test",
)
# Words stations send as codes: verdicts, station and scale states, outcomes.
CODES = (
    "PASS",
    "UNDER",
    "OVER",
    "MISSING_ITEM",
    "EXTRA_ITEM",
    "RECHECK",
    "UNVERIFIABLE",
    "UNSTABLE",
    "SCALE_FAULT",
    "NO_JOB",
    "UNKNOWN_SKU",
    "online",
    "offline",
    "silent",
    "unknown",
    "idle",
    "waiting",
    "settling",
    "judged",
    "ok",
    "fault",
    "open",
    "viewer",
    "service",
    "supervisor",
    "admin",
    "passed",
    "warning",
    "failed",
    "due",
    "answered",
    "appealed",
    "closed",
    "reject",
    "refund",
    "reship",
    "voucher",
    "appeal",
)


# What the English pages say for the codes stations send (English has no catalog: the msgid
# is the text, and a supervisor reads words, not MISSING_ITEM).
ENGLISH_WORDS = {
    "UNDER": "TOO LIGHT",
    "OVER": "TOO HEAVY",
    "MISSING_ITEM": "MISSING ITEM",
    "EXTRA_ITEM": "EXTRA ITEM",
    "UNVERIFIABLE": "COUNT ITEMS",
    "UNSTABLE": "NOT STEADY",
    "SCALE_FAULT": "SCALE FAULT",
    "NO_JOB": "NO ORDER",
    "UNKNOWN_SKU": "UNKNOWN SKU",
}


def choose(cookie: str | None, accept_language: str | None, default: str) -> str:
    """The language for a request."""
    if cookie in LANGUAGES:
        return str(cookie)
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("zh"):
            return "zh_CN"
        if tag.startswith("en"):
            return "en"
    return default


class Texts:
    """One language's texts for pages, the script and the views."""

    def __init__(self, language: str) -> None:
        self.language = language if language in LANGUAGES else "en"
        self._messages = catalog_messages(self.language, DOMAIN)
        self._codes = ENGLISH_WORDS if self.language == "en" else self._messages

    @property
    def html_lang(self) -> str:
        """For `<html lang>`: `zh-CN` (fonts and line breaking follow it)."""
        return self.language.replace("_", "-")

    def __call__(self, message: str, **values: Any) -> str:  # noqa: ANN401 - str.format values
        """The translation of `message`, its `{fields}` filled in."""
        template = self._messages.get(message, message)
        try:
            return template.format(**values) if values else template
        except (KeyError, IndexError, ValueError):  # a broken translation: say it in English
            return message.format(**values)

    def code(self, word: str | None) -> str:
        """A verdict, state or outcome code as a word of this language (a dash for none)."""
        if not word:
            return "\N{EN DASH}"
        return self._codes.get(word, word)

    def name(self, name: str, names: Mapping[str, str] | None) -> str:
        """An item's name in this language, else the catalog's own."""
        return (names or {}).get(self.language) or name

    def for_script(self) -> dict[str, str]:
        """What central.js needs: its texts and the codes, in this language."""
        texts = {text: self._messages.get(text, text) for text in SCRIPT_TEXTS}
        return texts | {code: self.code(code) for code in CODES}


ENGLISH = Texts("en")
