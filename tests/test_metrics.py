"""The evaluation metrics: ranking figures agree with ir-measures; edge cases behave as documented."""

from __future__ import annotations

import ir_measures
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ir_measures import RR, R, Success, nDCG

from assistant.evaluation.metrics import (
    aggregate,
    citation_precision,
    citation_recall,
    crag_score,
    dedupe,
    hit_at_k,
    key_fact_recall,
    ndcg_at_k,
    normalise_text,
    percentile,
    provision_key,
    recall_at_k,
    reciprocal_rank,
    score_item,
)


def reference(ranked: list[str], relevant: set[str]) -> dict[str, float]:
    """What ir-measures (pytrec_eval underneath) reports for one query."""
    qrels = {"q": {key: 1 for key in relevant}}
    # Distinct descending scores so ir-measures keeps our order exactly.
    run = {"q": {key: float(len(ranked) - i) for i, key in enumerate(ranked)}}
    measures = [R @ 1, R @ 5, R @ 10, RR @ 10, nDCG @ 10, Success @ 1, Success @ 5]
    values = {str(m.measure): m.value for m in ir_measures.iter_calc(measures, qrels, run)}
    return {name: values.get(name, 0.0) for name in ("R@1", "R@5", "R@10", "RR@10", "nDCG@10", "Success@1", "Success@5")}


def ours(ranked: list[str], relevant: set[str]) -> dict[str, float]:
    return {
        "R@1": recall_at_k(ranked, relevant, 1),
        "R@5": recall_at_k(ranked, relevant, 5),
        "R@10": recall_at_k(ranked, relevant, 10),
        "RR@10": reciprocal_rank(ranked, relevant, 10),
        "nDCG@10": ndcg_at_k(ranked, relevant, 10),
        "Success@1": hit_at_k(ranked, relevant, 1),
        "Success@5": hit_at_k(ranked, relevant, 5),
    }


HAND_BUILT_RUNS = [
    pytest.param(["a", "b", "c"], {"a"}, id="relevant-first"),
    pytest.param(["x", "a", "y"], {"a", "b"}, id="one-of-two-at-rank-2"),
    pytest.param(["x", "y", "z", "w", "v", "a"], {"a"}, id="relevant-at-rank-6"),
    pytest.param([f"n{i}" for i in range(10)] + ["a"], {"a"}, id="relevant-at-rank-11"),
    pytest.param(["b", "x", "a", "y", "c"], {"a", "b", "c"}, id="three-relevant-spread"),
    pytest.param(["x", "y"], {"a"}, id="no-relevant-retrieved"),
    pytest.param([f"r{i}" for i in range(12)], {f"r{i}" for i in range(12)}, id="more-relevant-than-k"),
]


@pytest.mark.parametrize(("ranked", "relevant"), HAND_BUILT_RUNS)
def test_ranking_metrics_match_ir_measures(ranked, relevant):
    expected = reference(ranked, relevant)
    for name, value in ours(ranked, relevant).items():
        assert value == pytest.approx(expected[name]), name


@settings(max_examples=60, deadline=None)
@given(
    ranked=st.lists(st.sampled_from("abcdefghijklmnop"), max_size=14, unique=True),
    relevant=st.sets(st.sampled_from("abcdefghijklmnop"), min_size=1, max_size=5),
)
def test_ranking_metrics_match_ir_measures_on_random_runs(ranked, relevant):
    expected = reference(ranked, relevant)
    for name, value in ours(ranked, relevant).items():
        assert value == pytest.approx(expected[name]), name


def test_repeated_provision_counts_once_at_its_best_rank():
    # Two passages of 'x' retrieved: the second must not push 'a' out of the top 2.
    with_repeats = ["x", "x", "a", "b"]
    assert dedupe(with_repeats) == ["x", "a", "b"]
    assert recall_at_k(with_repeats, {"a"}, 2) == 1.0
    assert reciprocal_rank(with_repeats, {"a"}) == 0.5
    assert ndcg_at_k(with_repeats, {"a"}) == pytest.approx(reference(["x", "a", "b"], {"a"})["nDCG@10"])
    assert recall_at_k(["a", "a", "a"], {"a", "b"}, 10) == 0.5


