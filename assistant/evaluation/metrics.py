"""Evaluation metrics: pure functions over provision ids, answer text and abstention flags.

Everything here works on plain strings and numbers so it can be checked against
a reference implementation (ir-measures, see tests/test_metrics.py) and reused by
any harness. Provisions are compared at provision level: a hit or citation on
``etra-2006/2.6.9(1A)`` counts for ``etra-2006/2.6.9``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

from assistant.answer.claims import stated_numbers

# A pinpoint hanging off a provision id: "2.6.9(1A)(a)", "Sch 2 cl 2(3)".
_PINPOINT_RE = re.compile(r"\s*\(.*$")
# Every hyphen and dash a drafter or a model might type, so "non-government"
# and "non‑government" (non-breaking hyphen) compare equal.
_DASHES_RE = re.compile(r"[\u002d\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d]")
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201b": "'", "\u201c": '"', "\u201d": '"', "\u00a0": " "})
_WHITESPACE_RE = re.compile(r"\s+")


def provision_key(document_id: str, provision_id: str) -> str:
    """The provision-level key ``document/provision`` with any pinpoint removed.

    >>> provision_key("etra-2006", "2.6.9(1A)(a)")
    'etra-2006/2.6.9'
    """
    return provision_level(f"{document_id}/{provision_id.strip()}")


def provision_level(key: str) -> str:
    """Drop the pinpoint from a ``document/provision`` key: ``etra-2006/2.6.9(1A)`` → ``etra-2006/2.6.9``."""
    return _PINPOINT_RE.sub("", key.strip())


def dedupe(ranked: Iterable[str]) -> list[str]:
    """Keep each provision at its first (best) rank.

    Several passages of one provision may be retrieved; a provision is relevant
    once, so later repeats neither add recall nor push other provisions down.
    """
    seen: set[str] = set()
    out: list[str] = []
    for key in ranked:
        if key not in seen:
            seen.add(key)
            out.append(key)
    return out


def _check_relevant(relevant: Iterable[str]) -> set[str]:
    wanted = set(relevant)
    if not wanted:
        raise ValueError("ranking metrics need at least one relevant provision; score unanswerable items with abstention metrics")
    return wanted


def recall_at_k(ranked: Sequence[str], relevant: Iterable[str], k: int) -> float:
    """Share of the relevant provisions found in the first ``k`` distinct ranks.

    Same definition as trec_eval ``recall_k`` / ir-measures ``R@k``:
    |relevant ∩ top-k| / |relevant|.
    """
    wanted = _check_relevant(relevant)
    return len(wanted.intersection(dedupe(ranked)[:k])) / len(wanted)


def hit_at_k(ranked: Sequence[str], relevant: Iterable[str], k: int) -> float:
    """1 when any relevant provision is in the first ``k`` distinct ranks: "an answering provision in the top k".

    This is what the reports call recall@k for a question with several acceptable
    provisions (any one of them answers it); ``recall_at_k`` asks for all of them.
    """
    wanted = _check_relevant(relevant)
    return float(bool(wanted.intersection(dedupe(ranked)[:k])))


def reciprocal_rank(ranked: Sequence[str], relevant: Iterable[str], k: int = 10) -> float:
    """1 / rank of the first relevant provision within the first ``k``, else 0.

    Mean reciprocal rank (Voorhees, TREC-8 QA track, 1999); matches ir-measures ``RR@k``.
    """
    wanted = _check_relevant(relevant)
    for rank, key in enumerate(dedupe(ranked)[:k], start=1):
        if key in wanted:
            return 1.0 / rank
    return 0.0


def ndcg_at_k(ranked: Sequence[str], relevant: Iterable[str], k: int = 10) -> float:
    """Normalised discounted cumulative gain at ``k`` with binary gains.

    Järvelin & Kekäläinen (2002), in the trec_eval ``ndcg_cut`` form that
    ir-measures ``nDCG@k`` reports: DCG = Σ gain_i / log2(i + 1) over ranks
    i = 1..k, divided by the DCG of an ideal ranking of min(|relevant|, k)
    relevant provisions. Every expected provision has gain 1.
    """
    wanted = _check_relevant(relevant)
    dcg = sum(1.0 / math.log2(rank + 1) for rank, key in enumerate(dedupe(ranked)[:k], start=1) if key in wanted)
    ideal = sum(1.0 / math.log2(rank + 1) for rank in range(1, min(len(wanted), k) + 1))
    return dcg / ideal


def citation_precision(cited: Iterable[str], expected: Iterable[str]) -> float:
    """Share of the distinct provisions an answer cites that are expected.

    An answer that gives no citation at all scores 0: for this assistant an
    uncited statement of law is a failure, not a neutral outcome. Callers only
    score answerable items the assistant did not abstain on.
    """
    cited_set, wanted = set(cited), _check_relevant(expected)
    if not cited_set:
        return 0.0
    return len(cited_set & wanted) / len(cited_set)


def citation_recall(cited: Iterable[str], expected: Iterable[str]) -> float:
    """Share of the expected provisions that the answer cites at least once."""
    wanted = _check_relevant(expected)
    return len(set(cited) & wanted) / len(wanted)


def normalise_text(text: str) -> str:
    """The form in which key facts are looked for: casefolded, one kind of dash and quote, single spaces."""
    text = _DASHES_RE.sub("-", text.translate(_QUOTES))
    return _WHITESPACE_RE.sub(" ", text).strip().casefold()


def key_fact_recall(answer_text: str, key_facts: Sequence[str]) -> float | None:
    """Share of key facts that occur verbatim in the answer after ``normalise_text``.

    Exact presence rather than a judge model: "17" or "5 separate days" either
    appears in what the staff member reads or it does not. ``None`` when the item
    lists no key facts, so such items do not count towards the mean.
    """
    if not key_facts:
        return None
    answer = normalise_text(answer_text)
    return sum(normalise_text(fact) in answer for fact in key_facts) / len(key_facts)


def crag_score(answerable: bool, abstained: bool, cites_expected: bool) -> int:
    """Truthfulness score in the style of CRAG (Yang et al., 2024, "CRAG – Comprehensive RAG Benchmark").

    CRAG scores a perfect answer +1, a missing answer ("I don't know") 0 and an
    incorrect one −1, so a system that guesses is worse than one that abstains.
    Here correctness is checkable without a judge:

    - answerable item: +1 if answered and at least one citation is an expected
      provision; 0 if abstained; −1 if answered citing none of them;
    - unanswerable item: +1 if abstained; −1 if answered.
    """
    if not answerable:
        return 1 if abstained else -1
    if abstained:
        return 0
    return 1 if cites_expected else -1


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0–100) by linear interpolation between order statistics.

    Hyndman & Fan (1996) definition 7, numpy's default ``method="linear"``.
    ``None`` for no values.
    """
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be within 0..100, got {q}")
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def mean(values: Iterable[float | None]) -> float | None:
    """Arithmetic mean of the values that are not ``None``; ``None`` when there are none."""
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


