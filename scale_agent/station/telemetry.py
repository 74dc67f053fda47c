"""What the station reports about itself: `health` on MQTT and the status file.

The runtime feeds it what it sees (frames that did not parse, stable readings, the empty
platter's weight); it turns that, the state machine and the links into one `HealthPayload`,
which is both the retained `health` message and, with a few process facts, `status.json` for
`scale-agent status`.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING

from scale_agent.io.files import write_atomically
from scale_agent.io.logs import RateLimiter
from scale_agent.io.messages import HealthPayload, Mass, OutputHealth, ScaleHealth
from scale_agent.station.logic import State

if TYPE_CHECKING:
    from decimal import Decimal
    from pathlib import Path

    from scale_agent.io.ledger import Ledger
    from scale_agent.io.logs import Log
    from scale_agent.io.messages import StationIdentity
    from scale_agent.io.outputs import Outputs
    from scale_agent.io.scale_link import ScaleLink
    from scale_agent.io.scanner_link import ScannerLink
    from scale_agent.io.storage_health import StorageHealth
    from scale_agent.station.logic import StationLogic
    from scale_agent.station.photo_desk import PhotoDesk
    from scale_agent.weights import Reading

STATUS_FILE = "status.json"


class Telemetry:
    """Counters the loop keeps, and the reports made from them."""

    def __init__(self, identity: StationIdentity, log: Log) -> None:
        self.identity = identity
        self._log = log
        self._limiter = RateLimiter()
        self.parse_errors = 0
        self.last_stable_at: float | None = None
        self.empty_reading_g: Decimal | None = None

    def frame_rejected(self, reading: Reading) -> None:
        """A frame that did not parse: counted, logged at a bounded rate."""
        self.parse_errors += 1
        held = self._limiter.allow("frame_rejected")
        if held is not None:
            self._log.warning(
                "scale_frame_rejected",
                error=reading.error,
                raw=reading.raw[:64].hex(),
                suppressed=held,
                total=self.parse_errors,
            )

    def stable(self, grams: Decimal, now: float, state: State, empty_below_g: Decimal) -> None:
        """A stable weight: when, and (with nothing on the platter) the zero drift."""
        self.last_stable_at = now
        if state in {State.IDLE, State.WAITING} and abs(grams) < empty_below_g:
            self.empty_reading_g = grams

    def health(
        self,
        now: float,
        *,
        logic: StationLogic,
        link: ScaleLink,
        scanner_link: ScannerLink | None,
        outputs: Outputs,
        ledger: Ledger,
        interval_s: float,
        photos: PhotoDesk | None = None,
        storage: StorageHealth | None = None,
    ) -> HealthPayload:
        """What `health` reports: the scale as last seen, the backlog, the station's state."""
        identity = link.identity

        def age(at: float | None) -> float | None:
            return None if at is None else round(now - at, 3)

        scale = ScaleHealth(
            state="fault" if logic.health.is_faulted else "ok",
            fault_reason=logic.health.fault_reason if logic.health.is_faulted else None,
            device=link.driver.device,
            model=identity.model if identity else None,
            serial=identity.serial if identity else None,
            reconnects=link.reconnects,
            parse_errors=self.parse_errors,
            seconds_since_last_reading=age(logic.health.last_frame_at),
            seconds_since_last_stable=age(self.last_stable_at),
            empty_reading=Mass.of(self.empty_reading_g),
        )
        return HealthPayload(
            **self.identity,
            station_state=logic.state.value,
            order_id=logic.job.order_id if logic.job else None,
            scale=scale,
            outbox_backlog=ledger.backlog(),
            outbox_dropped=ledger.dropped(),
            last_verdict=logic.last_verdict.kind if logic.last_verdict else None,
            interval_s=interval_s,
            outputs=outputs.health(),
            scanner=None
            if scanner_link is None
            else OutputHealth.of(scanner_link.driver.device, scanner_link.problem),
            camera=None
            if photos is None
            else OutputHealth.of(photos.camera.device, photos.problem),
            storage=storage,
        )

    def write_status(
        self,
        folder: Path,
        health: HealthPayload,
        *,
        signal: str,
        written_at: float,
        stopped: bool = False,
        routine_test: dict[str, object] | None = None,
    ) -> None:
        """`status.json` beside the ledger, written atomically.

        The last one, written on a clean stop, says so: `status` tells a stop from a hang.
        """
        status = health.model_dump(mode="json")
        status["pid"] = os.getpid()
        status["written_at"] = written_at
        status["signal"] = signal
        if routine_test is not None:
            status["routine_test"] = routine_test
        if stopped:
            status["stopped_at"] = written_at
        path = folder / STATUS_FILE
        try:
            write_atomically(path, json.dumps(status).encode())
        except OSError as exc:
            held = self._limiter.allow("status_file")
            if held is not None:
                self._log.warning("status_file_not_written", path=str(path), reason=str(exc))
