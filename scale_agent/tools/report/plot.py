"""The weight trace behind a verdict, drawn with matplotlib: readings, settle window, limits."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from scale_agent.tools.report import labels

if TYPE_CHECKING:
    from scale_agent.io.translations import Translator
    from scale_agent.tools.report.facts import ReportFacts

CJK_FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"


def trace_png(facts: ReportFacts, translator: Translator, *, dpi: int = 150) -> bytes:
    """The plot as PNG bytes (the PDF and the HTML report embed the same picture)."""
    import matplotlib as mpl  # noqa: PLC0415 - a report-only dependency, loaded when asked

    mpl.use("Agg")
    from matplotlib import font_manager  # noqa: PLC0415
    from matplotlib.figure import Figure  # noqa: PLC0415

    families = ["DejaVu Sans"]
    try:  # Chinese axis labels need a CJK font; DejaVu keeps digits as they always look
        font_manager.fontManager.addfont(CJK_FONT)
        families.append(font_manager.FontProperties(fname=CJK_FONT).get_name())
    except (OSError, RuntimeError):
        pass
    text = translator.render
    body = facts.body
    points = facts.trace
    figure = Figure(figsize=(7.2, 2.3), dpi=dpi)
    with mpl.rc_context({"font.family": families, "font.size": 8}):
        axes = figure.add_subplot()
        lower, upper = (float(body[k]["value"]) for k in ("lower_limit", "upper_limit"))
        expected = float(body["expected"]["value"])
        axes.axhspan(lower, upper, color="#d9f2d9", label=text(labels.TRACE_LIMITS))
        axes.axhline(expected, color="#2e7d32", linewidth=0.8, label=text(labels.TRACE_EXPECTED))
        if points:
            xs, ys = [p[0] for p in points], [p[1] for p in points]
            axes.plot(
                xs, ys, color="#555555", linewidth=1, marker=".", label=text(labels.TRACE_READING)
            )
            stable = [p for p in points if p[2]]
            if stable:
                axes.axvspan(stable[0][0], stable[-1][0] + 0.01, color="#bbdefb", alpha=0.6)
                axes.plot(
                    [p[0] for p in stable],
                    [p[1] for p in stable],
                    "o",
                    color="#1565c0",
                    markersize=4,
                    label=text(labels.TRACE_STABLE),
                )
            low = min([*ys, lower])
            high = max([*ys, upper])
            margin = max((high - low) * 0.15, 5.0)
            axes.set_ylim(low - margin, high + margin)
        axes.set_xlabel(text(labels.TRACE_X))
        axes.set_ylabel(text(labels.TRACE_Y))
        axes.legend(loc="lower left", fontsize=7, framealpha=0.9)
        axes.grid(visible=True, linewidth=0.3)
        figure.tight_layout()
        out = io.BytesIO()
        figure.savefig(out, format="png")
    return out.getvalue()
