"""The `scale-agent` command: run, demo, check-config, drivers."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from scale_agent import __version__, systemd
from scale_agent.errors import EX_CONFIG, ConfigError
from scale_agent.plugins import describe_drivers

if TYPE_CHECKING:
    from collections.abc import Sequence
    from types import FrameType

EXIT_USAGE = 2


def _check_config(args: argparse.Namespace) -> int:
    from scale_agent.config import load_config  # noqa: PLC0415 - keep `drivers` fast

    try:
        config = load_config(Path(args.path))
    except ConfigError as exc:
        print(f"{exc.source}: {len(exc.problems)} problem(s)", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return EX_CONFIG
    station = config.agent.station
    print(
        f"{args.path}: OK (station {station.site}/{station.line}/{station.id}, "
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
    from scale_agent.app import build_runtime  # noqa: PLC0415
    from scale_agent.config import load_config  # noqa: PLC0415
    from scale_agent.logs import configure  # noqa: PLC0415

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

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    runtime.on_started = lambda: systemd.notify("READY=1", "STATUS=running")
    runtime.run()
    return 0


def _demo(args: argparse.Namespace) -> int:
    from scale_agent.demo import default_data_dir, run_demo  # noqa: PLC0415
    from scale_agent.logs import configure  # noqa: PLC0415

    configure(json=False, level=logging.WARNING, stream=sys.stderr)
    mqtt = None if args.mqtt == "none" else args.mqtt
    data_dir = Path(args.data_dir) if args.data_dir else default_data_dir()
    return run_demo(args.parcels, mqtt, data_dir, sys.stdout)


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
    demo.add_argument("--parcels", type=int, default=None, help="stop after N parcels")
    demo.add_argument(
        "--mqtt",
        default="mqtt://127.0.0.1:1883",
        help="broker URL, or 'none' (default: %(default)s)",
    )
    demo.add_argument("--data-dir", help="where the demo keeps its ledger")
    demo.set_defaults(handler=_demo)

    check = commands.add_parser("check-config", help="validate a station file; exit 78 if bad")
    check.add_argument("path")
    check.set_defaults(handler=_check_config)

    drivers = commands.add_parser("drivers", help="list installed drivers")
    drivers.set_defaults(handler=_drivers)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `scale-agent` command."""
    args = parser().parse_args(argv)
    code: int = args.handler(args)
    return code
