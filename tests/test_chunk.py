"""Chunking the real corpus: passages fit the model's window, never cross provisions, keep lead-ins."""

from __future__ import annotations

import re

import pytest

from assistant.chunk import chunk
from assistant.embed import Embedder
from assistant.records import Provision, Unit
from assistant.settings import Settings


@pytest.fixture(scope="module")
def count_tokens():
    return Embedder(Settings()).count_tokens


@pytest.fixture(scope="module")
def passages(corpus, count_tokens):
    return chunk(corpus.provisions, Settings(), count_tokens, {d.info.id: d.info.short_name for d in corpus.documents})


def test_no_passage_is_longer_than_the_window(passages, count_tokens):
    longest = max(count_tokens(p.embed_text) for p in passages)
    assert longest <= Settings().passage_max_tokens


def test_passages_never_cross_provisions_and_cover_all_law_text(corpus, passages):
    by_provision: dict[str, list] = {}
    for p in passages:
        assert p.passage_id.startswith(f"{p.document_id}/{p.provision_id}#")
        by_provision.setdefault(f"{p.document_id}/{p.provision_id}", []).append(p)
    for provision in corpus.provisions:
        own = by_provision.get(provision.uid, [])
        if provision.repealed or not provision.text.strip():
            assert not own, f"{provision.uid} is repealed or empty but was indexed"
            continue
        assert own, f"{provision.uid} has no passage"
        for p in own:
            assert p.text == provision.text[p.start : p.end]
        # Every word of the law text is in some passage: nothing silently dropped.
        covered = [False] * len(provision.text)
        for p in own:
            covered[p.start : p.end] = [True] * (p.end - p.start)
        lost = "".join(ch for ch, seen in zip(provision.text, covered, strict=True) if not seen)
        assert not lost.strip(), f"{provision.uid} lost {lost.strip()[:80]!r}"


def test_each_definition_in_s_1_1_3_is_its_own_passage(act, passages):
    definitions = [u for u in act["1.1.3"].units if u.kind == "definition"]
    own = [p for p in passages if p.provision_id == "1.1.3" and p.document_id == "etra-2006"]
    for unit in definitions:
        holding = [p for p in own if p.start <= unit.start < p.end or unit.start <= p.start < unit.end]
        assert holding and all(p.term == unit.term for p in holding), f"definition {unit.term!r} shares a passage"
    assert {p.term for p in own if p.term} == {u.term for u in definitions}


def test_split_passages_keep_their_subsection_lead_in(passages):
    wwc = next(p for p in passages if p.provision_id == "2.6.9" and "WWC exclusion" in p.text)
    assert "(1A) The Institute must refuse to grant registration" in wwc.embed_text
    assert wwc.embed_text.startswith("ETRA s 2.6.9 Registration as a teacher")


def test_words_closing_a_list_are_read_with_the_item_before_them(passages):
    """The note after s 2.6.9(1A)(c) belongs to (1A), but a passage of the lead-in and the note alone would take
    the WWC exclusion ground away from the passage it is found by."""
    note = next(p for p in passages if p.provision_id == "2.6.9" and "Under section 2.6.14A" in p.text)
    assert "(c) the applicant has been given a WWC exclusion." in note.text
    closing = next(p for p in passages if p.provision_id == "2.5.19" and "the review committee may—" in p.text)
    assert "(b) has obtained an assessment by the Authority" in closing.text


def test_passage_ids_are_stable_across_runs(corpus, count_tokens, passages):
    again = chunk(corpus.provisions, Settings(), count_tokens, {d.info.id: d.info.short_name for d in corpus.documents})
    assert [(p.passage_id, p.start, p.end) for p in again] == [(p.passage_id, p.start, p.end) for p in passages]


def _invented(text: str, units: list[Unit]) -> Provision:
    return Provision(document_id="toy", provision_id="9.9.9", number="9.9.9", kind="section", heading="Invented", path=["Part 9.9—Toy"], text=text, units=units, order=1)


def test_a_unit_longer_than_the_window_is_split_at_sentences_without_loss(count_tokens):
    body = " ".join(f"Sentence number {i} says the board must act reasonably." for i in range(60))
    text = f"(1) {body}\n(2) A short rule."
    units = [
        Unit(label="1", kind="subsection", pinpoint="(1)", start=0, end=len(body) + 4),
        Unit(label="2", kind="subsection", pinpoint="(2)", start=len(body) + 5, end=len(text)),
    ]
    settings = Settings(passage_max_tokens=64)
    out = chunk([_invented(text, units)], settings, count_tokens)
    assert len(out) > 3
    assert all(count_tokens(p.embed_text) <= 64 for p in out)
    assert re.sub(r"\s+", " ", " ".join(p.text for p in out)) == re.sub(r"\s+", " ", text)
    assert all(p.text.endswith(".") for p in out[:-1]), "cuts fall at sentence ends"
    assert out[-1].pinpoint_first == "(2)" or out[-1].pinpoint_last == "(2)"
