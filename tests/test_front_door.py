"""Every door of the server under one policy, over real HTTP on loopback: the UI's Gradio routes need what the API needs.

A stand-in assistant (no models) answers, so these run in the fast suite; the real
Assistant drives the same server in test_api_http.py and the browser test.
"""

from __future__ import annotations

import httpx
import pytest
from test_api import StandInAssistant
from test_ui import QuotingAssistant

from assistant.settings import Settings
from assistant.web.guards import open_door_problem
from assistant.web.server import create_server, serve_in_background

TOKEN = "front-door-token-0123456789"
GRADIO_ROUTES = [("GET", "/"), ("GET", "/config"), ("GET", "/gradio_api/info"), ("POST", "/gradio_api/call/ask"), ("POST", "/gradio_api/queue/join")]


class StandIn(QuotingAssistant, StandInAssistant):
    """The UI's quoting stand-in, with the API's search and provision lookups."""

    def __init__(self, corpus, settings):
        QuotingAssistant.__init__(self, corpus, settings)


def serve(settings: Settings, corpus):
    return serve_in_background(create_server(settings, StandIn(corpus, settings)))


def configured(base: Settings, **changes) -> Settings:
    return Settings(**{**base.model_dump(), **changes})


@pytest.fixture(scope="module")
def tokens_only(tmp_path_factory, corpus):
    settings = Settings(data_dir=tmp_path_factory.mktemp("front-door"), api_tokens=[TOKEN], api_rate_limit_per_minute=20, api_max_body_bytes=4096)
    with serve(settings, corpus) as url:
        yield url


@pytest.mark.parametrize("method, path", GRADIO_ROUTES)
def test_with_tokens_and_no_ui_login_every_gradio_route_needs_a_token(tokens_only, method, path):
    body = {"data": ["Until what age must a child attend school?", "", ""]} if method == "POST" else None
    refused = httpx.request(method, f"{tokens_only}{path}", json=body, timeout=10)
    assert refused.status_code == 401 and "UI login" in refused.json()["message"]
    allowed = httpx.request(method, f"{tokens_only}{path}", json=body, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
    assert allowed.status_code != 401, allowed.text


def test_a_program_with_a_token_gets_an_answer_through_the_ui_endpoint(tokens_only):
    auth = {"Authorization": f"Bearer {TOKEN}"}
    event = httpx.post(f"{tokens_only}/gradio_api/call/ask", json={"data": ["Until what age must a child attend school?", "", ""]}, headers=auth, timeout=10).json()
    stream = httpx.get(f"{tokens_only}/gradio_api/call/ask/{event['event_id']}", headers=auth, timeout=30).text
    assert "event: complete" in stream and "2.1.1" in stream


def test_operations_routes_and_the_reference_stay_open(tokens_only):
    for path in ("/health", "/ready", "/docs", "/openapi.json"):
        assert httpx.get(f"{tokens_only}{path}", timeout=10).status_code in (200, 503), path


def test_the_queue_gets_the_apis_body_and_rate_limits(tokens_only):
    auth = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    huge = httpx.post(f"{tokens_only}/gradio_api/call/ask", content=b'{"data": ["' + b"x" * 10_000 + b'", "", ""]}', headers=auth, timeout=10)
    assert huge.status_code == 413
    with httpx.Client(base_url=tokens_only, headers=auth, timeout=10) as http:
        statuses = [http.post("/gradio_api/queue/join", json={"data": [], "fn_index": 0, "session_hash": "x"}).status_code for _ in range(30)]
    assert statuses.count(429) >= 5 and statuses.index(429) >= 15, statuses


@pytest.mark.parametrize("origin", ["https://elsewhere.example", "http://localhost:9999", "http://127.0.0.1:5173"])
def test_no_cross_origin_headers_for_an_origin_not_configured(tmp_settings, corpus, origin):
    with serve(tmp_settings, corpus) as url:
        for path in ("/config", "/gradio_api/info", "/health"):
            response = httpx.get(f"{url}{path}", headers={"Origin": origin}, timeout=10)
            assert not [h for h in response.headers if h.lower().startswith("access-control-")], (path, dict(response.headers))


def test_a_configured_origin_is_allowed(tmp_settings, corpus):
    with serve(configured(tmp_settings, api_cors_origins=["https://desk.example"]), corpus) as url:
        response = httpx.get(f"{url}/health", headers={"Origin": "https://desk.example"}, timeout=10)
    assert response.headers.get("access-control-allow-origin") == "https://desk.example"


@pytest.mark.parametrize(
    "host, changes, refused",
    [
        ("127.0.0.1", {}, False),
        ("0.0.0.0", {}, True),
        ("0.0.0.0", {"api_tokens": [TOKEN]}, False),
        ("0.0.0.0", {"ui_username": "staff", "ui_password": "a long passphrase"}, False),
        ("0.0.0.0", {"allow_open": True}, False),
    ],
)
def test_serving_beyond_loopback_with_no_credential_is_refused_unless_asked_for(tmp_settings, host, changes, refused):
    problem = open_door_problem(configured(tmp_settings, **changes), host)
    assert (problem is not None) == refused
    if refused:
        assert "ASSISTANT_ALLOW_OPEN=true" in problem and "\n" not in problem


def test_the_uis_full_queue_says_when_to_come_back(tmp_settings):
    import asyncio

    from assistant.web.guards import ApiGuardMiddleware

    async def full_queue(scope, receive, send):
        await send({"type": "http.response.start", "status": 503, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": b'{"detail": "Queue is full."}'})

    sent: list[dict] = []

    async def run():
        async def receive():
            return {"type": "http.request", "body": b"{}", "more_body": False}

        async def send(message):
            sent.append(message)

        scope = {"type": "http", "method": "POST", "path": "/gradio_api/queue/join", "headers": [], "client": ("127.0.0.1", 1)}
        await ApiGuardMiddleware(full_queue, tmp_settings, tokens=[])(scope, receive, send)

    asyncio.run(run())
    assert sent[0]["status"] == 503 and (b"retry-after", b"5") in sent[0]["headers"]