@pytest.mark.parametrize(
    ("ranked", "relevant", "recall5", "rr", "ndcg"),
    [
        ([], {"a"}, 0.0, 0.0, 0.0),
        (["x", "y", "z"], {"a"}, 0.0, 0.0, 0.0),
        (["a"], {"a"}, 1.0, 1.0, 1.0),
        (["a", "b"], {"a", "b"}, 1.0, 1.0, 1.0),
    ],
    ids=["empty-ranking", "no-relevant-retrieved", "single-perfect", "two-perfect"],
)
def test_ranking_edge_cases(ranked, relevant, recall5, rr, ndcg):
    assert recall_at_k(ranked, relevant, 5) == recall5
    assert reciprocal_rank(ranked, relevant) == rr
    assert ndcg_at_k(ranked, relevant) == pytest.approx(ndcg)


@pytest.mark.parametrize("metric", [lambda: recall_at_k(["a"], set(), 5), lambda: reciprocal_rank(["a"], []), lambda: ndcg_at_k(["a"], []), lambda: citation_recall(["a"], [])])
def test_ranking_without_relevant_provisions_is_refused(metric):
    with pytest.raises(ValueError, match="relevant"):
        metric()


@pytest.mark.parametrize(
    ("document", "provision", "key"),
    [
        ("etra-2006", "2.6.9(1A)", "etra-2006/2.6.9"),
        ("etra-2006", "2.6.9(1A)(a)", "etra-2006/2.6.9"),
        ("etra-2006", "2.6.9", "etra-2006/2.6.9"),
        ("etra-2006", "Sch 2 cl 2(3)", "etra-2006/Sch 2 cl 2"),
        ("etra-2006", "Sch 2", "etra-2006/Sch 2"),
        ("vet-clusters", "4", "vet-clusters/4"),
    ],
)
def test_provision_key_drops_pinpoints(document, provision, key):
    assert provision_key(document, provision) == key


@pytest.mark.parametrize(
    ("cited", "expected", "precision", "recall"),
    [
        ({"a"}, {"a"}, 1.0, 1.0),
        ({"a", "x"}, {"a"}, 0.5, 1.0),
        ({"a"}, {"a", "b"}, 1.0, 0.5),
        ({"x"}, {"a"}, 0.0, 0.0),
        (set(), {"a"}, 0.0, 0.0),
        (["a", "a", "x"], {"a"}, 0.5, 1.0),
    ],
    ids=["exact", "one-extra", "one-missing", "wrong", "no-citations", "repeated-citation"],
)
def test_citation_precision_and_recall(cited, expected, precision, recall):
    assert citation_precision(cited, expected) == precision
    assert citation_recall(cited, expected) == recall


@pytest.mark.parametrize(
    ("answer", "facts", "recall"),
    [
        ("Children aged 6 to 17 must attend.", ["17"], 1.0),
        ("A NON‑GOVERNMENT school (s 1.1.3)", ["non-government school"], 1.0),
        ("within 5\nseparate   days", ["5 separate days"], 1.0),
        ("the Minister’s approval", ["Minister's approval"], 1.0),
        ("the Minister may approve", ["Minister", "Secretary"], 0.5),
        ("", ["17"], 0.0),
        ("anything", [], None),
    ],
    ids=["number", "non-breaking-hyphen-and-case", "whitespace", "curly-apostrophe", "half", "empty-answer", "no-facts"],
)
def test_key_fact_recall(answer, facts, recall):
    assert key_fact_recall(answer, facts) == recall


def test_normalise_text_unifies_dashes_and_spaces():
    assert normalise_text("  Early\u2013childhood   SERVICE\u2014x ") == "early-childhood service-x"


@pytest.mark.parametrize(
    ("answerable", "abstained", "cites_expected", "score"),
    [
        (True, False, True, 1),
        (True, True, False, 0),
        (True, False, False, -1),
        (False, True, False, 1),
        (False, False, False, -1),
    ],
    ids=["answerable-correct", "answerable-abstained", "answerable-wrong-citation", "unanswerable-abstained", "unanswerable-answered"],
)
def test_crag_score(answerable, abstained, cites_expected, score):
    assert crag_score(answerable, abstained, cites_expected) == score


