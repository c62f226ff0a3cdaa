"""The whole pipeline on the real corpus and index: questions staff ask, answers they would check.

The questions in tests/data/answer_cases.jsonl were written for these tests
(paraphrased, not provision headings): 34 that the Act or the VET clusters page
answers, each with the provision(s) a correct answer cites, and 18 that neither
answers. The abstention threshold was chosen on tests/data/dev_questions.jsonl,
not on these.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from assistant.answer import ABSTAIN_SENTENCE, answer_problems
from assistant.cite import split_sentences
from assistant.errors import InvalidQuestionError, ProvisionNotFoundError
from assistant.records import Answer

pytestmark = pytest.mark.slow

CASES = [json.loads(line) for line in (Path(__file__).parent / "data" / "answer_cases.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
ANSWERABLE = [c for c in CASES if c["answerable"]]
UNANSWERABLE = [c for c in CASES if not c["answerable"]]


@pytest.fixture(scope="module")
def assistant(built_index_settings):
    from assistant.pipeline import Assistant

    return Assistant.load(built_index_settings, build_if_missing=False)


@pytest.fixture(scope="module")
def answers(assistant) -> dict[str, Answer]:
    return {case["id"]: assistant.ask(case["question"]) for case in CASES}


def cited(answer: Answer) -> set[tuple[str, str]]:
    return {(c.document_id, c.provision_id) for c in answer.citations}


def expected(case) -> set[tuple[str, str]]:
    return {(e["document"], e["provision"]) for e in case["expected"]}


def test_the_case_file_has_enough_questions_of_each_kind():
    assert len(ANSWERABLE) >= 25 and len(UNANSWERABLE) >= 10
    assert len({c["question"] for c in CASES}) == len(CASES)


def test_answerable_questions_cite_the_expected_provision(answers):
    misses = [f"{c['id']} {c['question']!r}: cited {sorted(cited(answers[c['id']]))}" for c in ANSWERABLE if not expected(c) & cited(answers[c["id"]])]
    hits = len(ANSWERABLE) - len(misses)
    # Measured 29 of 34 when written; the floor leaves room for retrieval tuning, not for a regression.
    assert hits >= 27, "\n".join(misses)


def test_at_most_one_answerable_question_is_refused(answers):
    """The abstention decision is calibrated to refuse at most 3% of answerable dev questions: one of these 34.

    Since the question memory, "Can a principal expel a student from a government school?" is refused (its top two
    provisions are close in the second stage, which the decision reads as doubt); docs/experiments.md records it.
    """
    refused = [c["question"] for c in ANSWERABLE if answers[c["id"]].abstained]
    assert len(refused) <= 1, refused


def test_at_least_eight_unanswerable_questions_abstain(answers):
    """Ten of these 18 were refused until the cross-encoder retrained on the accelerator: its higher scores on
    unanswerable questions cost abstention recall everywhere (bank test 0.434 -> 0.410, gold 0.486 -> 0.459) while
    false abstention fell and CRAG rose on test (docs/experiments.md, training). This guards the new level."""
    abstained = [c for c in UNANSWERABLE if answers[c["id"]].abstained]
    answered = [f"{c['question']!r} -> {[x.label for x in answers[c['id']].citations]}" for c in UNANSWERABLE if not answers[c["id"]].abstained]
    assert len(abstained) >= 8, "\n".join(answered)


def test_every_answer_is_grounded_and_every_quote_is_in_the_cited_law(answers, corpus):
    for case in CASES:
        answer = answers[case["id"]]
        assert answer_problems(corpus, answer) == [], case["question"]
        for citation in answer.citations:
            law = corpus.get(citation.document_id, citation.provision_id).text
            assert citation.quote in law
            assert law[citation.quote_start : citation.quote_start + len(citation.quote)] == citation.quote


def test_questions_asking_for_a_number_get_it_in_the_first_sentence(answers):
    numeric = [c for c in ANSWERABLE if "number" in c]
    assert len(numeric) >= 6
    for case in numeric:
        first = split_sentences(answers[case["id"]].text)[0]
        assert case["number"] in first, (case["question"], first)


def test_abstention_says_so_plainly_and_lists_the_closest_provisions(answers):
    answer = next(answers[c["id"]] for c in UNANSWERABLE if answers[c["id"]].abstained and answers[c["id"]].abstain_kind != "delegated")
    assert answer.text.startswith(ABSTAIN_SENTENCE)
    assert "You may want to read:" in answer.text and answer.retrieved[0].label in answer.text
    assert answer.citations == [] and answer.abstain_reason and answer.abstain_kind


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("What are the criteria for a principal to expel a student?", "delegated"),
        ("Should I sue my school council?", "advice_or_opinion"),
        ("What are NSW's rules on suspending students?", "out_of_jurisdiction"),
    ],
)
def test_with_the_real_pipeline_an_abstention_has_its_kind(question, kind, assistant, corpus):
    answer = assistant.ask(question)
    assert answer.abstained and answer.abstain_kind == kind, (answer.text, answer.abstain_detail)
    assert not any(ch.isdigit() for ch in answer.abstain_reason)
    if kind == "delegated":
        [citation] = answer.citations
        assert citation.label == "s 2.2.19(1)" and "in accordance with any Ministerial Order" in citation.quote
        assert answer.text.startswith("The Act leaves this to a Ministerial Order: s 2.2.19(1) says")
        assert answer_problems(corpus, answer) == []
    else:
        assert answer.citations == [] and answer.text.startswith(ABSTAIN_SENTENCE)


def test_a_figure_about_something_else_does_not_stop_a_delegated_answer(assistant):
    """s 2.2.19(5)'s 12 months is about expulsion records, not how long a suspension lasts: the Act leaves that to a Ministerial Order."""
    answer = assistant.ask("How long can a principal suspend a student for?")
    assert answer.abstained and answer.abstain_kind == "delegated"
    assert answer.text.startswith("The Act leaves this to a Ministerial Order: s 2.2.19(1)") and "12 months" not in answer.text
    notice = assistant.ask("After how many unexplained absences can a school attendance notice be issued?")
    assert not notice.abstained and "5" in split_sentences(notice.text)[0]  # the figure sits beside "any guidelines issued by the Minister"


