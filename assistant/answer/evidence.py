"""Evidence: the question's segments scored, and the signals the abstention decision weighs.

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
# The share of a segment's lexical match its provision's heading can give: every segment of a provision
# shares the heading, so its words help the question find the provision but cannot tell its segments
# apart; a segment saying the question's words itself ranks above its siblings (chosen on bank dev).
HEADING_WORDS_WEIGHT = 0.5
# Support, one of the abstention decision's signals: the mean similarity of this many closest
# segments, weighted with key terms.
SUPPORT_SEGMENTS = 5
SUPPORT_SEMANTIC_WEIGHT = 0.85


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
    """The scored segments for one question, and the signals the abstention decision weighs (``assistant.answer.abstention``).

    ``support`` (does the law say something close to what was asked, in more than one place?),
    ``key_terms`` (is the question's rarest word in the top three provisions at all?),
    ``missing_fact`` (a sum of money, a date, a count or a ratio asked for and none stated),
    ``unknown_names`` (a name the corpus never uses), ``named`` (the question names an
    existing provision, which is always answered) and ``defined`` (it asks what a term means
    and the first provision defines that term, which the model never refuses).
    """

    question: str
    hits: list[Hit]
    ranked: list[Scored]
    wants_number: bool
    definitions: list[Scored] = field(default_factory=list)
    key_terms: float = 1.0
    named: bool = False
    defined: bool = False
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
