"""Every error scale-agent raises, in one tree.

```
ScaleAgentError
├── ConfigError                 bad or missing setting -> exit 78 (EX_CONFIG)
│   └── UnknownDriverError      no such driver, or its import failed (reason attached)
├── UsageError                  a command line or tool input that cannot be used -> exit 2
├── WeightFormatError           text that is not a weight with a unit ("150g")
├── Gs1Error                    a scan that claims to be GS1 data but does not parse
├── CatalogError                catalog file problems, each with file and line
├── PayloadError                outside JSON we will not read (size, nesting, encoding, numbers)
│   └── JobError                an order that cannot be judged (bad JSON, wrong policy, ...)
│       └── UnknownItemError    a SKU or carton nobody declared (judged UNKNOWN_SKU)
├── DeviceError                 raised only by drivers; carries the device name
│   ├── DeviceUnavailableError  cannot open, or link dropped -> retried with backoff
│   └── DeviceTimeoutError      also a TimeoutError; no reply within the timeout
└── LedgerError                 the evidence database cannot be opened or written
    └── LedgerMissingError      also a FileNotFoundError; no ledger in the folder given
```

A failed parcel is a `Verdict`, never an exception. Configuration errors are fatal at start-up;
device errors are runtime errors that the station retries.
"""

from __future__ import annotations

from dataclasses import dataclass

EX_CONFIG = 78  # sysexits.h: configuration error; systemd's RestartPreventExitStatus=78


class ScaleAgentError(Exception):
    """Raised when scale-agent itself detects a problem; the base of every error here."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a configuration or catalog, and where it is.

    `location` is a dotted TOML path (`scale.baudrate`) or `file:line`.
    """

    location: str
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


class ConfigError(ScaleAgentError):
    """Raised when a configuration is invalid; lists every problem found, not just the first."""

    def __init__(self, source: str, problems: list[Problem]) -> None:
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  {problem}" for problem in problems)
        super().__init__(f"{source}: {len(problems)} problem(s)\n{lines}")


class UnknownDriverError(ConfigError):
    """Raised when a configured driver is not installed or cannot be imported."""

    def __init__(self, location: str, group: str, name: str, reason: str) -> None:
        self.group = group
        self.name = name
        self.reason = reason
        super().__init__(location, [Problem(location, f"driver {name!r}: {reason}")])


class UsageError(ScaleAgentError):
    """Raised when a command line, or the input a tool was given, cannot be used; exit 2."""


class Gs1Error(ScaleAgentError, ValueError):
    """Raised when a code claims to be GS1 data but its element string does not parse."""


class WeightFormatError(ScaleAgentError, ValueError):
    """Raised when text that should be a weight with a unit is not one."""

    def __init__(self, text: str, message: str) -> None:
        self.text = text
        super().__init__(message)


class CatalogError(ConfigError):
    """Raised when the SKU catalog has problems; each carries `file:line`."""


class PayloadError(ScaleAgentError, ValueError):
    """Raised when a payload from outside is not JSON the station will read; says why."""

    def __init__(self, reason: str, *, order_id: str | None = None) -> None:
        self.reason = reason
        self.order_id = order_id
        super().__init__(reason)


class JobError(PayloadError):
    """Raised when an order cannot be accepted: bad shape, unknown SKU or carton."""


class UnknownItemError(JobError):
    """Raised when an order names a SKU or carton that neither it nor the catalog declares."""


class DeviceError(ScaleAgentError):
    """Raised by a driver when its device misbehaves; carries the device name."""

    def __init__(self, device: str, message: str) -> None:
        self.device = device
        super().__init__(f"{device}: {message}")


class DeviceUnavailableError(DeviceError):
    """Raised when a device cannot be opened or its link dropped; the caller retries."""


class DeviceTimeoutError(DeviceError, TimeoutError):
    """Raised when a device gave no answer within its timeout."""


class LedgerError(ScaleAgentError):
    """Raised when the evidence ledger cannot be opened or written."""


class LedgerMissingError(LedgerError, FileNotFoundError):
    """Raised when there is no ledger in the data folder given (one is never made by mistake)."""
