"""HTTP behaviour of the JSON API: auth, limits, validation, errors, logging, CORS, the worker pool.

These run the real FastAPI app in-process against a small deterministic stand-in
for the Assistant (real corpus, no models), so they are fast; the real Assistant
over real HTTP is exercised in test_api_http.py.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading

import httpx
import pytest
from fastapi.testclient import TestClient

from assistant.errors import AssistantError, InvalidQuestionError
from assistant.records import Answer, Hit
from assistant.settings import Settings
from assistant.web.api import create_api
from assistant.web.feedback import FeedbackStore
from assistant.web.guards import JsonLogFormatter, TokenBucket, load_tokens
from assistant.web.pool import InferencePool

TOKEN = "s3cret-token-for-tests"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
QUESTION = "Until what age must a child attend school?"


class StandInAssistant:
    """Answers from the real corpus without models: enough to exercise the HTTP layer."""

    def __init__(self, settings: Settings, corpus, *, gate: threading.Event | None = None, fail: Exception | None = None):
        self.settings = settings
        self.corpus = corpus
        self.gate = gate
        self.fail = fail
        self.asked: list[dict] = []

    def ask(self, question, k=None, document=None, mode=None, history=None, short_answer=True) -> Answer:
        if self.gate is not None:
            self.gate.wait(timeout=10)
        if self.fail is not None:
            raise self.fail
        if len(question) > self.settings.max_question_chars:
            raise InvalidQuestionError(f"question is over {self.settings.max_question_chars} characters")
        self.asked.append({"question": question, "k": k, "document": document, "mode": mode, "short_answer": short_answer})
        return Answer(question=question, text="See the cited provision.", mode=mode or "extractive")

    def search(self, query, k=None, document=None, mode=None) -> list[Hit]:
        provision = self.corpus.get("etra-2006", "2.1.1")
        return [
            Hit(
                document_id=provision.document_id,
                provision_id=provision.provision_id,
                label="s 2.1.1",
                heading=provision.heading,
                path=provision.path,
                score=1.0,
                rank=1,
                best_passage_id=f"{provision.uid}#0",
                best_passage_text=provision.text[:200],
            )
        ]

    def provision(self, document_id, provision_id):
        return self.corpus.get(document_id, provision_id)


def configured(base: Settings, **changes) -> Settings:
    """A validated copy of ``base`` with ``changes`` (``model_copy`` would skip validation)."""
    return Settings(**{**base.model_dump(), **changes})


@pytest.fixture()
def settings(tmp_settings: Settings) -> Settings:
    return configured(tmp_settings, api_tokens=[TOKEN], api_rate_limit_per_minute=1000)


def client_for(settings: Settings, corpus, **stand_in) -> TestClient:
    return TestClient(create_api(settings, StandInAssistant(settings, corpus, **stand_in)))


@pytest.fixture()
def client(settings, corpus):
    with client_for(settings, corpus) as test_client:
        yield test_client


# --- auth ---------------------------------------------------------------------------------


def test_missing_token_is_401_with_bearer_challenge(client):
    response = client.post("/api/v1/ask", json={"question": QUESTION})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "Authorization: Bearer" in response.json()["message"]


@pytest.mark.parametrize("header", ["Bearer wrong-token", f"Basic {TOKEN}", f"Bearer {TOKEN}x", "Bearer "])
def test_wrong_token_is_401(client, header):
    response = client.get("/api/v1/search", params={"q": "enrolment"}, headers={"Authorization": header})
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"


def test_auth_runs_before_the_body_is_parsed(client):
    response = client.post("/api/v1/ask", content=b"{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 401


def test_valid_token_is_accepted_and_health_needs_none(client):
    assert client.post("/api/v1/ask", json={"question": QUESTION}, headers=AUTH).status_code == 200
    assert client.get("/health").json()["status"] == "ok"


def test_open_when_no_tokens_are_configured(tmp_settings, corpus):
    with client_for(tmp_settings, corpus) as open_client:
        assert open_client.post("/api/v1/ask", json={"question": QUESTION}).status_code == 200


def test_tokens_from_file_skip_blank_lines_and_comments(tmp_path, tmp_settings, corpus):
    token_file = tmp_path / "tokens.txt"
    token_file.write_text("# help desk\nfile-token-1\n\n  file-token-2  \n", encoding="utf-8")
    settings = configured(tmp_settings, api_token_file=token_file)
    assert load_tokens(settings) == ["file-token-1", "file-token-2"]
    with client_for(settings, corpus) as file_client:
        assert file_client.get("/api/v1/provisions/etra-2006/2.1.1", headers={"Authorization": "Bearer file-token-2"}).status_code == 200
        assert file_client.get("/api/v1/provisions/etra-2006/2.1.1", headers={"Authorization": "Bearer # help desk"}).status_code == 401


@pytest.mark.parametrize("content", [None, "# only a comment\n\n"])
def test_broken_token_file_fails_closed(tmp_path, tmp_settings, corpus, content):
    token_file = tmp_path / "tokens.txt"
    if content is not None:
        token_file.write_text(content, encoding="utf-8")
    settings = configured(tmp_settings, api_token_file=token_file)
    with pytest.raises(AssistantError, match="token file"):
        create_api(settings, StandInAssistant(settings, corpus))


# --- validation -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"question": ""}, "empty"),
        ({"question": "   \n"}, "empty"),
        ({"question": "x" * 2001}, "the question is 2,001 characters long; the limit is 2,000"),
        ({"question": "\u200b\x00\x1b"}, "the question is empty"),
        ({}, "body.question"),
        ({"question": QUESTION, "k": 0}, "body.k"),
        ({"question": QUESTION, "mode": "poetic"}, "body.mode"),
        ({"question": QUESTION, "colour": "red"}, "body.colour"),
        ({"question": 42}, "body.question: the question must be text"),
    ],
)
def test_invalid_ask_is_422_saying_what_is_wrong(client, body, expected):
    response = client.post("/api/v1/ask", json=body, headers=AUTH)
    assert response.status_code == 422
    assert expected in response.json()["message"]
    assert response.json()["error"] == "invalid_request"


def test_malformed_json_is_422_not_500(client):
    response = client.post("/api/v1/ask", content=b'{"question": ', headers={**AUTH, "Content-Type": "application/json"})
    assert response.status_code == 422


def test_pipeline_limit_below_schema_limit_is_422(settings, corpus):
    strict = configured(settings, max_question_chars=50)
    with client_for(strict, corpus) as strict_client:
        response = strict_client.post("/api/v1/ask", json={"question": "x" * 60}, headers=AUTH)
    assert response.status_code == 422
    assert "over 50 characters" in response.json()["message"]


def test_ask_passes_options_through(settings, corpus):
    assistant = StandInAssistant(settings, corpus)
    with TestClient(create_api(settings, assistant)) as test_client:
        response = test_client.post("/api/v1/ask", json={"question": QUESTION, "k": 3, "document": "vet-clusters", "mode": "generative"}, headers=AUTH)
    assert response.status_code == 200
    assert Answer.model_validate(response.json()).mode == "generative"
    assert assistant.asked == [{"question": QUESTION, "k": 3, "document": "vet-clusters", "mode": "generative", "short_answer": False}]


def test_the_short_answer_is_written_only_when_asked_for(settings, corpus):
    """Help-desk tools that only need citations stay fast: the plain answer costs model time, so the API asks for it only on request."""
    assistant = StandInAssistant(settings, corpus)
    with TestClient(create_api(settings, assistant)) as test_client:
        test_client.post("/api/v1/ask", json={"question": QUESTION}, headers=AUTH)
        test_client.post("/api/v1/ask", json={"question": QUESTION, "short_answer": True}, headers=AUTH)
        rejected = test_client.post("/api/v1/ask", json={"question": QUESTION, "short_answer": "please"}, headers=AUTH)
    assert [a["short_answer"] for a in assistant.asked] == [False, True]
    assert rejected.status_code == 422


def test_search_rejects_blank_query(client):
    response = client.get("/api/v1/search", params={"q": "   "}, headers=AUTH)
    assert response.status_code == 422
    assert "query.q" in response.json()["message"]


@pytest.mark.parametrize(("method", "path", "payload"), [("POST", "/api/v1/ask", {"json": {"question": QUESTION, "document": "no-such-act"}}), ("GET", "/api/v1/search", {"params": {"q": "enrol", "document": "no-such-act"}})])
def test_unknown_document_is_404_naming_the_choices(client, method, path, payload):
    response = client.request(method, path, headers=AUTH, **payload)
    assert response.status_code == 404
    assert "choose one of ['etra-2006', 'vet-clusters']" in response.json()["message"]


def test_body_that_is_not_utf8_json_is_400(client):
    response = client.post("/api/v1/ask", content=b'{"question": "\xff"}', headers={**AUTH, "Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"] == "bad_request"


# --- provisions -----------------------------------------------------------------------------


def test_provision_ids_with_spaces_are_url_encoded(client, corpus):
    response = client.get("/api/v1/provisions/etra-2006/Sch%202%20cl%202", headers=AUTH)
    assert response.status_code == 200
    assert response.json()["text"] == corpus.get("etra-2006", "Sch 2 cl 2").text


@pytest.mark.parametrize(("path", "expected"), [("etra-2006/99.99.99", "no provision '99.99.99'"), ("no-such-act/2.1.1", "unknown document")])
def test_unknown_provision_is_404(client, path, expected):
    response = client.get(f"/api/v1/provisions/{path}", headers=AUTH)
    assert response.status_code == 404
    assert expected in response.json()["message"]


def test_unknown_api_path_is_json_404_and_wrong_method_405(client):
    response = client.get("/api/v2/ask", headers=AUTH)
    wrong_method = client.get("/api/v1/ask", headers=AUTH)
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
    assert wrong_method.status_code == 405
    assert wrong_method.headers["Allow"] == "POST"
    assert "use POST" in wrong_method.json()["message"]


# --- limits ---------------------------------------------------------------------------------


def test_burst_over_rate_limit_is_429_with_retry_after(settings, corpus):
    limited = configured(settings, api_rate_limit_per_minute=5, api_tokens=[TOKEN, "second-token"])
    with client_for(limited, corpus) as test_client:
        statuses = [test_client.get("/api/v1/provisions/etra-2006/2.1.1", headers=AUTH).status_code for _ in range(7)]
        refused = test_client.get("/api/v1/provisions/etra-2006/2.1.1", headers=AUTH)
        other_caller = test_client.get("/api/v1/provisions/etra-2006/2.1.1", headers={"Authorization": "Bearer second-token"})
    assert statuses == [200] * 5 + [429] * 2
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert other_caller.status_code == 200


def test_token_bucket_refills_at_the_configured_rate():
    now = [0.0]
    bucket = TokenBucket(60, clock=lambda: now[0])
    assert all(bucket.take("a") == 0 for _ in range(60))
    assert bucket.take("a") == pytest.approx(1.0)
    now[0] += 1.0
    assert bucket.take("a") == 0
    assert bucket.take("b") == 0


def test_oversized_body_is_413(settings, corpus):
    small = configured(settings, api_max_body_bytes=200)
    with client_for(small, corpus) as test_client:
        declared = test_client.post("/api/v1/ask", json={"question": "x" * 300}, headers=AUTH)
        streamed = test_client.post("/api/v1/ask", content=iter([b'{"question": "', b"x" * 300, b'"}']), headers={**AUTH, "Content-Type": "application/json"})
        fits = test_client.post("/api/v1/ask", json={"question": QUESTION}, headers=AUTH)
    assert declared.status_code == 413
    assert streamed.status_code == 413
    assert fits.status_code == 200


def test_requests_beyond_the_queue_get_503_with_retry_after(settings, corpus):
    """One worker, one waiting slot: the third concurrent question is refused at once, not queued."""
    gate = threading.Event()
    narrow = configured(settings, api_workers=1, api_queue_limit=1)
    app = create_api(narrow, StandInAssistant(narrow, corpus, gate=gate))

    async def burst() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test", headers=AUTH) as http:
            first = [asyncio.create_task(http.post("/api/v1/ask", json={"question": QUESTION})) for _ in range(2)]
            await asyncio.sleep(0.2)
            refused = await asyncio.wait_for(http.post("/api/v1/ask", json={"question": QUESTION}), timeout=5)
            gate.set()
            return [refused, *await asyncio.gather(*first)]

    refused, *served = asyncio.run(burst())
    assert refused.status_code == 503
    assert int(refused.headers["Retry-After"]) >= 1
    assert [r.status_code for r in served] == [200, 200]


def test_pool_frees_slots_after_failures():
    pool = InferencePool(workers=1, queue_limit=0)

    def boom() -> None:
        raise RuntimeError("boom")

    async def run_twice() -> int:
        with pytest.raises(RuntimeError):
            await pool.run(boom)
        return await pool.run(lambda: 7)

    assert asyncio.run(run_twice()) == 7
    pool.shutdown()


# --- errors, request ids, logs, CORS, readiness ------------------------------------------------


def test_unexpected_failure_is_500_with_request_id_not_a_trace(settings, corpus):
    with client_for(settings, corpus, fail=RuntimeError("index shard vanished")) as test_client:
        response = test_client.post("/api/v1/ask", json={"question": QUESTION}, headers={**AUTH, "X-Request-ID": "ticket-42"})
    assert response.status_code == 500
    body = response.json()
    assert body["request_id"] == "ticket-42"
    assert "ticket-42" in body["message"]
    assert "Traceback" not in response.text and "vanished" not in response.text


def test_request_id_is_echoed_or_generated(client):
    given = client.get("/health", headers={"X-Request-ID": "desk-7.abc"})
    hostile = client.get("/health", headers={"X-Request-ID": "x\" injected=1"})
    assert given.headers["X-Request-ID"] == "desk-7.abc"
    assert len(client.get("/health").headers["X-Request-ID"]) == 32
    assert hostile.headers["X-Request-ID"] != "x\" injected=1"


def _json_logs(caplog) -> list[dict]:
    formatter = JsonLogFormatter()
    return [json.loads(formatter.format(record)) for record in caplog.records if record.name == "assistant.web.api"]


def test_question_text_stays_out_of_logs_by_default(client, caplog):
    secret = "Can the principal expel Jordan Smith from Year 9?"
    with caplog.at_level(logging.INFO, logger="assistant.web.api"):
        client.post("/api/v1/ask", json={"question": secret}, headers={**AUTH, "X-Request-ID": "log-check"})
        client.get("/api/v1/search", params={"q": secret}, headers=AUTH)
    logs = _json_logs(caplog)
    assert "Jordan" not in json.dumps(logs)
    ask_log = next(entry for entry in logs if entry.get("event") == "ask")
    assert ask_log["request_id"] == "log-check" and ask_log["question_chars"] == len(secret)
    assert {entry["path"] for entry in logs if entry.get("event") == "request"} == {"/api/v1/ask", "/api/v1/search"}


def test_question_text_logged_when_enabled(settings, corpus, caplog):
    verbose = configured(settings, log_questions=True)
    with client_for(verbose, corpus) as test_client, caplog.at_level(logging.INFO, logger="assistant.web.api"):
        test_client.post("/api/v1/ask", json={"question": QUESTION}, headers=AUTH)
    assert any(entry.get("question") == QUESTION for entry in _json_logs(caplog))


def test_cors_closed_unless_configured(client, settings, corpus):
    origin = {"Origin": "https://intranet.example.edu.au"}
    assert "access-control-allow-origin" not in client.get("/health", headers=origin).headers
    opened = configured(settings, api_cors_origins=["https://intranet.example.edu.au"])
    with client_for(opened, corpus) as cors_client:
        preflight = cors_client.options(
            "/api/v1/ask", headers={**origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,content-type"}
        )
        other = cors_client.get("/health", headers={"Origin": "https://evil.example"})
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "https://intranet.example.edu.au"
    assert "access-control-allow-origin" not in other.headers


def test_ready_is_503_until_warm_then_200(settings, corpus):
    app = create_api(settings, StandInAssistant(settings, corpus))
    not_started = TestClient(app).get("/ready")
    assert not_started.status_code == 503
    assert not_started.json()["status"] == "loading"
    with TestClient(app) as started:
        for _ in range(50):
            response = started.get("/ready")
            if response.status_code == 200:
                break
            threading.Event().wait(0.05)
    assert response.status_code == 200
    assert response.json()["documents"] == ["etra-2006", "vet-clusters"]


def test_without_an_assistant_routes_answer_503(settings):
    with TestClient(create_api(settings, None)) as test_client:
        response = test_client.post("/api/v1/ask", json={"question": QUESTION}, headers=AUTH)
        assert response.status_code == 503 and "Retry-After" in response.headers
        assert "still loading" in response.json()["message"]
        assert test_client.get("/ready").status_code == 503


# --- feedback ---------------------------------------------------------------------------------


def test_feedback_is_bound_to_the_answer_as_served(client, settings):
    answer = client.post("/api/v1/ask", json={"question": QUESTION}, headers=AUTH).json()
    assert len(answer["answer_id"]) == 32
    response = client.post("/api/v1/feedback", json={"question": QUESTION, "answer_id": answer["answer_id"], "rating": "down", "comment": "missing s 2.1.2"}, headers=AUTH)
    assert response.status_code == 201
    stored = FeedbackStore.from_settings(settings).list()
    assert [(e.id, e.rating, e.source, e.answer.text, e.answer.answer_id) for e in stored] == [(response.json()["id"], "down", "api", answer["text"], answer["answer_id"])]
    assert "api_tokens" not in stored[0].settings


def test_forged_feedback_is_refused_and_nothing_is_stored(client, settings):
    forged = {"question": QUESTION, "text": "<img src=x onerror=alert(1)>", "citations": []}
    with_answer = client.post("/api/v1/feedback", json={"question": QUESTION, "answer": forged, "rating": "up"}, headers=AUTH)
    assert with_answer.status_code == 422  # an answer cannot be sent, only the id of one this server gave
    unknown = client.post("/api/v1/feedback", json={"question": QUESTION, "answer_id": "0" * 32, "rating": "up"}, headers=AUTH)
    assert unknown.status_code == 404 and unknown.json()["error"] == "answer_not_served"
    served = client.post("/api/v1/ask", json={"question": QUESTION}, headers=AUTH).json()
    other_question = client.post("/api/v1/feedback", json={"question": "Another question?", "answer_id": served["answer_id"], "rating": "up"}, headers=AUTH)
    assert other_question.status_code == 422
    assert FeedbackStore.from_settings(settings).count() == 0


def test_feedback_without_an_answer_id_is_a_comment_never_a_gold_candidate(client, settings):
    response = client.post("/api/v1/feedback", json={"question": QUESTION, "comment": "please cover school camps"}, headers=AUTH)
    assert response.status_code == 201
    store = FeedbackStore.from_settings(settings)
    assert store.list()[0].answer is None and store.export_candidates() == []


def test_feedback_that_says_nothing_is_422(client):
    response = client.post("/api/v1/feedback", json={"question": QUESTION}, headers=AUTH)
    assert response.status_code == 422
    assert "needs a rating" in response.json()["message"]
