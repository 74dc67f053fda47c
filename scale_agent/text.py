r"""Text from outside, made harmless before a terminal, a log line or a spreadsheet shows it.

Order ids, operator names, SKU codes, reasons and scanner input come from systems we do not
control. Printed raw, `\r\x1b[2K` followed by a green "[ PASS ] ... seal: ENABLED" once
rewrote the READY line into a fake PASS while the seal was locked, and `\x1b[2J` cleared the
monitor. `printable` shows every control character as an escape instead (C0, DEL, C1, and the
Unicode bidirectional overrides that reorder what a reader sees); `spreadsheet_cell` makes a
CSV cell inert that a spreadsheet would otherwise run as a formula (OWASP CSV injection).
Part of the driver API: output drivers print outside text too.
"""

from __future__ import annotations

_BIDI = (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C)
_ESCAPES: dict[int, str] = {
    code: f"\\x{code:02x}" for code in (*range(0x20), 0x7F, *range(0x80, 0xA0))
} | {code: f"\\u{code:04x}" for code in _BIDI}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def printable(text: str, limit: int | None = None) -> str:
    r"""`text` with every control character shown escaped (`\x1b`), cut to `limit` characters.

    The result holds no character a terminal acts on: no escape sequence, no carriage return,
    no newline. What the sender sent stays readable.
    """
    shown = text.translate(_ESCAPES)
    if limit is not None and len(shown) > limit:
        return shown[: max(limit - 1, 0)] + "…"
    return shown


def spreadsheet_cell(value: str) -> str:
    """A CSV cell that a spreadsheet shows as text, never runs as a formula.

    A leading `=`, `+`, `-`, `@`, tab or CR is prefixed with `'`. Plain numbers (`-12.5`) stay
    numbers: they run nothing.
    """
    if value.startswith(_FORMULA_START) and not _is_number(value):
        return "'" + value
    return value


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return value.strip() == value
