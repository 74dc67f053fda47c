"""Shared by the scanner drivers: the prefix/suffix keys and cutting a byte stream into codes."""

from __future__ import annotations

import errno
import os
import select

from pydantic import Field

from scale_agent.errors import DeviceUnavailableError
from scale_agent.plugins import DriverSettings

MAX_CODE = 4096  # longer than any 2D code a packing bench sees; more is line noise


class CodeSettings(DriverSettings):
    """Keys every scanner shares."""

    strip_prefix: str = ""  # a prefix the scanner is configured to add (e.g. an AIM id)
    strip_suffix: str = ""
    terminator: str = Field(default="\r", min_length=1, max_length=2)


def clean(code: str, settings: CodeSettings) -> str | None:
    """The code without the configured prefix, suffix and whitespace; None when empty."""
    text = code.removeprefix(settings.strip_prefix).removesuffix(settings.strip_suffix).strip()
    return text or None


class CodeSplitter:
    """Cuts text into codes at the terminator; a runaway code without one is dropped."""

    def __init__(self, settings: CodeSettings) -> None:
        self.settings = settings
        self.buffer = ""
        self.dropped = 0

    def feed(self, text: str) -> list[str]:
        """Codes completed by `text`."""
        self.buffer += text
        *complete, self.buffer = self.buffer.split(self.settings.terminator)
        if len(self.buffer) > MAX_CODE:
            self.buffer, self.dropped = "", self.dropped + 1
        return [code for code in (clean(c, self.settings) for c in complete) if code]


def read_ready(fd: int | None, device: str, size: int, gone: str) -> bytes:
    """What is waiting on `fd`, after at most 0.2 s (b"" for nothing yet).

    Raises:
        DeviceUnavailableError: when the fd is not open, or the device went away (end of
            file, ENODEV); `gone` says so in the driver's words.
    """
    if fd is None:
        raise DeviceUnavailableError(device, "not open")
    ready, _, _ = select.select([fd], [], [], 0.2)
    if not ready:
        return b""
    try:
        data = os.read(fd, size)
    except BlockingIOError:
        return b""
    except OSError as exc:
        reason = gone if exc.errno == errno.ENODEV else f"{device}: {exc.strerror}"
        raise DeviceUnavailableError(device, reason) from exc
    if not data:
        raise DeviceUnavailableError(device, gone)
    return data
