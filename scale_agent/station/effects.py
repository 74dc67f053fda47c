"""What the state machine asks the runtime to do: effects, carried out in the order returned.

`StationLogic` returns them and never acts itself; the runtime records a `Record` before it
shows the `Show` that follows it, so a light never shows a verdict the ledger does not hold.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from decimal import Decimal

    from scale_agent.domain.assurance import RoutineTest
    from scale_agent.domain.verifier import Expectation, Verdict
    from scale_agent.signals import Indication
    from scale_agent.station.guidance import Guidance
    from scale_agent.weights import Reading


@dataclass(frozen=True)
class Show:
    """Effect: show this on every output and the screen, in the station's language."""

    guidance: Guidance

    @property
    def indication(self) -> Indication:
        """The lights' indication, in English (logs, tests)."""
        return self.guidance.indication()


@dataclass(frozen=True)
class Override:
    """A supervisor's decision to let a failed parcel be sealed, and why."""

    operator: str
    reason: str


@dataclass(frozen=True)
class Record:
    """Effect: record (and, when flagged, publish) this verdict with its evidence.

    `expectation` is what the verdict was judged against (None when there was no order);
    `override` is set on the record that documents a supervisor's override.
    """

    verdict: Verdict
    evidence: tuple[Reading, ...] = ()
    is_rejudged: bool = False
    expectation: Expectation | None = None
    override: Override | None = None


@dataclass(frozen=True)
class ZeroScale:
    """Effect: send the scale a zero command (zero drift with an empty platter)."""

    drift_g: Decimal


@dataclass(frozen=True)
class Refused:
    """Effect: a command could not be carried out now; the reason goes back to the sender."""

    command: str | None  # "job" for an order, the command's name, None when unreadable
    reason: str
    order_id: str | None = None
    request_id: str | None = None  # the command's, so the sender can match the answer


@dataclass(frozen=True)
class Told:
    """Effect: tell the supervisors (an MQTT `event`, the log) something they must know."""

    event: str
    reason: str
    order_id: str | None = None
    command: str | None = None
    request_id: str | None = None


@dataclass(frozen=True)
class Note:
    """Effect: log an event (snake_case, past tense) with its fields."""

    event: str
    fields: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class StartTest:
    """Effect: start a routine scale test now (a command, a scan code)."""

    operator: str | None
    reason: str
    request_id: str | None = None


@dataclass(frozen=True)
class RecordTest:
    """Effect: record a finished routine scale test in the ledger and tell the supervisors."""

    test: RoutineTest


@dataclass(frozen=True)
class ReleaseScale:
    """Effect: record that a supervisor released a scale that failed its test."""

    override: Override
    was: str  # why the scale was held


Effect = Show | Record | Note | Refused | Told | ZeroScale | StartTest | RecordTest | ReleaseScale
