"""Short answers: the plain sentence staff read first, from a model when its claims check out, else from the quoted law."""

import pytest

from assistant.answer.lexical import TermWeights
from assistant.answer.short import (
    ShortAnswerer,
    clauses,
    extractive_short_answer,
    readable,
)
from assistant.records import Answer, Citation

AGE_QUOTE = (
    "(1) It is the duty of the parent of a child of not less than 6 nor more than 17 years of age to enrol the child "
    "at a registered school and to ensure that the child attends the school at all times when the school is open for instruction."
)
WORK_QUOTE = "(1) Except with the express permission of the Secretary, a full time employee must not—\n(a) engage in any paid employment; or\n(b) carry on a business."


def cited(*quotes: str, abstained: bool = False) -> Answer:
    citations = [
        Citation(
            document_id="etra-2006", provision_id="2.1.1", label="s 2.1.1(1)", heading="Duty of parents", path=[], quote=q, quote_start=0,
            document_title="Education and Training Reform Act 2006", version="Version 107", as_at="",
        )
        for q in quotes
    ]
    return Answer(question="q", text=" ".join(f"“{q}” [{i}]" for i, q in enumerate(quotes, 1)), citations=citations, abstained=abstained)


@pytest.fixture(scope="module")
def weights(corpus) -> TermWeights:
    return TermWeights.of_corpus(corpus)


def test_a_lead_in_is_joined_to_its_first_item_so_no_clause_stops_mid_thought():
    assert clauses(WORK_QUOTE)[0] == "Except with the express permission of the Secretary, a full time employee must not engage in any paid employment"


def test_extractive_short_answer_is_the_cited_clause_that_answers(weights):
    short = extractive_short_answer("Until what age does a child have to go to school?", cited(AGE_QUOTE), weights)
    assert short.startswith("It is the duty of the parent of a child of not less than 6 nor more than 17 years of age")
    assert short.endswith("[1].")


def test_an_abstention_gets_no_short_answer(weights):
    answer = ShortAnswerer(weights).add_to("Can I sue the council?", cited(abstained=True))
    assert answer.short_answer is None and answer.short_answer_by is None


def test_a_model_sentence_that_checks_out_is_shown_as_the_models(weights):
    draft = "A parent must enrol a child aged 6 to 17 at a registered school [1]."
    write = lambda question, quoted: draft  # noqa: E731
    answer = ShortAnswerer(weights, write).add_to("Until what age?", cited(AGE_QUOTE))
    assert (answer.short_answer, answer.short_answer_by, answer.short_answer_removed) == (draft, "model", 0)


@pytest.mark.parametrize(
    "draft",
    [
        "A parent must enrol a child aged 6 to 16 at a registered school [1].",  # a wrong number
        "The principal must enrol a child at a registered school [1].",  # a party the quote does not name
        "A parent must not enrol the child at a registered school.",  # no marker
        "Yes [1].",  # nothing a check can confirm
    ],
)
def test_a_model_sentence_that_fails_a_check_is_removed_and_the_short_answer_falls_back(weights, draft):
    answer = ShortAnswerer(weights, lambda question, quoted: draft).add_to("Until what age?", cited(AGE_QUOTE))
    assert answer.short_answer_by == "extractive"
    assert answer.short_answer_removed == 1
    assert "17 years of age" in answer.short_answer
    assert "no model sentence passed" in answer.short_answer_note


def test_a_failing_model_costs_the_short_answer_not_the_answer(weights):
    def broken(question, quoted):
        raise RuntimeError("out of memory")

    answer = ShortAnswerer(weights, broken).add_to("Until what age?", cited(AGE_QUOTE))
    assert answer.short_answer_by == "extractive" and "out of memory" in answer.short_answer_note


def test_a_quoted_lead_in_is_read_with_the_quote_of_the_same_provision_that_follows_it(weights):
    answer = cited("It is the duty of the parent of a child of not less than 6 nor more than 17 years of age—", "(a) to enrol the child at a registered school")
    short = extractive_short_answer("How old must a child be before the parent can stop enrolling them?", answer, weights)
    assert "17 years of age to enrol the child at a registered school [1, 2]." in short  # both quotes it rests on


@pytest.mark.parametrize(
    ("quotes", "question", "short"),
    [
        # s 2.3.6(3)(c)(iii): without its outer lead-in the clause reads as a power a council has, the opposite of the law.
        (
            (
                "(3) A school council does not have the power to do any of the following—",
                "(c) unless authorised by or under this Act, the regulations or a Ministerial Order—",
                "(iii) obtain loan or credit facilities",
            ),
            "Can our school council take out a loan for the new gym?",
            "A school council does not have the power to do any of the following — unless authorised by or under this Act, "
            "the regulations or a Ministerial Order obtain loan or credit facilities [1, 2, 3].",
        ),
        # A lead-in that names its list sets the item off, so it does not run on from "contributions".
        (
            (
                "(3) The following principles apply in relation to financial contributions—",
                "(c) a student at the school is not to be refused instruction in the learning areas specified in Schedule 1 because the student's parents do not make a contribution",
            ),
            "Can we keep her son out of maths until she pays the voluntary contribution?",
            "The following principles apply in relation to financial contributions — a student at the school is not to be refused instruction "
            "in the learning areas specified in Schedule 1 because the student's parents do not make a contribution [1, 2].",
        ),
        # A quote that brings its own lead-in starts a new reading: never "… 10 days The principal may suspend …".
        (
            (
                "(3) The principal may suspend the operation of a condition in subsection (1)—",
                "(b) to allow the period of employment to exceed a total of 10 days—",
                "(3) The principal may suspend the operation of a condition in subsection (1)— (a) to allow work experience for up to 15 days",
            ),
            "How many days of work experience can the principal allow?",
            "The principal may suspend the operation of a condition in subsection (1) to allow the period of employment to exceed a total of 10 days [1, 2].",
        ),
    ],
)
def test_a_run_of_lead_ins_is_read_with_the_quote_it_introduces(weights, quotes, question, short):
    assert extractive_short_answer(question, cited(*quotes), weights) == short


def test_a_schedule_item_number_does_not_open_the_short_answer(weights):
    answer = cited("4.3 The procedures to be followed before a student may be suspended or expelled from a Government school.")
    short = extractive_short_answer("What must happen before a student is expelled?", answer, weights)
    assert short == "The procedures to be followed before a student may be suspended or expelled from a Government school [1]."


def test_a_long_clause_ends_at_a_joint_rather_than_mid_phrase():
    long = AGE_QUOTE.removeprefix("(1) ") + ", and at every excursion, camp, sports day, concert and other activity that the school organises for the child" * 2
    short = readable(long)
    assert "…" not in short and len(short.split()) <= 70
    assert short.split()[-1] not in ("and", "or") and long.startswith(short)


def test_a_long_clause_is_never_cut_after_a_number():
    clause = (
        "If the Secretary is satisfied on an inquiry under this Division that there are one or more grounds under this Division "
        "for taking action against an employee, the Secretary may take one or more of the following actions against the employee"
    )
    assert not readable(clause).endswith("may take one")
