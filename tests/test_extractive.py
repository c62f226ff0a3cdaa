"""The extractive composer: how provisions are cut into quotable segments, and how answers are put together.

Everything runs on the real corpus. The rules (segments, selection, composition,
abstention given the evidence, citation checks) are tested on evidence built by
hand or scored with ``FakeEncoder``, in milliseconds. Only the tests at the end,
whose expectations rest on what the real embedding model finds similar, load it.
"""

from __future__ import annotations

import pytest
from fakes import FakeEncoder

from assistant.answer import answer_problems
from assistant.answer.abstention import abstention_features
from assistant.answer.compose import compose, delegation_in
from assistant.answer.evidence import Evidence, Scored
from assistant.answer.extractive import ExtractiveAnswerer
from assistant.answer.lexical import TermWeights, content_terms, stem
from assistant.answer.questions import (
    acronyms_of,
    asked_terms,
    is_multi_part,
    missing_fact,
    second_part,
    unknown_names,
)
from assistant.answer.segments import definition_segments, embedded_segment_texts, segments_of
from assistant.answer.select import select_segments
from assistant.cite import cite, split_sentences
from assistant.labels import provision_label
from assistant.models import text_sha256
from assistant.patterns import HAS_NUMBER_RE, IMAGE_PLACEHOLDER, LOST_LEAD_IN_NOTE, LOST_LEAD_IN_PLACEHOLDER, without_placeholders
from assistant.question import asked_part
from assistant.records import Hit
from assistant.settings import Settings


def segment_with(provision, words):
    return next(s for s in segments_of(provision) if words in s.focus)


def hits_for(corpus, *ids):
    out = []
    for rank, (document, provision_id) in enumerate(ids, start=1):
        p = corpus.get(document, provision_id)
        out.append(Hit(document_id=document, provision_id=provision_id, label=provision_label(p), heading=p.heading, path=p.path,
                       score=1.0 / rank, rank=rank, best_passage_id=f"{p.uid}#0", best_passage_text=p.text[:200]))
    return out


# --- segments --------------------------------------------------------------------------------


def test_a_first_paragraph_is_quoted_with_its_lead_in_and_pinpointed_to_itself(act):
    seg = segment_with(act["2.1.1"], "(a) to enrol the child")
    assert seg.text.startswith("It is the duty of the parent of a child of not less than 6")
    assert seg.text.endswith("open for the child's instruction")  # the trailing "; or" is trimmed
    assert seg.lead is None and seg.focus.startswith("(a)")


def test_a_later_paragraph_gets_its_lead_in_as_a_separate_quote(act):
    seg = segment_with(act["2.6.9"], "(c) the applicant has been given a WWC exclusion")
    assert seg.lead_text.startswith("(1A) The Institute must refuse to grant registration")
    assert seg.text == "(c) the applicant has been given a WWC exclusion."


def test_a_subparagraph_keeps_every_lead_in_above_it(act):
    # Quoted without (3), "(c) unless authorised … (iii) obtain loan or credit facilities" reads as a power: the opposite of the law.
    seg = segment_with(act["2.3.6"], "(iii) obtain loan or credit facilities")
    assert seg.full_text.startswith("(3) A school council does not have the power to do any of the following— … (c) unless authorised")
    assert seg.full_text.endswith("… (iii) obtain loan or credit facilities")


def test_an_answer_quotes_every_lead_in_above_a_subparagraph_as_its_own_citation(corpus, act, weights):
    chosen = [scored(segment_with(act["2.3.6"], "(iii) obtain loan or credit facilities"), 0.5)]
    text, citations = compose(corpus, weights, evidence_of("Can our council borrow money?", [], chosen), chosen)
    assert text.startswith("Under s 2.3.6(3)(c)(iii) of the Act: “(3) A school council does not have the power to do any of the following—” [1] … “(c) unless")
    assert [c.label for c in citations] == ["s 2.3.6(3)", "s 2.3.6(3)(c)", "s 2.3.6(3)(c)(iii)"]
    assert all(c.quote in act["2.3.6"].text for c in citations)


