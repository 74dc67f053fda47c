"""The `scale-agent` command: run, demo, check-config, drivers."""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING

from scale_agent import __version__
from scale_agent.errors import (
    EX_CONFIG,
    ConfigError,
    LedgerError,
    ScaleAgentError,
)
from scale_agent.io.config import LANGUAGES
from scale_agent.tools import handlers
from scale_agent.tools.handlers import EXIT_USAGE

if TYPE_CHECKING:
    from collections.abc import Sequence


def _count(text: str) -> int:
    """A positive whole number (argparse type)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


# Options whose value may start with "-" (a negative weight): argparse would take "-5g" for
# an option and answer "expected one argument"; joined as --weight=-5g it reaches our check.
_SIGNED_VALUE_OPTIONS = ("--weight", "--scale-interval")


def _join_signed_values(argv: Sequence[str]) -> list[str]:
    joined: list[str] = []
    items = iter(argv)
    for item in items:
        if item in _SIGNED_VALUE_OPTIONS:
            value = next(items, None)
            if value is not None and value.startswith("-") and value[1:2].isdigit():
                joined.append(f"{item}={value}")
                continue
            joined.append(item)
            if value is not None:
                joined.append(value)
            continue
        joined.append(item)
    return joined


def parser() -> argparse.ArgumentParser:
    """The argument parser (one sub-command per task)."""
    top = argparse.ArgumentParser(
        prog="scale-agent", description="Weigh-before-seal verification for packing stations."
    )
    top.add_argument("--version", action="version", version=f"scale-agent {__version__}")
    commands = top.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run the station daemon")
    run.add_argument("-c", "--config", required=True, help="station TOML file")
    run.set_defaults(handler=handlers.run)

    demo = commands.add_parser("demo", help="run a whole simulated station")
    demo.add_argument("--parcels", type=_count, default=None, help="stop after N parcels")
    demo.add_argument(
        "--mqtt",
        default="mqtt://127.0.0.1:1883",
        help="broker URL, or 'none' (default: %(default)s)",
    )
    demo.add_argument("--data-dir", help="where the demo keeps its ledger")
    demo.add_argument(
        "--screen",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="serve the packer's screen on http://127.0.0.1:8765/ (default: on)",
    )
    demo.add_argument(
        "--language",
        choices=LANGUAGES,
        default="en",
        help="the packer's language on the screen and the console (default: %(default)s)",
    )
    demo.add_argument(
        "--central",
        action="store_true",
        help="also run the supervisors' central monitor on http://127.0.0.1:8780/ "
        "(needs scale-agent[central]; stays up after the parcels until Ctrl-C)",
    )
    demo.set_defaults(handler=handlers.demo)

    check = commands.add_parser("check-config", help="validate a station file; exit 78 if bad")
    check.add_argument("path", nargs="?", help="station TOML file")
    check.add_argument("-c", "--config", help="station TOML file (as for every other command)")
    check.set_defaults(handler=handlers.check_config)

    safe = commands.add_parser(
        "safe-outputs", help="lock the seal and show the safe lamps (run after the daemon stops)"
    )
    safe.add_argument("-c", "--config", required=True, help="station TOML")
    safe.set_defaults(handler=handlers.safe_outputs)

    drivers = commands.add_parser("drivers", help="list installed drivers")
    drivers.set_defaults(handler=handlers.drivers)

    _add_evidence_commands(commands)
    _add_operations_commands(commands)
    return top


def _add_evidence_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """records, verify: looking at parcels."""
    from scale_agent.tools import (  # noqa: PLC0415
        assurance_command,
        camera_command,
        catalog_command,
        central_command,
        records_command,
    )

    records_command.add_parser(commands)
    catalog_command.add_parser(commands)
    assurance_command.add_parser(commands)
    camera_command.add_parser(commands)
    central_command.add_parser(commands)

    decode = commands.add_parser("decode", help="decode captured scale bytes to JSON Lines")
    decode.add_argument("--protocol", required=True, help="a scale driver name")
    decode.add_argument("--hex", help="the bytes as hex (else FILE, or - for stdin)")
    decode.add_argument("file", nargs="?", help="a capture file, or - for stdin")
    decode.add_argument("--option", action="append", default=[], help="protocol option k=v")
    decode.add_argument("--pattern", help="for --protocol line: the regular expression")
    decode.set_defaults(handler=handlers.decode)

    read = commands.add_parser("read", help="print live readings from the configured scale")
    read.add_argument("-c", "--config", required=True, help="station TOML")
    read.add_argument("--count", type=int, help="stop after N readings")
    read.set_defaults(handler=handlers.read)

    probe = commands.add_parser("probe", help="find which protocol and settings a scale uses")
    probe.add_argument("port", help="a device path or pyserial URL")
    probe.add_argument("--seconds", type=float, default=0.8, help="listening time per setting")
    probe.add_argument(
        "--modbus", action="store_true", help="scan Modbus unit ids and presets (PORT: tcp://h:p)"
    )
    probe.add_argument("--units", default="1-10", help="Modbus unit ids to scan, e.g. 1-32")
    probe.add_argument("--baudrate", type=int, default=9600, help="Modbus RTU baud rate")
    probe.add_argument("--parity", choices=("N", "E", "O"), default="N", help="Modbus RTU parity")
    probe.set_defaults(handler=handlers.probe)

    verify = commands.add_parser("verify", help="judge one parcel; print the verdict as JSON")
    verify.add_argument("--order", required=True, help="order JSON, or @FILE")
    verify.add_argument("--weight", required=True, help="measured gross weight, e.g. 1.025kg")
    verify.add_argument("--catalog", help="catalog CSV or TOML (else weights come inline)")
    verify.add_argument("--policy", help="default, legal, or a TOML file with the policy keys")
    verify.add_argument("--scale-interval", help="the scale's interval d, e.g. 2g")
    verify.set_defaults(handler=handlers.verify)


def _add_operations_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """status, install-check, schema, monitor: running stations."""
    status = commands.add_parser(
        "status", help="the running station's state, from its state folder"
    )
    status.add_argument("--data-dir", help="the station's state folder")
    status.add_argument("-c", "--config", help="station TOML (its data_dir is used)")
    status.add_argument("--json", action="store_true", help="print JSON")
    status.set_defaults(handler=handlers.status)

    check_install = commands.add_parser(
        "install-check", help="check permissions, devices, broker and clock for a station"
    )
    check_install.add_argument("-c", "--config", required=True, help="station TOML")
    check_install.set_defaults(handler=handlers.install_check)

    schema = commands.add_parser("schema", help="write the JSON Schemas of the MQTT payloads")
    schema.add_argument("--out", default="docs/schemas", help="folder (default: %(default)s)")
    schema.set_defaults(handler=handlers.schema)

    monitor = commands.add_parser("monitor", help="live view of every station and its alerts")
    monitor.add_argument("--mqtt", default="mqtt://127.0.0.1:1883", help="broker URL")
    monitor.add_argument("--site", help="only this site")
    monitor.add_argument("--share", help="share the alert stream with other monitors (group)")
    monitor.add_argument("--username")
    monitor.add_argument("--password-file")
    monitor.add_argument("--ca-file", help="CA certificate for mqtts://")
    monitor.add_argument("--plain", action="store_true", help="print lines, no screen")
    monitor.add_argument("--duration", type=float, help="stop after this many seconds")
    monitor.set_defaults(handler=handlers.monitor)


def _exit_code(exc: ScaleAgentError | FileNotFoundError) -> int:
    """78 for a bad config, 1 when the evidence or a named file is not there, else 2."""
    if isinstance(exc, ConfigError):
        return EX_CONFIG
    if isinstance(exc, LedgerError | FileNotFoundError):  # not a usage slip: nothing to read
        return 1
    return EXIT_USAGE


def _reader_gone() -> int:
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())  # no second error when Python flushes at exit
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `scale-agent` command."""
    args = parser().parse_args(_join_signed_values(sys.argv[1:] if argv is None else argv))
    try:
        code: int = args.handler(args)
    except BrokenPipeError:  # `records export | head`: the reader has all it wanted
        return _reader_gone()
    except (ScaleAgentError, FileNotFoundError) as exc:
        print(str(exc) if isinstance(exc, ConfigError) else f"scale-agent: {exc}", file=sys.stderr)
        return _exit_code(exc)
    return code
