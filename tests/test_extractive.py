"""The extractive composer: how provisions are cut into quotable segments, and how answers are put together.

Segment tests run on the real corpus without a model; composing tests use the
real embedding model on hits built by hand, so they do not depend on retrieval.
"""

from __future__ import annotations

import pytest

from assistant.answer.extractive import HAS_NUMBER_RE, NUMBER_QUESTION_RE, ExtractiveAnswerer, content_terms, segments_of, stem
from assistant.cite import answer_problems, split_sentences
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
