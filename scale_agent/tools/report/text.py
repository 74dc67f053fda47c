"""The report's values as one language writes them (shared by the PDF, the HTML and stdout)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from scale_agent.domain.phrases import Phrase
from scale_agent.tools.report import labels
from scale_agent.tools.report.facts import reason

if TYPE_CHECKING:
    from scale_agent.io.translations import Translator
    from scale_agent.tools.report.facts import ClaimAnswer, PhotoFact, ReportFacts


@dataclass(frozen=True)
class Row:
    """A label and its value."""

    label: str
    value: str


def said(translator: Translator, value: Phrase | str) -> str:
    """A phrase in the report's language; text as recorded stays as it is."""
    return translator.render(value) if isinstance(value, Phrase) else value


def grams(translator: Translator, value: object) -> str:
    """A recorded gram value ("891.534", or {"value": 891.534}) as the locale writes it."""
    if isinstance(value, dict):
        value = value.get("value")
    return "-" if value is None else translator.grams(Decimal(str(value)))


def verdict(translator: Translator, kind: str) -> str:
    """`MISSING ITEM (MISSING_ITEM)`: the word a packer saw, and the code the record holds.

    Where the word is the code (`PASS` in English) it is said once.
    """
    word = labels.VERDICTS.get(kind)
    if word is None:
        return kind
    said = translator.render(word)
    return said if said == kind else f"{said} ({kind})"


def cautions(facts: ReportFacts, translator: Translator) -> list[Row]:
    """What weakens the record, one row each (empty when nothing does)."""
    heading = translator.render(labels.CAUTIONS)
    return [Row(heading, translator.render(caution)) for caution in facts.cautions]


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
        Row(t(labels.EXPLANATION), said(translator, reason(body))),
        Row(t(labels.EXPECTED), grams(translator, body.get("expected"))),
        Row(
            t(labels.LIMITS),
            f"{grams(translator, body.get('lower_limit'))} - "
            f"{grams(translator, body.get('upper_limit'))}",
        ),
        Row(t(labels.MEASURED), grams(translator, body.get("measured"))),
        Row(t(labels.POLICY), _policy(body, translator)),
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


def _policy(body: dict[str, object], translator: Translator) -> str:
    """`default, version 1: absolute and percent limits`: which rule judged the parcel."""
    settings = body.get("policy_settings")
    if not isinstance(settings, dict):
        return str(body.get("policy") or "-")
    rule = labels.POLICY_KINDS.get(str(settings.get("kind")))
    return translator.render(
        labels.POLICY_OF.with_values(
            name=str(settings.get("name")),
            version=str(settings.get("version")),
            rule=rule if rule is not None else str(settings.get("kind")),
        )
    )


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
        Row(t(labels.REMEDY), _offer(answer, translator)),
    ]


def _offer(answer: ClaimAnswer, translator: Translator) -> str:
    """The offer, and the site's rule behind it when there is anything to offer."""
    offer = translator.render(answer.remedy.offer)
    if answer.assessment.finding.value == "contradicted":
        return offer
    rule = translator.render(labels.RULES[answer.remedy.rule.value])
    return f"{offer}\n{rule}"


def how_to_verify(facts: ReportFacts) -> Phrase:
    """How to check the record independently: only commands that can work for this record."""
    rule = labels.HOW_TO_VERIFY if facts.anchor is not None else labels.HOW_TO_VERIFY_UNANCHORED
    return rule.with_values(order=facts.order_id)


def photo_caption(photo: PhotoFact, translator: Translator) -> str:
    """`photos/... SHA-256 ...: matches its recorded SHA-256` (or why not)."""
    t = translator.render
    state = t(labels.PHOTO_STATES[photo.checked.state.value])
    moment = labels.PHOTO_MOMENTS.get(photo.moment)
    when = (
        t(moment.with_values(at=photo.taken_at)) if moment else f"{photo.moment} {photo.taken_at}"
    )
    return f"{when}\n{photo.file}\nSHA-256 {photo.sha256}: {state}"


def price(value: Decimal | None) -> str:
    """A unit price as recorded (`68.00`), or `-` when the record has none."""
    return "-" if value is None else str(value)
