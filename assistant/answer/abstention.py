"""The learned abstention decision: how likely it is that the sources do not answer a question.

Hand rules fitted to a few dozen questions misfired on new wording (a "date"
found in "what can we do", a weekday the law never mentions). Here the same
signals, and the cross-encoder's reading of the top candidates, are weighed by
a logistic regression fitted on the question bank's train split
(``assistant abstention fit``) and its threshold calibrated on dev to a bounded
false-abstention rate. The shipped model is a small JSON file verified by
sha256 before use. Signals that track how a question is written rather than
what it asks (its length, how close its single best sentence is) were left
out: in the bank they separated the writers' styles, and a plain short
question was refused for it (docs/experiments.md, abstention).

An abstention has a kind, told to staff in one plain sentence
(``STAFF_REASONS``), with the technical detail kept apart for administrators.
The question's own words give two kinds: advice or an opinion asked for, and
another jurisdiction's law; the answerer adds "delegated" when the provision it
would quote leaves the matter to another instrument and the question asks for a
detail such an instrument holds
(``assistant.answer.compose.delegation_in``); anything else is "not in the sources".
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from assistant.answer.evidence import Evidence
from assistant.errors import ModelError
from assistant.models import verify_sha256
from assistant.patterns import (
    DELEGATION_RE,
    DETAIL_ASKED_RE,
    ELSEWHERE_CUE_RE,
    ELSEWHERE_LAW_RE,
    advice_asked,
    advice_cue,
)
from assistant.records import AbstainKind
from assistant.settings import ABSTENTION_MODEL_SHA256, PACKAGE_DATA, Settings

SHIPPED_ABSTENTION_MODEL = PACKAGE_DATA / "abstention.json"
FEATURES = (
    "support",
    "sentence_support",
    "key_terms",
    "missing_fact",
    "unknown_name",
    "cross_encoder_ran",
    "cross_encoder_top",
    "cross_encoder_margin",
    "rerank_margin",
    "fused_top",
    "dense_top",
    "bm25_top",
    "advice_cue",
    "elsewhere_cue",
    "delegation_best",
)
# What staff are told, one plain sentence per kind ("{what}": the instrument a delegated matter is left to).
STAFF_REASONS: dict[str, str] = {
    "not_in_sources": "Neither the Act nor the VET clusters policy page says this.",
    "delegated": "The Act leaves this to {what}; the detail is not in the Act or the VET clusters policy page.",
    "advice_or_opinion": "This asks for advice or an opinion on a particular situation; the sources say what the law is, so this needs legal advice.",
    "out_of_jurisdiction": "This is about another state's or the Commonwealth's law; the sources are Victoria's Act and the VET clusters policy page.",
}


@dataclass(frozen=True)
class Abstention:
    """A decision not to answer: its kind (``STAFF_REASONS`` says it to staff) and the detail for administrators."""

    kind: AbstainKind
    detail: str


def kind_of(question: str, delegated: bool) -> AbstainKind:
    """Why the sources do not answer: advice or an opinion asked for, another jurisdiction's law
    (the question's own words), a matter left to another instrument, or else not in the sources."""
    if advice_asked(question):
        return "advice_or_opinion"
    if ELSEWHERE_CUE_RE.search(question) or ELSEWHERE_LAW_RE.search(question):
        return "out_of_jurisdiction"
    return "delegated" if delegated else "not_in_sources"


def abstention_features(evidence: Evidence) -> dict[str, float]:
    """The signals the decision weighs, from the evidence and the retrieved hits' scores."""
    hits = evidence.hits
    top = hits[0].scores if hits else {}
    read = [h.scores["cross_encoder"] for h in hits if "cross_encoder" in h.scores]
    rerank = [h.scores.get("rerank", 0.0) for h in hits[:2]]
    return {
        "support": evidence.support,
        "sentence_support": evidence.sentence_support,
        "key_terms": evidence.key_terms,
        "missing_fact": float(evidence.missing_fact is not None),
        "unknown_name": float(bool(evidence.unknown_names)),
        "cross_encoder_ran": float("cross_encoder" in top),
        "cross_encoder_top": top.get("cross_encoder", 0.0),
        "cross_encoder_margin": top["cross_encoder"] - max(read[1:], default=top["cross_encoder"]) if "cross_encoder" in top else 0.0,
        "rerank_margin": rerank[0] - rerank[1] if len(rerank) == 2 else 0.0,
        "fused_top": max((h.scores.get("fused", 0.0) for h in hits), default=0.0),
        "dense_top": max((h.scores.get("dense", 0.0) for h in hits), default=0.0),
        "bm25_top": math.log1p(max((h.scores.get("bm25", 0.0) for h in hits), default=0.0)),
        "advice_cue": float(bool(advice_cue(evidence.question))),
        "elsewhere_cue": float(bool(ELSEWHERE_CUE_RE.search(evidence.question))),
        "delegation_best": float(bool(evidence.ranked) and bool(DELEGATION_RE.search(evidence.ranked[0].segment.reading_text))),
    }


@dataclass(frozen=True)
class AbstentionModel:
    """Standardised features, one weight each, a bias, and the calibrated threshold on the probability."""

    weights: dict[str, float]
    bias: float
    means: dict[str, float]
    scales: dict[str, float]
    threshold: float
    trained_on: dict

    def probability(self, features: dict[str, float]) -> float:
        """Probability that the sources do not answer the question."""
        z = self.bias + sum(w * (features[name] - self.means[name]) / self.scales[name] for name, w in self.weights.items())
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def strongest(self, features: dict[str, float]) -> str:
        """The feature pushing hardest toward abstaining, for the administrators' reason text."""
        return max(self.weights, key=lambda name: self.weights[name] * (features[name] - self.means[name]) / self.scales[name])

    def to_json(self) -> str:
        body = {"features": list(self.weights), "weights": self.weights, "bias": self.bias, "means": self.means, "scales": self.scales, "threshold": self.threshold, "trained_on": self.trained_on}
        return json.dumps(body, indent=2) + "\n"

    @classmethod
    def from_file(cls, path: Path) -> AbstentionModel:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(data["weights"], float(data["bias"]), data["means"], data["scales"], float(data["threshold"]), data.get("trained_on", {}))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ModelError(f"{path}: unreadable abstention model ({exc}); restore it with `git checkout -- {path}` or run `assistant abstention fit`") from exc


class AbstentionDecision:
    """The configured abstention model, verified and read once."""

    def __init__(self, settings: Settings):
        configured = settings.abstention_model.strip()
        self.path = Path(configured).expanduser() if configured else SHIPPED_ABSTENTION_MODEL
        self.expected_sha256 = "" if configured else ABSTENTION_MODEL_SHA256
        self.threshold_override = settings.abstain_threshold

    @cached_property
    def model(self) -> AbstentionModel:
        if not self.path.is_file():
            raise ModelError(f"abstention model {self.path} is missing; restore it with `git checkout -- {self.path}` or run `assistant abstention fit`")
        verify_sha256(self.path, self.expected_sha256, f"Restore it with `git checkout -- {self.path}`.", against="the shipped model's (settings.ABSTENTION_MODEL_SHA256)")
        model = AbstentionModel.from_file(self.path)
        if set(model.weights) != set(FEATURES):
            raise ModelError(f"{self.path}: the model weighs {sorted(model.weights)}, not this version's features; run `assistant abstention fit`")
        return model

    @property
    def threshold(self) -> float:
        return self.model.threshold if self.threshold_override is None else self.threshold_override

    def decide(self, evidence: Evidence, delegation: str | None = None, figure_stated: bool = False) -> Abstention | None:
        """Why not to answer, or None to answer.

        ``delegation`` names words in the provision the answer would quote that leave
        the matter asked about to another instrument ("'any Ministerial Order' in
        s 2.2.19(1)"). Besides the model's probability, three rules refuse (each kept
        for what it did on bank dev, docs/experiments.md): a question asking for advice
        or an opinion, one naming another jurisdiction's law, and one asking for a detail
        (an amount, a period, what something must contain) that such words leave
        elsewhere, unless it asks for a number the delegating provision states itself
        (``figure_stated``: "4 years or any other period specified in a Ministerial Order";
        "at least 5 full days" beside "any guidelines issued by the Minister"). A question naming an existing provision is always answered, and a
        threshold above 1 turns abstention off. Nor does the model refuse a question asking what
        a term means when the first provision defines that very term (``evidence.defined``): the
        Act's own definition answers it, whatever the margins say; the rules still apply.
        """
        question = evidence.question
        if not evidence.ranked:
            return Abstention(kind_of(question, False), "nothing was retrieved")
        if evidence.named or self.threshold > 1:
            return None
        features = abstention_features(evidence)
        p = self.model.probability(features)
        # Refused by the model, the matter is called delegated only when a detail such words leave elsewhere is asked for.
        asked = DETAIL_ASKED_RE.search(question)
        kind = kind_of(question, delegation is not None and asked is not None)
        if p >= self.threshold and not evidence.defined:
            detail = f"the sources do not appear to answer this (unanswerable probability {p:.2f}, threshold {self.threshold:.2f}; strongest signal: {self.model.strongest(features)})"
        elif kind == "advice_or_opinion":
            detail = f"the question asks for advice or an opinion ('{advice_asked(question).group(0)}'; unanswerable probability {p:.2f})"
        elif kind == "out_of_jurisdiction" and (law := ELSEWHERE_LAW_RE.search(question)):
            detail = f"the question names another jurisdiction's law ('{law.group(0).strip()}'; unanswerable probability {p:.2f})"
        elif delegation is not None and not (figure_stated and evidence.wants_number) and asked is not None:
            kind, detail = "delegated", f"the question asks for a detail ('{asked.group(0)}') the Act leaves to another instrument (unanswerable probability {p:.2f})"
        else:
            return None
        return Abstention(kind, f"{detail}; delegating words: {delegation}" if kind == "delegated" else detail)
