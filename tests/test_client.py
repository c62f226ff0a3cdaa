"""The Python client: same records back, server messages surfaced, 503 retried after Retry-After.

Round trips run against a real uvicorn server on loopback serving the API with
the models-free stand-in from test_api.py; retry and transport edge cases use
httpx's mock transport so they need no timing games.
"""

from __future__ import annotations

import socket
import threading

import httpx
import pytest
from test_api import TOKEN, StandInAssistant, configured

from assistant.records import Answer, Hit, Provision
from assistant.web.api import create_api
from assistant.web.client import ApiError, Client
from assistant.web.server import serve_in_background

QUESTION = "Who must enrol a child of compulsory school age?"


@pytest.fixture()
def settings(tmp_settings):
    return configured(tmp_settings, api_tokens=[TOKEN], api_rate_limit_per_minute=1000)


@pytest.fixture()
def base_url(settings, corpus):
    with serve_in_background(create_api(settings, StandInAssistant(settings, corpus))) as url:
        yield url


def test_round_trip_returns_the_records(base_url, corpus):
    with Client(base_url, token=TOKEN) as client:
        answer = client.ask(QUESTION, k=4, document="etra-2006")
        hits = client.search("enrolment")
        schedule_clause = client.provision("etra-2006", "Sch 2 cl 2")
        feedback_id = client.feedback(QUESTION, answer=answer, rating="up")
        assert client.health()["status"] == "ok"
        assert client.ready()
    assert isinstance(answer, Answer) and answer.question == QUESTION
    assert hits and all(isinstance(hit, Hit) for hit in hits)
    assert isinstance(schedule_clause, Provision)
    assert schedule_clause.text == corpus.get("etra-2006", "Sch 2 cl 2").text
    assert feedback_id >= 1


@pytest.mark.parametrize(
    ("token", "call", "status", "words"),
    [
        ("wrong", lambda c: c.ask(QUESTION), 401, "not valid"),
        (None, lambda c: c.search("enrolment"), 401, "bearer token"),
        (TOKEN, lambda c: c.provision("etra-2006", "99.99"), 404, "no provision '99.99'"),
        (TOKEN, lambda c: c.ask(" "), 422, "question is empty"),
    ],
)
def test_refusals_raise_api_error_with_the_server_message(base_url, token, call, status, words):
    with Client(base_url, token=token) as client, pytest.raises(ApiError) as raised:
        call(client)
    assert raised.value.status_code == status
    assert words in str(raised.value)
    assert raised.value.request_id


def test_busy_server_is_retried_after_retry_after(settings, corpus):
    """One worker, no queue: a second question gets 503, waits, and is answered on retry."""
    gate = threading.Event()
    narrow = configured(settings, api_workers=1, api_queue_limit=0)
    waits: list[float] = []

    def wait_and_free_the_worker(seconds: float) -> None:
        waits.append(seconds)
        gate.set()
        first.join(timeout=10)

    with serve_in_background(create_api(narrow, StandInAssistant(narrow, corpus, gate=gate))) as url:
        first = threading.Thread(target=lambda: Client(url, token=TOKEN).ask(QUESTION))
        first.start()
        threading.Event().wait(0.3)
        with Client(url, token=TOKEN, sleep=wait_and_free_the_worker) as client:
            answer = client.ask(QUESTION)
    assert answer.question == QUESTION
    assert len(waits) == 1 and waits[0] >= 1


def _mock(*responses: httpx.Response) -> httpx.MockTransport:
    queue = list(responses)
    return httpx.MockTransport(lambda request: queue.pop(0))


def _answer_json() -> dict:
    return Answer(question=QUESTION, text="A parent must enrol the child.").model_dump(mode="json")


def test_retry_waits_are_capped_and_then_succeed():
    waits: list[float] = []
    transport = _mock(httpx.Response(503, headers={"Retry-After": "2"}), httpx.Response(503, headers={"Retry-After": "600"}), httpx.Response(200, json=_answer_json()))
    with Client("http://api.test", transport=transport, retries=3, max_retry_wait=30, sleep=waits.append) as client:
        assert client.ask(QUESTION).text == "A parent must enrol the child."
    assert waits == [2.0, 30.0]


def test_gives_up_after_the_configured_retries():
    waits: list[float] = []
    busy = {"error": "busy", "message": "the assistant is busy; retry in 3 s", "request_id": "r1", "detail": None}
    transport = _mock(*[httpx.Response(503, headers={"Retry-After": "3"}, json=busy) for _ in range(3)])
    with Client("http://api.test", transport=transport, retries=2, sleep=waits.append) as client, pytest.raises(ApiError) as raised:
        client.ask(QUESTION)
    assert waits == [3.0, 3.0]
    assert raised.value.status_code == 503 and raised.value.retry_after == 3.0 and "busy" in str(raised.value)


def test_rate_limit_is_not_retried():
    limited = {"error": "rate_limited", "message": "over the limit", "request_id": "r2", "detail": None}
    with Client("http://api.test", transport=_mock(httpx.Response(429, headers={"Retry-After": "12"}, json=limited)), sleep=pytest.fail) as client:
        with pytest.raises(ApiError) as raised:
            client.search("enrolment")
    assert raised.value.status_code == 429 and raised.value.retry_after == 12.0


def test_timeout_and_unreachable_server_are_clear_errors():
    def time_out(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    with Client("http://api.test", transport=httpx.MockTransport(time_out), timeout=0.5) as client, pytest.raises(ApiError, match="no answer within 0.5 s"):
        client.ask(QUESTION)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    with Client(f"http://127.0.0.1:{closed_port}", timeout=2) as client:
        with pytest.raises(ApiError, match="cannot reach"):
            client.health()
        assert client.ready() is False
