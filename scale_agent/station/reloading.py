"""What a SIGHUP may change in a running station, and what needs a restart.

The settle rule, the tolerance policies and the catalog are taken at once; sections whose
drivers and connections are open (the scale, outputs, scanner, MQTT, ...) keep their running
values, and the log says which of them changed and wait for a restart.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from scale_agent.errors import ConfigError
from scale_agent.io.config import load_config

if TYPE_CHECKING:
    from scale_agent.io.config import StationConfig
    from scale_agent.io.logs import Log

# Sections a running station cannot swap: their drivers and connections are open.
RESTART_SECTIONS = (
    "station",
    "scale",
    "outputs",
    "scanner",
    "scans",
    "orders",
    "mqtt",
    "screen",
)


def apply_reload(current: StationConfig, fresh: StationConfig) -> tuple[StationConfig, list[str]]:
    """The config to run on now, and the sections whose change waits for a restart."""
    old, new = current.agent, fresh.agent
    needs_restart = [name for name in RESTART_SECTIONS if getattr(old, name) != getattr(new, name)]
    if fresh.scale_settings != current.scale_settings and "scale" not in needs_restart:
        needs_restart.append("scale")
    taken = old.model_copy(
        update={"settle": new.settle, "tolerance": new.tolerance, "policies": new.policies}
    )
    return replace(current, agent=taken, catalog=fresh.catalog), needs_restart


def reload_config(current: StationConfig, log: Log) -> StationConfig | None:
    """Re-read the station file: the config to run on now, or None (refused, logged)."""
    try:
        fresh = load_config(current.path)
    except ConfigError as exc:
        log.error(  # noqa: TRY400 - a refused file is no crash: no traceback
            "config_reload_refused",
            source=exc.source,
            problems=[str(problem) for problem in exc.problems],
            hint="the station keeps running on the previous config",
        )
        return None
    config, needs_restart = apply_reload(current, fresh)
    log.info(
        "config_reloaded",
        skus=len(fresh.catalog.skus),
        policy=config.agent.tolerance.label,
        restart_needed_for=needs_restart or None,
    )
    return config