@dataclass(frozen=True)
class ItemScore:
    """Every per-item figure; ``None`` where a metric does not apply to the item."""

    answerable: bool
    abstained: bool
    recall_1: float | None
    recall_5: float | None
    recall_10: float | None
    mrr_10: float | None
    ndcg_10: float | None
    citation_precision: float | None
    citation_recall: float | None
    key_fact_recall: float | None
    crag: int
    latency_ms: float
    # Unanswerable items: abstained with a kind the item allows. Delegated items recording the delegating
    # provision and answered as delegated: whether the answer cites it. Any item: abstained as delegated.
    abstain_kind_right: bool | None = None
    delegation_cited: bool | None = None
    delegated: bool = False
    # Answered answerable items: whether a short answer was shown, its key facts, and whether a model wrote it.
    # Any shown short answer: whether every number it states occurs in the quotes of the answer's citations.
    short_answered: bool | None = None
    short_key_fact_recall: float | None = None
    short_by_model: bool | None = None
    short_numbers_in_quotes: bool | None = None


def score_item(
    *,
    answerable: bool,
    expected: Sequence[str],
    ranked: Sequence[str],
    cited: Sequence[str],
    abstained: bool,
    answer_text: str,
    key_facts: Sequence[str],
    latency_ms: float,
    abstain_kind: str | None = None,
    expected_kinds: Collection[str] = (),
    delegated_by: str | None = None,
    short_answer: str | None = None,
    short_by: str | None = None,
    quotes: str = "",
) -> ItemScore:
    """Score one gold item from provision keys (see ``provision_key``) and the answer.

    Which items each metric covers:

    - ranking metrics (Recall@k, MRR@10, nDCG@10): answerable items, whether or
      not the assistant abstained (retrieval happens either way);
    - citation precision/recall and key-fact recall: answerable items the
      assistant answered (an abstention is counted by the false-abstention rate
      instead, so it is not punished twice);
    - CRAG score: every item;
    - short answers: shown on answerable items answered, their key facts, who wrote them;
      every shown short answer: whether its numbers all occur in the cited quotes;
    - the abstention's kind: unanswerable items with ``expected_kinds`` (right when
      abstained with one of them); whether a delegated answer cites ``delegated_by``: items
      recording it that were answered as delegated.
    """
    expected_set = {provision_level(key) for key in expected}
    ranked_keys = [provision_level(key) for key in ranked]
    cited_keys = {provision_level(key) for key in cited}
    ranking = answerable and bool(expected_set)
    answered = ranking and not abstained
    return ItemScore(
        answerable=answerable,
        abstained=abstained,
        recall_1=recall_at_k(ranked_keys, expected_set, 1) if ranking else None,
        recall_5=recall_at_k(ranked_keys, expected_set, 5) if ranking else None,
        recall_10=recall_at_k(ranked_keys, expected_set, 10) if ranking else None,
        mrr_10=reciprocal_rank(ranked_keys, expected_set, 10) if ranking else None,
        ndcg_10=ndcg_at_k(ranked_keys, expected_set, 10) if ranking else None,
        citation_precision=citation_precision(cited_keys, expected_set) if answered else None,
        citation_recall=citation_recall(cited_keys, expected_set) if answered else None,
        key_fact_recall=key_fact_recall(answer_text, key_facts) if answered else None,
        crag=crag_score(answerable, abstained, bool(cited_keys & expected_set)),
        latency_ms=latency_ms,
        abstain_kind_right=None if answerable or not expected_kinds else abstained and abstain_kind in expected_kinds,
        delegation_cited=provision_level(delegated_by) in cited_keys if delegated_by and abstained and abstain_kind == "delegated" else None,
        delegated=abstained and abstain_kind == "delegated",
        short_answered=bool(short_answer) if answered else None,
        short_key_fact_recall=key_fact_recall(short_answer, key_facts) if answered and short_answer else None,
        short_by_model=short_by == "model" if answered and short_answer else None,
        short_numbers_in_quotes=stated_numbers(short_answer) <= stated_numbers(quotes) if short_answer else None,
    )


