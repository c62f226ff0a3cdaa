"""Teach the local generative model the short-answer task: a LoRA adapter trained on the bank's train split.

Gemma 3 270M is a base model: prompted with worked examples it rambles, and on
bank dev its drafts failed the claim checks eight times in ten. Fine-tuning it on
the bank writers' short answers (question and numbered quotes in, one or two
sentences with [n] markers out) teaches it the task without examples in the prompt.
Only low-rank adapters on the attention and feed-forward projections are trained
(a few MB), and the loss reads only the answer's
tokens. Each example's quotes are cut from the provision that answers it, as the
composer would quote it: the lines holding the writer's evidence, sometimes with
the lines before or after as further quotes in varying order, so the model learns
to cite the right one. A target keeps only the writer's sentences the claim checks
accept against the quote they are marked with, so the model is never taught a
claim the checks would remove. The training itself (torch) is in ``assistant.training.lora``. Recipe and results:
docs/experiments.md.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from assistant.answer.claims import Quoted, check_sentences
from assistant.answer.lexical import content_terms
from assistant.cite import split_sentences
from assistant.corpus import Corpus
from assistant.generator import QUOTE_CHARS

@dataclass(frozen=True)
class GeneratorTrainingConfig:
    rank: int = 16
    alpha: float = 32.0
    epochs: int = 1
    learning_rate: float = 2e-4
    batch_size: int = 8
    # Chance that an example gets the lines before and/or after its evidence as further quotes.
    context_quotes: float = 0.6
    seed: int = 0


@dataclass(frozen=True)
class WorkedExample:
    """One training example: the question, the numbered quotes the model reads, and the checked answer with markers."""

    id: str
    question: str
    quotes: tuple[Quoted, ...]
    answer: str


def _provision(corpus: Corpus, document_id: str, provision_id: str):
    """The provision an expected label names ("2.1.3(f)" is in 2.1.3)."""
    return corpus.find(document_id, provision_id) or corpus.find(document_id, provision_id.split("(")[0])


def _line_window(text: str, start: int, end: int) -> tuple[int, int]:
    """The whole lines around [start, end), at most QUOTE_CHARS long (the span itself when it alone is longer)."""
    left = text.rfind("\n", 0, start) + 1
    right = text.find("\n", end)
    right = len(text) if right < 0 else right
    if right - left > QUOTE_CHARS:
        return start, min(end, start + QUOTE_CHARS)
    return left, right


def _neighbour(text: str, at: int, before: bool) -> str:
    """Whole lines just before ``at`` (or from ``at`` on), up to QUOTE_CHARS characters."""
    lines = (text[:at].rstrip("\n").split("\n")[::-1] if before else text[at:].lstrip("\n").split("\n"))
    taken: list[str] = []
    for line in lines:
        if not line.strip() or sum(len(t) + 1 for t in taken) + len(line) > QUOTE_CHARS:
            break
        taken.append(line.strip())
    return "\n".join(taken[::-1] if before else taken)


def _marked_answer(short_answer: str, quotes: list[Quoted]) -> str:
    """The writer's sentences that the claim checks accept, each marked with the quote sharing most of its words (at most two)."""
    kept = []
    for sentence in split_sentences(short_answer):
        body = sentence.strip().rstrip(".!?").strip()
        if not body:
            continue
        terms = set(content_terms(body))
        best = max(range(len(quotes)), key=lambda i: (len(terms & set(content_terms(quotes[i].quote))), -i))
        marked = f"{body} [{best + 1}]."
        if all(not s.problems for s in check_sentences(marked, quotes)):
            kept.append(marked)
    return " ".join(kept[:2])


def worked_examples(rows: list[dict], corpus: Corpus, context_quotes: float, seed: int) -> list[WorkedExample]:
    """Training examples from bank items (answerable, standalone, with a short answer), seeded; items no sentence of which checks out are left out."""
    from assistant.cite import locate_loose

    draw = random.Random(seed)
    examples = []
    for row in rows:
        if not row.get("answerable") or row.get("follow_up_of") or not row.get("short_answer") or not row.get("expected"):
            continue
        expected = row["expected"][0]
        provision = _provision(corpus, expected["document"], expected["provision"])
        span = locate_loose(provision, row["evidence"]) if provision is not None else None
        if span is None:
            continue
        left, right = _line_window(provision.text, *span)
        quotes = [Quoted(provision.text[left:right].strip(), provision.heading)]
        if draw.random() < context_quotes:
            before, after = _neighbour(provision.text, left, True), _neighbour(provision.text, right, False)
            extra = [Quoted(t, provision.heading) for t in (before, after) if t and draw.random() < 0.7]
            quotes += extra
            draw.shuffle(quotes)
        answer = _marked_answer(row["short_answer"], quotes)
        if answer:
            examples.append(WorkedExample(row["id"], row["question"], tuple(quotes), answer))
    return examples
