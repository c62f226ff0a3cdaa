"""Answer stage: turn a question and its retrieved provisions into an ``Answer``.

Two interchangeable answerers share one signature, ``answer(question, hits) -> Answer``
and ``answer_stream(question, hits)`` (text chunks, then the ``Answer``):

* ``ExtractiveAnswerer`` (the default) quotes the law text itself, needs no
  generative model, and decides abstention for both;
* ``GenerativeAnswerer`` writes the answer with a local causal LM, then keeps
  only sentences whose citations check out, falling back to the extractive
  answer when nothing valid remains or the model cannot be loaded.
"""

from assistant.answer.base import (
    ABSTAIN_SENTENCE,
    Answerer,
    abstention_text,
    is_abstention_sentence,
    retrieved_from_hits,
)
from assistant.answer.checks import answer_problems
from assistant.answer.extractive import ExtractiveAnswerer
from assistant.answer.generative import GenerativeAnswerer

__all__ = [
    "ABSTAIN_SENTENCE",
    "Answerer",
    "ExtractiveAnswerer",
    "GenerativeAnswerer",
    "abstention_text",
    "answer_problems",
    "is_abstention_sentence",
    "retrieved_from_hits",
]