def test_a_list_whose_lead_in_the_export_lost_says_so_and_never_quotes_the_placeholder(corpus, act, weights):
    # s 2.2.13's "(2) … does not apply to—" is lost: (a) is not the entitlement in (1) read on, and staff are told words are missing.
    seg = segment_with(act["2.2.13"], "(a) a special school")
    assert seg.text == "(a) a special school or other school providing solely for students with disabilities"
    assert LOST_LEAD_IN_PLACEHOLDER not in seg.reading_text and "missing" not in seg.embed_text()
    chosen = [scored(seg, 0.5)]
    question = "Does every child nearby have a right to enrol at our special school?"
    text, citations = compose(corpus, weights, evidence_of(question, [], chosen), chosen)
    assert text == f"Under s 2.2.13(2)(a) of the Act: {LOST_LEAD_IN_NOTE} … “(a) a special school or other school providing solely for students with disabilities” [1]."
    assert [(c.label, c.note) for c in citations] == [("s 2.2.13(2)(a)", LOST_LEAD_IN_NOTE)]
    assert not any(LOST_LEAD_IN_NOTE in c.quote for c in citations)
    assert cite(corpus, "etra-2006", "2.2.13", "(1) A child of compulsory school age is entitled").note is None


def test_no_segment_is_only_a_placeholder_for_what_the_export_lost(act):
    # s 2.7.4's formula is an image the export dropped: the line naming it is never quoted as a claim.
    assert all(without_placeholders(seg.focus).strip() for provision in act.values() for seg in segments_of(provision))
    assert any(IMAGE_PLACEHOLDER in provision.text for provision in act.values())


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


def test_definitions_are_indexed_by_term_longest_first_and_cut_to_the_definition(corpus):
    definitions = definition_segments(corpus)
    terms = [term for term, _ in definitions]
    assert [len(t) for t in terms] == sorted((len(t) for t in terms), reverse=True)
    overseas = dict(definitions)["overseas student"]
    assert overseas.text.startswith("overseas student means a person holding a visa")
    assert overseas.provision.provision_id == "1.1.3" and "registered school" not in overseas.text


# --- what a question asks ----------------------------------------------------------------------


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
    ("question", "asking"),
    [
        ("Our board was dismissed last year. Are the contracts it signed still valid?", "Are the contracts it signed still valid?"),
        ("Who appoints them? How long do they serve?", "Who appoints them? How long do they serve?"),
        ("Mum says he's needed on the farm. Is that allowed? We're not sure.", "Is that allowed?"),
        ("Tell me the dates of term 3 next year.", "Tell me the dates of term 3 next year."),
        ("Until what age must a child attend school?", "Until what age must a child attend school?"),
    ],
)
def test_the_asking_sentences_of_a_scenario_are_found(question, asking):
    assert asked_part(question) == asking


def test_a_period_in_a_scenario_s_background_does_not_make_it_ask_for_a_number(corpus):
    composer = ExtractiveAnswerer(corpus, FakeEncoder(), Settings())
    hits = hits_for(corpus, ("etra-2006", "2.1.1"))
    assert not composer.evidence("He has been away 3 weeks on the farm. Is that allowed?", hits).wants_number
    assert composer.evidence("He has been away on the farm. How many days can he miss?", hits).wants_number


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
        # A date or a sum in the scenario's background is not what is asked.
        ("Our board was dismissed last year. Are the contracts it signed still valid?", "the board is dissolved", None),
        ("We paid $400 in fees last year. Can the council keep it?", "the council may charge", None),
        ("We paid $400 last year. How much is the fee now?", "a fee fixed by the Minister", "a sum of money"),
        ("Tell me the dates of term 3 next year.", "the school year", "a date"),
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


def test_word_overlap_weighs_rare_words_more():
    weights = TermWeights({"child": 0.5, "exclusion": 3.0})
    words = {"child", "exclusion"}
    assert weights.overlap(words, "an exclusion") == pytest.approx(3.0 / 3.5)
    assert weights.overlap(words, "the child") == pytest.approx(0.5 / 3.5)
    assert weights.overlap(words, frozenset({"child", "exclusion"})) == 1.0
    assert weights.overlap(set(), "the child") == 0.0
    assert weights.weight("unheard") == 3.0  # a word the corpus never uses counts as its rarest


# --- abstention, given the evidence ------------------------------------------------------------


def scored(segment, score, *, has_number=False, second_part_score=None):
    """A segment scored by hand; its similarity to the question is its score."""
    return Scored(segment, semantic=score, lexical=0.0, prior=0.0, score=score, has_number=has_number, second_part_score=second_part_score)


