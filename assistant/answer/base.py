"""What every answerer shares: the ``Answerer`` protocol, the abstention sentence, and the hits shown as retrieved."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from assistant.records import Answer, Hit, RetrievedProvision

# The one sentence an abstention says; the only answer sentence without a citation marker.
ABSTAIN_SENTENCE = "The Education and Training Reform Act 2006 and the VET clusters policy page do not answer this question."


class Answerer(Protocol):
    mode: str

    def answer(self, question: str, hits: list[Hit]) -> Answer: ...

    def answer_stream(self, question: str, hits: list[Hit]) -> Iterator[str | Answer]: ...


def retrieved_from_hits(hits: list[Hit]) -> list[RetrievedProvision]:
    return [
        RetrievedProvision(document_id=h.document_id, provision_id=h.provision_id, label=h.label, heading=h.heading, score=h.score, scores=dict(h.scores))
        for h in hits
    ]


def abstention_text(hits: list[Hit], closest: int = 3) -> str:
    """The fixed abstention sentence plus the closest provisions as reading suggestions."""
    if not hits:
        return ABSTAIN_SENTENCE
    reading = "; ".join(f"{h.label} ({h.heading})" for h in hits[:closest])
    return f"{ABSTAIN_SENTENCE} You may want to read: {reading}."


def is_abstention_sentence(sentence: str) -> bool:
    return sentence.startswith(ABSTAIN_SENTENCE) or sentence.startswith("You may want to read:")
