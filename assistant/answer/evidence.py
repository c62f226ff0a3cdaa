"""Evidence: the question's segments scored, and the abstention decision that rests on them.

A segment's score mixes meaning (cosine similarity under the embedding model),
wording (idf-weighted overlap of content words) and where retrieval ranked its
provision; no one of them is reliable alone. How each weight, margin and the
threshold were chosen: see docs/experiments.md, answer stage.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from assistant.answer.segments import Segment
from assistant.patterns import HAS_NUMBER_RE
from assistant.records import Hit

# Segment score: ``SEMANTIC_WEIGHT * semantic + LEXICAL_WEIGHT * lexical + PRIOR_WEIGHT * prior``,
# plus ``NUMBER_BONUS`` for a segment stating a quantity when the question asks for a number.
SEMANTIC_WEIGHT = 0.55
LEXICAL_WEIGHT = 0.30
PRIOR_WEIGHT = 0.15
NUMBER_BONUS = 0.05
# Abstention: support is the mean similarity of this many closest segments, weighted with key terms.
SUPPORT_SEGMENTS = 5
SUPPORT_SEMANTIC_WEIGHT = 0.85
# Extra support needed by a question naming something the corpus never mentions ('Geelong').
UNKNOWN_NAME_MARGIN = 0.08


@dataclass(frozen=True)
class Scored:
    segment: Segment
    semantic: float
    lexical: float
    prior: float
    score: float
    has_number: bool
    # For a question in two parts: the score against its second part alone.
    second_part_score: float | None = None


def score_segment(segment: Segment, semantic: float, lexical: float, prior: float, wants_number: bool) -> Scored:
    """The segment's score from its three signals, with the bonus for a quantity when a number is asked for."""
    has_number = bool(HAS_NUMBER_RE.search(f"{segment.lead_text} {segment.text}"))
    score = SEMANTIC_WEIGHT * semantic + LEXICAL_WEIGHT * lexical + PRIOR_WEIGHT * prior + (NUMBER_BONUS if wants_number and has_number else 0.0)
    return Scored(segment, semantic, lexical, prior, score, has_number)


@dataclass
class Evidence:
    """The scored segments for one question, and the signals abstention rests on (see ``should_abstain``)."""

    question: str
    hits: list[Hit]
    ranked: list[Scored]
    wants_number: bool
    definitions: list[Scored] = field(default_factory=list)
    key_terms: float = 1.0
    named: bool = False
    missing_fact: str | None = None
    unknown_names: list[str] = field(default_factory=list)

    @property
    def sentence_support(self) -> float:
        """Mean cosine similarity of the question with its five closest segments."""
        closest = sorted((s.semantic for s in self.ranked), reverse=True)[:SUPPORT_SEGMENTS]
        return float(np.mean(closest)) if closest else 0.0

    @property
    def support(self) -> float:
        return SUPPORT_SEMANTIC_WEIGHT * self.sentence_support + (1 - SUPPORT_SEMANTIC_WEIGHT) * self.key_terms

    def threshold_for(self, threshold: float) -> float:
        """The support a question needs: more when it names something the corpus never mentions."""
        return threshold + (UNKNOWN_NAME_MARGIN if self.unknown_names else 0.0)

    def abstain_reason(self, threshold: float) -> str | None:
        """Why the assistant should not answer from this evidence, or None when it should answer."""
        if not self.ranked:
            return "nothing was retrieved"
        if self.named:
            return None
        if self.missing_fact:
            return f"the question asks for {self.missing_fact} and the closest provisions state none"
        needed = self.threshold_for(threshold)
        if self.support < needed:
            unknown = f" (the law never mentions {', '.join(self.unknown_names)})" if self.unknown_names else ""
            return f"support {self.support:.2f} is below the threshold {needed:.2f}{unknown}"
        return None

    def should_abstain(self, threshold: float) -> bool:
        """Abstain when nothing was found, when the question asks for a kind of fact the
        evidence does not hold, or when the evidence's support is below the threshold.

        ``support = 0.85 * sentence_support + 0.15 * key_terms`` where

        * ``sentence_support`` is the mean cosine similarity between the question
          and the five segments of the top retrieved provisions closest to it:
          does the law say something close to what was asked, in more than one place?
        * ``key_terms`` is 1 minus the idf (as a share of the largest idf) of the
          rarest question word missing from the top three provisions: is the
          question's most specific word in the evidence at all?

        Two more signals, each general rather than about particular questions:

        * ``missing_fact``: the question asks for a sum of money, a calendar date
          or this year's arrangements, a count in a given unit ("how many days")
          or a ratio, and the top three provisions contain no such fact. Quoting
          "a fee fixed by the Minister" does not answer "How much is the fee this year?".
        * ``unknown_names``: the question names something the corpus never
          mentions (a town, a program such as NAPLAN; acronyms of names the Act
          spells out, such as VCAA, count as known). Such a question needs
          ``UNKNOWN_NAME_MARGIN`` more support: the law may still answer it in
          general words ("a communication platform" for Facebook), so this only
          raises the bar.

        A question that names a provision that exists ("What does s 6.1.3
        provide?") is never abstained on: the retriever looked it up and the
        answer quotes it.

        The threshold is the highest that refuses at most one answerable
        development question: a refusal costs staff an answer, while an answer
        to an unanswerable question still only quotes real, cited law. The sweep
        and the signals compared are in docs/experiments.md, answer stage.
        """
        return self.abstain_reason(threshold) is not None