def evidence_of(question, hits, ranked, *, wants_number=False, **signals):
    return Evidence(question, hits, sorted(ranked, key=lambda s: -s.score), wants_number, **signals)


def test_support_is_the_mean_similarity_of_the_five_closest_segments_mixed_with_key_terms(act):
    seg = segments_of(act["2.1.1"])[0]
    evidence = evidence_of("q", [], [scored(seg, s) for s in (0.1, 0.9, 0.8, 0.7, 0.6, 0.5)], key_terms=0.4)
    assert evidence.sentence_support == pytest.approx(0.7)
    assert evidence.support == pytest.approx(0.85 * 0.7 + 0.15 * 0.4)


# --- selection, on evidence built by hand --------------------------------------------------------


def test_segments_of_the_answering_provision_within_the_margin_follow_the_best_in_the_law_order(corpus, act):
    one, one_a, two, *_ = segments_of(act["2.6.21"])  # (1), (1A), (2)
    hits = hits_for(corpus, ("etra-2006", "2.6.21"))
    evidence = evidence_of("What happens when a teacher does not pay?", hits, [scored(two, 0.60), scored(one_a, 0.55), scored(one, 0.50)])
    assert [c.segment for c in select_segments(evidence, max_answer_sentences=4)] == [two, one, one_a]
    assert [c.segment for c in select_segments(evidence, max_answer_sentences=2)] == [two]
    beyond_margin = evidence_of("What happens when a teacher does not pay?", hits, [scored(two, 0.60), scored(one, 0.47)])
    assert [c.segment for c in select_segments(beyond_margin, max_answer_sentences=4)] == [two]


@pytest.mark.parametrize(("numbered_score", "first"), [(0.45, "(1A)"), (0.35, "(1)")])
def test_a_number_question_opens_with_the_best_segment_stating_one_within_the_margin(corpus, act, numbered_score, first):
    one, one_a, *_ = segments_of(act["2.6.21"])
    hits = hits_for(corpus, ("etra-2006", "2.6.21"))
    ranked = [scored(one, 0.60), scored(one_a, numbered_score, has_number=True)]
    chosen = select_segments(evidence_of("How long is the period?", hits, ranked, wants_number=True), max_answer_sentences=4)
    assert chosen[0].segment.focus.startswith(first)


@pytest.mark.parametrize(
    ("numbered_score", "provisions"),
    [
        (0.50, ["2.4.33", "2.4.32"]),  # 2.4.33 answers; 2.4.32's best is too close to call, so it follows
        (0.35, ["2.4.32", "2.4.32"]),  # beyond the margin: the top provision answers with its two segments
    ],
)
def test_when_the_top_provision_states_no_number_the_provision_that_does_answers(corpus, act, numbered_score, provisions):
    hits = hits_for(corpus, ("etra-2006", "2.4.32"), ("etra-2006", "2.4.33"))
    first, second = segments_of(act["2.4.32"])
    ranked = [scored(first, 0.60), scored(second, 0.58), scored(segments_of(act["2.4.33"])[0], numbered_score, has_number=True)]
    chosen = select_segments(evidence_of("At what age can a teacher retire?", hits, ranked, wants_number=True), max_answer_sentences=4)
    assert [c.segment.provision.provision_id for c in chosen] == provisions


@pytest.mark.parametrize(("other_score", "provisions"), [(0.59, ["2.1.1", "2.4.33"]), (0.55, ["2.1.1"])])
def test_a_second_provision_is_quoted_only_when_too_close_to_call(corpus, act, other_score, provisions):
    hits = hits_for(corpus, ("etra-2006", "2.1.1"), ("etra-2006", "2.4.33"))
    ranked = [scored(segments_of(act["2.1.1"])[0], 0.60), scored(segments_of(act["2.4.33"])[0], other_score)]
    chosen = select_segments(evidence_of("Who must enrol a child at a registered school?", hits, ranked), max_answer_sentences=4)
    assert [c.segment.provision.provision_id for c in chosen] == provisions


