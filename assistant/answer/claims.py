"""Claim checks for short answers: a sentence is shown only if the quotes it cites bear out what it states.

A small model writing plain sentences can change a number, name the wrong body
or turn "must not" into "must". Each sentence of a short answer is therefore
checked against the quotes its markers point at (and their provisions'
headings): it needs a marker, most of its content words in those quotes, every number and month it states must occur in a
cited quote (digits and number words are the same number), every party it names
must be named there, and it must not negate what the law states positively or
assert what the law only states negatively. The patterns live in
``assistant.patterns``; the table tests in tests/test_claims.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from assistant.answer.lexical import content_terms
from assistant.cite import parse_marked
from assistant.patterns import (
    MONTH_RE,
    NEGATED_MODAL_RE,
    NEGATION_RE,
    NOT_A_COUNT_RE,
    NOT_A_QUANTITY_RE,
    NUMBER_WORD_VALUES,
    PARTY_RES,
    POSITIVE_MODAL_RE,
    STATED_NUMBER_RE,
)

# A sentence needs this many content words, and this share of them in its quotes or headings: a bare "Yes."
# or a sentence about something else asserts what no check can confirm.
MIN_TERMS = 3
MIN_SHARED = 0.5


@dataclass(frozen=True)
class Quoted:
    """What a short answer's sentence may rest on: one citation's quote and its provision's heading."""

    quote: str
    heading: str = ""


@dataclass(frozen=True)
class CheckedSentence:
    """One sentence of a short answer, the sentence without its markers, its markers, and why it cannot be shown (empty: it checks out)."""

    text: str
    bare: str
    markers: tuple[int, ...]
    problems: tuple[str, ...]


def stated_numbers(text: str) -> set[float]:
    """The quantities a text states, as values: "17", "seventeen" and "1,000" are numbers; labels, markers and "no one" are not."""
    text = NOT_A_COUNT_RE.sub(" ", NOT_A_QUANTITY_RE.sub(" ", text))
    values = set()
    for m in STATED_NUMBER_RE.finditer(text):
        word = m.group(0).lower()
        values.add(float(NUMBER_WORD_VALUES[word]) if word in NUMBER_WORD_VALUES else float(word.replace(",", "")))
    return values


def claim_problems(sentence: str, markers: Sequence[int], quoted: Sequence[Quoted]) -> list[str]:
    """Why this sentence cannot be shown, given the quotes numbered 1..n that its markers may point at."""
    if not markers:
        return ["it cites no quote"]
    if any(not 1 <= n <= len(quoted) for n in markers):
        return [f"it cites a quote that was not given ({', '.join(str(n) for n in markers)})"]
    cited = [quoted[n - 1] for n in dict.fromkeys(markers)]
    law = " ".join(q.quote for q in cited)
    law_and_headings = " ".join(f"{q.heading} {q.quote}" for q in cited)
    problems = []
    terms = set(content_terms(sentence))
    if len(terms) < MIN_TERMS or len(terms & set(content_terms(law_and_headings))) < MIN_SHARED * len(terms):
        problems.append("it says too little that the quote bears out")
    missing = sorted(stated_numbers(sentence) - stated_numbers(law))
    if missing:
        problems.append("a number not in the quote: " + ", ".join(f"{v:g}" for v in missing))
    months = {m.lower() for m in MONTH_RE.findall(sentence)} - {m.lower() for m in MONTH_RE.findall(law)}
    if months:
        problems.append("a month not in the quote: " + ", ".join(sorted(months)))
    parties = [party for party, pattern in PARTY_RES.items() if pattern.search(sentence) and not pattern.search(law_and_headings)]
    if parties:
        problems.append("a party the quote does not name: " + ", ".join(parties))
    problems += _modality_problems(sentence, law)
    return problems


def _modality_problems(sentence: str, law: str) -> list[str]:
    """A "must not" the law never negates, or a bare "must"/"may" where the law only says "must not"/"may not"."""
    if NEGATED_MODAL_RE.search(sentence):
        return [] if NEGATION_RE.search(law) else ["it negates what the quote states positively"]
    positive_law = POSITIVE_MODAL_RE.search(NEGATED_MODAL_RE.sub(" ", law))
    if POSITIVE_MODAL_RE.search(sentence) and not NEGATION_RE.search(sentence) and NEGATED_MODAL_RE.search(law) and not positive_law:
        return ["it states positively what the quote only states negatively"]
    return []


def check_sentences(text: str, quoted: Sequence[Quoted]) -> list[CheckedSentence]:
    """Every sentence of a short answer with its problems, in order."""
    return [CheckedSentence(s.text.strip(), s.bare, s.markers, tuple(claim_problems(s.bare, s.markers, quoted))) for s in parse_marked(text) if s.text.strip()]
