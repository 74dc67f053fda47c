"""A photo of each parcel at its verdict, taken beside the station loop, never in its way.

The verdict is written and the light shown first; only then is a capture asked for, and the
asking is a non-blocking put on a small queue that a worker thread serves (capture, stamp,
keep). The worker hands the kept photo back through the station's event queue, and the loop
appends it to the hash chain as a `PHOTO` record naming the parcel, so the chain covers the
picture. A camera that hangs or is gone costs the verdict nothing: its problem shows in health
(and on the monitor) and the parcel's record simply has no photo record after it.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from scale_agent.errors import DeviceError
from scale_agent.io.photos import Photo, PhotoStore, stamp

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from scale_agent.io.config import CameraSection
    from scale_agent.io.logs import Log
    from scale_agent.plugins import CameraDriver

QUEUE_SIZE = 8  # photos waiting for a slow camera; past it the newest request is dropped


@dataclass(frozen=True)
class PhotoRequest:
    """A moment to photograph: which parcel, and what to stamp on the picture."""

    parcel_id: str
    order_id: str | None
    moment: str  # a `[camera] moments` value: "verdict" for now
    verdict: str
    weight: str
    at: float  # wall time of the moment


@dataclass(frozen=True)
class PhotoTaken:
    """Event: a photo was kept (handed to the station loop for the chain)."""

    request: PhotoRequest
    photo: Photo
    camera: str
    took_ms: float


@dataclass(frozen=True)
class PhotoFailed:
    """Event: the camera gave no photo."""

    request: PhotoRequest
    reason: str


class PhotoDesk:
    """The camera's worker: requests in, `PhotoTaken`/`PhotoFailed` events out."""

    def __init__(
        self,
        camera: CameraDriver,
        section: CameraSection,
        data_dir: Path,
        *,
        station: str,
        emit: Callable[[PhotoTaken | PhotoFailed], None],
        log: Log,
    ) -> None:
        self.camera = camera
        self.moments = set(section.moments)
        self.store = PhotoStore(data_dir, section.quota_mb * 1_000_000, section.keep_days)
        self.station = station
        self.problem: str | None = None  # None while the last capture worked
        self._emit = emit
        self._log = log
        self._requests: queue.Queue[PhotoRequest | None] = queue.Queue(QUEUE_SIZE)
        self._thread = threading.Thread(target=self._serve, name="camera", daemon=True)

    def start(self) -> None:
        """Start the worker."""
        self._thread.start()

    def stop(self) -> None:
        """Let the worker finish the capture in hand, then close the camera."""
        with contextlib.suppress(queue.Full):  # a full queue ends too: the worker drains it
            self._requests.put_nowait(None)
        self._thread.join(timeout=10)
        self.camera.close()

    def ask(self, request: PhotoRequest) -> None:
        """Ask for a photo; never waits (a full queue drops this one and logs it)."""
        if request.moment not in self.moments:
            return
        try:
            self._requests.put_nowait(request)
        except queue.Full:
            self._log.warning("photo_dropped", parcel_id=request.parcel_id, reason="camera busy")

    def _serve(self) -> None:
        while (request := self._requests.get()) is not None:
            started = time.perf_counter()
            try:
                image = self.camera.capture()
                photo = self.store.save(
                    stamp(image, self._stamp(request)),
                    f"{request.parcel_id}-{request.moment}",
                    request.at,
                )
            except DeviceError as exc:
                self.problem = str(exc)
                self._emit(PhotoFailed(request, str(exc)))
                continue
            self.problem = None
            took_ms = (time.perf_counter() - started) * 1000
            self._emit(PhotoTaken(request, photo, self.camera.device, took_ms))

    def _stamp(self, request: PhotoRequest) -> list[str]:
        when = datetime.fromtimestamp(request.at, UTC).astimezone()
        return [
            f"{request.order_id or '-'}  {request.verdict}  {request.weight}",
            f"{self.station}  {when.strftime('%Y-%m-%d %H:%M:%S %Z')}",
        ]
