"""Station configuration: one TOML file, validated in two passes, every problem reported at once.

Pass 1 checks the common sections against `AgentConfig`. Pass 2 hands each driver section's
remaining keys to the chosen driver's own `Settings` model. Problems from both passes, the
catalog included, are gathered into one `ConfigError` whose lines name dotted TOML locations,
so an integrator fixes a file in one round instead of one error per restart. Nothing here opens
a port.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from scale_agent.domain.catalog import load_catalog
from scale_agent.errors import CatalogError, ConfigError, Problem, UnknownDriverError
from scale_agent.io.config_sections import (
    CAMERA_KEYS,
    LANGUAGES,
    SCALE_RANGE_KEYS,
    AgentConfig,
    AssuranceSection,
    CameraSection,
    CommandName,
    DriverSection,
    Language,
    Moment,
    MqttSection,
    RemedySection,
    ScaleSection,
    ScreenSection,
    Section,
    StationSection,
    ToleranceSection,
    TopicSafe,
)
from scale_agent.plugins import CAMERA_GROUP, OUTPUT_GROUP, SCALE_GROUP, SCANNER_GROUP, load_driver

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from pathlib import Path

    from scale_agent.domain.catalog import Catalog
    from scale_agent.domain.policies import Policy
    from scale_agent.plugins import DriverSettings


# The section models live in `config_sections`; they are also importable from here, where the
# station file is read.
__all__ = [
    "CAMERA_KEYS",
    "LANGUAGES",
    "SCALE_RANGE_KEYS",
    "AgentConfig",
    "AssuranceSection",
    "CameraSection",
    "CommandName",
    "DriverSection",
    "Language",
    "Moment",
    "MqttSection",
    "RemedySection",
    "ScaleSection",
    "ScreenSection",
    "Section",
    "StationConfig",
    "StationSection",
    "ToleranceSection",
    "TopicSafe",
    "load_config",
    "load_station_catalog",
    "problems_from",
    "resolve",
    "validate_config",
]


@dataclass(frozen=True)
class StationConfig:
    """A fully validated station: common sections, driver settings, and the catalog."""

    path: Path
    agent: AgentConfig
    scale_settings: DriverSettings
    outputs: list[tuple[str, DriverSettings]]
    catalog: Catalog
    scanner: tuple[str, DriverSettings] | None = None
    camera: tuple[str, DriverSettings] | None = None

    @property
    def data_dir(self) -> Path:
        """Where the ledger lives (relative paths are taken from the config file's folder)."""
        return resolve(self.path, self.agent.station.data_dir)

    @property
    def head_copies(self) -> list[Path]:
        """Where copies of the signed chain head go (relative to the config file's folder)."""
        return [resolve(self.path, folder) for folder in self.agent.station.head_copies]


def resolve(config_path: Path, path: Path) -> Path:
    """A path from the config, taken relative to the config file's folder."""
    return path if path.is_absolute() else config_path.parent / path


def _location(loc: Iterable[int | str], prefix: str = "") -> str:
    text = prefix
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text or "(top level)"


def problems_from(error: ValidationError, prefix: str = "") -> list[Problem]:
    """Turn pydantic's errors into `Problem`s with dotted TOML locations and plain wording."""
    problems = []
    for item in error.errors(include_url=False):
        message = item["msg"]
        if item["type"] == "extra_forbidden":
            message = "unknown key (check the spelling against config/station.example.toml)"
        elif item["type"] == "missing":
            message = "required key is missing"
        problems.append(Problem(_location(item["loc"], prefix), message))
    return problems


def _driver_settings(
    group: str, section: Mapping[str, Any], location: str, problems: list[Problem]
) -> DriverSettings | None:
    """Pass 2 for one driver section; problems are appended, not raised."""
    name = section.get("driver")
    if not isinstance(name, str):
        return None  # pass 1 already reported the missing or mistyped driver key
    try:
        module = load_driver(group, name, f"{location}.driver")
    except UnknownDriverError as exc:
        problems.extend(exc.problems)
        return None
    keys = {key: value for key, value in section.items() if key != "driver"}
    try:
        return module.Settings.model_validate(keys)
    except ValidationError as exc:
        problems.extend(problems_from(exc, location))
        return None


def _optional_driver(
    group: str,
    raw: object,
    location: str,
    problems: list[Problem],
    common: frozenset[str] = frozenset(),
) -> tuple[str, DriverSettings] | None:
    """Pass 2 for an optional driver section (`[scanner]`, `[camera]`); `common` keys are ours."""
    if not isinstance(raw, dict):
        return None
    keys = {key: value for key, value in raw.items() if key not in common}
    settings = _driver_settings(group, keys, location, problems)
    return None if settings is None else (str(raw["driver"]), settings)


def _output_settings(raw: object, problems: list[Problem]) -> list[tuple[str, DriverSettings]]:
    """Pass 2 for every [[outputs]] entry."""
    outputs: list[tuple[str, DriverSettings]] = []
    if not isinstance(raw, list):
        return outputs  # pass 1 reported it
    for index, section in enumerate(raw):
        if isinstance(section, dict):
            settings = _driver_settings(OUTPUT_GROUP, section, f"outputs[{index}]", problems)
            if settings is not None:
                outputs.append((str(section["driver"]), settings))
    return outputs


MQTT_FILES = ("password_file", "ca_file", "cert_file", "key_file")


def _resolve_mqtt_files(agent: AgentConfig, path: Path, problems: list[Problem]) -> AgentConfig:
    """Take the MQTT credential files relative to the config file, and check they exist."""
    mqtt = agent.mqtt
    resolved: dict[str, Path] = {}
    for key in MQTT_FILES:
        value: Path | None = getattr(mqtt, key)
        if value is None:
            continue
        resolved[key] = resolve(path, value)
        if mqtt.enabled and not resolved[key].is_file():
            problems.append(Problem(f"mqtt.{key}", f"file not found: {resolved[key]}"))
    if mqtt.cert_file is not None and mqtt.key_file is None:
        problems.append(Problem("mqtt.key_file", "cert_file needs its key_file"))
    if mqtt.password_file is not None and mqtt.username is None:
        problems.append(Problem("mqtt.username", "password_file is set, but no username"))
    return agent.model_copy(update={"mqtt": mqtt.model_copy(update=resolved)})


def load_station_catalog(path: Path, policies: Mapping[str, Policy]) -> Catalog:
    """Load a catalog and check that every policy its SKUs name is defined.

    Raises:
        CatalogError: with every problem, each as `file:line`.
    """
    catalog = load_catalog(path)
    problems = [
        Problem(item.where, f"policy {item.policy!r} is not defined ([policies.{item.policy}])")
        for item in catalog.skus.values()
        if item.policy is not None and item.policy not in policies
    ]
    if problems:
        raise CatalogError(str(path), problems)
    return catalog


def validate_config(data: Mapping[str, Any], path: Path) -> StationConfig:
    """Validate parsed TOML (both passes and the catalog) or raise one `ConfigError`."""
    problems: list[Problem] = []
    agent: AgentConfig | None = None
    try:
        agent = AgentConfig.model_validate(data)
    except ValidationError as exc:
        problems.extend(problems_from(exc))

    scale_raw = data.get("scale")
    scale_settings = None
    if isinstance(scale_raw, dict):
        driver_keys = {k: v for k, v in scale_raw.items() if k not in SCALE_RANGE_KEYS}
        scale_settings = _driver_settings(SCALE_GROUP, driver_keys, "scale", problems)
    outputs = _output_settings(data.get("outputs", [{"driver": "console"}]), problems)
    scanner = _optional_driver(SCANNER_GROUP, data.get("scanner"), "scanner", problems)
    camera = _optional_driver(
        CAMERA_GROUP, data.get("camera"), "camera", problems, common=CAMERA_KEYS
    )

    if agent is not None:
        agent = _resolve_mqtt_files(agent, path, problems)
    catalog = None
    if agent is not None:
        try:
            catalog = load_station_catalog(resolve(path, agent.station.catalog), agent.policies)
        except CatalogError as exc:
            problems.extend(exc.problems)

    if problems or agent is None or scale_settings is None or catalog is None:
        raise ConfigError(str(path), problems)
    if agent.orders.folder is not None:
        orders = agent.orders.model_copy(update={"folder": resolve(path, agent.orders.folder)})
        agent = agent.model_copy(update={"orders": orders})
    return StationConfig(path, agent, scale_settings, outputs, catalog, scanner, camera)


def load_config(path: Path) -> StationConfig:
    """Read and validate a station file.

    Raises:
        ConfigError: listing every problem found, each with its location.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(str(path), [Problem(str(path), f"cannot read: {exc.strerror}")]) from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), [Problem(str(path), f"not valid TOML: {exc}")]) from exc
    return validate_config(data, path)