@pytest.mark.parametrize(("other_part_score", "provisions"), [(0.25, ["2.1.1", "2.6.21"]), (0.15, ["2.1.1"])])
def test_a_two_part_question_quotes_the_provision_that_answers_its_second_part(corpus, act, other_part_score, provisions):
    hits = hits_for(corpus, ("etra-2006", "2.1.1"), ("etra-2006", "2.6.21"))
    ranked = [
        scored(segments_of(act["2.1.1"])[0], 0.60, second_part_score=0.30),
        scored(segments_of(act["2.6.21"])[0], 0.30, second_part_score=other_part_score),
    ]
    question = "Who must enrol the child, and does the Institute charge teachers a fee?"
    chosen = select_segments(evidence_of(question, hits, ranked), max_answer_sentences=4)
    assert [c.segment.provision.provision_id for c in chosen] == provisions


# --- composition, on segments chosen by hand ------------------------------------------------------


@pytest.fixture(scope="module")
def weights(corpus):
    return TermWeights.of_corpus(corpus)


def test_a_definition_asked_for_comes_first_and_stands_in_for_a_second_provision(corpus, act, weights):
    definition = scored(dict(definition_segments(corpus))["overseas student"], 0.5)
    chosen = [scored(segments_of(act["2.1.1"])[0], 0.6), scored(segments_of(act["2.4.33"])[0], 0.59)]
    asked = evidence_of("Who counts as an 'overseas student'?", [], chosen, definitions=[definition])
    text, citations = compose(corpus, weights, asked, chosen)
    assert text.startswith("The Act defines “overseas student” in s 1.1.3(1): “overseas student means a person holding a visa")
    assert [c.provision_id for c in citations] == ["1.1.3", "2.1.1"]
    used = evidence_of("Can an overseas student be enrolled at a school?", [], chosen, definitions=[definition])
    assert [c.provision_id for c in compose(corpus, weights, used, chosen)[1]] == ["2.1.1", "2.4.33"]


def test_the_act_is_quoted_before_the_policy_page_whatever_the_scores(corpus, act, weights):
    chosen = [scored(segment_with(corpus.get("vet-clusters", "4"), "Negotiate provision"), 0.6), scored(segments_of(act["2.1.1"])[0], 0.59)]
    text, citations = compose(corpus, weights, evidence_of("Who arranges VET for students?", [], chosen), chosen)
    assert [c.document_id for c in citations] == ["etra-2006", "vet-clusters"]
    assert text.split("\n")[1].startswith("The VET clusters policy page (function 4, activity 2, a policy page, not law) says: “Negotiate")
    alone = compose(corpus, weights, evidence_of("Who arranges VET for students?", [], chosen[:1]), chosen[:1])[0]
    assert alone.startswith("The VET clusters policy page (function 4, activity 2) says: “Negotiate")


def test_paragraphs_under_one_lead_in_are_quoted_together_with_the_lead_in_once(corpus, act, weights):
    excuses = act["2.1.3"]
    chosen = [scored(segment_with(excuses, words), 0.5) for words in ("(fa) the parent", "(i) illness", "(b) there is no Government school")]
    text, citations = compose(corpus, weights, evidence_of("What is a reasonable excuse?", [], chosen), chosen)
    lines = text.split("\n")
    assert lines[0].startswith("Under s 2.1.3(fa) of the Act: “Without limiting section 2.1.2") and "” [1] … “(fa) the parent" in lines[0]
    assert lines[1].startswith("Under s 2.1.3(b): … “(b) there is no Government school")
    # (i) sits under (a), under the same lead-in as (fa): that lead-in is not quoted again.
    assert lines[2].startswith("Under s 2.1.3(a)(i): … “(a) the child has been prevented")
    assert text.count("it is a reasonable excuse for the purposes of those sections") == 1
    assert [c.label for c in citations] == ["s 2.1.3", "s 2.1.3(fa)", "s 2.1.3(b)", "s 2.1.3(a)(i)"]


def test_a_quote_that_hands_the_matter_on_adds_a_sentence_naming_the_instrument(corpus, act, weights):
    home_schooling = [scored(segment_with(act["2.1.1"], "(b) to register the child for home schooling"), 0.6)]
    asked = evidence_of("How does a parent register a child for home schooling?", [], home_schooling)
    text, citations = compose(corpus, weights, asked, home_schooling)
    assert text.split("\n")[-1] == "The Act leaves the detail to the regulations: s 2.1.1(b) says “in accordance with the regulations” [3]."
    assert citations[-1].quote == "in accordance with the regulations"
    aside = evidence_of("Who may expel a student?", [], home_schooling)
    assert "leaves the detail" not in compose(corpus, weights, aside, home_schooling)[0]


# --- whole answers, scored with the fake encoder ---------------------------------------------------


