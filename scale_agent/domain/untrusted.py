"""Reading JSON that comes from outside the station, so that no payload can raise past here.

Jobs, commands, the orders cache, HTTP look-ups, the drop folder and the monitor's retained
messages all arrive from systems we do not control. Python's `json` module raises
`RecursionError` on deep nesting (1,500 nested `[` took the daemon down on every start while
the message stayed retained), accepts `NaN` and `Infinity`, and turns `1e999` into infinity.
`load_json` refuses all of these with a `PayloadError` that says what was wrong, before any
model sees the data.
"""

from __future__ import annotations

import json
import math
import re
from typing import TYPE_CHECKING

from scale_agent.errors import PayloadError

if TYPE_CHECKING:
    from pydantic import ValidationError

MAX_PAYLOAD_BYTES = 1024 * 1024  # an order of 1,000 lines is ~100 kB
MAX_DEPTH = 16  # the deepest contract payload (a job's carton object) nests 3 levels
_STRUCTURE = re.compile(r'\\.|["\[\]{}]', re.DOTALL)


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise PayloadError(f"number {text[:20]!r} is out of range")
    return value


def _no_constant(text: str) -> float:
    raise PayloadError(f"{text} is not a number JSON allows")


def nesting_depth(text: str, limit: int) -> int:
    """How deep the arrays and objects in `text` nest, counting no deeper than `limit + 1`.

    Brackets inside strings do not count. Linear in the text and free of recursion.
    """
    depth = deepest = 0
    in_string = False
    for match in _STRUCTURE.finditer(text):
        mark = match.group()
        if in_string:
            in_string = mark != '"'
        elif mark == '"':
            in_string = True
        elif mark in "[{":
            depth += 1
            deepest = max(deepest, depth)
            if deepest > limit:
                break
        elif mark in "]}":
            depth -= 1
    return deepest


def load_json(
    data: str | bytes,
    *,
    what: str = "payload",
    max_bytes: int = MAX_PAYLOAD_BYTES,
    max_depth: int = MAX_DEPTH,
) -> object:
    """Parse untrusted JSON, or raise `PayloadError` naming the problem.

    Raises:
        PayloadError: for a payload too large, too deeply nested, not UTF-8, not JSON, or
            holding a number that is not finite.
    """
    if len(data) > max_bytes:
        raise PayloadError(f"{what} is {len(data)} bytes; at most {max_bytes} are accepted")
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise PayloadError(f"{what} is not UTF-8 text (byte {exc.start})") from None
    else:
        text = data
    if nesting_depth(text, max_depth) > max_depth:
        raise PayloadError(f"{what} nests deeper than {max_depth} levels")
    try:
        return json.loads(text, parse_float=_finite, parse_constant=_no_constant)
    except PayloadError:
        raise
    except (ValueError, RecursionError) as exc:  # RecursionError: belt and braces
        raise PayloadError(f"{what} is not valid JSON: {exc}") from None


def validation_reasons(exc: ValidationError, root: str) -> str:
    """One line per problem pydantic found, located by dotted path (`lines.0.qty: ...`).

    For a field that may be text or an object (a job's carton), pydantic reports a failure for
    each alternative; the "not a string" one for an object is noise and left out, as are the
    alternatives' internal names in the path.
    """
    reasons = []
    for item in exc.errors(include_url=False):
        if item["type"] == "string_type" and isinstance(item.get("input"), dict | list):
            continue
        path = ".".join(str(p) for p in item["loc"] if not _is_branch_name(p)) or root
        reasons.append(f"{path}: {item['msg'].removeprefix('Value error, ')}")
    return "; ".join(reasons) or f"{root}: invalid"


def _is_branch_name(part: str | int) -> bool:
    return isinstance(part, str) and (part[:1].isupper() or "-" in part)
