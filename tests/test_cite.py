"""Citations on the real corpus: a quote is cited only where it occurs, to the most specific unit that holds it."""

from __future__ import annotations

import pytest

from assistant import cite

# (document, provision, quote, expected label)
CITED = [
    ("etra-2006", "2.1.1", "not less than 6 nor more than 17 years of age", "s 2.1.1"),
    ("etra-2006", "2.1.1", "to enrol the child at a registered school", "s 2.1.1(a)"),
    ("etra-2006", "2.1.1", "to register the child for home schooling", "s 2.1.1(b)"),
    ("etra-2006", "2.6.9", "the applicant has been given a WWC exclusion", "s 2.6.9(1A)(c)"),
    ("etra-2006", "2.6.9", "the ability of the applicant to teach in a school is likely to be affected", "s 2.6.9(2)(c)(i)"),
    ("etra-2006", "2.6.9", "The Institute may impose any condition", "s 2.6.9(3)"),
    ("etra-2006", "1.1.3", "includes a guardian and every person who has parental responsibility", 's 1.1.3(1) (definition of "parent")'),
    ("etra-2006", "Sch 2 cl 2", "holds office for up to 3 years", "Sch 2 cl 2(2)"),
    ("etra-2006", "Sch 2 cl 2", "the member becomes bankrupt", "Sch 2 cl 2(3)(a)"),
    ("vet-clusters", "4", "Negotiate provision with TAFEs and RTOs", "VET clusters, function 4, activity 2"),
    ("vet-clusters", "2", "local specialist schools and complementary education settings", "VET clusters, function 2, activity 2.2"),
]


@pytest.mark.parametrize(("document", "provision", "quote", "expected"), CITED)
def test_quote_is_cited_to_the_most_specific_unit(corpus, document, provision, quote, expected):
    citation = cite.cite(corpus, document, provision, quote)
    assert citation is not None
    assert citation.label == expected
    assert citation.quote == quote
    text = corpus.get(document, provision).text
    assert text[citation.quote_start : citation.quote_start + len(quote)] == quote
    assert cite.verify(corpus, citation)


def test_a_quote_spanning_two_paragraphs_is_cited_to_their_parent(corpus):
    text = corpus.get("etra-2006", "2.6.9").text
    start = text.index("(a) the applicant is currently charged")
    end = text.index("(c) the applicant has been given a WWC exclusion")
    citation = cite.cite(corpus, "etra-2006", "2.6.9", text[start:end].strip())
    assert citation is not None and citation.label == "s 2.6.9(1A)"


def test_citation_carries_heading_path_and_document_version(corpus):
    citation = cite.cite(corpus, "etra-2006", "2.1.1", "to enrol the child at a registered school")
    info = corpus.document("etra-2006").info
    assert citation.heading == "Attendance at school"
    assert citation.path[0].startswith("Chapter 2")
    assert (citation.document_title, citation.version, citation.as_at) == (info.title, info.version, info.as_at)
    assert citation.version.startswith("Version")
    policy = cite.cite(corpus, "vet-clusters", "4", "Negotiate provision with TAFEs and RTOs")
    assert policy.version == corpus.document("vet-clusters").info.version


@pytest.mark.parametrize(
    ("document", "provision", "quote"),
    [
        ("etra-2006", "2.1.1", "not less than 5 nor more than 18 years of age"),  # altered numbers
        ("etra-2006", "2.1.1", "Penalty: 10 penalty units"),  # from elsewhere in the Act
        ("etra-2006", "2.1.1", ""),
        ("etra-2006", "2.1.1", "   "),
        ("etra-2006", "9.9.9", "It is the duty of the parent"),  # no such provision
        ("no-such-document", "2.1.1", "It is the duty of the parent"),
    ],
)
def test_no_citation_for_words_the_provision_does_not_contain(corpus, document, provision, quote):
    assert cite.cite(corpus, document, provision, quote) is None


def test_a_tampered_citation_fails_verification(corpus):
    good = cite.cite(corpus, "etra-2006", "2.1.1", "to enrol the child at a registered school")
    assert not cite.verify(corpus, good.model_copy(update={"quote_start": good.quote_start + 1}))
    assert not cite.verify(corpus, good.model_copy(update={"provision_id": "2.1.2"}))
    assert not cite.verify(corpus, good.model_copy(update={"label": "s 2.1.1(b)"}))
    assert not cite.verify(corpus, good.model_copy(update={"pinpoint": "(b)", "label": "s 2.1.1(b)"}))


def test_loose_location_tolerates_rewrapped_text_but_returns_the_law_verbatim(corpus):
    provision = corpus.get("etra-2006", "2.1.1")
    rewrapped = "of age—  (a) to enrol\nthe child"
    start, end = cite.locate_loose(provision, rewrapped)
    assert provision.text[start:end] == "of age—\n(a) to enrol the child"
    assert cite.locate_loose(provision, "of age— (a) to register") is None
    assert cite.locate_loose(provision, "  ") is None


def test_markers_and_quotes_are_parsed_per_sentence():
    text = 'A parent must enrol the child [1]. The Act says "to enrol the child at a registered school" [1, 3].\nNo citation here. Ages 6 to 17 [2].'
    parsed = cite.parse_marked(text)
    assert [s.markers for s in parsed] == [(1,), (1, 3), (), (2,)]
    assert parsed[1].quotes == ("to enrol the child at a registered school",)
    assert parsed[1].bare == 'The Act says "to enrol the child at a registered school".'
    assert cite.markers(text) == [1, 1, 3, 2]


def test_a_full_stop_inside_a_quoted_passage_does_not_split_the_sentence():
    text = "Under s 2.6.9(1A) of the Act: “Under section 2.6.14A, it must notify the applicant. The time must be at least 14 days” [1]."
    assert cite.split_sentences(text) == [text]


def test_a_paragraph_whose_letter_the_acts_examples_reuse_still_verifies(corpus):
    """s 2.1A.37(1) lists examples (a)–(c) under its paragraph (a), then its own (b), (c) ...: a quote of the real (c) checks out."""
    good = cite.cite(corpus, "etra-2006", "2.1A.37", "alternative arrangements that may be made for persons to whom school community safety orders apply")
    assert good is not None and good.label == "s 2.1A.37(1)(c)"
    assert cite.verify(corpus, good)
    assert not cite.verify(corpus, good.model_copy(update={"pinpoint": "(1)(d)", "label": "s 2.1A.37(1)(d)"}))