@pytest.fixture(scope="module")
def composer(corpus):
    """Answers every question (abstention off), so a test sees what the rules compose."""
    return ExtractiveAnswerer(corpus, FakeEncoder(), Settings(abstain_threshold=2.0))


@pytest.fixture(scope="module")
def fake_answerer(corpus):
    return ExtractiveAnswerer(corpus, FakeEncoder(), Settings())


def test_the_number_asked_for_is_in_the_first_sentence(composer, corpus):
    answer = composer.answer("At what age can a teacher retire?", hits_for(corpus, ("etra-2006", "2.4.32"), ("etra-2006", "2.4.33")))
    assert "55 years" in split_sentences(answer.text)[0]
    assert answer.citations[0].label == "s 2.4.33"


def test_the_act_is_quoted_before_the_policy_page_even_when_ranked_lower(composer, corpus):
    hits = hits_for(corpus, ("vet-clusters", "4"), ("etra-2006", "1.1.3"))
    answer = composer.answer("What is a TAFE, and should a VET cluster negotiate provision with TAFEs?", hits)
    documents = [c.document_id for c in answer.citations]
    assert documents[0] == "etra-2006" and "vet-clusters" in documents
    assert "(function 4, activity 2, a policy page, not law) says" in answer.text
    assert answer_problems(corpus, answer) == []


def test_every_sentence_has_a_marker_and_citations_point_at_the_most_specific_unit(composer, corpus):
    answer = composer.answer("Must the Institute refuse registration to an applicant with a WWC exclusion?", hits_for(corpus, ("etra-2006", "2.6.9")))
    assert answer_problems(corpus, answer) == []
    assert "s 2.6.9(1A)(c)" in [c.label for c in answer.citations]


def test_an_unrelated_question_abstains_and_lists_what_was_found(corpus, fake_answerer):
    # Hand-made hits carry no retrieval scores, so every signal the learned decision reads is zero here; a lower
    # threshold shows how a refusal reads. The decision itself on real signals: the slow tests with the real model.
    refusing = ExtractiveAnswerer(corpus, FakeEncoder(), Settings(abstain_threshold=0.3))
    hits = hits_for(corpus, ("etra-2006", "2.1.1"), ("vet-clusters", "4"))
    answer = refusing.answer("What is the recipe for pavlova?", hits)
    assert answer.abstained and answer.citations == [] and answer.abstain_kind == "not_in_sources"
    assert answer.abstain_reason == "Neither the Act nor the VET clusters policy page says this."
    assert "probability" in answer.abstain_detail  # the figures are kept for administrators, not shown to staff
    assert "s 2.1.1 (Attendance at school)" in answer.text
    assert fake_answerer.answer("What is the recipe for pavlova?", []).abstained


def test_how_long_a_suspension_lasts_is_left_to_a_ministerial_order_and_the_answer_cites_the_words(composer, fake_answerer, corpus):
    # The rule refuses even when the model would answer (the composer's threshold is above 1 only to show what is quoted).
    hits = hits_for(corpus, ("etra-2006", "2.2.19"), ("etra-2006", "2.2.18"))
    answer = fake_answerer.answer("How long can a student be suspended for?", hits)
    assert answer.abstained and answer.abstain_kind == "delegated"
    assert answer.text == (
        "The Act leaves this to a Ministerial Order: s 2.2.19(1) says “(1) The principal of a Government school may, "
        "in accordance with any Ministerial Order, suspend or expel a student from that school.” [1]."
    )
    [citation] = answer.citations
    assert citation.label == "s 2.2.19(1)" and "in accordance with any Ministerial Order" in citation.quote
    assert answer_problems(corpus, answer) == []  # the quote is the law's own words at its offset
    assert answer.abstain_reason == "The Act leaves this to a Ministerial Order; the detail is not in the Act or the VET clusters policy page."
    assert "delegating words: 'any Ministerial Order' in s 2.2.19(1)" in answer.abstain_detail
    assert not composer.answer("How long can a student be suspended for?", hits).abstained


