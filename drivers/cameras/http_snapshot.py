"""IP cameras' still-image URL over HTTP(S), with Basic or Digest authentication.

Covers any camera that serves one JPEG per GET: Hikvision ISAPI
(`/ISAPI/Streaming/channels/101/picture`, Digest MD5 with `qop="auth"`), Dahua
(`/cgi-bin/snapshot.cgi?channel=1`, Digest), Axis VAPIX (`/axis-cgi/jpg/image.cgi`, Basic or
Digest), or any URL. The standard library's urllib does both authentications, so a station
needs nothing more installed. Every request is bounded by `timeout_s` (connect and each read)
and by `max_bytes`; the answer must be a JPEG.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import Literal

from pydantic import Field

from scale_agent.errors import DeviceError, DeviceTimeoutError, DeviceUnavailableError
from scale_agent.plugins import DriverSettings

JPEG_START = b"\xff\xd8"


class Settings(DriverSettings):
    """`[camera] driver = "http-snapshot"`."""

    url: str = Field(pattern=r"^https?://", max_length=2000)
    auth: Literal["digest", "basic", "none"] = "digest"
    username: str = ""
    password: str = ""
    timeout_s: float = Field(default=2.0, gt=0, le=30)
    max_bytes: int = Field(default=10_000_000, gt=0)


class HttpSnapshotCamera:
    """One camera's snapshot URL."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        handlers: list[urllib.request.BaseHandler] = []
        if settings.auth != "none":
            passwords = urllib.request.HTTPPasswordMgrWithDefaultRealm()
            passwords.add_password(None, settings.url, settings.username, settings.password)
            handler_class = (
                urllib.request.HTTPDigestAuthHandler
                if settings.auth == "digest"
                else urllib.request.HTTPBasicAuthHandler
            )
            handlers.append(handler_class(passwords))
        self._opener = urllib.request.build_opener(*handlers)

    @property
    def device(self) -> str:
        """The URL without credentials, for messages."""
        return self._settings.url

    def capture(self) -> bytes:
        """One JPEG, or DeviceError saying why not."""
        settings = self._settings
        try:
            with self._opener.open(settings.url, timeout=settings.timeout_s) as reply:
                data: bytes = reply.read(settings.max_bytes + 1)
        except urllib.error.HTTPError as exc:
            said = "wrong user name or password" if exc.code == 401 else exc.reason  # noqa: PLR2004
            raise DeviceError(self.device, f"answered HTTP {exc.code}: {said}") from exc
        except TimeoutError as exc:
            raise DeviceTimeoutError(
                self.device, f"did not answer within {settings.timeout_s} s"
            ) from exc
        except (urllib.error.URLError, OSError) as exc:
            reason: object = getattr(exc, "reason", None) or exc
            if isinstance(reason, TimeoutError):  # a connect timeout arrives wrapped
                raise DeviceTimeoutError(
                    self.device, f"did not answer within {settings.timeout_s} s"
                ) from exc
            raise DeviceUnavailableError(self.device, f"unreachable: {reason}") from exc
        if len(data) > settings.max_bytes:
            raise DeviceError(self.device, f"sent more than {settings.max_bytes} bytes")
        if not data.startswith(JPEG_START):
            raise DeviceError(self.device, "did not send a JPEG image")
        return data

    def close(self) -> None:
        """Nothing is held open between captures."""


DRIVER = HttpSnapshotCamera
