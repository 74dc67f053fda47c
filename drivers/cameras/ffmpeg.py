"""One frame from anything ffmpeg opens: a USB camera (V4L2), an RTSP stream, a test source.

Debian's `ffmpeg` is run once per capture with a bounded time (`timeout_s`; the process is
killed past it) and writes one JPEG to its standard output. Examples:
`input = "/dev/video0"`, `format = "v4l2"`; `input = "rtsp://cam/stream"`,
`options = ["-rtsp_transport", "tcp", "-timeout", "5000000"]`; `input =
"testsrc=size=640x480:rate=10"`, `format = "lavfi"` (no camera at all: the tests use it).
"""

from __future__ import annotations

import shutil
import subprocess

from pydantic import Field

from scale_agent.errors import DeviceError, DeviceTimeoutError, DeviceUnavailableError
from scale_agent.plugins import DriverSettings

JPEG_START = b"\xff\xd8"


class Settings(DriverSettings):
    """`[camera] driver = "ffmpeg"`."""

    input: str = Field(min_length=1, max_length=2000)
    format: str | None = Field(default=None, pattern=r"^[a-z0-9_]{1,32}$")  # -f before -i
    options: list[str] = Field(default_factory=list, max_length=32)  # input options
    timeout_s: float = Field(default=5.0, gt=0, le=60)
    executable: str = "ffmpeg"


class FfmpegCamera:
    """A frame grabber around the ffmpeg command."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    @property
    def device(self) -> str:
        """The input, for messages."""
        return self._settings.input

    def command(self) -> list[str]:
        """The ffmpeg command line of one capture."""
        settings = self._settings
        source = ["-f", settings.format] if settings.format else []
        return [
            settings.executable,
            "-hide_banner",
            "-loglevel",
            "error",
            "-nostdin",
            *settings.options,
            *source,
            "-i",
            settings.input,
            "-frames:v",
            "1",
            "-f",
            "image2pipe",
            "-c:v",
            "mjpeg",
            "-",
        ]

    def capture(self) -> bytes:
        """One JPEG, or DeviceError saying why not."""
        settings = self._settings
        if shutil.which(settings.executable) is None:
            raise DeviceUnavailableError(
                self.device, f"{settings.executable} is not installed (apt-get install ffmpeg)"
            )
        try:
            done = subprocess.run(  # noqa: S603 - the station's own configured command
                self.command(), capture_output=True, timeout=settings.timeout_s, check=False
            )
        except subprocess.TimeoutExpired as exc:
            raise DeviceTimeoutError(
                self.device, f"no frame within {settings.timeout_s} s"
            ) from exc
        if done.returncode != 0 or not done.stdout.startswith(JPEG_START):
            said = done.stderr.decode(errors="replace").strip().splitlines()
            reason = said[-1] if said else f"ffmpeg exited {done.returncode}"
            raise DeviceError(self.device, f"{reason[:300]}")
        return done.stdout

    def close(self) -> None:
        """Nothing is held open between captures."""


DRIVER = FfmpegCamera
