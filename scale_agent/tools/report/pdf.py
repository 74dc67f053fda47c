"""The report as a PDF (fpdf2): A4, one or two pages, text a marketplace's reviewer can search.

Text is set in Noto Sans CJK (Debian's `fonts-noto-cjk`), embedded as a subset, so Chinese item
names render and stay in the text layer (`pdftotext` reads them back).
"""

from __future__ import annotations

import io
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, cast

from scale_agent.errors import UsageError
from scale_agent.tools.report import labels, text
from scale_agent.tools.report.plot import trace_png

if TYPE_CHECKING:
    from collections.abc import Callable

    from fpdf import FPDF

    from scale_agent.io.translations import Translator
    from scale_agent.tools.report.facts import PhotoFact, ReportFacts

FONTS = Path("/usr/share/fonts/opentype/noto")
REGULAR, BOLD = FONTS / "NotoSansCJK-Regular.ttc", FONTS / "NotoSansCJK-Bold.ttc"
COLOURS = {"PASS": (46, 125, 50), "RECHECK": (245, 124, 0)}  # everything else: red
RED = (198, 40, 40)
GREY = (97, 97, 97)  # the banner of a record whose evidence does not hold
# The collection's faces: 0 is Japanese, 2 Simplified Chinese. The same code point is drawn
# differently in each (e.g. 直, 骨), and a zh_CN report must read as Chinese type.
CJK_FACE = {"zh_CN": 2, "zh": 2}
HEADING_FILL = (235, 235, 235)


def render(facts: ReportFacts, translator: Translator) -> bytes:
    """The PDF's bytes."""
    from fpdf import FPDF  # noqa: PLC0415 - report-only dependency

    if not REGULAR.is_file():
        raise UsageError(
            f"the report needs the Noto CJK fonts ({REGULAR}): apt-get install fonts-noto-cjk"
        )
    t = translator.render
    pdf = FPDF(format="A4")
    pdf.set_title(t(labels.TITLE.with_values(order=facts.order_id)))
    pdf.set_creator("scale-agent records report")
    face = CJK_FACE.get(translator.language, 0)
    pdf.add_font("noto", "", str(REGULAR), collection_font_number=face)
    pdf.add_font("noto", "B", str(BOLD if BOLD.is_file() else REGULAR), collection_font_number=face)
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("noto", "B", 16)
    pdf.multi_cell(
        0, 8, t(labels.TITLE.with_values(order=facts.order_id)), new_x="LMARGIN", new_y="NEXT"
    )
    pdf.set_font("noto", "", 9)
    pdf.set_text_color(90, 90, 90)
    pdf.multi_cell(0, 5, t(labels.SUBTITLE), new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)
    pdf.ln(2)
    _verdict_banner(pdf, facts, translator)
    _cautions(pdf, facts, translator)
    _rows(pdf, text.summary(facts, translator))
    _heading(pdf, t(labels.ITEMS))
    _items(pdf, facts, translator)
    # Each section is kept whole on a page where it fits: a heading never ends a page, the
    # "to verify independently" paragraph never stands alone on the next.
    for index, photo in enumerate(facts.photos):
        heading = t(labels.PHOTOS) if index == 0 else None
        _together(pdf, partial(_photo, photo=photo, translator=translator, heading=heading))
    trace = trace_png(facts, translator)
    _together(pdf, lambda doc: _image(doc, t(labels.TRACE), trace))
    if len(facts.weighings) > 1:
        _together(pdf, lambda doc: _weighings(doc, facts, translator, t(labels.WEIGHINGS)))
    if facts.answer is not None:
        claim = text.claim(facts, translator)
        _together(pdf, lambda doc: _section_rows(doc, t(labels.CLAIM), claim))
    _together(pdf, lambda doc: _verification(doc, facts, translator))
    return bytes(pdf.output())


def _verdict_banner(pdf: FPDF, facts: ReportFacts, translator: Translator) -> None:
    kind = str(facts.body.get("verdict"))
    said = text.verdict(translator, kind)
    if facts.is_compromised:  # never a clean green PASS over evidence that does not hold
        pdf.set_fill_color(*GREY)
        said += f"  ({translator.render(labels.NOT_HELD)})"
    else:
        pdf.set_fill_color(*COLOURS.get(kind, RED))
    pdf.set_text_color(255, 255, 255)
    pdf.set_font("noto", "B", 14)
    pdf.cell(0, 10, f"  {said}", fill=True, new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)
    pdf.set_fill_color(255, 255, 255)
    pdf.ln(2)


