"""IP cameras' still-image URL over HTTP(S), with Basic or Digest authentication.

Covers any camera that serves one JPEG per GET: Hikvision ISAPI
(`/ISAPI/Streaming/channels/101/picture`, Digest MD5 with `qop="auth"`), Dahua
(`/cgi-bin/snapshot.cgi?channel=1`, Digest), Axis VAPIX (`/axis-cgi/jpg/image.cgi`, Basic or
Digest), or any URL. The standard library's urllib does both authentications, so a station
needs nothing more installed.

A photo has one deadline, `timeout_s`, for all of it: connecting, the Digest round trip, the
headers and every byte of the picture. A per-read timeout is not enough: a camera on a
failing link that sends a byte every half second would hold one capture for many minutes.
When the deadline passes, a timer shuts the connection's socket, whatever call is waiting on
it returns, and the capture is a `DeviceTimeoutError`. The answer is also bounded by
`max_bytes`, and must be a JPEG.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import threading
import urllib.error
import urllib.request
from typing import Any, Literal

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


class Deadline:
    """Shuts every socket a capture opened once its time is up (from a timer thread)."""

    def __init__(self) -> None:
        self.has_passed = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    def watch(self, sock: socket.socket) -> None:
        """A socket of this capture: shut it when the deadline passes (at once if it has)."""
        with self._lock:
            self._sockets.append(sock)
            if self.has_passed:
                _shut(sock)

    def pass_now(self) -> None:
        """The deadline passed: every waiting read or connect returns."""
        with self._lock:
            self.has_passed = True
            for sock in self._sockets:
                _shut(sock)


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed or never connected
        sock.shutdown(socket.SHUT_RDWR)


class _Watched:
    """Mixed into http.client's connections: each socket is handed to the capture's deadline."""

    deadline: Deadline
    sock: Any

    def connect(self) -> None:
        super().connect()  # type: ignore[misc]
        self.deadline.watch(self.sock)


class _HttpConnection(_Watched, http.client.HTTPConnection):
    pass


class _HttpsConnection(_Watched, http.client.HTTPSConnection):
    pass


class _DeadlineHandler(urllib.request.HTTPHandler, urllib.request.HTTPSHandler):
    """Opens http and https URLs on connections watched by the current capture's deadline."""

    def __init__(self) -> None:
        urllib.request.HTTPHandler.__init__(self)
        urllib.request.HTTPSHandler.__init__(self)
        self.deadline = Deadline()

    def _connection(self, kind: type[http.client.HTTPConnection]) -> Any:  # noqa: ANN401
        deadline = self.deadline

        def make(host: str, **keys: Any) -> http.client.HTTPConnection:  # noqa: ANN401
            connection = kind(host, **keys)
            connection.deadline = deadline  # type: ignore[attr-defined]
            return connection

        return make

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(self._connection(_HttpConnection), req)

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(self._connection(_HttpsConnection), req)


class HttpSnapshotCamera:
    """One camera's snapshot URL."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._connections = _DeadlineHandler()
        handlers: list[urllib.request.BaseHandler] = [self._connections]
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
        """One JPEG within `timeout_s` all told, or DeviceError saying why not."""
        settings = self._settings
        deadline = self._connections.deadline = Deadline()
        timer = threading.Timer(settings.timeout_s, deadline.pass_now)
        timer.daemon = True
        timer.start()
        try:
            data = self._fetch()
        except DeviceError:
            if deadline.has_passed:
                raise self._late() from None
            raise
        finally:
            timer.cancel()
        if deadline.has_passed:  # what came before the socket was shut is not the photo
            raise self._late()
        if len(data) > settings.max_bytes:
            raise DeviceError(self.device, f"sent more than {settings.max_bytes} bytes")
        if not data.startswith(JPEG_START):
            raise DeviceError(self.device, "did not send a JPEG image")
        return data

    def _late(self) -> DeviceTimeoutError:
        return DeviceTimeoutError(
            self.device, f"sent no whole photo within {self._settings.timeout_s} s"
        )

    def _fetch(self) -> bytes:
        settings = self._settings
        try:
            # The deadline's timer ends a capture; a socket's own timeout only backs it up.
            with self._opener.open(settings.url, timeout=settings.timeout_s + 1) as reply:
                data: bytes = reply.read(settings.max_bytes + 1)
        except http.client.HTTPException as exc:  # cut short, e.g. by the deadline
            raise DeviceError(self.device, f"answer cut short: {exc!r}") from exc
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
        return data

    def close(self) -> None:
        """Nothing is held open between captures."""


DRIVER = HttpSnapshotCamera
