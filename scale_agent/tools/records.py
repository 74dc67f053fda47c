"""The evidence commands: `records find`, `records export`, `records verify`.

Customer service answers a complaint weeks later from these: what the parcel weighed, what it
should have weighed, which rule judged it, the raw frames behind the weight, and proof that
the record has not been edited since (each record's hash and its link to the one before).
"""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TextIO

from scale_agent.errors import LedgerMissingError, UsageError
from scale_agent.io.ledger import LEDGER_FILE, Ledger
from scale_agent.text import printable, spreadsheet_cell

if TYPE_CHECKING:
    from pathlib import Path

CSV_COLUMNS = (
    "seq",
    "recorded_at",
    "order_id",
    "parcel_id",
    "verdict",
    "reason",
    "expected_g",
    "lower_g",
    "upper_g",
    "measured_g",
    "difference_g",
    "policy",
    "explanation",
    "operator",
    "override",
    "scale_serial",
    "prev_hash",
    "hash",
)


def open_ledger(data_dir: Path) -> Ledger:
    """Open an existing ledger (never create an empty one by mistake).

    Raises:
        LedgerMissingError: when the folder holds no ledger.
    """
    try:
        present = (data_dir / LEDGER_FILE).is_file()
    except PermissionError:  # the folder itself cannot be entered
        present = True  # let the read-only open say so in plain words
    if not present:
        raise LedgerMissingError(f"no ledger in {data_dir} (expected {data_dir / LEDGER_FILE})")
    return Ledger(data_dir, read_only=True)


def like_pattern(text: str, *, prefix: bool) -> str:
    """An SQL LIKE pattern matching `text` literally (and anything after it, for a prefix)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + ("%" if prefix else "")


def parse_since(text: str) -> str:
    """An ISO date or time (UTC when no zone is given) as the ledger writes `recorded_at`.

    Raises:
        UsageError: for text that is not an ISO date or time.
    """
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(
            f"--since {printable(text)!r} is not a date or time; write e.g. 2026-11-01 or "
            "2026-11-01T08:00+01:00"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat()


def _mass(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    return "" if value is None else str(value["value"])


def _explanation(body: dict[str, Any]) -> str:
    parts = []
    for hypothesis in body.get("explanation") or []:
        units = " + ".join(f"{u['qty']} x {u['sku']}" for u in hypothesis["units"])
        parts.append(f"{units} {hypothesis['direction']} ({hypothesis['fit_sigma']} sigma)")
    return "; ".join(parts)


def altered_warning(record: dict[str, Any]) -> str | None:
    """The warning for a record whose stored columns were changed outside the chain."""
    if not record.get("altered"):
        return None
    said = ", ".join(f"{name} {record['columns'][name]!r}" for name in record["altered"])
    return (
        f"    WARNING: the ledger's columns were changed outside the chain ({said}); shown as "
        "recorded and hashed. Run `records verify`."
    )


def describe(record: dict[str, Any]) -> str:
    """One record for people, on a few lines (its facts as hashed, never the bare columns)."""
    body = json.loads(record["body"])
    warning = altered_warning(record)
    if body.get("kind") == "photo":
        line = (
            f"#{record['seq']} {record['recorded_at']} order {record['order_id'] or '-'}: "
            f"PHOTO at the {body['moment']} of parcel {body['of_parcel']}: {body['file']} "
            f"(sha256 {body['sha256'][:16]}...)"
        )
        return "\n".join(printable(text) for text in (line, warning) if text)
    lines = [
        (
            f"#{record['seq']} {record['recorded_at']} order {record['order_id'] or '-'}: "
            f"{record['verdict']} - {body['reason']}"
        ),
    ]
    if body.get("measured") is not None:
        lines.append(
            f"    measured {_mass(body, 'measured')} g, expected {_mass(body, 'expected')} g "
            f"(limits {_mass(body, 'lower_limit')} to {_mass(body, 'upper_limit')} g), "
            f"policy {body['policy'] or '-'}"
        )
    if body.get("override"):
        lines.append(
            f"    OVERRIDE by {body['override']['operator']}: {body['override']['reason']}"
        )
    scale = body.get("scale") or {}
    lines.append(
        f"    scale {scale.get('model') or '?'} s/n {scale.get('serial') or '?'}, "
        f"{len(body.get('evidence') or [])} frame(s) of evidence, hash {record['hash'][:16]}..."
    )
    if warning:
        lines.append(warning)
    return "\n".join(printable(line) for line in lines)  # outside text: no escapes


def export(records: list[dict[str, Any]], ledger: Ledger, fmt: str, out: TextIO) -> None:
    """Write records as JSON Lines (full evidence, then a chain proof line) or CSV (flat)."""
    if fmt == "csv":
        writer = csv.writer(out, quoting=csv.QUOTE_ALL)
        writer.writerow(CSV_COLUMNS)
        for record in records:
            body = json.loads(record["body"])
            override = body.get("override") or {}
            writer.writerow(
                spreadsheet_cell(str(cell))
                for cell in [
                    record["seq"],
                    record["recorded_at"],
                    record["order_id"] or "",
                    record["parcel_id"],
                    record["verdict"],
                    body.get("reason") or body.get("file") or "",
                    _mass(body, "expected"),
                    _mass(body, "lower_limit"),
                    _mass(body, "upper_limit"),
                    _mass(body, "measured"),
                    _mass(body, "difference"),
                    body.get("policy", ""),
                    _explanation(body),
                    body.get("operator") or "",
                    override.get("reason", ""),
                    (body.get("scale") or {}).get("serial") or "",
                    record["prev_hash"],
                    record["hash"],
                ]
            )
        return
    for record in records:
        line = {
            key: record[key]
            for key in (
                "seq",
                "parcel_id",
                "order_id",
                "verdict",
                "recorded_at",
                "prev_hash",
                "hash",
            )
        }
        line["record"] = json.loads(record["body"])
        out.write(json.dumps({"kind": "record", **line}, ensure_ascii=False) + "\n")
    out.write(json.dumps({"kind": "chain_proof", **chain_proof(ledger)}) + "\n")


def chain_proof(ledger: Ledger) -> dict[str, Any]:
    r"""The state of the whole chain: count, head hash, and the first break if any.

    Each exported record carries `hash` = SHA-256(prev_hash + "\\n" + canonical JSON of
    `record` as stored); anyone can recompute it, and the head hash pins the whole history.
    """
    count, head = ledger.head()
    broken = ledger.verify_chain()
    return {
        "records": count,
        "head_hash": head,
        "intact": broken is None,
        "first_broken_seq": broken.seq if broken else None,
        "problem": broken.reason if broken else None,
        "hash_rule": "sha256(prev_hash + '\\n' + canonical_json(record))",
        "checked_at": datetime.now(UTC).isoformat(),
    }
