"""Running a whole station in a test: the real runtime in a thread, drivers from the registry."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import TYPE_CHECKING, cast

from scale_agent.io.config import load_config
from scale_agent.plugins import SCALE_GROUP, load_driver
from scale_agent.station.assembly import (
    build_camera,
    build_outputs,
    build_scanner,
    make_publisher,
)
from scale_agent.station.runtime import StationRuntime

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from scale_agent.plugins import OutputDriver, ScaleDriver
    from tests.fakes.recording_light import RecordingLight


@contextmanager
def running_station(
    config_path: Path, light: RecordingLight, *, with_config_outputs: bool = False
) -> Iterator[StationRuntime]:
    """The station of `config_path` with a recording light (and its own [[outputs]] too)."""
    config = load_config(config_path)
    module = load_driver(SCALE_GROUP, "mt-sics")
    scale = cast("ScaleDriver", module.DRIVER(config.scale_settings))
    outputs: list[OutputDriver] = [light]
    if with_config_outputs:
        outputs += build_outputs(config)
    runtime = StationRuntime(
        config,
        scale,
        outputs,
        publisher_factory=make_publisher if config.agent.mqtt.enabled else None,
        scanner=build_scanner(config),
        camera=build_camera(config),
    )
    thread = threading.Thread(target=runtime.run, name="station-under-test")
    thread.start()
    try:
        yield runtime
    finally:
        runtime.stop()
        thread.join(timeout=10)
