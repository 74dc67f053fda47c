"""`scale-agent assurance test | history`: routine scale tests, asked for and looked back on.

`test` asks the running station for a test now, through its `command` topic (so it works from
any PC that reaches the broker, and is answered and audited like every command); at the bench
the `[scans] test` code does the same. `history` lists the tests and releases in the ledger
(read-only), newest last.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from scale_agent.errors import UsageError
from scale_agent.text import printable
from scale_agent.tools import records
from scale_agent.tools.records_command import data_dir

if TYPE_CHECKING:
    import argparse

KINDS = ("ROUTINE_TEST", "SCALE_RELEASED")


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `assurance` and its actions."""
    parser = commands.add_parser("assurance", help="routine scale tests with reference weights")
    actions = parser.add_subparsers(dest="action", required=True)
    test = actions.add_parser("test", help="ask the running station for a test now (over MQTT)")
    test.add_argument("-c", "--config", required=True, help="station TOML")
    test.add_argument("--operator", help="who runs the test (kept with the result)")
    test.set_defaults(handler=ask_for_test)
    history = actions.add_parser("history", help="the tests and releases in the ledger")
    where = history.add_mutually_exclusive_group()
    where.add_argument("--data-dir", help="the station's ledger folder")
    where.add_argument("-c", "--config", help="station TOML (its data_dir is used)")
    history.set_defaults(handler=show_history)


def ask_for_test(args: argparse.Namespace) -> int:
    """Publish a `routine_test` command to the station's command topic."""
    from scale_agent.io.config import load_config  # noqa: PLC0415
    from scale_agent.io.messages import CommandPayload, Topics  # noqa: PLC0415
    from scale_agent.io.mqtt import publish_once  # noqa: PLC0415 - paho only when asked

    config = load_config(Path(args.config))
    if not config.agent.mqtt.enabled:
        raise UsageError(
            f"{args.config} has no MQTT: scan the [scans] test code ({config.agent.scans.test}) "
            "at the bench instead"
        )
    if "routine_test" not in config.agent.mqtt.accept_commands:
        raise UsageError(f"{args.config}: [mqtt] accept_commands does not include routine_test")
    station = config.agent.station
    command = CommandPayload(command="routine_test", operator=args.operator)
    topic = Topics(station.site, station.line, station.id).command
    publish_once(config.agent.mqtt, topic, command.model_dump_json().encode(), retain=False)
    print(f"routine test asked for on {topic}; the station shows the steps and answers on event")
    return 0


def show_history(args: argparse.Namespace) -> int:
    """One line per test or release; exit 1 when there is none."""
    ledger = records.open_ledger(data_dir(args))
    try:
        found = [r for r in ledger.records() if r["verdict"] in KINDS]
    finally:
        ledger.close()
    if not found:
        print("no routine test recorded yet", file=sys.stderr)
        return 1
    for record in found:
        print(describe(record))
    return 0


def describe(record: dict[str, object]) -> str:
    """`2026-12-02 06:02  passed  shift start 06:00  maria  zero: 0 g (+0.0 g, passed); ...`."""
    body = json.loads(str(record["body"]))
    at = datetime.fromisoformat(str(record["recorded_at"])).astimezone()
    when = f"{at:%Y-%m-%d %H:%M}"
    operator = printable(str(body.get("operator") or "-"))
    if body.get("kind") == "scale_released":
        return f"{when}  RELEASED  by {operator}: {printable(str(body.get('reason')))}"
    steps = "; ".join(
        f"{'zero' if step['nominal_g'] == '0' else step['nominal_g'] + ' g'}"
        f"{' ' + step['weight_id'] if step.get('weight_id') else ''}: {step['measured_g']} g "
        f"({float(step['error_g']):+.1f} g, {step['outcome']})"
        for step in body.get("steps", [])
    )
    return f"{when}  {body['outcome']:<8}  {printable(str(body['reason']))}  {operator}  {steps}"