@pytest.mark.parametrize(
    ("question", "clause", "item", "instrument", "makers", "figure"),
    [
        ("What is the most a student can be suspended for?", "Sch 6 cl 4", "4.4 The period for which a student may be suspended.", "a Ministerial Order", "Ministerial Orders", False),
        ("How are students conveyed to Government schools?", "Sch 5 cl 1", "1.3 The conveyance of students to Government schools", "the regulations", "regulations", False),
        ("What penalty can the regulations set for breaking them?", "Sch 5 cl 10", "10.3 Penalties not exceeding in any case 20 penalty units", "the regulations", "regulations", True),
    ],
)
def test_an_item_of_a_schedule_of_matters_for_another_instrument_hands_its_matter_on(corpus, act, question, clause, item, instrument, makers, figure):
    # Schedules 5 and 6 list what regulations and Ministerial Orders may deal with: quoting an item is not the answer.
    provision = act[clause]
    weights = TermWeights.of_corpus(corpus)
    chosen = [scored(segment_with(provision, item), 0.6)]
    delegation = delegation_in(chosen, set(content_terms(question)), weights, 0.05)
    assert delegation is not None and (delegation.what, delegation.listed_for) == (instrument, makers)
    assert provision.text[delegation.start : delegation.end].startswith(item)
    assert delegation.states_figure(chosen, set(content_terms(question)), weights) is figure


def test_how_long_a_suspension_lasts_found_in_schedule_6_is_a_delegated_answer_that_says_so(fake_answerer, corpus):
    answer = fake_answerer.answer("How long can a student be suspended for?", hits_for(corpus, ("etra-2006", "Sch 6 cl 4")))
    assert answer.abstained and answer.abstain_kind == "delegated"
    assert answer.text == (
        "The Act leaves this to a Ministerial Order: Sch 6 cl 4.4 lists “4.4 The period for which a student may be suspended.” "
        "among the matters Ministerial Orders may deal with [1]."
    )
    assert answer_problems(corpus, answer) == []
    assert "a matter listed for Ministerial Orders" in answer.abstain_detail


def test_an_answer_quoting_a_schedule_item_says_it_is_a_matter_for_ministerial_orders_without_quoting_it_twice(composer, corpus):
    answer = composer.answer("Can the Minister declare TAFE teaching positions to be management positions?", hits_for(corpus, ("etra-2006", "Sch 6 cl 9")))
    assert not answer.abstained and [c.label for c in answer.citations] == ["Sch 6 cl 9"]
    assert answer.text.endswith("The Act leaves the detail to a Ministerial Order: Sch 6 cl 9 lists this among the matters Ministerial Orders may deal with [1].")
    assert answer_problems(corpus, answer) == []


def test_a_long_clause_is_quoted_around_the_delegating_words_with_the_cuts_marked(fake_answerer, corpus):
    hits = hits_for(corpus, ("etra-2006", "2.4.27"))
    answer = fake_answerer.answer("How much is the higher duties allowance when a teacher acts up?", hits)
    assert answer.abstain_kind == "delegated" and answer_problems(corpus, answer) == []
    [citation] = answer.citations
    assert "in accordance with a Ministerial Order" in citation.quote and len(citation.quote) <= 320
    assert citation.label == "s 2.4.27(2)" and "says “… " in answer.text


def test_advice_asked_for_is_refused_in_plain_words(fake_answerer, corpus):
    answer = fake_answerer.answer("Should I sue my school council?", hits_for(corpus, ("etra-2006", "2.3.2"), ("etra-2006", "2.3.1")))
    assert answer.abstained and answer.abstain_kind == "advice_or_opinion" and answer.citations == []
    assert "legal advice" in answer.abstain_reason
    assert not any(word in answer.abstain_reason for word in ("probability", "threshold", "signal"))


def test_an_answer_quotes_only_the_top_provision_of_a_one_part_question(composer, corpus):
    hits = hits_for(corpus, ("etra-2006", "2.1.3"), ("etra-2006", "2.1.4"), ("etra-2006", "2.1.2"))
    one = composer.answer("A parent gives an excuse for an absence that isn't on the standard list. Can the principal just accept it?", hits)
    assert {c.provision_id for c in one.citations} == {"2.1.3"}
    assert "principal of the school accepts the excuse" in one.text


def test_a_lead_in_shared_by_two_quoted_paragraphs_is_quoted_once(composer, corpus):
    hits = hits_for(corpus, ("etra-2006", "2.1.3"))
    answer = composer.answer("What counts as a reasonable excuse for a child missing school?", hits)
    lead = "it is a reasonable excuse for the purposes of those sections"
    paragraphs = [c for c in answer.citations if c.pinpoint not in ("", None)]
    assert len(paragraphs) >= 2
    assert answer.text.count(lead) == 1
    assert answer.text.count("of the Act") == 1  # only the first sentence names the source in full
    assert answer_problems(corpus, answer) == []


