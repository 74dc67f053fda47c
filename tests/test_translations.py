"""Every packer-facing phrase is translated, and numbers, weights and names follow the locale."""

from __future__ import annotations

import ast
from decimal import Decimal
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from scale_agent.domain.phrases import Grams, ItemName, phrase
from scale_agent.io.translations import Translator, catalog_path, template_fields

SOURCE = Path(__file__).resolve().parent.parent / "scale_agent"
SHIPPED = ("zh_CN", "de")


def source_phrases() -> set[str]:
    """Every literal template passed to `phrase(...)` in the package."""
    found: set[str] = set()
    for path in SOURCE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "phrase"
                and node.args
            ):
                first = node.args[0]
                assert isinstance(first, ast.Constant), f"{path}: phrase() needs a literal"
                found.add(str(first.value))
    return found


def catalog(language: str) -> dict[str, tuple[str, bool]]:
    with catalog_path(language).open("rb") as file:
        messages = read_po(file, locale=language)
    return {str(m.id): (str(m.string or ""), m.fuzzy) for m in messages if m.id}


def test_the_source_has_packer_facing_phrases() -> None:
    assert len(source_phrases()) > 50


@pytest.mark.parametrize("language", SHIPPED)
def test_every_phrase_is_translated_keeping_its_fields(language: str) -> None:
    entries = catalog(language)
    problems = []
    for template in sorted(source_phrases()):
        string, fuzzy = entries.get(template, ("", False))
        if not string or fuzzy:
            problems.append(f"untranslated: {template!r}")
        elif template_fields(string) != template_fields(template):
            problems.append(f"fields differ: {template!r} -> {string!r}")
    assert not problems, f"{language}: run scripts/translations, then translate:\n" + "\n".join(
        problems
    )


@pytest.mark.parametrize("language", SHIPPED)
def test_no_catalog_keeps_phrases_the_code_no_longer_says(language: str) -> None:
    stale = set(catalog(language)) - source_phrases()
    assert not stale, f"{language}: run scripts/translations to drop {sorted(stale)}"


def test_weights_and_numbers_follow_the_locale() -> None:
    assert Translator("en").grams(Decimal("1027.5")) == "1.028 kg"
    assert Translator("en").grams(Decimal(148)) == "148 g"
    assert Translator("de").grams(Decimal("1027.5")) == "1,028 kg"
    assert Translator("de").grams(Decimal("148.5")) == "148,5 g"
    assert Translator("zh_CN").grams(Decimal(512)) == "512 g"


def test_chinese_shows_item_names_from_the_catalog_and_lists_the_chinese_way() -> None:
    beans = ItemName("Coffee beans 500 g", (("zh_CN", "咖啡豆 500 克"),))
    mug = ItemName("Ceramic mug")  # no translation: the base name, never a bare code
    items = (phrase("{qty} x {name}", qty=1, name=beans), phrase("{qty} x {name}", qty=2, name=mug))
    text = phrase("Add {items}, then lift and re-place the parcel", items=items)
    assert (
        Translator("zh_CN").render(text)
        == "请补装 咖啡豆 500 克 × 1和Ceramic mug × 2，然后把包裹拿起再放回秤上"
    )
    assert Translator("en").render(text) == (
        "Add 1 x Coffee beans 500 g and 2 x Ceramic mug, then lift and re-place the parcel"
    )


def test_outside_text_is_never_looked_up_as_a_message() -> None:
    # An order id that happens to equal a msgid stays what it is.
    text = phrase("Looking up order {order}...", order="PASS")
    assert Translator("zh_CN").render(text) == "正在查询订单 PASS…"


def test_a_broken_translation_falls_back_to_english_rather_than_hiding_the_instruction() -> None:
    translator = Translator("zh_CN")
    translator._messages = {"Too heavy by {amount}": "重了 {amont}"}
    assert translator.render(phrase("Too heavy by {amount}", amount=Grams(Decimal(36)))) == (
        "Too heavy by 36 g"
    )
