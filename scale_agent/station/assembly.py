"""Assembling a station from a validated config: drivers from the registry, the publisher."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from scale_agent.io.mqtt import Publisher
from scale_agent.plugins import (
    CAMERA_GROUP,
    OUTPUT_GROUP,
    SCALE_GROUP,
    SCANNER_GROUP,
    CameraDriver,
    OutputDriver,
    ScaleDriver,
    ScannerDriver,
    load_driver,
)
from scale_agent.station.runtime import StationRuntime

if TYPE_CHECKING:
    from scale_agent.station.parts import StationParts

if TYPE_CHECKING:
    from scale_agent.io.clock import Clock
    from scale_agent.io.config import StationConfig


def make_publisher(runtime: StationParts) -> Publisher:
    """The MQTT publisher for a runtime, subscribed to its job topic."""
    config = runtime.config
    station = config.agent.station
    mqtt = config.agent.mqtt
    return Publisher(
        mqtt,
        runtime.topics,
        config.data_dir,
        client_id=mqtt.client_id or f"scale-agent-{station.site}-{station.line}-{station.id}",
        status_payload=runtime.status_payload,
        on_job=runtime.submit_job_data,
        on_command=runtime.submit_command_data,
        on_order=runtime.submit_order_push if runtime.order_cache is not None else None,
        on_evidence_ack=runtime.submit_evidence_ack,
        log=runtime.log,
    )


def build_scale(config: StationConfig) -> ScaleDriver:
    """The configured scale driver (not opened)."""
    scale_module = load_driver(SCALE_GROUP, config.agent.scale.driver, "scale.driver")
    return cast("ScaleDriver", scale_module.DRIVER(config.scale_settings))


def build_outputs(config: StationConfig) -> list[OutputDriver]:
    """The configured output drivers (not opened)."""
    return [
        cast("OutputDriver", load_driver(OUTPUT_GROUP, name).DRIVER(settings))
        for name, settings in config.outputs
    ]


def build_scanner(config: StationConfig) -> ScannerDriver | None:
    """The configured scanner driver (not opened), if the station has one."""
    if config.scanner is None:
        return None
    name, settings = config.scanner
    return cast(
        "ScannerDriver", load_driver(SCANNER_GROUP, name, "scanner.driver").DRIVER(settings)
    )


def build_camera(config: StationConfig) -> CameraDriver | None:
    """The configured camera driver, if the station has one."""
    if config.camera is None:
        return None
    name, settings = config.camera
    return cast("CameraDriver", load_driver(CAMERA_GROUP, name, "camera.driver").DRIVER(settings))


def build_runtime(config: StationConfig, *, clock: Clock | None = None) -> StationRuntime:
    """Instantiate the configured scale, outputs and scanner and wire them into a runtime."""
    publisher = make_publisher if config.agent.mqtt.enabled else None
    return StationRuntime(
        config,
        build_scale(config),
        build_outputs(config),
        clock=clock,
        publisher_factory=publisher,
        scanner=build_scanner(config),
        camera=build_camera(config),
    )