def test_particulars_prescribed_in_the_regulations_are_said_to_be_left_to_them(assistant):
    answer = assistant.ask("What particulars must an RTO's student records contain?")
    delegation = [s for s in split_sentences(answer.text) if s.startswith("The Act leaves the detail to")]
    assert delegation and "the regulations: s 4.7.12(2)(b) says “prescribed in the regulations”" in delegation[0], answer.text


def test_a_definition_is_quoted_when_asked_for_and_not_added_when_a_term_is_only_used(assistant):
    answer = assistant.ask("Who appoints school attendance officers?")
    assert [c.label for c in answer.citations] == ["s 2.1.7"]
    asked = assistant.ask("What does 'school attendance officer' mean?")
    assert asked.citations[0].label == 's 1.1.3(1) (definition of "school attendance officer")'
    guardian = assistant.ask("Does a guardian count as a parent under the Act?")
    assert guardian.citations[0].label == 's 1.1.3(1) (definition of "parent")'
    assert "includes a guardian" in guardian.citations[0].quote


def test_most_answers_cite_a_single_provision(answers):
    """Staff check every citation, so a wrong extra one costs more than a missing secondary one."""
    answered = [a for c in ANSWERABLE if not (a := answers[c["id"]]).abstained]
    single = [a for a in answered if len(cited(a)) == 1]
    assert len(single) >= 0.8 * len(answered), [(a.question, sorted(cited(a))) for a in answered if len(cited(a)) > 1]


def test_a_matter_left_to_a_ministerial_order_is_said_and_cited(assistant):
    answer = assistant.ask("How must a school council prepare its school plan?")
    delegation = [s for s in split_sentences(answer.text) if s.startswith("The Act leaves the detail to")]
    assert delegation and "a Ministerial Order" in delegation[0]
    assert any(c.provision_id == "2.3.24" and "Ministerial Order" in c.quote for c in answer.citations)


def test_the_act_comes_before_the_policy_page_and_each_is_named(assistant):
    answer = assistant.ask("What is a TAFE and how should VET clusters work with TAFEs?")
    documents = [c.document_id for c in answer.citations]
    assert "etra-2006" in documents and "vet-clusters" in documents
    assert documents.index("etra-2006") < documents.index("vet-clusters")
    lines = answer.text.split("\n")
    assert "Act" in lines[0]
    assert any("VET clusters policy page" in line and "not law" in line for line in lines)


