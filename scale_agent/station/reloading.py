"""What a SIGHUP may change in a running station, and what needs a restart (pure).

The settle rule, the tolerance policies and the catalog are taken at once; sections whose
drivers and connections are open (the scale, outputs, scanner, MQTT, ...) keep their running
values, and the log says which of them changed and wait for a restart.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scale_agent.io.config import StationConfig

# Sections a running station cannot swap: their drivers and connections are open.
RESTART_SECTIONS = ("station", "scale", "outputs", "scanner", "scans", "orders", "mqtt")


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
