"""Everything that reaches the station loop through its one queue, as one typed union.

The loop dispatches on `Inbound` with `match`; mypy's exhaustiveness check (`assert_never`)
proves every kind of event is handled, so adding one here without handling it fails the
type check instead of being dropped at run time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from scale_agent.domain.jobs import Job
from scale_agent.io.scale_link import CommandSent, LinkDown, LinkUp
from scale_agent.io.scanner_link import Scanned
from scale_agent.station.photo_desk import PhotoFailed, PhotoTaken
from scale_agent.station.scale_inbox import ScaleWaiting
from scale_agent.station.scan_desk import LookedUp
from scale_agent.weights import Reading

# What arrives as raw bytes: parsed in the station loop, never on the thread that received it.
OutsideKind = Literal["job", "command", "order", "evidence_ack"]


@dataclass(frozen=True)
class FromOutside:
    """Bytes from outside the station, parsed in the station loop.

    An order to weigh (`job`), a `command`, an `order` pushed for scanning later, or the
    central's `evidence_ack`; `source` says where an order came from (mqtt, http, ...).
    """

    kind: OutsideKind
    data: bytes
    source: str = "mqtt"


@dataclass(frozen=True)
class Reload:
    """Re-read the station file (SIGHUP)."""


Inbound = (
    ScaleWaiting  # the scale link's events wait in the scale inbox
    | Reading  # put here directly by tests and benchmarks, like the three after it
    | LinkUp
    | LinkDown
    | CommandSent
    | Scanned  # from the scanner link
    | LookedUp  # an order look-up finished (scan desk worker)
    | PhotoTaken  # the camera worker kept a photo
    | PhotoFailed
    | Job  # already parsed (the demo, tests)
    | FromOutside
    | Reload
)
