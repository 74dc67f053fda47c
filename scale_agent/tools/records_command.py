"""`scale-agent records find | export | verify | report | key`: the evidence customer service uses.

Reading evidence never needs write access (the ledger is opened read-only), options go before
or after the action, and an answer that found nothing says so and exits 1.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scale_agent.errors import UsageError
from scale_agent.text import printable
from scale_agent.tools import records

if TYPE_CHECKING:
    from scale_agent.io.chain_head import SignedHead
    from scale_agent.io.ledger import Ledger


def data_dir(args: argparse.Namespace) -> Path:
    """The ledger folder: --data-dir, else the one the station config names, else the demo's.

    After the README's demo the commands a newcomer tries next find its ledger (and say so).
    """
    if getattr(args, "data_dir", None):
        return Path(args.data_dir)
    if not getattr(args, "config", None):
        from scale_agent.io.ledger import LEDGER_FILE  # noqa: PLC0415
        from scale_agent.tools.demo_home import default_data_dir  # noqa: PLC0415

        demo = default_data_dir()
        if (demo / LEDGER_FILE).is_file():
            print(
                f"(reading the demo's ledger in {demo}: give --data-dir DIR or -c "
                "STATION.toml for a station's)",
                file=sys.stderr,
            )
            return demo
        raise UsageError(
            "say where the ledger is: --data-dir DIR, or -c STATION.toml (a station's "
            f"data_dir); the demo keeps its ledger in {demo}, and there is none there yet"
        )
    from scale_agent.io.config import load_config  # noqa: PLC0415 - only when asked

    return load_config(Path(args.config)).data_dir


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `records` and its actions."""
    # Where the ledger is may be said before or after the action, as git and systemctl take
    # options: SUPPRESS keeps an action's parser from overwriting what came before it.
    where = argparse.ArgumentParser(add_help=False)
    where.add_argument("--data-dir", default=argparse.SUPPRESS, help="the station's ledger folder")
    where.add_argument(
        "-c", "--config", default=argparse.SUPPRESS, help="station TOML (its data_dir is used)"
    )
    parser = commands.add_parser(
        "records", parents=[where], help="look up, export and verify the evidence"
    )
    actions = parser.add_subparsers(dest="action", required=True)
    find = actions.add_parser("find", parents=[where], help="every verdict recorded for an order")
    find.add_argument("order_id")
    find.add_argument("--prefix", action="store_true", help="every order starting with ORDER_ID")
    find.add_argument(
        "-i", "--ignore-case", action="store_true", help="match upper and lower case alike"
    )
    find.set_defaults(action_handler=_find)
    export = actions.add_parser(
        "export", parents=[where], help="records with evidence and chain proof"
    )
    export.add_argument("--since", help="ISO date or time, UTC unless a zone is given")
    export.add_argument("--order", help="only this order (a dispute bundle)")
    export.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    export.set_defaults(action_handler=_export)
    verify = actions.add_parser(
        "verify", parents=[where], help="walk the hash chain; exit 1 naming the first break"
    )
    verify.add_argument(
        "--anchor",
        metavar="HEAD",
        help="a signed chain head kept elsewhere (a JSON file, - for stdin, or 'mqtt': the "
        "one retained on the broker of -c FILE): detects deleted and rewritten records",
    )
    verify.add_argument("--key", help="the station's public key to pin (from `records key`)")
    verify.set_defaults(action_handler=_verify)
    _add_report(actions, where)
    key = actions.add_parser("key", parents=[where], help="the station's public signing key")
    key.set_defaults(action_handler=_key)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run the chosen action against the ledger, opened read-only."""
    folder = data_dir(args)
    args.data_dir = str(folder)  # found once: the actions ask `data_dir` again, and get this
    ledger = records.open_ledger(folder)
    try:
        code: int = args.action_handler(args, ledger)
    finally:
        ledger.close()
    return code


def _find(args: argparse.Namespace, ledger: Ledger) -> int:
    found = _matching(args, ledger)
    if not found:
        print(f"no records for order {printable(args.order_id)}", file=sys.stderr)
        return 1
    for record in found:
        print(records.describe(record))
    return 0


def _matching(args: argparse.Namespace, ledger: Ledger) -> list[dict[str, Any]]:
    if not (args.prefix or args.ignore_case):
        return ledger.records(order_id=args.order_id)
    found = ledger.records(order_like=records.like_pattern(args.order_id, prefix=args.prefix))
    if args.ignore_case:
        return found
    return [r for r in found if str(r["order_id"]).startswith(args.order_id)]  # LIKE is caseless


def _export(args: argparse.Namespace, ledger: Ledger) -> int:
    since = records.parse_since(args.since) if args.since else None
    found = ledger.records(order_id=args.order, since=since)
    if not found:  # an empty bundle with an "intact" proof would look like an answer
        asked = f"order {printable(args.order)}" if args.order else "the records asked for"
        print(f"nothing matched: no records for {asked}", file=sys.stderr)
        return 1
    records.export(found, ledger, args.format, sys.stdout)
    return 0


def _verify(args: argparse.Namespace, ledger: Ledger) -> int:
    proof = records.chain_proof(ledger)
    if not proof["intact"]:
        seq = proof["first_broken_seq"]
        broken = next((r for r in ledger.records() if r["seq"] == seq), None)
        where = ""
        if broken:
            where = f" (order {printable(str(broken['order_id']))}, parcel {broken['parcel_id']})"
        print(printable(f"chain BROKEN at record {seq}{where}: {proof['problem']}"))
        return 1
    print(f"chain intact: {proof['records']} record(s), head {proof['head_hash']}")
    if not _photos_hold(ledger, data_dir(args)):
        return 1
    if not args.anchor:
        return 0
    from scale_agent.io.chain_head import check_anchor, fingerprint  # noqa: PLC0415

    anchor = _anchor(args)
    problem = check_anchor(ledger, anchor, args.key)
    if problem is not None:
        print(f"ANCHOR NOT HELD: {problem}")
        return 1
    pinned = "pinned key" if args.key else f"key {fingerprint(anchor.public_key)} (unpinned)"
    print(
        f"anchored head held: record {anchor.records} as signed at {anchor.signed_at} "
        f"by {printable(anchor.station)}, {pinned}"
    )
    return 0


def _photos_hold(ledger: Ledger, folder: Path) -> bool:
    """Every photo the chain names has the recorded SHA-256; a missing one is only noted.

    Photos leave by the station's retention (`[camera] keep_days`, `quota_mb`), so absence is
    not proof of tampering; a photo that is there but differs is.
    """
    import json  # noqa: PLC0415

    from scale_agent.io.photos import PhotoState, check  # noqa: PLC0415

    altered, missing, held = [], 0, 0
    for record in ledger.records():
        if record["verdict"] != "PHOTO":
            continue
        body = json.loads(record["body"])
        checked = check(folder, str(body["file"]), str(body["sha256"]))
        if checked.state is PhotoState.HELD:
            held += 1
        elif checked.state is PhotoState.ALTERED:
            altered.append(f"record {record['seq']}: {checked.reason}")
        else:
            missing += 1
    for line in altered:
        print(f"PHOTO ALTERED at {line}")
    if held or missing or altered:
        gone = f", {missing} no longer on disk (retention, or deleted)" if missing else ""
        print(f"photos: {held} hold their recorded SHA-256{gone}")
    return not altered


def _anchor(args: argparse.Namespace) -> SignedHead:
    """The signed head to check against: a file, stdin, or the broker's retained one."""
    from scale_agent.domain.untrusted import load_json  # noqa: PLC0415
    from scale_agent.errors import PayloadError  # noqa: PLC0415
    from scale_agent.io.chain_head import SignedHead  # noqa: PLC0415

    if args.anchor == "mqtt":
        data = _retained_head(args)
    elif args.anchor == "-":
        data = sys.stdin.buffer.read()
    else:
        data = Path(args.anchor).read_bytes()
    try:
        raw = load_json(data, what="chain head")
    except PayloadError as exc:
        raise UsageError(f"--anchor {printable(args.anchor)}: {exc.reason}") from exc
    if not isinstance(raw, dict):
        raise UsageError(f"--anchor {printable(args.anchor)}: not a chain head")
    return SignedHead.from_json(raw)


