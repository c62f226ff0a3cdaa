"""The real app (API + UI, as ``python app.py`` serves it) on a free localhost port, for the browser and gradio_client tests."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from assistant.settings import Settings


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def load_assistant(settings: Settings):
    """The real pipeline over the project's index (built first when missing)."""
    from assistant.pipeline import Assistant

    return Assistant.load(settings, build_if_missing=True)


@contextmanager
def serve(settings: Settings, assistant) -> Iterator[str]:
    """Serve ``create_server(settings, assistant)`` in a background thread; yields the base URL."""
    from assistant.server import create_server

    app = create_server(settings, assistant)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=free_port(), access_log=False, log_config=None, log_level="warning"))
    thread = threading.Thread(target=server.run, name="live-app", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the app did not start on localhost within 60 s")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{server.config.port}/"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
