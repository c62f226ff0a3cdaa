"""Fusion: pure functions that combine the first stage's signals and scale scores for the second.

No state and no models, so each is table-tested (tests/test_retrieve.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def reciprocal_rank_fusion(rankings: Sequence[Sequence[str]], k: int = 60, weights: Sequence[float] | None = None) -> dict[str, float]:
    """Reciprocal rank fusion: score(d) = Σ_i w_i / (k + rank_i(d)), ranks from 1.

    Cormack, Clarke & Büttcher (2009), "Reciprocal rank fusion outperforms Condorcet
    and individual rank learning methods", SIGIR. k = 60 is their constant; it damps
    the influence of the very top ranks so one signal cannot dominate alone.
    """
    weights = weights or [1.0] * len(rankings)
    fused: dict[str, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        for rank, key in enumerate(ranking, start=1):
            fused[key] = fused.get(key, 0.0) + weight / (k + rank)
    return fused


def min_max(scores: Mapping[str, float]) -> dict[str, float]:
    """Scale scores to [0, 1] over the candidates; a constant list maps to 1."""
    if not scores:
        return {}
    low, high = min(scores.values()), max(scores.values())
    span = high - low
    return {key: (value - low) / span if span > 0 else 1.0 for key, value in scores.items()}


def weighted_fusion(signals: Sequence[Mapping[str, float]], weights: Sequence[float]) -> dict[str, float]:
    """Weighted CombSUM of min-max normalised scores (Fox & Shaw 1994; Lee 1997).

    A candidate missing from a signal's list gets 0 for it, the bottom of that signal's range.
    """
    fused: dict[str, float] = {}
    for scores, weight in zip(signals, weights, strict=True):
        for key, value in min_max(scores).items():
            fused[key] = fused.get(key, 0.0) + weight * value
    return fused


def ranking(scores: Mapping[str, float]) -> list[str]:
    """Keys best first; ties broken by key so results are reproducible."""
    return sorted(scores, key=lambda key: (-scores[key], key))
