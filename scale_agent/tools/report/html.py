"""The report as one self-contained HTML file (Jinja2, autoescaped; the plot is embedded).

Every value from the record is outside text (an order id, an item name, an override reason
typed at the bench): the template engine escapes all of it; no markup is built from strings.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING

from scale_agent.tools.report import labels, text
from scale_agent.tools.report.plot import trace_png

if TYPE_CHECKING:
    from scale_agent.io.translations import Translator
    from scale_agent.tools.report.facts import ReportFacts


def render(facts: ReportFacts, translator: Translator) -> str:
    """The HTML page."""
    import jinja2  # noqa: PLC0415 - report-only dependency

    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("scale_agent.tools.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    t = translator.render
    kind = str(facts.body.get("verdict"))
    return environment.get_template("report.html").render(
        lang=translator.html_lang,
        title=t(labels.TITLE.with_values(order=facts.order_id)),
        subtitle=t(labels.SUBTITLE),
        verdict=text.verdict(translator, kind)
        + (f"  ({t(labels.NOT_HELD)})" if facts.is_compromised else ""),
        verdict_class="compromised"
        if facts.is_compromised
        else "pass"
        if kind == "PASS"
        else "recheck"
        if kind == "RECHECK"
        else "fail",
        cautions_heading=t(labels.CAUTIONS),
        cautions=[row.value for row in text.cautions(facts, translator)],
        summary=text.summary(facts, translator),
        items_heading=t(labels.ITEMS),
        heads=[
            t(labels.SKU),
            t(labels.ITEM),
            t(labels.QTY),
            t(labels.UNIT_WEIGHT),
            t(labels.UNIT_PRICE),
        ],
        items=[
            (
                line.sku,
                line.name.in_language(translator.language),
                line.qty,
                text.grams(translator, line.unit_g),
                text.price(line.unit_price),
            )
            for line in facts.lines
        ],
        trace_heading=t(labels.TRACE),
        trace_png=base64.b64encode(trace_png(facts, translator)).decode(),
        photos_heading=t(labels.PHOTOS),
        photos=[
            (
                None if p.checked.data is None else base64.b64encode(p.checked.data).decode(),
                text.photo_caption(p, translator),
            )
            for p in facts.photos
        ],
        weighings_heading=t(labels.WEIGHINGS),
        weighings=[
            (
                f"#{w.seq}",
                w.at.strftime("%Y-%m-%d %H:%M:%S %Z"),
                text.verdict(translator, w.verdict),
                text.grams(translator, w.measured_g),
                text.said(translator, w.reason),
            )
            for w in facts.weighings
        ]
        if len(facts.weighings) > 1
        else [],
        claim_heading=t(labels.CLAIM),
        claim=text.claim(facts, translator),
        verification_heading=t(labels.VERIFICATION),
        verification=text.verification(facts, translator),
        how_to_verify=t(text.how_to_verify(facts)),
    )