def test_the_cli_prints_an_answer_citing_s_2_1_1(built_index_settings, monkeypatch, capsys):
    from assistant.cli import main

    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(built_index_settings.index_dir))
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(built_index_settings.data_dir))
    assert main(["ask", "Until what age must a child attend school?", "--json"]) == 0
    answer = Answer.model_validate_json(capsys.readouterr().out)
    assert "2.1.1" in [c.provision_id for c in answer.citations]
    assert "17" in split_sentences(answer.text)[0]
    assert main(["ask", "Until what age must a child attend school?"]) == 0
    readable = capsys.readouterr().out
    assert "[1] s 2.1.1" in readable and "Version" in readable


def test_the_cli_rejects_an_empty_question_with_a_message(built_index_settings, monkeypatch, capsys):
    from assistant.cli import main

    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(built_index_settings.index_dir))
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(built_index_settings.data_dir))
    assert main(["ask", "   "]) == 2
    assert "the question is empty" in capsys.readouterr().err


def test_a_follow_up_is_rewritten_with_the_previous_question(assistant):
    first = assistant.ask("Is instruction at a government school free for students?")
    follow = assistant.ask("and for students over 20?", history=[(first.question, first.text)])
    assert follow.rewritten_question and "free" in follow.rewritten_question and "over 20" in follow.rewritten_question
    assert follow.question == "and for students over 20?"
    # s 2.2.4 (free under 20) and s 2.2.5 (fees from 20) both answer it; the rewrite is what brings them in.
    assert any(c.provision_id in ("2.2.4", "2.2.5") and "20" in c.quote for c in follow.citations)
    alone = assistant.ask("Who appoints school attendance officers?", history=[(first.question, first.text)])
    assert alone.rewritten_question is None


def test_stream_yields_text_then_the_same_answer_as_ask(assistant):
    items = list(assistant.ask_stream("Can a principal expel a student from a government school?"))
    *chunks, final = items
    assert chunks and all(isinstance(c, str) for c in chunks)
    assert isinstance(final, Answer)
    assert "".join(chunks).strip() == final.text
    again = assistant.ask("Can a principal expel a student from a government school?")
    assert again.text == final.text and again.citations == final.citations


def test_answers_record_retrieved_provisions_mode_and_stage_timings(assistant):
    answer = assistant.ask("Who appoints school attendance officers?", k=5)
    assert len(answer.retrieved) == 5 and answer.retrieved[0].label
    assert answer.mode == "extractive" and answer.model_id
    assert {"retrieve", "answer", "total"} <= set(answer.timings_ms)
    assert answer.timings_ms["total"] >= answer.timings_ms["retrieve"]


def test_document_filter_and_modes(assistant):
    answer = assistant.ask("Who should a VET cluster negotiate course provision with?", document="vet-clusters")
    assert {r.document_id for r in answer.retrieved} == {"vet-clusters"}
    bm25 = assistant.ask("Until what age must a child attend school?", mode="bm25")
    assert "2.1.1" in [c.provision_id for c in bm25.citations]
    with pytest.raises(InvalidQuestionError, match="unknown mode 'fancy'"):
        assistant.ask("Until what age must a child attend school?", mode="fancy")


def test_generative_mode_without_a_model_falls_back_and_says_why(assistant):
    answer = assistant.ask("Until what age must a child attend school?", mode="generative")
    assert answer.fallback and "no generative model configured" in answer.fallback
    assert answer.citations and answer.mode == "extractive"


def test_concurrent_questions_get_the_same_answers_as_sequential_ones(assistant):
    questions = [c["question"] for c in CASES[:8]]
    sequential = [assistant.ask(q).text for q in questions]
    with ThreadPoolExecutor(max_workers=4) as pool:
        parallel = list(pool.map(lambda q: assistant.ask(q).text, questions))
    assert parallel == sequential


def test_search_provision_and_documents(assistant):
    hits = assistant.search("school attendance officer appointment", k=3)
    assert len(hits) == 3 and hits[0].rank == 1
    assert assistant.provision("etra-2006", "2.1.1").heading == "Attendance at school"
    with pytest.raises(ProvisionNotFoundError):
        assistant.provision("etra-2006", "99.9.9")
    assert [d.id for d in assistant.documents] == ["etra-2006", "vet-clusters"]
    assert assistant.settings.abstain_threshold is None and 0 < assistant.extractive.abstention.model.threshold < 1
    assert len(assistant.corpus.provisions) > 1000
