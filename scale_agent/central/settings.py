"""The central monitor's file (`central.toml`): database, web listener, broker, retention.

```toml
[central]
database = "central.sqlite3"      # a file beside this one, or "postgresql://user@host/db"
listen = "127.0.0.1:8780"         # behind a TLS reverse proxy for anything but localhost
timezone = "Asia/Shanghai"        # how times are shown (stored in UTC)
keep_days = 90                    # messages older than this are deleted
share_group = "monitors"          # several instances share the ingest ($share/monitors/...)
site = "sz"                       # only this site's stations (default: every site)
secret_file = "central-secret"    # signs session cookies; made on first start
shifts = ["06:00", "14:00", "22:00"]  # when each shift starts, local time (the shift summary)
language = "en"                   # pages' language unless the browser or the user picks another
evidence_dir = "evidence"         # the stations' photos, as files named by their SHA-256
remedy = "refund"                 # the case desk's suggestion: refund, reship or voucher
approval_above = 200              # a case decided for more than this needs a supervisor
evidence_keep_days = 1096         # records kept 3 years (China's E-commerce Law, art. 31)

[mqtt]                            # the same keys as a station's [mqtt]
url = "mqtt://127.0.0.1:1883"
client_id = "central-1"           # stable: the broker keeps this instance's session
```
"""

from __future__ import annotations

import secrets
import tomllib
from dataclasses import dataclass
from datetime import time
from decimal import Decimal
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator

from scale_agent.errors import ConfigError, Problem
from scale_agent.io.config import MqttSection, Section, TopicSafe, problems_from, resolve


class CentralSection(Section):
    """[central]: where the monitor keeps its data and how it is reached."""

    database: str = "central.sqlite3"
    listen: str = "127.0.0.1:8780"
    timezone: str = "UTC"
    keep_days: int = Field(default=90, ge=1, le=3650)
    share_group: TopicSafe | None = None
    site: TopicSafe | None = None
    secret_file: Path = Path("central-secret")
    session_expiry_s: int = Field(default=7 * 24 * 3600, ge=60)
    language: Literal["en", "zh_CN"] = "en"
    evidence_dir: Path = Path("evidence")
    evidence_keep_days: int = Field(default=1096, ge=1, le=36500)
    remedy: Literal["refund", "reship", "voucher"] = "refund"
    currency: str = Field(default="CNY", min_length=3, max_length=3)
    approval_above: Decimal = Field(default=Decimal(200), ge=0)
    shifts: list[str] = Field(default=["06:00", "14:00", "22:00"], min_length=1, max_length=12)

    @field_validator("shifts")
    @classmethod
    def _shift_starts(cls, value: list[str]) -> list[str]:
        try:
            starts = [time.fromisoformat(text) for text in value]
        except ValueError:
            raise ValueError('each shift start must be a time such as "06:00"') from None
        if len(set(starts)) != len(starts):
            raise ValueError("two shifts start at the same time")
        return [start.strftime("%H:%M") for start in sorted(starts)]

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (e.g. Asia/Shanghai)") from None
        return value

    @field_validator("listen")
    @classmethod
    def _host_port(cls, value: str) -> str:
        host, _, port = value.rpartition(":")
        if not host or not port.isdigit() or not 0 <= int(port) <= 65535:  # noqa: PLR2004
            raise ValueError("must look like 127.0.0.1:8780")
        return value


class CentralFile(Section):
    """The whole file."""

    central: CentralSection = Field(default_factory=CentralSection)
    mqtt: MqttSection = Field(default_factory=MqttSection)


@dataclass(frozen=True)
class CentralConfig:
    """The validated file, paths resolved against its folder."""

    path: Path
    central: CentralSection
    mqtt: MqttSection

    @property
    def database(self) -> str:
        """The database URL or the SQLite file's full path."""
        url = self.central.database
        return url if "://" in url else str(resolve(self.path, Path(url)))

    @property
    def evidence_dir(self) -> Path:
        """The folder the stations' photos are kept in."""
        return resolve(self.path, self.central.evidence_dir)

    @property
    def shift_starts(self) -> list[time]:
        """When each shift starts, in the monitor's zone, earliest first."""
        return [time.fromisoformat(text) for text in self.central.shifts]

    @property
    def zone(self) -> ZoneInfo:
        """The time zone pages show times in."""
        return ZoneInfo(self.central.timezone)

    def secret(self) -> str:
        """The cookie-signing secret, made on first use (readable by the service user only)."""
        path = resolve(self.path, self.central.secret_file)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()


def load_central(path: Path) -> CentralConfig:
    """Read and validate `central.toml`.

    Raises:
        ConfigError: every problem, each with its location.
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(str(path), [Problem(str(path), f"cannot read: {exc.strerror}")]) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), [Problem(str(path), f"not valid TOML: {exc}")]) from exc
    try:
        parsed = CentralFile.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(str(path), problems_from(exc)) from exc
    return CentralConfig(path, parsed.central, parsed.mqtt)
