"""The first minutes of a start: the server listens at once and says how loading goes until the assistant is ready.

On a fresh clone the index takes minutes to build, and a URL that refuses
connections meanwhile looks broken. ``StartingServer`` is the ASGI app uvicorn
serves from the first second. While the assistant loads on a worker thread it
answers '/' with a page showing the stage and the texts embedded (the page
refreshes itself), /health with 200, /ready and every other path with 503 and
``Retry-After``. Once loaded it runs the real server's lifespan (the API's
warm-up, Gradio's queue) and hands every request to it. A failed load is handed
to ``on_failure``, which stops the server with the reason, as before.

Example (app.py)::

    gate = StartingServer(lambda report: create_server(settings, Assistant.load(settings, on_progress=report)), on_failure)
    uvicorn.Server(uvicorn.Config(gate, host=host, port=port)).run()
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

from assistant import __version__
from assistant.web.render import esc

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
Report = Callable[[str, int, int], None]

RETRY_AFTER_S = 5
PAGE_REFRESH_S = 2


@dataclass(frozen=True)
class Progress:
    """What loading is doing now; ``total`` is 0 for a stage without a count."""

    stage: str = "Starting"
    done: int = 0
    total: int = 0

    def sentence(self) -> str:
        return f"{self.stage}: {self.done:,} of {self.total:,}" if self.total else f"{self.stage} …"


def starting_page(progress: Progress) -> str:
    """The page staff see while the assistant loads: what it is doing, a bar when there is a count, and that it will refresh."""
    share = progress.done / progress.total if progress.total else 0.0
    bar = f'<div class="bar"><div style="width:{share * 100:.0f}%"></div></div>' if progress.total else ""
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f'<meta http-equiv="refresh" content="{PAGE_REFRESH_S}"><meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>Starting: Victorian education law assistant</title><style>"
        "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;max-width:40em;margin:10vh auto;padding:0 1em;color:#111827}"
        ".bar{height:10px;background:#e5e7eb;border-radius:5px;overflow:hidden;margin:12px 0}.bar div{height:100%;background:#2563eb}"
        ".muted{color:#6b7280;font-size:.9em}</style></head><body>"
        "<h1>The assistant is starting</h1>"
        f'<p id="stage">{esc(progress.sentence())}</p>{bar}'
        "<p class=muted>The first start builds the search index (a few minutes on a small machine); later starts take seconds. "
        "This page refreshes itself and opens the assistant when it is ready.</p></body></html>"
    )


class StartingServer:
    """ASGI: a progress page and 503s while ``load`` runs on a thread, then the app it returned."""

    def __init__(self, load: Callable[[Report], ASGIApp], on_failure: Callable[[BaseException], None]):
        self._load = load
        self._on_failure = on_failure
        self.progress = Progress()
        self.app: ASGIApp | None = None
        self._lifespan: contextlib.AbstractAsyncContextManager | None = None
        self._task: asyncio.Task | None = None

    def report(self, stage: str, done: int, total: int) -> None:
        """Called from the loading thread; one assignment, so a request never sees half an update."""
        self.progress = Progress(stage, done, total)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._run_lifespan(receive, send)
        elif self.app is not None:
            await self.app(scope, receive, send)
        elif scope["type"] == "http":
            await self._respond_starting(scope, send)
        elif scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1013})

    async def _run_lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self._task = asyncio.create_task(self._load_then_serve())
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._task is not None and not self._task.done():
                    self._task.cancel()
                if self._lifespan is not None:
                    await self._lifespan.__aexit__(None, None, None)
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _load_then_serve(self) -> None:
        loop = asyncio.get_running_loop()
        loaded: asyncio.Future[ASGIApp] = loop.create_future()

        def settle(setter: Callable[[Any], None], value: Any) -> None:
            with contextlib.suppress(RuntimeError):  # the loop closed: the server stopped while loading
                loop.call_soon_threadsafe(lambda: loaded.done() or setter(value))

        def work() -> None:
            try:
                settle(loaded.set_result, self._load(self.report))
            except BaseException as exc:  # noqa: BLE001 - handed to on_failure on the loop
                settle(loaded.set_exception, exc)

        # A daemon thread, so stopping the server during a long index build does not wait for it.
        threading.Thread(target=work, name="assistant-load", daemon=True).start()
        try:
            app = await loaded
            lifespan = app.router.lifespan_context(app) if hasattr(app, "router") else contextlib.nullcontext()
            await lifespan.__aenter__()
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # noqa: BLE001 - reported by on_failure, never as a trace to a client
            self._on_failure(exc)
            return
        self._lifespan = lifespan
        self.app = app

    async def _respond_starting(self, scope: Scope, send: Send) -> None:
        path = scope.get("path", "/")
        progress = self.progress
        if path == "/health":
            status, kind, body = 200, "application/json", json.dumps({"status": "ok", "version": __version__})
        elif path == "/ready":
            status, kind, body = 503, "application/json", json.dumps({"status": "loading", "message": progress.sentence(), "documents": [], "provisions": 0})
        elif path in ("/", "") and scope.get("method") in ("GET", "HEAD"):
            status, kind, body = 200, "text/html; charset=utf-8", starting_page(progress)
        else:
            message = f"the assistant is still starting ({progress.sentence()}); try again in {RETRY_AFTER_S} seconds"
            status, kind, body = 503, "application/json", json.dumps({"error": "starting", "message": message, "request_id": ""})
        headers = [(b"content-type", kind.encode()), (b"cache-control", b"no-store")]
        if status == 503:
            headers.append((b"retry-after", str(RETRY_AFTER_S).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body.encode() if scope.get("method") != "HEAD" else b""})