def test_a_question_for_a_sum_the_law_does_not_state_is_flagged_for_the_abstention_decision(composer, corpus):
    hits = hits_for(corpus, ("etra-2006", "2.6.21"), ("etra-2006", "2.6.77A"))
    evidence = composer.evidence("How much is the VIT annual registration fee this year?", hits)
    assert evidence.missing_fact == "a sum of money"
    assert abstention_features(evidence)["missing_fact"] == 1.0
    assert composer.evidence("Who must pay the annual registration fee?", hits).missing_fact is None


def test_a_short_provision_asked_about_by_name_is_quoted_whole(fake_answerer, corpus):
    hit = hits_for(corpus, ("etra-2006", "Sch 1"))[0]
    named = hit.model_copy(update={"scores": {"lookup": 1.0}})
    answer = fake_answerer.answer("List the learning areas in Schedule 1.", [named])
    assert [c.label for c in answer.citations] == ["Sch 1"]
    assert "The arts" in answer.text and "Health and physical education" in answer.text
    assert answer_problems(corpus, answer) == []


def test_segments_are_embedded_once_and_a_repeated_question_encodes_only_itself(corpus, act):
    encoder = FakeEncoder()
    answerer = ExtractiveAnswerer(corpus, encoder, Settings(abstain_threshold=2.0))
    provisions = [act["2.1.1"], act["2.1.3"]]
    assert answerer.warm(provisions) == sum(len(segments_of(p)) for p in provisions)
    assert set(encoder.encoded) == {seg.embed_text() for p in provisions for seg in segments_of(p)}
    question = "Must a parent enrol their child at school?"
    hits = hits_for(corpus, ("etra-2006", "2.1.1"), ("etra-2006", "2.1.3"))
    first = answerer.answer(question, hits)
    encoder.encoded.clear()
    assert answerer.answer(question, hits) == first
    assert encoder.encoded == [question]


class BatchSensitiveEncoder(FakeEncoder):
    """Like bfloat16 on a CPU: a text's vector moves a little with how many texts are encoded beside it."""

    def encode(self, texts: list[str]):
        vectors = super().encode(texts)
        vectors[:, 0] += 0.05 * len(texts)
        return vectors / (vectors**2).sum(axis=1, keepdims=True) ** 0.5


def test_with_the_index_segment_vectors_an_answer_does_not_depend_on_the_questions_before_it(corpus):
    texts = embedded_segment_texts(corpus)
    index_vectors = {text_sha256(t): v for t, v in zip(texts, FakeEncoder().encode(texts), strict=True)}
    question = "Must a parent enrol their child at school?"
    hits = hits_for(corpus, ("etra-2006", "2.1.1"), ("etra-2006", "2.1.3"))
    earlier = ("What is a reasonable excuse for not attending?", hits_for(corpus, ("etra-2006", "2.1.3"), ("etra-2006", "2.1.2")))

    def scores_after(history, segment_vectors):
        encoder = BatchSensitiveEncoder()
        answerer = ExtractiveAnswerer(corpus, encoder, Settings(abstain_threshold=2.0), segment_vectors=segment_vectors)
        for asked, asked_hits in history:
            answerer.answer(asked, asked_hits)
        encoder.encoded.clear()
        evidence = answerer.evidence(question, hits)
        return {(s.segment.provision.uid, s.segment.start): s.semantic for s in evidence.ranked}, encoder.encoded

    alone, encoded = scores_after([], index_vectors)
    assert scores_after([earlier], index_vectors)[0] == alone
    assert encoded == [question]  # every segment's vector came from the index
    # Without them, what was asked before changes the scores (which is what the index's vectors prevent).
    assert scores_after([earlier], None)[0] != scores_after([], None)[0]


