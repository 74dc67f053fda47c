"""`scale-agent verify`: judge one parcel from the command line, as JSON.

For integrators tuning tolerances and for support staff replaying a disputed parcel:
`scale-agent verify --order '{"order_id": "A", "lines": [{"sku": "A", "qty": 1,
"unit_weight": "150g", "spread": "2g"}]}' --weight 148g`. The order may also be `@file`.
"""

from __future__ import annotations

import json
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from scale_agent.domain.catalog import Catalog, load_catalog
from scale_agent.domain.declared import Role, declared_problem
from scale_agent.domain.jobs import parse_job
from scale_agent.domain.policies import Policy
from scale_agent.domain.verifier import Verdict, VerdictKind, judge, plan
from scale_agent.errors import (
    JobError,
    ScaleAgentError,
    UnknownItemError,
    UsageError,
    WeightFormatError,
)
from scale_agent.io.config import problems_from
from scale_agent.weights import Weight

BUILT_IN = {"default": Policy(), "legal": Policy(kind="legal", name="legal")}


def load_policy(name_or_file: str | None, scale_interval: str | None) -> Policy:
    """A built-in policy by name, or one from a TOML file (top-level keys or [tolerance])."""
    policy = BUILT_IN["default"]
    if name_or_file in BUILT_IN:
        policy = BUILT_IN[name_or_file]
    elif name_or_file is not None:
        path = Path(name_or_file)
        if not path.is_file():
            known = ", ".join(BUILT_IN)
            raise UsageError(f"--policy {name_or_file!r}: not {known}, and no such file")
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
            policy = Policy.model_validate(data.get("tolerance", data))
        except tomllib.TOMLDecodeError as exc:
            raise UsageError(f"{path}: not valid TOML: {exc}") from exc
        except ValidationError as exc:
            problems = "; ".join(str(p) for p in problems_from(exc, "tolerance"))
            raise UsageError(f"{path}: {problems}") from exc
    if scale_interval is not None:
        interval = _weight("--scale-interval", scale_interval, "weight")
        policy = policy.model_copy(update={"scale_interval_g": interval.in_grams})
    return policy


def _weight(option: str, text: str, role: Role) -> Weight:
    """A weight from the command line, within the range a bench can mean (or UsageError)."""
    try:
        weight = Weight.parse(text)
    except WeightFormatError as exc:
        raise UsageError(f"{option}: {exc}") from exc
    if problem := declared_problem(role, weight):
        raise UsageError(f"{option} {text}: {problem}")
    return weight


def _number(value: Decimal | None) -> float | None:
    return None if value is None else float(value.quantize(Decimal("0.001")))


def as_json(verdict: Verdict, detectable: bool | None) -> dict[str, Any]:
    """The verdict in the CLI contract's shape."""
    explanation = [
        {
            "sku": sku,
            "qty": qty,
            "direction": h.direction,
            "fit_sigma": float(h.fit_sigma.quantize(Decimal("0.01"))),
            "hypothesis": rank,
        }
        for rank, h in enumerate(verdict.explanation, start=1)
        for sku, qty, _ in h.parts
    ]
    return {
        "verdict": verdict.kind.value,
        "reason": verdict.reason,
        "expected_g": _number(verdict.expected_g),
        "lower_g": _number(verdict.lower_g),
        "upper_g": _number(verdict.upper_g),
        "guard_g": _number(verdict.guard_g),
        "measured_g": _number(verdict.measured_g),
        "difference_g": _number(verdict.difference_g),
        "sigma_g": _number(verdict.sigma_g),
        "policy": verdict.policy,
        "explanation": explanation,
        "detectable": detectable,
    }


def verify(
    order: str,
    weight: str,
    *,
    catalog_path: str | None,
    policy: str | None,
    scale_interval: str | None,
) -> dict[str, Any]:
    """Judge one parcel.

    Raises:
        UsageError: for an order, weight, policy or catalog that cannot be used.
    """
    if order.startswith("@"):
        try:
            order = Path(order[1:]).read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"--order {order}: {exc.strerror}") from exc
    # A gross weight may read zero (an empty platter), never below; spreads' rule says that.
    measured = _weight("--weight", weight, "spread")
    try:
        job = parse_job(order)
    except JobError as exc:
        raise UsageError(str(exc)) from exc
    catalog = Catalog()
    if catalog_path is not None:
        try:
            catalog = load_catalog(Path(catalog_path))
        except ScaleAgentError as exc:
            raise UsageError(str(exc)) from exc
    chosen = load_policy(policy, scale_interval)
    try:
        expectation = plan(job, catalog, chosen)
    except UnknownItemError as exc:
        if catalog_path is None:
            raise UsageError(
                f"{exc.reason}, and no catalog was given: add --catalog FILE, or give the "
                'line its weights ("unit_weight": "150g", "spread": "2g")'
            ) from exc
        verdict = Verdict(
            VerdictKind.UNKNOWN_SKU,
            job.order_id,
            exc.reason,
            measured_g=measured.in_grams,
            policy=chosen.label,
        )
        return as_json(verdict, None)
    except (JobError, ValueError) as exc:
        raise UsageError(str(exc)) from exc
    return as_json(judge(expectation, measured), expectation.is_detectable)


def dumps(result: dict[str, Any]) -> str:
    """One JSON object on one line."""
    return json.dumps(result, ensure_ascii=False)
