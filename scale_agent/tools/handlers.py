"""What each `scale-agent` sub-command does, once `cli` has parsed its arguments.

One function per command (`cli.parser` names them as handlers); each returns the exit code.
Heavy imports stay inside the function that needs them, so `scale-agent --help` is fast.
"""

from __future__ import annotations

import io
import json
import logging
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from scale_agent.errors import EX_CONFIG, ConfigError, DeviceError, UsageError
from scale_agent.io import systemd
from scale_agent.plugins import describe_drivers
from scale_agent.text import printable

if TYPE_CHECKING:
    import argparse
    from types import FrameType

EXIT_USAGE = 2
EXIT_NOT_RUNNING = 3  # as `systemctl status` for a unit that is not active


def check_config(args: argparse.Namespace) -> int:
    """`check-config`: every problem of a station file at once; exit 78 if bad."""
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


def drivers(_args: argparse.Namespace) -> int:
    """`drivers`: the installed drivers, and why one cannot be used."""
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


def run(args: argparse.Namespace) -> int:
    """`run`: the station daemon, with systemd's READY, STOPPING and RELOADING."""
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


def demo(args: argparse.Namespace) -> int:
    """`demo`: a whole simulated station."""
    from scale_agent.io.logs import configure  # noqa: PLC0415
    from scale_agent.tools.demo import run_demo  # noqa: PLC0415
    from scale_agent.tools.demo_home import default_data_dir  # noqa: PLC0415

    configure(json=False, level=logging.WARNING, stream=sys.stderr)
    mqtt = None if args.mqtt == "none" else args.mqtt
    if mqtt is not None and not mqtt.startswith(("mqtt://", "mqtts://")):
        raise UsageError(f"--mqtt {printable(mqtt)!r}: write mqtt://host:1883, or none")
    data_dir = Path(args.data_dir) if args.data_dir else default_data_dir()
    if data_dir.exists() and not data_dir.is_dir():
        raise UsageError(f"--data-dir {data_dir}: is a file, not a folder")
    try:  # every way a folder cannot be made (under a file, no permission) is one sentence
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise UsageError(f"--data-dir {data_dir}: cannot make the folder: {reason}") from None
    return run_demo(
        args.parcels,
        mqtt,
        data_dir,
        sys.stdout,
        screen=args.screen,
        language=args.language,
        central=args.central,
    )


def schema(args: argparse.Namespace) -> int:
    """`schema`: write the JSON Schemas of the MQTT payloads."""
    from scale_agent.io.schemas import json_schemas  # noqa: PLC0415

    folder = Path(args.out)
    folder.mkdir(parents=True, exist_ok=True)
    for name, schema in json_schemas().items():
        (folder / name).write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n")
        print(folder / name)
    return 0


def monitor(args: argparse.Namespace) -> int:
    """`monitor`: the supervisors' terminal view of the stations."""
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


def verify(args: argparse.Namespace) -> int:
    """`verify`: judge one weight against an order by hand."""
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


def status(args: argparse.Namespace) -> int:
    """`status`: the running station, from its state folder."""
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


def install_check(args: argparse.Namespace) -> int:
    """`install-check`: what a station PC still needs."""
    from scale_agent.io.config import load_config  # noqa: PLC0415
    from scale_agent.tools.operations import install_check  # noqa: PLC0415

    findings = install_check(load_config(Path(args.config)))
    for finding in findings:
        print(finding)
    return 1 if any(finding.level == "FAIL" for finding in findings) else 0


def decode(args: argparse.Namespace) -> int:
    """`decode`: frames from a capture, a pipe or hex, as JSON Lines, as they are decoded."""
    from scale_agent.tools.decoding import parse_options, stream_decode  # noqa: PLC0415

    options = parse_options(args.option)
    if args.pattern:
        options["pattern"] = args.pattern
    if args.hex is not None:
        try:
            data = bytes.fromhex("".join(args.hex.split()))
        except ValueError:
            raise UsageError(
                f"--hex {printable(args.hex, 40)!r}: not hex bytes, e.g. 0a 20 31"
            ) from None
        stream_decode(args.protocol, io.BytesIO(data), options, sys.stdout.buffer)
    elif args.file in {None, "-"}:
        stream_decode(args.protocol, sys.stdin.buffer, options, sys.stdout.buffer)
    else:
        try:
            capture = Path(args.file).open("rb")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise UsageError(f"{args.file}: {exc.strerror or exc}") from exc
        with capture:
            stream_decode(args.protocol, capture, options, sys.stdout.buffer)
    return 0


def read(args: argparse.Namespace) -> int:
    """`read`: readings from the configured scale, as JSON Lines."""
    from scale_agent.io.config import load_config  # noqa: PLC0415
    from scale_agent.station.assembly import build_scale  # noqa: PLC0415
    from scale_agent.tools.decoding import read_live  # noqa: PLC0415

    config = load_config(Path(args.config))
    return read_live(config.agent.scale.driver, build_scale(config), args.count)


def safe_outputs(args: argparse.Namespace) -> int:
    """`safe-outputs`: every output to its safe state (systemd's ExecStopPost, after a crash)."""
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


def probe(args: argparse.Namespace) -> int:
    """`probe`: which serial protocol and settings a port answers to."""
    from scale_agent.tools.decoding import as_toml, probe  # noqa: PLC0415

    if args.modbus:
        return probe_modbus(args)
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


def probe_modbus(args: argparse.Namespace) -> int:
    """`probe --modbus`: which unit ids and presets answer on a Modbus link."""
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
