"""The real server over real HTTP on loopback: the real Assistant and index, the API and the UI on one port.

What a help-desk integrator would see: answers with checked citations, 401 without
a valid token, 422 with a message for empty and over-long questions, 429 for a
burst over the rate limit, 404 for an unknown provision.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from assistant.records import Answer, Provision
from assistant.settings import Settings
from assistant.web.client import Client
from assistant.web.server import create_server, serve_in_background

pytestmark = pytest.mark.slow

TOKEN = "help-desk-token-0123456789"
BURST_TOKEN = "burst-token-0123456789"
RATE_LIMIT = 30
GOLD = Path(__file__).resolve().parent.parent / "eval" / "gold.jsonl"


@pytest.fixture(scope="module")
def gold_case() -> dict:
    """The first answerable gold question (which provisions it cites is the retrieval tests' business)."""
    rows = [json.loads(line) for line in GOLD.read_text(encoding="utf-8").splitlines() if line.strip()]
    return next(row for row in rows if row["answerable"] and row["expected"])


@pytest.fixture(scope="module")
def server(built_index_settings: Settings, tmp_path_factory) -> str:
    from assistant.pipeline import Assistant

    settings = Settings(
        **{
            **built_index_settings.model_dump(),
            "data_dir": tmp_path_factory.mktemp("api-http-data"),
            "api_tokens": [TOKEN, BURST_TOKEN],
            "api_rate_limit_per_minute": RATE_LIMIT,
        }
    )
    assistant = Assistant.load(settings, build_if_missing=False)
    with serve_in_background(create_server(settings, assistant)) as url:
        deadline = time.monotonic() + 120
        while httpx.get(f"{url}/ready").status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.2)
        yield url


def auth(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_ask_returns_checked_citations(server, gold_case):
    response = httpx.post(f"{server}/api/v1/ask", json={"question": gold_case["question"]}, headers=auth(), timeout=120)
    assert response.status_code == 200, response.text
    answer = Answer.model_validate(response.json())
    assert not answer.abstained and answer.citations
    assert answer.question == gold_case["question"]
    for citation in answer.citations:
        provision_url = f"{server}/api/v1/provisions/{citation.document_id}/{quote(citation.provision_id, safe='')}"
        provision = Provision.model_validate(httpx.get(provision_url, headers=auth()).json())
        assert provision.text[citation.quote_start : citation.quote_start + len(citation.quote)] == citation.quote


def test_python_client_gets_the_same_answer_record(server, gold_case):
    with Client(server, token=TOKEN, timeout=120) as client:
        answer = client.ask(gold_case["question"])
        hits = client.search(gold_case["question"], k=5)
    assert isinstance(answer, Answer) and answer.citations
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))


@pytest.mark.parametrize(("headers", "challenge"), [({}, 'Bearer realm="assistant"'), (auth("not-a-token"), 'error="invalid_token"')])
def test_missing_or_wrong_token_is_401(server, headers, challenge):
    response = httpx.post(f"{server}/api/v1/ask", json={"question": "Who must enrol a child?"}, headers=headers)
    assert response.status_code == 401
    assert challenge in response.headers["WWW-Authenticate"]
    assert response.json()["error"] == "unauthorized"


@pytest.mark.parametrize(("question", "message"), [("", "question is empty"), ("   ", "question is empty"), ("why " * 501, "the question is 2,004 characters long; the limit is 2,000")])
def test_empty_and_over_long_questions_are_422_with_a_message(server, question, message):
    response = httpx.post(f"{server}/api/v1/ask", json={"question": question}, headers=auth())
    assert response.status_code == 422
    assert message in response.json()["message"]


def test_unknown_provision_is_404_and_ids_with_spaces_resolve(server):
    missing = httpx.get(f"{server}/api/v1/provisions/etra-2006/99.99.99", headers=auth())
    schedule_clause = httpx.get(f"{server}/api/v1/provisions/etra-2006/Sch%202%20cl%202", headers=auth())
    assert missing.status_code == 404
    assert "99.99.99" in missing.json()["message"]
    assert schedule_clause.status_code == 200
    assert schedule_clause.json()["provision_id"] == "Sch 2 cl 2"


def test_burst_over_the_rate_limit_is_429_with_retry_after(server):
    with httpx.Client(base_url=server, headers=auth(BURST_TOKEN)) as http:
        responses = [http.get("/api/v1/provisions/etra-2006/2.1.1") for _ in range(RATE_LIMIT + 5)]
    statuses = [r.status_code for r in responses]
    assert statuses[:RATE_LIMIT].count(200) >= RATE_LIMIT - 1
    refused = [r for r in responses if r.status_code == 429]
    assert refused, statuses
    assert int(refused[0].headers["Retry-After"]) >= 1
    assert httpx.get(f"{server}/api/v1/provisions/etra-2006/2.1.1", headers=auth()).status_code == 200


def test_operations_routes_request_ids_and_the_ui_share_the_port(server):
    health = httpx.get(f"{server}/health", headers={"X-Request-ID": "desk-ticket-981"})
    ready = httpx.get(f"{server}/ready")
    ui = httpx.get(f"{server}/", headers=auth())
    assert health.status_code == 200 and health.headers["X-Request-ID"] == "desk-ticket-981"
    assert ready.status_code == 200 and ready.json()["documents"] == ["etra-2006", "vet-clusters"]
    assert ui.status_code == 200 and "text/html" in ui.headers["content-type"]
    # Tokens set and no UI login: the UI is behind the same door as the API.
    assert httpx.get(f"{server}/").status_code == 401 and httpx.get(f"{server}/config").status_code == 401
