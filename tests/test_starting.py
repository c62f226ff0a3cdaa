"""The first start: the server answers at once with a progress page, then hands over to the assistant, or stops with the reason."""

from __future__ import annotations

import threading

import httpx
from fastapi import FastAPI

from assistant.errors import IndexCorruptError
from assistant.web.server import serve_in_background
from assistant.web.starting import Progress, StartingServer, starting_page


def ready_app(started: list[str]) -> FastAPI:
    """A stand-in for the real server, whose lifespan must run before it serves."""
    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def lifespan(app):
        started.append("up")
        yield
        started.append("down")

    app = FastAPI(lifespan=lifespan)

    @app.get("/ready")
    def ready() -> dict:
        return {"status": "ready"}

    return app


def test_the_page_answers_while_loading_then_the_assistant_takes_over():
    release, started, failures = threading.Event(), [], []

    def load(report):
        report("Building the search index: passages embedded", 512, 1972)
        release.wait(30)
        return ready_app(started)

    with serve_in_background(StartingServer(load, failures.append)) as url:
        page = httpx.get(f"{url}/", timeout=5)
        assert page.status_code == 200 and "512 of 1,972" in page.text and 'http-equiv="refresh"' in page.text
        assert httpx.get(f"{url}/health", timeout=5).status_code == 200
        ready = httpx.get(f"{url}/ready", timeout=5)
        assert ready.status_code == 503 and ready.headers["retry-after"] and ready.json()["status"] == "loading"
        asked = httpx.post(f"{url}/api/v1/ask", json={"question": "Until what age?"}, timeout=5)
        assert asked.status_code == 503 and "still starting" in asked.json()["message"]
        release.set()
        for _ in range(100):
            if started:
                break
            threading.Event().wait(0.05)
        assert httpx.get(f"{url}/ready", timeout=5).json() == {"status": "ready"}
    assert started == ["up", "down"] and failures == []


def test_a_failed_load_is_handed_over_and_never_shown_as_a_trace():
    failures: list[BaseException] = []

    def load(report):
        raise IndexCorruptError("index/dense.faiss is corrupt; run `assistant index build`")

    with serve_in_background(StartingServer(load, failures.append)) as url:
        for _ in range(100):
            if failures:
                break
            threading.Event().wait(0.05)
        page = httpx.get(f"{url}/", timeout=5)
    assert isinstance(failures[0], IndexCorruptError)
    assert "Traceback" not in page.text


def test_the_page_escapes_what_it_shows_and_draws_a_bar_only_with_a_count():
    assert "<b>" not in starting_page(Progress("<b>x</b>"))
    assert 'class="bar"' not in starting_page(Progress("Loading the embedding model"))
    assert 'style="width:50%"' in starting_page(Progress("Building", 5, 10))
