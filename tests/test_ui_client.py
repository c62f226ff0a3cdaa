"""Other programs calling the Gradio app the usual way (``gradio_client``) get the same Answer JSON as the Python API."""

from __future__ import annotations

import pytest
from gradio_client import Client

from assistant.records import Answer

pytestmark = pytest.mark.slow

# Timings differ from call to call; everything else must match.
VOLATILE = {"timings_ms"}


@pytest.fixture(scope="module")
def client(live_app_url):
    return Client(live_app_url, verbose=False)


def _stable(answer: dict) -> dict:
    return {k: v for k, v in answer.items() if k not in VOLATILE}


@pytest.mark.parametrize(
    "question, document",
    [
        ("Until what age does a child have to attend school in Victoria?", ""),
        ("What does a VET cluster do to support collaboration between schools?", "vet-clusters"),
        ("What are the Victorian school holiday dates for 2027?", ""),
    ],
)
def test_the_ask_endpoint_returns_the_python_apis_answer(client, live_assistant, question, document):
    over_http = client.predict(question=question, document=document, mode="", api_name="/ask")
    in_process = live_assistant.ask(question, document=document or None).model_dump(mode="json")

    assert _stable(over_http) == _stable(in_process)
    answer = Answer.model_validate(over_http)
    assert answer.question == question
    if answer.abstained:
        assert answer.citations == [] and answer.retrieved
    else:
        assert answer.citations and all(c.quote for c in answer.citations)
    if document:
        assert {c.document_id for c in answer.citations} <= {document}


def test_only_the_ask_endpoint_is_offered_to_clients(client):
    assert set(client.view_api(print_info=False, return_format="dict")["named_endpoints"]) == {"/ask"}


def test_a_bad_question_is_an_error_the_client_can_read(client):
    with pytest.raises(Exception, match="the question is empty; type a question") as caught:
        client.predict(question="   ", document="", mode="", api_name="/ask")
    assert "Traceback" not in str(caught.value)
