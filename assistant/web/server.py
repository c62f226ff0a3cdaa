"""The one web server: the JSON API at /api/v1 and the Gradio UI at /, sharing one Assistant.

Usage::

    app = create_server(settings, Assistant.load(settings))
    uvicorn.run(app, host="127.0.0.1", port=7860, access_log=False)
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI

from assistant.settings import Settings
from assistant.web.api import create_api
from assistant.web.state import AnswerService

# The UI must not phone home from an intranet server.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")


def create_server(settings: Settings, assistant: AnswerService | None = None) -> FastAPI:
    """The API with the UI mounted at '/'; loads the Assistant (index must exist) when none is given.

    The API routes, /health, /ready, /docs and /openapi.json are registered before
    the mount, so they win over the UI's catch-all path.
    """
    import gradio as gr

    from assistant.web.render import LAYOUT_CSS
    from assistant.web.ui import build_ui, ui_theme

    if assistant is None:
        from assistant.pipeline import Assistant

        assistant = Assistant.load(settings, build_if_missing=False)
    app = create_api(settings, assistant)
    blocks = build_ui(assistant, settings)
    return gr.mount_gradio_app(app, blocks, path="/", ssr_mode=False, footer_links=[], theme=ui_theme(), css=LAYOUT_CSS, **ui_login(settings))


def ui_login(settings: Settings) -> dict[str, Any]:
    """Gradio's login for the UI when ASSISTANT_UI_USERNAME and ASSISTANT_UI_PASSWORD are both set.

    The JSON API keeps its own bearer tokens; the two are independent so a help-desk
    integration never needs the staff password.
    """
    password = settings.ui_password.get_secret_value()
    if not (settings.ui_username and password):
        return {}
    return {"auth": (settings.ui_username, password), "auth_message": "Sign in with the staff account for the education law assistant."}


@contextlib.contextmanager
def serve_in_background(app: FastAPI, host: str = "127.0.0.1", port: int = 0, startup_timeout: float = 120.0) -> Iterator[str]:
    """Serve ``app`` with uvicorn on a thread; yields the base URL (port 0 picks a free one).

    For tests and the load test: a real HTTP server on loopback in the same
    process, shut down cleanly when the block ends.
    """
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, access_log=False, log_config=None, lifespan="on"))
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"the server did not start on {host}:{port}")
        time.sleep(0.05)
    bound_port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://{host}:{bound_port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
