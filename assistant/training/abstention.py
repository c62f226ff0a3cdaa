"""Fit the abstention decision on the question bank: features on train, a logistic regression, a threshold calibrated on dev.

Every question is run through retrieval and the evidence stage exactly as
``Assistant.ask`` would (a follow-up rewritten with the question it follows),
so the model learns from the signals it will see in use. The fit is L2-regularised
logistic regression by Newton's method on standardised features: a few
hundred labelled questions suffice, and every weight can be read. The
threshold is the lowest probability at which dev's false-abstention rate stays
within ``max_false_abstention``, which keeps the most unanswerable questions refused.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from assistant.answer.abstention import FEATURES, AbstentionModel, abstention_features
from assistant.answer.extractive import ExtractiveAnswerer
from assistant.evaluation.gold import GoldItem
from assistant.question import rewrite_follow_up
from assistant.retrieve import Retriever

L2 = 1.0


@dataclass(frozen=True)
class Labelled:
    """One question's features and whether the sources leave it unanswered."""

    item_id: str
    features: dict[str, float]
    unanswerable: bool
    named: bool


def labelled_features(retriever: Retriever, extractive: ExtractiveAnswerer, items: Iterable[GoldItem], progress: bool = False) -> list[Labelled]:
    """Each question's features as ``Assistant.ask`` would see them (no abstention model needed: it is what is being fitted)."""
    from tqdm.auto import tqdm

    items = list(items)
    questions = {item.id: item.question for item in items}
    out = []
    for item in tqdm(items, desc="abstention features", disable=not progress):
        history = [(questions[item.follow_up_of], "")] if item.follow_up_of in questions else None
        question = rewrite_follow_up(item.question, history) or item.question
        hits = retriever.retrieve(question)
        evidence = extractive.evidence(question, hits)
        out.append(Labelled(item.id, abstention_features(evidence), not item.answerable, evidence.named))
    return out


def _matrix(rows: Sequence[Labelled]) -> tuple[np.ndarray, np.ndarray]:
    x = np.array([[row.features[name] for name in FEATURES] for row in rows], dtype=np.float64)
    y = np.array([float(row.unanswerable) for row in rows])
    return x, y


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = L2, iterations: int = 50) -> tuple[np.ndarray, float]:
    """Weights and bias of an L2-regularised logistic regression (the bias is not penalised), by Newton's method."""
    design = np.hstack([x, np.ones((len(x), 1))])
    theta = np.zeros(design.shape[1])
    penalty = np.full(design.shape[1], l2)
    penalty[-1] = 0.0
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(design @ theta, -30, 30)))
        gradient = design.T @ (p - y) + penalty * theta
        hessian = design.T @ (design * (p * (1 - p))[:, None]) + np.diag(penalty) + 1e-9 * np.eye(len(theta))
        step = np.linalg.solve(hessian, gradient)
        theta -= step
        if np.max(np.abs(step)) < 1e-8:
            break
    return theta[:-1], float(theta[-1])


def calibrate(probabilities: np.ndarray, unanswerable: np.ndarray, max_false_abstention: float) -> float:
    """The lowest threshold whose false-abstention rate on these questions is at most the bound."""
    answerable = probabilities[~unanswerable]
    if len(answerable) == 0:
        return 0.5
    allowed = int(np.floor(max_false_abstention * len(answerable)))
    ordered = np.sort(answerable)[::-1]
    # Refusing every answerable question scoring at or above the threshold: keep at most `allowed` of them.
    return float(ordered[allowed] + 1e-9) if allowed < len(ordered) else 0.0


def fit_abstention(train: Sequence[Labelled], dev: Sequence[Labelled], max_false_abstention: float, trained_on: dict) -> AbstentionModel:
    """Fit on train (questions naming a provision are always answered, so they teach nothing), calibrate on dev."""
    usable = [row for row in train if not row.named]
    x, y = _matrix(usable)
    means, scales = x.mean(axis=0), x.std(axis=0)
    scales[scales == 0] = 1.0
    weights, bias = fit_logistic((x - means) / scales, y)
    model = AbstentionModel(
        weights={name: float(w) for name, w in zip(FEATURES, weights, strict=True)},
        bias=bias,
        means={name: float(m) for name, m in zip(FEATURES, means, strict=True)},
        scales={name: float(s) for name, s in zip(FEATURES, scales, strict=True)},
        threshold=0.5,
        trained_on=trained_on,
    )
    scored = [row for row in dev if not row.named]
    probabilities = np.array([model.probability(row.features) for row in scored])
    threshold = calibrate(probabilities, np.array([row.unanswerable for row in scored]), max_false_abstention)
    return replace(model, threshold=threshold, trained_on={**trained_on, "max_false_abstention_on_dev": max_false_abstention})


def rates(model: AbstentionModel, rows: Sequence[Labelled]) -> tuple[float, float]:
    """(abstention recall, false-abstention rate) of the model on labelled questions, named ones always answered."""
    abstains = [not row.named and model.probability(row.features) >= model.threshold for row in rows]
    unanswerable = [a for a, row in zip(abstains, rows, strict=True) if row.unanswerable]
    answerable = [a for a, row in zip(abstains, rows, strict=True) if not row.unanswerable]
    return (sum(unanswerable) / max(1, len(unanswerable)), sum(answerable) / max(1, len(answerable)))
