"""The extractive composer: how provisions are cut into quotable segments, and how answers are put together.

Segment tests run on the real corpus without a model; composing tests use the
real embedding model on hits built by hand, so they do not depend on retrieval.
"""

from __future__ import annotations

import pytest

from assistant.answer import answer_problems
from assistant.answer.extractive import (
    HAS_NUMBER_RE,
    NUMBER_QUESTION_RE,
    ExtractiveAnswerer,
    acronyms_of,
    asked_terms,
    content_terms,
    is_multi_part,
    missing_fact,
    second_part,
    segments_of,
    stem,
    unknown_names,
)
from assistant.cite import split_sentences
from assistant.labels import provision_label
from assistant.records import Hit
from assistant.settings import Settings


def segment_with(provision, words):
    return next(s for s in segments_of(provision) if words in s.focus)


def test_a_first_paragraph_is_quoted_with_its_lead_in_and_pinpointed_to_itself(act):
    seg = segment_with(act["2.1.1"], "(a) to enrol the child")
    assert seg.text.startswith("It is the duty of the parent of a child of not less than 6")
    assert seg.text.endswith("open for the child's instruction")  # the trailing "; or" is trimmed
    assert seg.lead is None and seg.focus.startswith("(a)")


def test_a_later_paragraph_gets_its_lead_in_as_a_separate_quote(act):
    seg = segment_with(act["2.6.9"], "(c) the applicant has been given a WWC exclusion")
    assert seg.lead_text.startswith("(1A) The Institute must refuse to grant registration")
    assert seg.text == "(c) the applicant has been given a WWC exclusion."


def test_a_penalty_keeps_the_duty_it_punishes(act):
    seg = segment_with(act["2.1.2A"], "Penalty: 1 penalty unit")
    assert seg.text.startswith("A parent of a child registered for home schooling")
    assert HAS_NUMBER_RE.search(seg.text)


def test_lines_that_only_introduce_what_follows_are_not_segments(act):
    assert not any(s.text == "(1) In this Act—" for s in segments_of(act["1.1.3"]))
    assert all(not s.text.rstrip().endswith("—") or s.lead for s in segments_of(act["2.1.1"]))


def test_policy_bullets_lose_their_bullet_marker(corpus):
    seg = segment_with(corpus.get("vet-clusters", "4"), "Negotiate provision")
    assert seg.text == "Negotiate provision with TAFEs and RTOs"


def test_every_segment_quotes_the_law_verbatim(corpus):
    for provision in corpus.provisions[:400]:
        for seg in segments_of(provision):
            assert provision.text[seg.start : seg.end] == seg.text and seg.text.strip() == seg.text


@pytest.mark.parametrize(
    ("question", "wants"),
    [
        ("Until what age must a child attend school?", True),
        ("How many days does a parent have to respond?", True),
        ("What is the penalty for obstructing an officer?", True),
        ("How long is a school council member's term of office?", True),
        ("Who appoints school attendance officers?", False),
        ("Can a principal expel a student?", False),
    ],
)
def test_number_questions_are_recognised(question, wants):
    assert bool(NUMBER_QUESTION_RE.search(question)) is wants


def test_quantities_are_numbers_but_section_labels_are_not():
    assert HAS_NUMBER_RE.search("not less than 6 nor more than 17 years of age")
    assert HAS_NUMBER_RE.search("is 0⋅5 penalty units")
    assert not HAS_NUMBER_RE.search("2.3 Age requirements for persons")
    assert not HAS_NUMBER_RE.search("under section 2.6.14A")


@pytest.mark.parametrize(
    ("question", "multi"),
    [
        ("Who has to sign off on the placement, and does the student get paid?", True),
        ("What is a TAFE and how should VET clusters work with TAFEs?", True),
        ("Who appoints them? How long do they serve?", True),
        ("Before an ongoing safety order is made, how long do they get to put their side?", False),
        ("Can the school and the attendance officer do anything about it?", False),
    ],
)
def test_questions_in_two_parts_are_recognised(question, multi):
    assert is_multi_part(question) is multi


def test_the_second_part_of_a_two_part_question_is_split_off():
    assert second_part("Who has to sign off on the placement, and does the student get paid?") == "does the student get paid?"
    assert second_part("Who appoints them? How long do they serve?") == "How long do they serve?"
    assert second_part("Who appoints school attendance officers?") is None


def test_the_term_a_question_asks_about_is_found():
    assert "overseas student" in asked_terms("Who counts as an 'overseas student' under the Act?")
    assert any("category a offence" in t for t in asked_terms("What is a category A offence?"))
    assert asked_terms("Who appoints school attendance officers?") == []


@pytest.mark.parametrize(
    ("question", "evidence", "missing"),
    [
        ("How much is the VIT annual registration fee this year?", "an annual registration fee fixed by the Minister", "a sum of money"),
        ("What is the salary of a graduate teacher?", "Penalty: 10 penalty units.", None),
        ("How many days of annual leave do office staff get?", "3 months' long service leave", "a count"),
        ("How many days does a parent have to reply?", "within 14 days after the notice", None),
        ("When are the tests held this year?", "the Education Act 1958", "a date"),
        ("What is the staff to student ratio?", "the number of staff", "a ratio"),
        ("How much notice must the Authority give?", "at least 5 days before", None),
        ("What happens if a teacher doesn't pay their annual fee on time?", "fee fixed by the Minister", None),
    ],
)
def test_a_question_asking_for_a_kind_of_fact_needs_that_fact_in_the_evidence(question, evidence, missing):
    assert missing_fact(question, evidence) == missing


