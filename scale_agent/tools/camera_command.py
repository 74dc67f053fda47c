"""`scale-agent camera snap -c STATION.toml`: one photo from the configured camera, stamped.

What an integrator runs at installation to see that the camera answers, how long it takes,
and what the stamp looks like; the photo goes to the station's photo folder (with the same
quota and retention as the station's) or to `--out`. Exit 1 with the camera's reason when no
image came.
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, cast

from scale_agent.errors import DeviceError, UsageError
from scale_agent.plugins import CAMERA_GROUP, load_driver
from scale_agent.text import printable

if TYPE_CHECKING:
    import argparse

    from scale_agent.plugins import CameraDriver


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `camera snap`."""
    parser = commands.add_parser("camera", help="the parcel camera: take a test photo")
    actions = parser.add_subparsers(dest="action", required=True)
    snap = actions.add_parser("snap", help="one stamped photo from the [camera] of a station")
    snap.add_argument("-c", "--config", required=True, help="station TOML with a [camera]")
    snap.add_argument("--order", default="TEST", help="the order id to stamp (default TEST)")
    snap.add_argument("--out", help="write the photo here instead of the photo folder")
    snap.set_defaults(handler=snap_photo)


def snap_photo(args: argparse.Namespace) -> int:
    """Capture, stamp and keep one photo; print where, its hash and the time it took."""
    from scale_agent.io.config import load_config  # noqa: PLC0415
    from scale_agent.io.photos import PhotoStore, digest, stamp  # noqa: PLC0415

    config = load_config(Path(args.config))
    section = config.agent.camera
    if config.camera is None or section is None:
        raise UsageError(f"{args.config} has no [camera] section")
    name, settings = config.camera
    camera = cast("CameraDriver", load_driver(CAMERA_GROUP, name).DRIVER(settings))
    station = config.agent.station
    started = time.perf_counter()
    try:
        image = camera.capture()
    except DeviceError as exc:
        print(f"no photo: {printable(str(exc))}", file=sys.stderr)
        return 1
    finally:
        camera.close()
    took_ms = (time.perf_counter() - started) * 1000
    now = time.time()
    stamped = stamp(
        image,
        [
            f"{station.site}/{station.line}/{station.id}  order {args.order}",
            datetime.fromtimestamp(now, UTC).astimezone().strftime("%Y-%m-%d %H:%M:%S %Z"),
        ],
    )
    if args.out:
        Path(args.out).write_bytes(stamped)
        where, sha = args.out, digest(stamped)
    else:
        store = PhotoStore(config.data_dir, section.quota_mb * 1_000_000, section.keep_days)
        photo = store.save(stamped, f"test-{int(now)}", now)
        where, sha = str(config.data_dir / photo.relative), photo.sha256
    print(f"photo from {printable(camera.device)} in {took_ms:.0f} ms: {where} (sha256 {sha})")
    return 0
