"""Selection: which scored segments an answer quotes, from as few provisions as answer the question.

Staff act on each citation, so a wrong extra provision costs more than a missing
secondary one: one provision answers, and a second is quoted only when the
question has two parts or the two are too close to call. The margins were
chosen on the development questions: see docs/experiments.md, answer stage.
"""

from __future__ import annotations

from dataclasses import replace

from assistant.answer.evidence import Evidence, Scored
from assistant.answer.questions import is_multi_part
from assistant.answer.segments import whole_provision

# How close another provision's segment must come, on a two-part question's second part, to the
# answering provision's best for that part, to be quoted too.
SECOND_PART_MARGIN = 0.10
# A second provision is also quoted when its best segment scores within this of the answering
# provision's best: retrieval's top two are then too close to call, and showing both lets staff
# see the one that answers.
CLOSE_SECOND_MARGIN = 0.02
# Other segments of the answering provision are quoted when they score within this of its best.
SAME_PROVISION_MARGIN = 0.12
MAX_ANSWER_CHARS = 900
# A question asking for a number opens with the best segment holding one, if it scores within this of the best.
NUMBER_MARGIN = 0.2


def select_segments(evidence: Evidence, max_answer_sentences: int) -> list[Scored]:
    """The segments the answer quotes, best first.

    The answer quotes one provision: the one the question names, or else the
    retriever's top provision (more often the expected one than the provision
    of the best-scoring segment). Up to ``max_answer_sentences - 1`` of its
    segments are quoted, those scoring within ``SAME_PROVISION_MARGIN`` of its
    best, at most ``MAX_ANSWER_CHARS``. A short provision named in the question
    is quoted whole. A second provision is quoted only for a question in two
    parts ("Who signs ..., and does the student get paid?"): the segment of
    another provision that best answers the second part, when it scores within
    ``SECOND_PART_MARGIN`` of the answering provision's best for that part; or,
    for any question, when another provision's best segment scores within
    ``CLOSE_SECOND_MARGIN`` of the answering provision's best (too close to
    call). For a question asking for a number (an age, days, penalty units, a
    term of office) the first sentence is the provision's best segment that
    holds one, when it scores within ``NUMBER_MARGIN``; when the top provision
    states none, the provision whose segment does answers.
    """
    ranked = evidence.ranked
    if not ranked:
        return []
    primary = _primary_provision(evidence)
    own = [c for c in ranked if c.segment.provision.uid == primary] or ranked
    limit = max(1, max_answer_sentences - 1)
    best = own[0]
    provision = best.segment.provision
    if evidence.named and len(provision.text.strip()) <= MAX_ANSWER_CHARS:
        # A short provision asked about by name ("List the learning areas in Schedule 1") is quoted whole.
        return [replace(best, segment=whole_provision(provision))]
    if evidence.wants_number and not best.has_number:
        numbered = next((c for c in own[:12] if c.has_number and c.score >= own[0].score - NUMBER_MARGIN), None)
        if numbered is None and not evidence.named:
            # The top provision states no number: the provision that does answers the question.
            numbered = next((c for c in ranked[:12] if c.has_number and c.score >= ranked[0].score - NUMBER_MARGIN), None)
            if numbered is not None:
                primary = numbered.segment.provision.uid
                own = [c for c in ranked if c.segment.provision.uid == primary]
        best = numbered or best
    chosen = [best]
    chars = len(best.segment.full_text)
    if not evidence.named:
        other = _second_part_provision(ranked, primary) if is_multi_part(evidence.question) else None
        other = other or _close_second_provision(ranked, primary, best)
        if other is not None:
            chosen.append(other)
            chars += len(other.segment.full_text)
    for cand in own:
        if len(chosen) >= limit or cand.score < own[0].score - SAME_PROVISION_MARGIN:
            break
        seg = cand.segment
        if any(seg.overlaps(c.segment) for c in chosen) or chars + len(seg.full_text) > MAX_ANSWER_CHARS:
            continue
        chosen.append(cand)
        chars += len(seg.full_text)
    # The best segment first, then the rest of the answering provision in the law's order.
    rest = sorted((c for c in chosen[1:] if c.segment.provision.uid == primary), key=lambda c: c.segment.start)
    return [chosen[0], *rest, *(c for c in chosen[1:] if c.segment.provision.uid != primary)]


def _close_second_provision(ranked: list[Scored], primary: str, best: Scored) -> Scored | None:
    """The best segment of another provision when it scores within ``CLOSE_SECOND_MARGIN`` of ``best``."""
    other = next((c for c in ranked if c.segment.provision.uid != primary), None)
    if other is None or other.score < best.score - CLOSE_SECOND_MARGIN:
        return None
    return other


def _second_part_provision(ranked: list[Scored], primary: str) -> Scored | None:
    """The best segment of another provision for the question's second part, when that provision
    answers the second part within ``SECOND_PART_MARGIN`` of the answering provision's best
    (otherwise the answering provision covers both parts)."""
    if not ranked or ranked[0].second_part_score is None:
        return None
    by_part = sorted(ranked, key=lambda c: -(c.second_part_score or 0.0))
    own_best = next((c.second_part_score or 0.0 for c in by_part if c.segment.provision.uid == primary), 0.0)
    other = next((c for c in by_part if c.segment.provision.uid != primary), None)
    if other is None or (other.second_part_score or 0.0) < own_best - SECOND_PART_MARGIN:
        return None
    return other


def _primary_provision(evidence: Evidence) -> str:
    """The uid of the provision the answer rests on: the named one, else the top hit that has segments."""
    with_segments = {c.segment.provision.uid for c in evidence.ranked}
    for hit in evidence.hits:
        uid = f"{hit.document_id}/{hit.provision_id}"
        if uid in with_segments:
            return uid
    return evidence.ranked[0].segment.provision.uid
