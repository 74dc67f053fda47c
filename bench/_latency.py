"""How the latency benches report: median, 99th percentile and maximum, in milliseconds."""

from __future__ import annotations

import statistics


def summary(latencies_ms: list[float]) -> str:
    """``p50 0.82 ms, p99 2.14 ms, max 3.21 ms`` (p99: the value 99 % of samples stay under)."""
    ordered = sorted(latencies_ms)
    p99 = ordered[int(len(ordered) * 0.99) - 1]
    return f"p50 {statistics.median(ordered):.2f} ms, p99 {p99:.2f} ms, max {ordered[-1]:.2f} ms"