def _cautions(pdf: FPDF, facts: ReportFacts, translator: Translator) -> None:
    """What weakens the record, in a red frame right under the verdict: a reviewer's first look."""
    rows = text.cautions(facts, translator)
    if not rows:
        return
    pdf.set_draw_color(*RED)
    pdf.set_text_color(*RED)
    pdf.set_font("noto", "B", 10)
    pdf.cell(0, 6, rows[0].label, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("noto", "", 9)
    for row in rows:
        pdf.multi_cell(
            0, 4.8, f"- {row.value}", border="L", align="L", new_x="LMARGIN", new_y="NEXT"
        )
    pdf.set_text_color(0, 0, 0)
    pdf.ln(2)


def _together(pdf: FPDF, draw: Callable[[FPDF], None]) -> None:
    """Draw a section on this page if it fits, else on the next (tried on a dummy first)."""
    with pdf.offset_rendering() as trial:
        draw(cast("FPDF", trial))  # a recorder that stands in for the document
    if trial.page_break_triggered:
        pdf.add_page()
    draw(pdf)


def _section_rows(pdf: FPDF, title: str, rows: list[text.Row]) -> None:
    _heading(pdf, title)
    _rows(pdf, rows)


def _image(pdf: FPDF, title: str, png: bytes) -> None:
    _heading(pdf, title)
    pdf.image(io.BytesIO(png), w=pdf.epw)


def _verification(pdf: FPDF, facts: ReportFacts, translator: Translator) -> None:
    _heading(pdf, translator.render(labels.VERIFICATION))
    _rows(pdf, text.verification(facts, translator), mono_from=0)
    pdf.set_font("noto", "", 8)
    how = translator.render(text.how_to_verify(facts))
    pdf.multi_cell(0, 4.5, how, new_x="LMARGIN", new_y="NEXT")


def _heading(pdf: FPDF, title: str) -> None:
    pdf.ln(3)
    pdf.set_font("noto", "B", 11)
    pdf.set_draw_color(180, 180, 180)
    pdf.cell(0, 7, title, border="B", new_x="LMARGIN", new_y="NEXT")  # no get_y: unbreakable
    pdf.ln(1)


def _rows(pdf: FPDF, rows: list[text.Row], mono_from: int | None = None) -> None:
    """Label / value pairs; values of hashes wrap anywhere (`mono_from`: rows to set smaller)."""
    with pdf.table(
        col_widths=(32, 68),
        first_row_as_headings=False,
        borders_layout="HORIZONTAL_LINES",
        line_height=4.6,
        text_align="LEFT",
    ) as table:
        for index, row in enumerate(rows):
            cells = table.row()
            pdf.set_font("noto", "B", 8.5)
            cells.cell(row.label)
            pdf.set_font("noto", "", 7.5 if mono_from is not None and index >= mono_from else 8.5)
            cells.cell(row.value)


def _items(pdf: FPDF, facts: ReportFacts, translator: Translator) -> None:
    from fpdf.fonts import FontFace  # noqa: PLC0415 - report-only dependency

    t = translator.render
    has_prices = any(line.unit_price is not None for line in facts.lines)
    heads = [t(labels.SKU), t(labels.ITEM), t(labels.QTY), t(labels.UNIT_WEIGHT)]
    widths = [22, 48, 10, 20]
    if has_prices:
        heads.append(t(labels.UNIT_PRICE))
        widths = [20, 44, 9, 17, 10]
    pdf.set_font("noto", "", 8.5)
    with pdf.table(
        col_widths=tuple(widths),
        line_height=4.6,
        text_align="LEFT",
        borders_layout="HORIZONTAL_LINES",
        headings_style=FontFace(emphasis="BOLD", fill_color=HEADING_FILL),
    ) as table:
        header = table.row()
        for head in heads:
            header.cell(head)
        for line in facts.lines:
            cells = table.row()
            cells.cell(line.sku)
            cells.cell(line.name.in_language(translator.language))
            cells.cell(str(line.qty))
            cells.cell(text.grams(translator, line.unit_g))
            if has_prices:
                cells.cell(text.price(line.unit_price))


def _photo(pdf: FPDF, *, photo: PhotoFact, translator: Translator, heading: str | None) -> None:
    if heading is not None:
        _heading(pdf, heading)
    if photo.checked.data is not None:
        pdf.image(io.BytesIO(photo.checked.data), w=pdf.epw * 0.55)
    pdf.set_font("noto", "", 7.5)
    pdf.multi_cell(0, 4, text.photo_caption(photo, translator), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)


def _weighings(pdf: FPDF, facts: ReportFacts, translator: Translator, heading: str) -> None:
    _heading(pdf, heading)
    pdf.set_font("noto", "", 8)
    with pdf.table(
        col_widths=(7, 27, 34, 13, 60),
        line_height=4.2,
        first_row_as_headings=False,
        text_align="LEFT",
        borders_layout="HORIZONTAL_LINES",
    ) as table:
        for weighing in facts.weighings:
            cells = table.row()
            cells.cell(f"#{weighing.seq}")
            cells.cell(weighing.at.strftime("%Y-%m-%d %H:%M:%S %Z"))
            cells.cell(text.verdict(translator, weighing.verdict))
            cells.cell(text.grams(translator, weighing.measured_g))
            cells.cell(text.said(translator, weighing.reason))
