"""Start the assistant: listen at once (a progress page until it is ready), build the index if it is missing or out of date, then serve the web UI and the JSON API on one port.

    python app.py                        # http://127.0.0.1:7860/ (UI), /api/v1 (API), /docs (API reference)
    GRADIO_SERVER_NAME=0.0.0.0 GRADIO_SERVER_PORT=8080 python app.py

Everything else is configured with ASSISTANT_* variables (see assistant/settings.py);
set ASSISTANT_API_TOKENS or ASSISTANT_API_TOKEN_FILE before listening beyond loopback.
"""

from __future__ import annotations

import os
import socket
import sys
import tempfile
import traceback
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
# The progress page reports loading; model-loading bars would only clutter the server log.
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7860


def listen_address() -> tuple[str, int]:
    """Host and port from GRADIO_SERVER_NAME / GRADIO_SERVER_PORT, checked so a typo is a message, not a trace."""
    host = os.environ.get("GRADIO_SERVER_NAME", "").strip() or DEFAULT_HOST
    raw_port = os.environ.get("GRADIO_SERVER_PORT", "").strip() or str(DEFAULT_PORT)
    if not raw_port.isdigit() or not 0 < int(raw_port) < 65536:
        raise ValueError(f"GRADIO_SERVER_PORT={raw_port!r} is not a port number (1-65535)")
    return host, int(raw_port)


def port_problem(host: str, port: int) -> str | None:
    """Why the server could not listen there, found before minutes of loading are spent."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        return f"GRADIO_SERVER_NAME={host!r} is not a usable address ({exc.strerror})"
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            return f"cannot listen on {host}:{port} ({exc.strerror}); stop the other server or set GRADIO_SERVER_PORT to a free port"
    return None


def write_startup_report(settings, exc: BaseException) -> Path:
    """Save the exception's traceback where a maintainer can find it; returns the file."""
    text = "".join(traceback.format_exception(exc))
    target = settings.data_dir / "startup-error.log"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    except OSError:
        target = Path(tempfile.gettempdir()) / "assistant-startup-error.log"
        target.write_text(text, encoding="utf-8")
    return target


def main() -> int:
    from assistant.errors import AssistantError
    from assistant.settings import Settings
    from assistant.web.guards import configure_json_logging, open_door_problem

    try:
        host, port = listen_address()
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    problem = port_problem(host, port)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    try:
        settings = Settings()
    except ValueError as exc:
        print(f"error: invalid ASSISTANT_* setting:\n{exc}", file=sys.stderr)
        return 2
    try:
        problem = open_door_problem(settings, host)
    except AssistantError as exc:
        problem = str(exc)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    configure_json_logging()
    import uvicorn

    from assistant.web.starting import StartingServer

    failure: list[int] = []

    def load(report):
        from assistant.pipeline import Assistant
        from assistant.web.server import create_server

        assistant = Assistant.load(settings, rebuild_if_stale=True, on_progress=report)
        app = create_server(settings, assistant)
        print(f"Ready: the UI at http://{host}:{port}/", file=sys.stderr, flush=True)
        return app

    def stop(exc: BaseException) -> None:
        if isinstance(exc, AssistantError):
            print(f"error: {exc}", file=sys.stderr, flush=True)
            failure.append(2)
        else:
            report = write_startup_report(settings, exc)
            print(f"error: the assistant could not start ({type(exc).__name__}: {exc}); details in {report}", file=sys.stderr, flush=True)
            failure.append(1)
        server.should_exit = True

    server = uvicorn.Server(uvicorn.Config(StartingServer(load, stop), host=host, port=port, access_log=False, log_config=None, server_header=False, lifespan="on"))
    print(
        f"Serving at http://{host}:{port}/ (the UI; a progress page until it is ready, building the index {settings.index_dir} if it is missing or out of date), "
        f"the API at /api/v1 (reference: /docs)",
        file=sys.stderr,
        flush=True,
    )
    try:
        server.run()
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return failure[0] if failure else 0


if __name__ == "__main__":
    raise SystemExit(main())
