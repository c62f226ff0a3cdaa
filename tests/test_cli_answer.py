"""What `assistant ask` prints: the plain answer first, each quote once, no model loaded for a question it cannot ask."""

from __future__ import annotations

import pytest

from assistant.cite import cite
from assistant.cli import main
from assistant.cli.ask import format_answer
from assistant.records import Answer


@pytest.fixture()
def answer(corpus) -> Answer:
    lead = cite(corpus, "etra-2006", "2.1.1", "It is the duty of the parent of a child of not less than 6 nor more than 17 years of age—")
    para = cite(corpus, "etra-2006", "2.1.1", "to enrol the child at a registered school")
    return Answer(
        question="Until what age must a child attend school?",
        text=f"Under s 2.1.1: “{lead.quote}” [1] … “{para.quote}” [2].",
        citations=[lead, para],
        short_answer="Until 17: parents must enrol the child at a registered school [1, 2].",
        short_answer_by="extractive",
        timings_ms={"total": 212.0},
    )


def test_the_plain_answer_comes_first_and_each_quote_is_printed_once(answer):
    printed = format_answer(answer)
    assert printed.splitlines()[0] == answer.short_answer
    assert printed.count(answer.citations[0].quote) == 1 and printed.count(answer.citations[1].quote) == 1
    assert "[1, 2] s 2.1.1" in printed  # the lead-in is printed with its paragraph, not alone
    assert printed.count("Version 107") == 1


def test_technical_detail_only_with_verbose(answer):
    refused = Answer(question="q", text="…", abstained=True, abstain_kind="not_in_sources", abstain_reason="Neither the Act nor the VET clusters policy page says this.", abstain_detail="unanswerable probability 0.71")
    assert "0.71" not in format_answer(refused) and "212 ms" not in format_answer(answer)
    assert "Not answered by the law text (not in the sources): Neither the Act" in format_answer(refused)
    assert "0.71" in format_answer(refused, verbose=True) and "212 ms" in format_answer(answer, verbose=True)


def test_a_question_that_cannot_be_asked_is_refused_before_any_model_loads(monkeypatch, capsys):
    from assistant.pipeline import Assistant

    def no_loading(*args, **kwargs):
        raise AssertionError("models were loaded for a question that cannot be asked")

    monkeypatch.setattr(Assistant, "load", no_loading)
    assert main(["ask", "   "]) == 2
    assert "the question is empty" in capsys.readouterr().err
    assert main(["ask", "x" * 50_000]) == 2
    assert "characters long" in capsys.readouterr().err
