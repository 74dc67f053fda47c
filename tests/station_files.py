"""Writing station files for tests: a catalog and a TOML that points at a given scale port."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

CATALOG = """kind,id,name,weight,spread
sku,SKU-1023,Phone case,150g,2g
sku,SKU-2040,Hardcover book,420g,4g
sku,SKU-4102,Wireless mouse,96g,1.5g
sku,SKU-9000,Memory card,8g,0.2g
sku,SKU-9100,Cast-iron pan,2kg,15g
carton,BOX-S,Small box,35g,1.5g
carton,BOX-L,Large box,180g,6g
"""


def write_station(
    folder: Path,
    port: str,
    mqtt_url: str | None,
    *,
    site: str = "test",
    extra: str = "",
    screen: str = 'listen = "127.0.0.1:0"',
    station_keys: str = "",
) -> Path:
    """Write catalog.csv and station.toml into `folder`; return the TOML's path.

    The screen listens on a free port (port 0), so stations in parallel never collide.
    """
    (folder / "catalog.csv").write_text(CATALOG)
    mqtt = f'url = "{mqtt_url}"' if mqtt_url else "enabled = false"
    text = f"""
[station]
site = "{site}"
line = "line-1"
id = "bench-1"
catalog = "catalog.csv"
data_dir = "data"
{station_keys}

[scale]
driver = "mt-sics"
port = "{port}"

[settle]
window_readings = 4
min_time_s = 0.1
timeout_s = 5
fault_after_s = 1.0

[tolerance]
under_g = 20
under_pct = 2
over_g = 30
over_pct = 3

[screen]
{screen}

[mqtt]
{mqtt}
{extra}
"""
    path = folder / "station.toml"
    path.write_text(text)
    return path
