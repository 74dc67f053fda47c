"""The `scale-agent` command: run, demo, check-config, drivers."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from scale_agent import __version__
from scale_agent.errors import (
    EX_CONFIG,
    ConfigError,
    DeviceError,
    LedgerError,
    ScaleAgentError,
    UsageError,
)
from scale_agent.io import systemd
from scale_agent.io.config import LANGUAGES
from scale_agent.plugins import describe_drivers
from scale_agent.text import printable

if TYPE_CHECKING:
    from collections.abc import Sequence
    from types import FrameType

EXIT_USAGE = 2
EXIT_NOT_RUNNING = 3  # as `systemctl status` for a unit that is not active


def _check_config(args: argparse.Namespace) -> int:
    from scale_agent.io.config import load_config  # noqa: PLC0415 - keep `drivers` fast

    path = args.config or args.path
    if path is None or (args.config and args.path):
        raise UsageError("check-config takes one station file: PATH or -c PATH")
    try:
        config = load_config(Path(path))
    except ConfigError as exc:
        print(f"{exc.source}: {len(exc.problems)} problem(s)", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return EX_CONFIG
    station = config.agent.station
    print(
        f"{path}: OK (station {station.site}/{station.line}/{station.id}, "
        f"scale driver {config.agent.scale.driver}, {len(config.catalog.skus)} SKUs, "
        f"{len(config.catalog.cartons)} cartons)"
    )
    return 0


def _drivers(_args: argparse.Namespace) -> int:
    infos = describe_drivers()
    if not infos:
        print("no drivers installed (is scale-agent installed with pip?)")
        return 1
    for info in infos:
        kind = info.group.rsplit(".", 1)[-1]
        state = "available" if info.is_available else f"UNAVAILABLE: {info.reason}"
        summary = f" - {info.summary}" if info.is_available and info.summary else ""
        print(f"{kind:8} {info.name:18} {state}{summary}")
    return 0


def _run(args: argparse.Namespace) -> int:
    from scale_agent.io.config import load_config  # noqa: PLC0415
    from scale_agent.io.logs import configure  # noqa: PLC0415
    from scale_agent.station.assembly import build_runtime  # noqa: PLC0415

    configure(json=not sys.stdout.isatty(), level=logging.INFO)
    try:
        config = load_config(Path(args.config))
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return EX_CONFIG
    runtime = build_runtime(config)

    def stop(signum: int, _frame: FrameType | None) -> None:
        systemd.notify("STOPPING=1", f"STATUS=stopping on signal {signum}")
        runtime.stop()

    def reload(_signum: int, _frame: FrameType | None) -> None:
        systemd.notify("RELOADING=1")
        runtime.reload()
        systemd.notify("READY=1")

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGHUP, reload)
    # READY once config, catalog, ledger and outputs are up; the scale may still be connecting.
    runtime.on_started = lambda: systemd.notify("READY=1", "STATUS=running")
    runtime.run()
    return 0


def _demo(args: argparse.Namespace) -> int:
    from scale_agent.io.logs import configure  # noqa: PLC0415
    from scale_agent.tools.demo import default_data_dir, run_demo  # noqa: PLC0415

    configure(json=False, level=logging.WARNING, stream=sys.stderr)
    mqtt = None if args.mqtt == "none" else args.mqtt
    if mqtt is not None and not mqtt.startswith(("mqtt://", "mqtts://")):
        raise UsageError(f"--mqtt {printable(mqtt)!r}: write mqtt://host:1883, or none")
    data_dir = Path(args.data_dir) if args.data_dir else default_data_dir()
    if data_dir.exists() and not data_dir.is_dir():
        raise UsageError(f"--data-dir {data_dir}: is a file, not a folder")
    return run_demo(
        args.parcels, mqtt, data_dir, sys.stdout, screen=args.screen, language=args.language
    )


def _schema(args: argparse.Namespace) -> int:
    from scale_agent.io.messages import json_schemas  # noqa: PLC0415

    folder = Path(args.out)
    folder.mkdir(parents=True, exist_ok=True)
    for name, schema in json_schemas().items():
        (folder / name).write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n")
        print(folder / name)
    return 0


def _monitor(args: argparse.Namespace) -> int:
    from scale_agent.io.config import MqttSection  # noqa: PLC0415
    from scale_agent.tools.monitor import run_monitor  # noqa: PLC0415

    settings = MqttSection(
        url=args.mqtt,
        username=args.username,
        password_file=Path(args.password_file) if args.password_file else None,
        ca_file=Path(args.ca_file) if args.ca_file else None,
    )
    plain = args.plain or not sys.stdout.isatty()
    return run_monitor(
        settings,
        site=args.site,
        share=args.share,
        plain=plain,
        duration_s=args.duration,
        out=sys.stdout,
    )


def _verify(args: argparse.Namespace) -> int:
    from scale_agent.tools.verify_command import dumps, verify  # noqa: PLC0415

    try:
        result = verify(
            args.order,
            args.weight,
            catalog_path=args.catalog,
            policy=args.policy,
            scale_interval=args.scale_interval,
        )
    except UsageError as exc:
        print(f"scale-agent verify: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(dumps(result))
    return 0


def _status(args: argparse.Namespace) -> int:
    from scale_agent.tools.operations import (  # noqa: PLC0415
        describe_status,
        is_stopped,
        read_status,
    )
    from scale_agent.tools.records_command import data_dir  # noqa: PLC0415

    status, problems = read_status(data_dir(args))
    if args.json:
        print(json.dumps({**status, "problems": problems}))
    else:
        if status:
            print(describe_status(status))
        for problem in problems:
            print(f"PROBLEM: {problem}")
    if problems:
        return 1
    return EXIT_NOT_RUNNING if is_stopped(status) else 0


def _install_check(args: argparse.Namespace) -> int:
    from scale_agent.io.config import load_config  # noqa: PLC0415
    from scale_agent.tools.operations import install_check  # noqa: PLC0415

    findings = install_check(load_config(Path(args.config)))
    for finding in findings:
        print(finding)
    return 1 if any(finding.level == "FAIL" for finding in findings) else 0


def _decode(args: argparse.Namespace) -> int:
    from scale_agent.tools.decoding import decode, parse_options  # noqa: PLC0415

    if args.hex is not None:
        try:
            data = bytes.fromhex("".join(args.hex.split()))
        except ValueError:
            raise UsageError(
                f"--hex {printable(args.hex, 40)!r}: not hex bytes, e.g. 0a 20 31"
            ) from None
    elif args.file in {None, "-"}:
        data = sys.stdin.buffer.read()
    else:
        data = Path(args.file).read_bytes()
    options = parse_options(args.option)
    if args.pattern:
        options["pattern"] = args.pattern
    for line in decode(args.protocol, data, options):
        print(json.dumps(line))
    return 0


def _read(args: argparse.Namespace) -> int:
    from scale_agent.io.config import load_config  # noqa: PLC0415
    from scale_agent.station.assembly import build_scale  # noqa: PLC0415
    from scale_agent.tools.decoding import read_live  # noqa: PLC0415

    config = load_config(Path(args.config))
    return read_live(config.agent.scale.driver, build_scale(config), args.count)


def _safe_outputs(args: argparse.Namespace) -> int:
    """Put every configured output in its safe state (systemd's ExecStopPost after a crash)."""
    import structlog  # noqa: PLC0415

    from scale_agent.io.config import load_config  # noqa: PLC0415
    from scale_agent.io.logs import configure  # noqa: PLC0415
    from scale_agent.io.outputs import Outputs  # noqa: PLC0415
    from scale_agent.station.assembly import build_outputs  # noqa: PLC0415

    configure(json=not sys.stderr.isatty(), level=logging.INFO)
    outputs = Outputs(build_outputs(load_config(Path(args.config))), structlog.get_logger())
    outputs.open()
    outputs.close()  # shows the safe indication and waits until each output has written it
    failed = [report for report in outputs.health() if report.state == "fault"]
    for report in failed:
        print(f"{report.device}: {report.fault_reason}", file=sys.stderr)
    return 1 if failed else 0


def _probe(args: argparse.Namespace) -> int:
    from scale_agent.tools.decoding import as_toml, probe  # noqa: PLC0415

    if args.modbus:
        return _probe_modbus(args)
    found = probe(args.port, listen_s=args.seconds)
    if found is None:
        print(
            f"no known protocol answered on {args.port} at any usual setting: check the "
            "cable, the scale's interface menu (output mode, baud), and `scale-agent drivers`"
        )
        return 1
    print(f"# found on {args.port}; paste into the station file:")
    print(as_toml(found))
    return 0


def _probe_modbus(args: argparse.Namespace) -> int:
    from scale_agent.tools.decoding import as_toml, modbus_link, probe_modbus  # noqa: PLC0415

    first, _, last = args.units.partition("-")
    units = list(range(int(first), int(last or first) + 1))
    link = modbus_link(args.port, args.baudrate, args.parity)
    # pymodbus logs its own retries and failures; the answer below says what failed.
    logging.getLogger("pymodbus").setLevel(logging.CRITICAL)
    try:
        found = probe_modbus(link, units)
    except DeviceError as exc:
        print(f"scale-agent probe: {exc}", file=sys.stderr)
        return 1
    for answer in found:
        print(json.dumps(answer))
    if not found:
        print(
            f"the link to {args.port} opened, but no Modbus unit {args.units} answered with a "
            "weight: check the unit id, baud rate and parity in the indicator's menu, and the "
            "RS-485 wiring (A/B swapped?)"
        )
        return 1
    best = found[0]
    print(f"# unit {best['device_id']} answers the {best['preset']} map; paste and set the unit:")
    print(as_toml({"driver": "modbus", **link, **best}))
    print('unit = "kg"  # the indicator\'s display unit: not on the wire')
    return 0


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
    run.set_defaults(handler=_run)

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
    demo.set_defaults(handler=_demo)

    check = commands.add_parser("check-config", help="validate a station file; exit 78 if bad")
    check.add_argument("path", nargs="?", help="station TOML file")
    check.add_argument("-c", "--config", help="station TOML file (as for every other command)")
    check.set_defaults(handler=_check_config)

    safe = commands.add_parser(
        "safe-outputs", help="lock the seal and show the safe lamps (run after the daemon stops)"
    )
    safe.add_argument("-c", "--config", required=True, help="station TOML")
    safe.set_defaults(handler=_safe_outputs)

    drivers = commands.add_parser("drivers", help="list installed drivers")
    drivers.set_defaults(handler=_drivers)

    _add_evidence_commands(commands)
    _add_operations_commands(commands)
    return top


def _add_evidence_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """records, verify: looking at parcels."""
    from scale_agent.tools import records_command  # noqa: PLC0415

    records_command.add_parser(commands)

    decode = commands.add_parser("decode", help="decode captured scale bytes to JSON Lines")
    decode.add_argument("--protocol", required=True, help="a scale driver name")
    decode.add_argument("--hex", help="the bytes as hex (else FILE, or - for stdin)")
    decode.add_argument("file", nargs="?", help="a capture file, or - for stdin")
    decode.add_argument("--option", action="append", default=[], help="protocol option k=v")
    decode.add_argument("--pattern", help="for --protocol line: the regular expression")
    decode.set_defaults(handler=_decode)

    read = commands.add_parser("read", help="print live readings from the configured scale")
    read.add_argument("-c", "--config", required=True, help="station TOML")
    read.add_argument("--count", type=int, help="stop after N readings")
    read.set_defaults(handler=_read)

    probe = commands.add_parser("probe", help="find which protocol and settings a scale uses")
    probe.add_argument("port", help="a device path or pyserial URL")
    probe.add_argument("--seconds", type=float, default=0.8, help="listening time per setting")
    probe.add_argument(
        "--modbus", action="store_true", help="scan Modbus unit ids and presets (PORT: tcp://h:p)"
    )
    probe.add_argument("--units", default="1-10", help="Modbus unit ids to scan, e.g. 1-32")
    probe.add_argument("--baudrate", type=int, default=9600, help="Modbus RTU baud rate")
    probe.add_argument("--parity", choices=("N", "E", "O"), default="N", help="Modbus RTU parity")
    probe.set_defaults(handler=_probe)

    verify = commands.add_parser("verify", help="judge one parcel; print the verdict as JSON")
    verify.add_argument("--order", required=True, help="order JSON, or @FILE")
    verify.add_argument("--weight", required=True, help="measured gross weight, e.g. 1.025kg")
    verify.add_argument("--catalog", help="catalog CSV or TOML (else weights come inline)")
    verify.add_argument("--policy", help="default, legal, or a TOML file with the policy keys")
    verify.add_argument("--scale-interval", help="the scale's interval d, e.g. 2g")
    verify.set_defaults(handler=_verify)


def _add_operations_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """status, install-check, schema, monitor: running stations."""
    status = commands.add_parser(
        "status", help="the running station's state, from its state folder"
    )
    status.add_argument("--data-dir", help="the station's state folder")
    status.add_argument("-c", "--config", help="station TOML (its data_dir is used)")
    status.add_argument("--json", action="store_true", help="print JSON")
    status.set_defaults(handler=_status)

    check_install = commands.add_parser(
        "install-check", help="check permissions, devices, broker and clock for a station"
    )
    check_install.add_argument("-c", "--config", required=True, help="station TOML")
    check_install.set_defaults(handler=_install_check)

    schema = commands.add_parser("schema", help="write the JSON Schemas of the MQTT payloads")
    schema.add_argument("--out", default="docs/schemas", help="folder (default: %(default)s)")
    schema.set_defaults(handler=_schema)

    monitor = commands.add_parser("monitor", help="live view of every station and its alerts")
    monitor.add_argument("--mqtt", default="mqtt://127.0.0.1:1883", help="broker URL")
    monitor.add_argument("--site", help="only this site")
    monitor.add_argument("--share", help="share the alert stream with other monitors (group)")
    monitor.add_argument("--username")
    monitor.add_argument("--password-file")
    monitor.add_argument("--ca-file", help="CA certificate for mqtts://")
    monitor.add_argument("--plain", action="store_true", help="print lines, no screen")
    monitor.add_argument("--duration", type=float, help="stop after this many seconds")
    monitor.set_defaults(handler=_monitor)


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
