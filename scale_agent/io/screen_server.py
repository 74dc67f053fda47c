"""The packer's screen over HTTP: a static page fed by server-sent events, in-process.

Starlette serves four read-only things: the page (`/`, with its script and style), the
current state as JSON (`/state`) and a stream of states (`/events`, server-sent events).
uvicorn runs it in a thread of its own on a socket bound here first, so a port that is taken
is one clear sentence and the station goes on without its screen. The feed does not go
through the broker: the screen keeps working while MQTT is down.

The page is static and sets every value as text (`textContent`): nothing from outside ever
becomes markup. A Content-Security-Policy allows only the page's own script and style. No
endpoint changes the station.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import time
from importlib import resources
from typing import TYPE_CHECKING, Any

import uvicorn
from starlette.applications import Starlette
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from scale_agent.errors import DeviceUnavailableError

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable

    from starlette.requests import Request

    from scale_agent.io.logs import Log

# The page shows a verdict only while the station stands behind it. The station loop beats
# (`ScreenHub.beat`) on every turn; while it does, each open stream sends a `beat` event at
# least every BEAT_S, and the page shows "station not responding" after a few seconds with
# neither a state nor a beat. A loop that hangs while this server's thread lives stops the
# beats after LOOP_SILENT_S; a process that is stopped (SIGSTOP, a frozen VM) sends nothing.
BEAT_S = 1.0
LOOP_SILENT_S = 2.0
RETRY_MS = 1000  # how soon the browser reconnects after the daemon comes back
_SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
_STATIC = {
    "/": ("screen.html", "text/html; charset=utf-8"),
    "/screen.js": ("screen.js", "text/javascript; charset=utf-8"),
    "/screen.css": ("screen.css", "text/css; charset=utf-8"),
}


class ScreenHub:
    """The latest screen state, handed from the station loop to every open page.

    `publish` is called from the station thread; each page's stream waits on the event loop.
    A slow page gets the newest state, never a backlog.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._beat_at = clock()
        self._lock = threading.Lock()
        self._body = b"{}"
        self._version = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._changed: asyncio.Event | None = None
        self.is_closed = False

    def publish(self, state: dict[str, Any]) -> bool:
        """Offer a state; False (and nothing sent) when it equals the last one."""
        body = json.dumps(state, ensure_ascii=False, separators=(",", ":")).encode()
        with self._lock:
            if body == self._body:
                return False
            self._body, self._version = body, self._version + 1
            loop = self._loop
        if loop is not None:
            loop.call_soon_threadsafe(self._wake)
        return True

    def beat(self) -> None:
        """The station loop is turning (called on every turn: one assignment)."""
        self._beat_at = self._clock()

    @property
    def is_station_alive(self) -> bool:
        """Whether the station loop has turned within `LOOP_SILENT_S`."""
        return self._clock() - self._beat_at < LOOP_SILENT_S

    def latest(self) -> tuple[int, bytes]:
        """(version, JSON body) of the newest state."""
        with self._lock:
            return self._version, self._body

    def close(self) -> None:
        """End every stream (the daemon is stopping)."""
        self.is_closed = True
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._wake)

    def attach(self) -> asyncio.Event:
        """Called on the server's event loop: the event set on every change."""
        if self._changed is None:
            self._loop = asyncio.get_running_loop()
            self._changed = asyncio.Event()
        return self._changed

    def _wake(self) -> None:
        if self._changed is not None:
            self._changed.set()
            self._changed = asyncio.Event()  # waiters of the next change wait on a new one

    async def stream(self) -> AsyncIterator[bytes]:
        """Server-sent events: the current state at once, then every change."""
        yield f"retry: {RETRY_MS}\n\n".encode()
        sent = -1
        while not self.is_closed:
            changed = self.attach()
            version, body = self.latest()
            if version != sent:
                sent = version
                yield b"data: " + body + b"\n\n"
                continue
            try:
                await asyncio.wait_for(changed.wait(), BEAT_S)
            except TimeoutError:
                # Only a turning station loop vouches for what the page shows; the comment
                # keeps the connection open but the page does not count it.
                yield b"event: beat\ndata: {}\n\n" if self.is_station_alive else b": silent\n\n"


def make_app(hub: ScreenHub) -> Starlette:
    """The screen's web application."""
    files = resources.files("scale_agent.io") / "screen"

    async def static(request: Request) -> Response:
        name, media_type = _STATIC[request.url.path]
        body = (files / name).read_bytes()
        return Response(body, media_type=media_type, headers=_SECURITY_HEADERS)

    async def state(request: Request) -> Response:
        _ = request
        _, body = hub.latest()
        return Response(body, media_type="application/json", headers=_SECURITY_HEADERS)

    async def events(request: Request) -> StreamingResponse:
        _ = request
        headers = {**_SECURITY_HEADERS, "X-Accel-Buffering": "no"}
        return StreamingResponse(hub.stream(), media_type="text/event-stream", headers=headers)

    routes = [Route(path, static) for path in _STATIC]
    routes += [Route("/state", state), Route("/events", events)]
    return Starlette(routes=routes)


class QuietServer(uvicorn.Server):
    """uvicorn, waking once a second to look for the exit flag instead of ten times.

    Its own loop sleeps 0.1 s between looks: on a station that idles all day that is most
    of the screen thread's cost. `request_exit` (any thread) ends the wait at once.
    """

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._exit: asyncio.Event | None = None

    async def main_loop(self) -> None:
        """The server's main loop, as uvicorn's (`on_tick`'s counter still counts tenths)."""
        self._loop, self._exit = asyncio.get_running_loop(), asyncio.Event()
        if self.should_exit:
            self._exit.set()
        counter = 0
        should_exit = await self.on_tick(counter)
        while not should_exit:
            counter = (counter + 10) % 864_000
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._exit.wait(), timeout=1.0)
            should_exit = await self.on_tick(counter)

    def request_exit(self) -> None:
        """Stop serving (from any thread)."""
        self.should_exit = True
        loop, event = self._loop, self._exit
        if loop is not None and event is not None and not loop.is_closed():
            loop.call_soon_threadsafe(event.set)


class ScreenServer:
    """Runs the screen's web server in a thread until `stop`."""

    def __init__(self, hub: ScreenHub, address: tuple[str, int], log: Log) -> None:
        self.hub = hub
        self._address = address
        self._log = log
        self._server: QuietServer | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    def start(self) -> str:
        """Bind and start serving; returns the page's URL.

        Raises:
            DeviceUnavailableError: the address cannot be bound (taken, or not this host's).
        """
        host, port = self._address
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            sock.close()
            where = f"{host}:{port}"
            raise DeviceUnavailableError(
                f"screen {where}", f"cannot listen on {where}: {exc.strerror or exc}"
            ) from exc
        sock.listen(64)
        bound_port = sock.getsockname()[1]
        shown_host = f"[{host}]" if ":" in host else host
        self.url = f"http://{shown_host}:{bound_port}/"
        config = uvicorn.Config(
            make_app(self.hub),
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
        self._server = server = QuietServer(config)
        self._thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="screen", daemon=True
        )
        self._thread.start()
        self._log.info("screen_started", url=self.url)
        return self.url

    def stop(self) -> None:
        """End the streams and the server."""
        self.hub.close()
        if self._server is not None:
            self._server.request_exit()
        if self._thread is not None:
            self._thread.join(timeout=5)
