"""What a question asks: a second part, a term's meaning, a kind of fact, or something the law never names.

Read from the question's wording alone, so the answerer can tell a question in
two parts from one, add the definition that was asked for, and abstain when the
law cannot hold the answer whatever its similarity to the question.
"""

from __future__ import annotations

from assistant.answer.lexical import stem
from assistant.patterns import (
    ASKED_TERM_RE,
    CAPITALISED_RUN_RE,
    FACT_ASKED,
    FACT_PRESENT,
    LEADING_CONJUNCTION_RE,
    MULTI_PART_RE,
    PROPER_NAME_RE,
    QUOTED_TERM_RE,
    SENTENCE_START_BEFORE_RE,
    count_in_unit_re,
)
from assistant.question import asked_part


def asked_terms(question: str) -> list[str]:
    """The phrases a definitional question asks the meaning of, lower case: quoted terms, then words after the cue."""
    return [m.group(1).strip().lower() for m in QUOTED_TERM_RE.finditer(question)] + [
        m.group(1).strip().lower() for m in ASKED_TERM_RE.finditer(question)
    ]


def second_part(question: str) -> str | None:
    """The second question of a question in two parts ("does the student get paid?"), or None."""
    m = MULTI_PART_RE.search(question)
    if m is None:
        parts = [p.strip() for p in question.split("?") if p.strip()]
        return parts[-1] + "?" if len(parts) > 1 else None
    return LEADING_CONJUNCTION_RE.sub("", question[m.start() :]).strip() or None


def is_multi_part(question: str) -> bool:
    """True for a question that asks two things, which may need two provisions to answer."""
    return question.count("?") > 1 or bool(MULTI_PART_RE.search(question))


def missing_fact(question: str, evidence_text: str) -> str | None:
    """The kind of fact the question asks for that the evidence text does not contain, or None.

    "How much is the registration fee?" needs a sum of money in the evidence; when
    the Act only says the fee is "fixed by the Minister", quoting that would not
    answer what was asked. A count needs a number in the unit asked for ("how many
    days" needs "N days"). Only the asking sentences count (``asked_part``).
    """
    asking = asked_part(question)
    for kind, asked in FACT_ASKED.items():
        m = asked.search(asking)
        if m is None:
            continue
        if kind == "a count":
            present = count_in_unit_re(stem(m["unit"].lower())).search(evidence_text)
        else:
            present = FACT_PRESENT[kind].search(evidence_text)
        if present is None:
            return kind
    return None


def unknown_names(question: str, vocabulary: set[str], acronyms: set[str]) -> list[str]:
    """Names in the question the corpus never uses: 'Geelong', 'NAPLAN' (not 'VCAA', the initials of a name the Act spells out).

    A capitalised word opening a sentence, clause or quotation is not taken for a name.
    """
    out = []
    for m in PROPER_NAME_RE.finditer(question):
        if SENTENCE_START_BEFORE_RE.search(question, 0, m.start()):
            continue
        word = m.group(0).lower()
        if stem(word) in vocabulary or word in vocabulary or word in acronyms:
            continue
        out.append(m.group(0))
    return out


def acronyms_of(text: str) -> set[str]:
    """Initials of runs of capitalised words ('Victorian Curriculum and Assessment Authority' -> 'VCAA'), lower case."""
    out: set[str] = set()
    for run in CAPITALISED_RUN_RE.finditer(text):
        words = [w for w in run.group(0).split() if w[0].isupper()]
        for i in range(len(words)):
            for j in range(i + 2, min(len(words), i + 6) + 1):
                out.add("".join(w[0] for w in words[i:j]).lower())
    return out
