"""The report's values as one language writes them (shared by the PDF, the HTML and stdout)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from scale_agent.tools.report import labels

if TYPE_CHECKING:
    from scale_agent.io.translations import Translator
    from scale_agent.tools.report.facts import PhotoFact, ReportFacts


@dataclass(frozen=True)
class Row:
    """A label and its value."""

    label: str
    value: str


def grams(translator: Translator, value: object) -> str:
    """A recorded gram value ("891.534", or {"value": 891.534}) as the locale writes it."""
    if isinstance(value, dict):
        value = value.get("value")
    return "-" if value is None else translator.grams(Decimal(str(value)))


def verdict(translator: Translator, kind: str) -> str:
    """`MISSING ITEM (MISSING_ITEM)`: the word a packer saw, and the code the record holds."""
    word = labels.VERDICTS.get(kind)
    return f"{translator.render(word)} ({kind})" if word else kind


def summary(facts: ReportFacts, translator: Translator) -> list[Row]:
    """The parcel's facts, in report order."""
    t = translator.render
    body = facts.body
    scale = body.get("scale") or {}
    test = body.get("routine_test")
    override = body.get("override")
    carton = (body.get("order") or {}).get("carton") or {}
    rows = [
        Row(t(labels.STATION), facts.station),
        Row(
            t(labels.SCALE),
            f"{scale.get('model') or '?'}  s/n {scale.get('serial') or '?'}  "
            f"({scale.get('device')})",
        ),
        Row(
            t(labels.SCALE_TEST),
            f"{test['at']}  {test['outcome']}" if test else t(labels.NO_TEST),
        ),
        Row(t(labels.PACKED_AT), facts.at.strftime("%Y-%m-%d %H:%M:%S %Z (UTC%z)")),
        Row(t(labels.VERDICT), verdict(translator, str(body.get("verdict")))),
        Row(t(labels.EXPLANATION), str(body.get("reason") or "")),
        Row(t(labels.EXPECTED), grams(translator, body.get("expected"))),
        Row(
            t(labels.LIMITS),
            f"{grams(translator, body.get('lower_limit'))} - "
            f"{grams(translator, body.get('upper_limit'))}",
        ),
        Row(t(labels.MEASURED), grams(translator, body.get("measured"))),
    ]
    if carton.get("id"):
        rows.append(Row(t(labels.CARTON), f"{carton['id']}  {grams(translator, carton['tare_g'])}"))
    rows.append(
        Row(
            t(labels.OVERRIDE),
            t(labels.OVERRIDE_BY.with_values(**override)) if override else t(labels.NONE),
        )
    )
    return rows


def verification(facts: ReportFacts, translator: Translator) -> list[Row]:
    """Record hash, chain position, the anchored head, and how to check them."""
    t = translator.render
    chain = facts.chain
    state = (
        t(labels.INTACT)
        if chain["intact"]
        else t(labels.BROKEN.with_values(seq=int(chain["first_broken_seq"])))
    )
    rows = [
        Row(t(labels.RECORD_HASH), facts.record_hash),
        Row(t(labels.PREVIOUS_HASH), facts.prev_hash),
        Row(
            t(labels.POSITION),
            t(
                labels.POSITION_OF.with_values(
                    seq=facts.seq, count=int(chain["records"]), state=state
                )
            ),
        ),
    ]
    anchor = facts.anchor
    if anchor is None:
        rows.append(Row(t(labels.ANCHOR), t(labels.ANCHOR_NONE)))
    elif anchor.problem is not None:
        rows.append(
            Row(t(labels.ANCHOR), t(labels.ANCHOR_NOT_HELD.with_values(problem=anchor.problem)))
        )
    else:
        head = anchor.head
        rows.append(
            Row(
                t(labels.ANCHOR),
                t(
                    labels.ANCHOR_HELD.with_values(
                        records=head.records,
                        signed_at=head.signed_at,
                        station=head.station,
                        source=anchor.source,
                    )
                )
                + f"\n{head.head_hash}",
            )
        )
    return rows


def claim(facts: ReportFacts, translator: Translator) -> list[Row]:
    """The claim block, when a claim was given."""
    answer = facts.answer
    if answer is None:
        return []
    t = translator.render
    finding = labels.FINDINGS[answer.assessment.finding.value]
    return [
        Row(t(labels.CLAIM), answer.claim.text),
        Row(t(labels.FINDING), f"{t(finding)}\n{t(answer.assessment.because)}"),
        Row(t(labels.REMEDY), f"{t(answer.remedy.offer)} ({answer.remedy.rule.value})"),
    ]


def photo_caption(photo: PhotoFact, translator: Translator) -> str:
    """`photos/... SHA-256 ...: matches its recorded SHA-256` (or why not)."""
    t = translator.render
    state = t(labels.PHOTO_STATES[photo.checked.state.value])
    return f"{photo.moment}  {photo.taken_at}\n{photo.file}\nSHA-256 {photo.sha256}: {state}"


def price(value: Decimal | None) -> str:
    """A unit price as recorded (`68.00`), or `-` when the record has none."""
    return "-" if value is None else str(value)