def test_names_the_corpus_never_uses_are_found_and_spelled_out_acronyms_are_known():
    vocabulary = {"school", "cluster", "coordinat", "vet"}
    acronyms = acronyms_of("the Victorian Curriculum and Assessment Authority")
    assert "vcaa" in acronyms
    assert unknown_names("Who is the VET cluster coordinator for the Geelong cluster?", vocabulary, acronyms) == ["Geelong"]
    assert unknown_names("Can the VCAA withhold a result?", vocabulary, acronyms) == []
    assert unknown_names("When are the NAPLAN tests held?", vocabulary, acronyms) == ["NAPLAN"]
    assert unknown_names("School starts when?", vocabulary, acronyms) == []


def test_content_terms_drop_stopwords_and_meet_across_inflections():
    assert content_terms("Must the parents enrol their children?") == ["parent", "enrol", "children"]
    assert stem("enrolled") == stem("enrols") == "enrol"
    assert "isn" not in content_terms("that isn't on the list")


# --- composing with the real embedding model (slow) -------------------------------------------


def hits_for(corpus, *ids):
    out = []
    for rank, (document, provision_id) in enumerate(ids, start=1):
        p = corpus.get(document, provision_id)
        out.append(Hit(document_id=document, provision_id=provision_id, label=provision_label(p), heading=p.heading, path=p.path,
                       score=1.0 / rank, rank=rank, best_passage_id=f"{p.uid}#0", best_passage_text=p.text[:200]))
    return out


@pytest.fixture(scope="module")
def answerer(corpus, tmp_path_factory):
    from assistant.embed import Embedder

    settings = Settings(data_dir=tmp_path_factory.mktemp("extractive-data"))
    return ExtractiveAnswerer(corpus, Embedder(settings), settings)


@pytest.mark.slow
def test_the_number_asked_for_is_in_the_first_sentence(answerer, corpus):
    answer = answerer.answer("At what age can a teacher retire?", hits_for(corpus, ("etra-2006", "2.4.32"), ("etra-2006", "2.4.33")))
    assert "55 years" in split_sentences(answer.text)[0]
    assert answer.citations[0].label == "s 2.4.33"


@pytest.mark.slow
def test_the_act_is_quoted_before_the_policy_page_even_when_ranked_lower(answerer, corpus):
    hits = hits_for(corpus, ("vet-clusters", "4"), ("etra-2006", "1.1.3"))
    answer = answerer.answer("What is a TAFE, and should a VET cluster negotiate provision with TAFEs?", hits)
    documents = [c.document_id for c in answer.citations]
    assert documents[0] == "etra-2006" and "vet-clusters" in documents
    assert answer_problems(corpus, answer) == []


@pytest.mark.slow
def test_every_sentence_has_a_marker_and_citations_point_at_the_most_specific_unit(answerer, corpus):
    answer = answerer.answer("Must the Institute refuse registration to an applicant with a WWC exclusion?", hits_for(corpus, ("etra-2006", "2.6.9")))
    assert answer_problems(corpus, answer) == []
    assert "s 2.6.9(1A)(c)" in [c.label for c in answer.citations]


@pytest.mark.slow
def test_an_unrelated_question_abstains_and_lists_what_was_found(answerer, corpus):
    hits = hits_for(corpus, ("etra-2006", "2.1.1"), ("vet-clusters", "4"))
    answer = answerer.answer("What is the recipe for pavlova?", hits)
    assert answer.abstained and answer.citations == []
    assert "s 2.1.1 (Attendance at school)" in answer.text
    assert answerer.answer("What is the recipe for pavlova?", []).abstained


@pytest.mark.slow
def test_an_answer_quotes_only_the_top_provision_unless_the_question_has_two_parts(answerer, corpus):
    hits = hits_for(corpus, ("etra-2006", "2.1.3"), ("etra-2006", "2.1.4"), ("etra-2006", "2.1.2"))
    one = answerer.answer("A parent gives an excuse for an absence that isn't on the standard list. Can the principal just accept it?", hits)
    assert {c.provision_id for c in one.citations} == {"2.1.3"}
    assert "principal of the school accepts the excuse" in one.text


@pytest.mark.slow
def test_a_lead_in_shared_by_two_quoted_paragraphs_is_quoted_once(answerer, corpus):
    hits = hits_for(corpus, ("etra-2006", "2.1.3"))
    answer = answerer.answer("What counts as a reasonable excuse for a child missing school?", hits)
    lead = "it is a reasonable excuse for the purposes of those sections"
    paragraphs = [c for c in answer.citations if c.pinpoint not in ("", None)]
    assert len(paragraphs) >= 2
    assert answer.text.count(lead) == 1
    assert answer_problems(corpus, answer) == []


@pytest.mark.slow
def test_a_question_for_a_sum_the_law_does_not_state_abstains_and_says_why(answerer, corpus):
    hits = hits_for(corpus, ("etra-2006", "2.6.21"), ("etra-2006", "2.6.77A"))
    answer = answerer.answer("How much is the VIT annual registration fee this year?", hits)
    assert answer.abstained and answer.citations == []
    assert "sum of money" in answer.abstain_reason


@pytest.mark.slow
def test_a_short_provision_asked_about_by_name_is_quoted_whole(answerer, corpus):
    hit = hits_for(corpus, ("etra-2006", "Sch 1"))[0]
    named = hit.model_copy(update={"scores": {"lookup": 1.0}})
    answer = answerer.answer("List the learning areas in Schedule 1.", [named])
    assert [c.label for c in answer.citations] == ["Sch 1"]
    assert "The arts" in answer.text and "Health and physical education" in answer.text
    assert answer_problems(corpus, answer) == []