@pytest.mark.parametrize(
    ("values", "q", "result"),
    [([], 50, None), ([7.0], 95, 7.0), ([1.0, 2.0, 3.0, 4.0], 50, 2.5), ([float(v) for v in range(1, 101)], 95, 95.05)],
)
def test_percentile_matches_numpy_linear(values, q, result):
    assert percentile(values, q) == (pytest.approx(result) if result is not None else None)


def test_score_item_counts_pinpointed_hits_and_citations_at_provision_level():
    score = score_item(
        answerable=True,
        expected=["etra-2006/2.6.9"],
        ranked=["etra-2006/2.6.9(1A)", "etra-2006/2.6.10"],
        cited=["etra-2006/2.6.9(1A)(a)"],
        abstained=False,
        answer_text="A teacher must be registered.",
        key_facts=["registered"],
        latency_ms=12.0,
    )
    assert (score.recall_1, score.mrr_10, score.citation_precision, score.key_fact_recall, score.crag) == (1.0, 1.0, 1.0, 1.0, 1)


def test_abstention_on_an_answerable_item_counts_once_as_false_abstention():
    score = score_item(
        answerable=True, expected=["etra-2006/2.1.1"], ranked=["etra-2006/2.1.1"], cited=[], abstained=True, answer_text="", key_facts=["17"], latency_ms=5.0
    )
    assert score.recall_1 == 1.0
    assert (score.citation_precision, score.key_fact_recall, score.crag) == (None, None, 0)


def test_aggregate_reports_abstention_rates_and_leaves_inapplicable_metrics_empty():
    answered = score_item(answerable=True, expected=["d/1"], ranked=["d/2", "d/1"], cited=["d/1"], abstained=False, answer_text="x", key_facts=[], latency_ms=10.0)
    abstained = score_item(answerable=True, expected=["d/1"], ranked=[], cited=[], abstained=True, answer_text="", key_facts=[], latency_ms=20.0)
    refused = score_item(answerable=False, expected=[], ranked=["d/3"], cited=[], abstained=True, answer_text="", key_facts=[], latency_ms=30.0)
    guessed = score_item(answerable=False, expected=[], ranked=["d/3"], cited=["d/3"], abstained=False, answer_text="y", key_facts=[], latency_ms=40.0)
    summary = aggregate([answered, abstained, refused, guessed])
    assert summary["mrr@10"] == pytest.approx(0.25)
    assert summary["abstention_recall"] == 0.5
    assert summary["false_abstention_rate"] == 0.5
    assert summary["crag_score"] == pytest.approx((1 + 0 + 1 - 1) / 4)
    assert summary["key_fact_recall"] is None
    assert summary["latency_p50_ms"] == pytest.approx(25.0)
    only_answerable = aggregate([answered])
    assert only_answerable["abstention_recall"] is None
    assert aggregate([])["recall@5"] is None


def test_short_answers_are_scored_for_key_facts_and_numbers_in_the_quotes():
    common = dict(answerable=True, expected=["d/1"], ranked=["d/1"], cited=["d/1"], abstained=False, answer_text="“aged 6 to 17” [1]", key_facts=["17"], latency_ms=1.0)
    quotes = "not less than 6 nor more than 17 years of age"
    right = score_item(**common, short_answer="Until 17 [1].", short_by="model", quotes=quotes)
    wrong = score_item(**common, short_answer="Until 18 [1].", short_by="model", quotes=quotes)
    missing = score_item(**common, short_answer=None, quotes=quotes)
    assert (right.short_answered, right.short_key_fact_recall, right.short_by_model, right.short_numbers_in_quotes) == (True, 1.0, True, True)
    assert (wrong.short_key_fact_recall, wrong.short_numbers_in_quotes) == (0.0, False)
    assert (missing.short_answered, missing.short_key_fact_recall, missing.short_numbers_in_quotes) == (False, None, None)
    summary = aggregate([right, wrong, missing])
    assert summary["short_answer_rate"] == pytest.approx(2 / 3) and summary["short_numbers_in_quotes"] == 0.5