@pytest.mark.parametrize(
    ("tamper", "problem"),
    [
        (lambda a: {"text": a.text + "\nSchools may also close on Fridays."}, "uncited sentence"),
        (lambda a: {"text": a.text.replace("[2]", "[9]")}, "marker [9] has no citation"),
        (lambda a: {"citations": [*a.citations, a.citations[0]]}, "citation [3] is never referenced"),
        (lambda a: {"citations": [a.citations[0].model_copy(update={"quote_start": 1}), *a.citations[1:]]}, "citation [1] s 2.6.9(1A) does not match the law text"),
        (lambda a: {"abstained": True}, "an abstention carries citations or no text"),
        (lambda a: {"text": "The Act says so.", "citations": []}, "an answer without citations"),
    ],
)
def test_the_answer_checks_catch_each_kind_of_broken_grounding(composer, corpus, tamper, problem):
    answer = composer.answer("Must the Institute refuse registration to an applicant with a WWC exclusion?", hits_for(corpus, ("etra-2006", "2.6.9")))
    assert answer_problems(corpus, answer) == [] and len(answer.citations) == 2
    assert any(problem in found for found in answer_problems(corpus, answer.model_copy(update=tamper(answer))))


# --- with the real embedding model (slow): what MiniLM finds similar ------------------------------


@pytest.fixture(scope="module")
def answerer(corpus, tmp_path_factory):
    from assistant.embed import Embedder

    settings = Settings(data_dir=tmp_path_factory.mktemp("extractive-data"))
    return ExtractiveAnswerer(corpus, Embedder(settings), settings)


@pytest.fixture(scope="module")
def quoting_answerer(answerer):
    """The real model with abstention off: hand-built hits carry none of the retrieval scores the decision weighs."""
    return ExtractiveAnswerer(answerer.corpus, answerer.encoder, answerer.settings.model_copy(update={"abstain_threshold": 2.0}))


@pytest.mark.slow
@pytest.mark.parametrize(
    ("question", "ids", "cited", "label", "words"),
    [
        ("At what age can a teacher retire?", [("etra-2006", "2.4.32"), ("etra-2006", "2.4.33")], {"2.4.33"}, "s 2.4.33", "55 years"),
        ("Must the Institute refuse registration to an applicant with a WWC exclusion?", [("etra-2006", "2.6.9")], {"2.6.9"}, "s 2.6.9(1A)(c)", "WWC exclusion"),
        (
            "A parent gives an excuse for an absence that isn't on the standard list. Can the principal just accept it?",
            [("etra-2006", "2.1.3"), ("etra-2006", "2.1.4"), ("etra-2006", "2.1.2")],
            {"2.1.3"},
            "s 2.1.3(fa)",
            "principal of the school accepts the excuse",
        ),
    ],
)
def test_with_the_real_model_answerable_questions_quote_the_answer(quoting_answerer, corpus, question, ids, cited, label, words):
    answer = quoting_answerer.answer(question, hits_for(corpus, *ids))
    assert not answer.abstained, answer.abstain_reason
    assert {c.provision_id for c in answer.citations} == cited
    assert label in [c.label for c in answer.citations] and words in answer.text
    assert answer_problems(corpus, answer) == []


@pytest.mark.slow
def test_with_the_real_models_an_unrelated_question_is_refused(live_assistant):
    # Through real retrieval: hand-made hits carry none of the retrieval signals the decision reads.
    answer = live_assistant.ask("What is the recipe for pavlova?")
    assert answer.abstained and answer.abstain_kind == "not_in_sources" and "do not appear to answer" in answer.abstain_detail



@pytest.mark.parametrize(
    ("question", "stated"),
    [
        ("How long can a student be suspended for?", False),  # (5)'s "12 months" is about expulsion records
        ("How long must records of a student's expulsion be kept?", True),
    ],
)
def test_a_figure_beside_delegating_words_counts_only_when_it_is_about_what_was_asked(corpus, act, question, stated):
    provision = act["2.2.19"]
    delegating = segment_with(provision, "in accordance with any Ministerial Order, suspend")
    records = segment_with(provision, "12 months")
    weights = TermWeights.of_corpus(corpus)
    chosen = [scored(delegating, 0.6), scored(records, 0.5, has_number=True)]
    delegation = delegation_in(chosen, set(content_terms(question)), weights, 0.05)
    assert delegation is not None and delegation.what == "a Ministerial Order"
    assert delegation.states_figure(chosen, set(content_terms(question)), weights) is stated


def test_a_designated_class_is_one_term_so_category_a_is_not_category_b():
    a, b = set(content_terms("charged with a category A offence")), set(content_terms("charged with a category B offence"))
    assert "category a" in a and "category b" in b and a != b
    assert "category a" not in content_terms("a category of schools")
