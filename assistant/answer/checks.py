"""Answer checks: whether an answer's every claim is cited and every citation's quote is the law's own words."""

from __future__ import annotations

from assistant.answer.base import is_abstention_sentence
from assistant.cite import parse_marked, verify
from assistant.corpus import Corpus
from assistant.records import Answer


def answer_problems(corpus: Corpus, answer: Answer) -> list[str]:
    """What is wrong with an answer's grounding; empty when every claim is cited and every citation checks out.

    An abstention must carry no citations, except a delegated one, which is
    checked like an answer: its sentence cites the words that hand the matter on.
    Any other answer must have a marker on every sentence, markers only for
    citations that exist, every citation used, and every citation's quote at its
    offset in the cited provision.
    """
    if answer.abstained and answer.abstain_kind != "delegated":
        return [] if not answer.citations and answer.text.strip() else ["an abstention carries citations or no text"]
    problems = []
    used: set[int] = set()
    for sentence in parse_marked(answer.text):
        if not sentence.markers and not is_abstention_sentence(sentence.text):
            problems.append(f"uncited sentence: {sentence.text!r}")
        for n in sentence.markers:
            if not 1 <= n <= len(answer.citations):
                problems.append(f"marker [{n}] has no citation: {sentence.text!r}")
            used.add(n)
    problems += [f"citation [{n}] is never referenced" for n in range(1, len(answer.citations) + 1) if n not in used]
    problems += [f"citation [{n}] {c.label} does not match the law text" for n, c in enumerate(answer.citations, start=1) if not verify(corpus, c)]
    if not answer.citations:
        problems.append("an answer without citations")
    return problems