def _retained_head(args: argparse.Namespace) -> bytes:
    if not getattr(args, "config", None):
        raise UsageError("--anchor mqtt reads the broker of the station file: give -c FILE")
    from scale_agent.io.config import load_config  # noqa: PLC0415
    from scale_agent.io.messages import Topics  # noqa: PLC0415
    from scale_agent.io.mqtt import fetch_retained  # noqa: PLC0415 - paho only when asked

    config = load_config(Path(args.config))
    station = config.agent.station
    topic = Topics(station.site, station.line, station.id).chain_head
    data = fetch_retained(config.agent.mqtt, topic)
    if data is None:
        raise UsageError(f"the broker holds no chain head on {topic}")
    return data


def _key(args: argparse.Namespace, ledger: Ledger) -> int:
    from scale_agent.io.chain_head import fingerprint, read_public_key  # noqa: PLC0415

    _ = ledger
    public = read_public_key(data_dir(args))
    print(f"{public}  (fingerprint {fingerprint(public)}): keep a copy away from the station")
    return 0


def _add_report(
    actions: argparse._SubParsersAction[argparse.ArgumentParser], where: argparse.ArgumentParser
) -> None:
    report = actions.add_parser(
        "report", parents=[where], help="one order's record as a PDF or HTML page to attach"
    )
    report.add_argument("order_id")
    output = report.add_mutually_exclusive_group()
    output.add_argument("--pdf", metavar="FILE", help="write the report as PDF")
    output.add_argument("--html", metavar="FILE", help="write the report as one HTML file")
    report.add_argument(
        "--claim", help="the customer's claim: 'short 150g' or 'missing 1 x SKU-ID'"
    )
    report.add_argument(
        "--rule",
        choices=("reship", "refund", "voucher"),
        help="the remedy rule (default: the station file's [remedy] rule, else refund)",
    )
    report.add_argument(
        "--seq", type=int, help="report on this record of the order (default: the newest)"
    )
    report.add_argument("--language", help="en, zh_CN or de (default: the station's language)")
    report.add_argument("--tz", help="time zone for times, e.g. Asia/Shanghai (default: local)")
    report.add_argument("--anchor", metavar="HEAD", help="a signed chain head, as for verify")
    report.add_argument("--key", help="the station's public key to pin (from `records key`)")
    report.set_defaults(action_handler=_report)


def _report(args: argparse.Namespace, ledger: Ledger) -> int:
    from scale_agent.tools.report.command import report  # noqa: PLC0415 - report-only imports

    anchor = _anchor(args) if args.anchor else None
    return report(args, ledger, data_dir(args), anchor)