# The figures ``aggregate`` reports, in the order reports show them.
METRIC_NAMES: tuple[str, ...] = (
    "recall@1",
    "recall@5",
    "recall@10",
    "mrr@10",
    "ndcg@10",
    "citation_precision",
    "citation_recall",
    "key_fact_recall",
    "abstention_recall",
    "false_abstention_rate",
    "crag_score",
    "abstain_kind_accuracy",
    "delegation_cited",
    "false_delegation_rate",
    "short_answer_rate",
    "short_key_fact_recall",
    "short_by_model_rate",
    "short_numbers_in_quotes",
    "latency_p50_ms",
    "latency_p95_ms",
)


def aggregate(scores: Sequence[ItemScore]) -> dict[str, float | int | None]:
    """Macro averages over the items each metric applies to (see ``score_item``).

    - abstention recall: share of unanswerable items on which the assistant abstained;
    - false-abstention rate: share of answerable items on which it abstained;
    - CRAG score: mean of the per-item +1/0/−1 scores over all items;
    - abstention kind accuracy: share of unanswerable items abstained on with the right kind;
      delegation cited: share of delegated answers citing the item's delegating provision;
      false-delegation rate: share of answerable items answered as delegated (part of false abstention);
    - latency: p50 and p95 of the wall-clock time of one ``ask``.

    A metric with no items to average over is ``None`` (e.g. abstention recall
    on a gold file without unanswerable items), never a misleading 0 or 1.
    """
    unanswerable = [s for s in scores if not s.answerable]
    answerable = [s for s in scores if s.answerable]
    latencies = [s.latency_ms for s in scores]
    return {
        "items": len(scores),
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "recall@1": mean(s.recall_1 for s in scores),
        "recall@5": mean(s.recall_5 for s in scores),
        "recall@10": mean(s.recall_10 for s in scores),
        "mrr@10": mean(s.mrr_10 for s in scores),
        "ndcg@10": mean(s.ndcg_10 for s in scores),
        "citation_precision": mean(s.citation_precision for s in scores),
        "citation_recall": mean(s.citation_recall for s in scores),
        "key_fact_recall": mean(s.key_fact_recall for s in scores),
        "abstention_recall": mean(float(s.abstained) for s in unanswerable),
        "false_abstention_rate": mean(float(s.abstained) for s in answerable),
        "crag_score": mean(float(s.crag) for s in scores),
        "abstain_kind_accuracy": mean(None if s.abstain_kind_right is None else float(s.abstain_kind_right) for s in unanswerable),
        "delegation_cited": mean(None if s.delegation_cited is None else float(s.delegation_cited) for s in scores),
        "false_delegation_rate": mean(float(s.delegated) for s in answerable),
        "short_answer_rate": mean(None if s.short_answered is None else float(s.short_answered) for s in scores),
        "short_key_fact_recall": mean(s.short_key_fact_recall for s in scores),
        "short_by_model_rate": mean(None if s.short_by_model is None else float(s.short_by_model) for s in scores),
        "short_numbers_in_quotes": mean(None if s.short_numbers_in_quotes is None else float(s.short_numbers_in_quotes) for s in scores),
        "latency_p50_ms": percentile(latencies, 50),
        "latency_p95_ms": percentile(latencies, 95),
    }
