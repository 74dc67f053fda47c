"""Verdicts per second for a 3-line and a 100-line order, passing and failing.

Run: .venv/bin/python -m bench.verifier
"""

from __future__ import annotations

import time
from decimal import Decimal

from scale_agent.domain.catalog import Catalog
from scale_agent.domain.jobs import Job, JobLine
from scale_agent.domain.verifier import Expectation, judge, plan
from scale_agent.io.config import ToleranceSection
from scale_agent.weights import Weight

POLICY = ToleranceSection(under_g=Decimal(20), under_pct=None, over_g=Decimal(20), over_pct=None)


def order(lines: int) -> Expectation:
    job = Job(
        "BENCH",
        tuple(
            JobLine(f"S{i:03}", 2, Weight.grams(100 + i * 7), Weight.parse("1g"))
            for i in range(lines)
        ),
        "BOX",
        Weight.parse("35g"),
        Weight.parse("1g"),
    )
    return plan(job, Catalog(), POLICY)


def verdicts_per_second(expectation: Expectation, offset_g: Decimal, seconds: float = 1.0) -> float:
    measured = Weight.grams(expectation.expected_g + offset_g)
    count = 0
    started = time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        judge(expectation, measured, Decimal(3))
        count += 1
    return count / elapsed


def main() -> None:
    for lines in (3, 100):
        expectation = order(lines)
        cases = {
            "PASS": Decimal(2),
            "MISSING_ITEM": -expectation.lines[-1].unit_g,
            "UNDER, nothing fits": -expectation.lines[0].unit_g / 2,
        }
        for label, offset in cases.items():
            rate = verdicts_per_second(expectation, offset)
            print(f"{lines:>3}-line order, {label:<20} {rate:>10,.0f} verdicts/s")


if __name__ == "__main__":
    main()
