"""`records report` generation time: the PDF and the HTML of one order, from a ledger of 20,000
judged parcels, beside what the same run takes for the parts no report can skip (reading the
order's records, drawing its plot) and for the simplest PDF a script would write.

Run: .venv/bin/python -m bench.report
"""

from __future__ import annotations

import tempfile
import time
from functools import partial
from pathlib import Path
from statistics import median
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from scale_agent.domain.claims import parse_claim
from scale_agent.io.ledger import Ledger
from scale_agent.io.translations import Translator
from scale_agent.tools.report import html, pdf
from scale_agent.tools.report.facts import gather
from scale_agent.tools.report.plot import trace_png
from tests.fakes.history import write_history

if TYPE_CHECKING:
    from collections.abc import Callable

PARCELS = 20_000
ROUNDS = 15


def timed(work: Callable[[], object]) -> float:
    """Median wall time of one call, in milliseconds."""
    work()  # warm: imports, font loading
    times = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return median(times) * 1000


def simplest_pdf(png: bytes) -> bytes:
    """A script's PDF: one line of text and the plot, core font, no layout."""
    import io  # noqa: PLC0415

    from fpdf import FPDF  # noqa: PLC0415

    page = FPDF()
    page.add_page()
    page.set_font("helvetica", size=12)
    page.cell(text="order SO-1000: MISSING_ITEM")
    page.image(io.BytesIO(png), x=10, y=30, w=180)
    return bytes(page.output())


def main() -> None:
    folder = Path(tempfile.mkdtemp()) / "data"
    write_history(folder, PARCELS, synchronous="NORMAL")
    ledger = Ledger(folder, read_only=True)
    order = str(ledger.records()[PARCELS // 2]["order_id"])
    zone = ZoneInfo("Asia/Shanghai")
    claim = parse_claim("short 150g")
    facts = gather(ledger, folder, order, zone, claim=claim)
    assert facts is not None
    for language in ("en", "zh_CN"):
        translator = Translator(language)
        read_ms = timed(lambda: gather(ledger, folder, order, zone, claim=claim))
        png = trace_png(facts, translator)
        plot_ms = timed(partial(trace_png, facts, translator))
        simple_ms = timed(partial(simplest_pdf, png))
        pdf_ms = timed(partial(pdf.render, facts, translator))
        html_ms = timed(partial(html.render, facts, translator))
        print(
            f"{language:>5}: report PDF {pdf_ms:6.1f} ms, HTML {html_ms:6.1f} ms | same run: "
            f"reading the order {read_ms:5.1f} ms, its plot alone {plot_ms:6.1f} ms, "
            f"simplest PDF with that plot {simple_ms:5.1f} ms "
            f"(PDF = {pdf_ms / (plot_ms + simple_ms):.2f}x plot + simplest PDF)"
        )
    ledger.close()


if __name__ == "__main__":
    main()
