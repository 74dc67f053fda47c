"""A local HTTP server acting as an IP camera: Hikvision's ISAPI picture path, Digest auth.

It implements RFC 7616 Digest with MD5 and `qop="auth"` as Hikvision cameras answer, and can
hang (accept the request, never answer) to show that a stuck camera delays nothing, or
trickle (send its picture a byte every `trickle_s`) as a camera on a failing link does.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar, Self

from drivers.cameras import ffmpeg

PATH = "/ISAPI/Streaming/channels/101/picture"
REALM = "IP Camera(C1234)"


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()  # noqa: S324 - Digest's MD5, as cameras use


def test_jpeg() -> bytes:
    """A real JPEG from ffmpeg's test source (what a camera's sensor would give)."""
    settings = ffmpeg.Settings(input="testsrc=size=640x480:rate=1", format="lavfi", timeout_s=30)
    return ffmpeg.DRIVER(settings).capture()


class _Handler(BaseHTTPRequestHandler):
    """The camera's HTTP side; `server.camera` holds its state."""

    protocol_version = "HTTP/1.1"
    server_version: ClassVar[str] = "App-webs/"  # type: ignore[misc]

    def log_message(self, *_: object) -> None:
        return

    def do_GET(self) -> None:
        camera: DigestCamera = self.server.camera  # type: ignore[attr-defined]
        camera.requests += 1
        if self.path != PATH:
            self._answer(404, b"not found")
            return
        if not camera.authorised(self.headers.get("Authorization", ""), "GET", self.path):
            nonce = secrets.token_hex(16)
            camera.nonces.add(nonce)
            self.send_response(401)
            self.send_header(
                "WWW-Authenticate",
                f'Digest qop="auth", realm="{REALM}", nonce="{nonce}", stale="FALSE"',
            )
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if camera.hang.is_set():
            camera.release.wait(30)
            return
        if camera.trickle_s is not None:
            self._trickle(camera.image, camera.trickle_s)
            return
        self._answer(200, camera.image, "image/jpeg")

    def _trickle(self, body: bytes, every_s: float) -> None:
        camera: DigestCamera = self.server.camera  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            for index in range(len(body)):
                self.wfile.write(body[index : index + 1])
                self.wfile.flush()
                if camera.release.wait(every_s):
                    return
        except OSError:  # the station gave up and closed the connection
            return

    def _answer(self, code: int, body: bytes, kind: str = "text/plain") -> None:
        self.send_response(code)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class DigestCamera:
    """`with DigestCamera(user, password) as camera:` ... `camera.url`."""

    def __init__(self, username: str = "admin", password: str = "Secret-123") -> None:  # noqa: S107 - a test camera's
        self.username, self.password = username, password
        self.image = test_jpeg()
        self.hang = threading.Event()
        self.trickle_s: float | None = None  # send the picture a byte at a time, this slowly
        self.release = threading.Event()
        self.requests = 0
        self.nonces: set[str] = set()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.camera = self  # type: ignore[attr-defined]
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{PATH}"

    def authorised(self, header: str, method: str, uri: str) -> bool:
        if not header.startswith("Digest "):
            return False
        fields = {}
        for part in header[len("Digest ") :].split(","):
            key, _, value = part.strip().partition("=")
            fields[key] = value.strip('"')
        if fields.get("username") != self.username or fields.get("nonce") not in self.nonces:
            return False
        ha1 = md5(f"{self.username}:{REALM}:{self.password}")
        ha2 = md5(f"{method}:{uri}")
        expected = md5(
            f"{ha1}:{fields['nonce']}:{fields.get('nc')}:{fields.get('cnonce')}:auth:{ha2}"
        )
        return fields.get("qop") == "auth" and fields.get("response") == expected

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()
