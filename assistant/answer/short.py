"""Short answers: one or two plain sentences above the quotes, written by a local model or taken from the quote, every claim checked.

Staff want the answer first ("Until 17 …") and the law's words beneath it. A
model's sentences are shown only when ``assistant.answer.claims`` finds every
number, month and party they state in the quotes they cite and no flipped
"must not"; anything else is removed and counted. When no sentence survives, or
no model is configured, the short answer is extractive: the clause of a cited
quote that shares most with the question (a stated quantity first when the
question asks for one), trimmed to a readable sentence. Abstentions get none.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from assistant.answer.claims import Quoted, check_sentences
from assistant.answer.lexical import TermWeights, content_terms
from assistant.patterns import (
    CLAUSE_BREAK_RE,
    HAS_NUMBER_RE,
    LEAD_IN_END_RE,
    LEADING_LABEL_RE,
    LINE_CLOSED_RE,
    NAMES_ITS_LIST_RE,
    NUMBER_QUESTION_RE,
    NUMBER_WORD_VALUES,
    SCHEDULE_ITEM_LABEL_RE,
    SENTENCE_BREAK_IN_LINE_RE,
    TRAILING_JOINER_RE,
    without_placeholders,
)
from assistant.question import asked_part
from assistant.records import Answer, Citation

# The longest extractive short answer, in words; a longer clause is cut at a word boundary.
MAX_CLAUSE_WORDS = 70
# How many of the answer's citations a short answer may rest on (the first ones are the best supported).
MAX_QUOTES = 3
# What ends a lead-in before the paragraph it introduces: a dash or colon, and spaces.
LEAD_IN_TAIL = " \t\n—–-:"
# What a clause stating a quantity gains when the question asks for one.
NUMBER_BONUS = 0.5
# How much a clause of a later quote must outscore one of the first (the best supported) to be chosen.
FIRST_QUOTE_PREFERENCE = 0.5


@dataclass(frozen=True)
class ShortAnswer:
    """A short answer and who wrote it; ``removed`` counts model sentences the claim checks dropped."""

    text: str
    by: str  # "model" or "extractive"
    removed: int = 0
    note: str = ""


def quoted_of(answer: Answer) -> list[Quoted]:
    """The quotes a short answer may cite, numbered as ``answer.citations``."""
    return [Quoted(c.quote, c.heading) for c in answer.citations[:MAX_QUOTES]]


def clauses(quote: str) -> list[str]:
    """The readable pieces of a quote: its lines, sentences and semicolon-separated clauses, without labels and joiners."""
    pieces = []
    for line in _joined_lines(without_placeholders(quote)):
        for sentence in SENTENCE_BREAK_IN_LINE_RE.split(line):
            for part in CLAUSE_BREAK_RE.split(sentence):
                part = TRAILING_JOINER_RE.sub("", SCHEDULE_ITEM_LABEL_RE.sub("", LEADING_LABEL_RE.sub("", part.strip()))).strip(" ,;:—–-")
                if len(part.split()) >= 3:
                    pieces.append(part)
    return pieces


def _counts(word: str) -> bool:
    """A number ("one or more", "6 or 7"): a clause is never cut after one."""
    word = word.lower().strip(",;")
    return word.isdigit() or word in NUMBER_WORD_VALUES


def _join_lead_in(lead: str, following: str) -> str:
    """A lead-in ("… must not—") read with what it introduces, the dash and the paragraph's label dropped; a lead-in
    naming its list ("any of the following—") keeps a spaced dash, so the item does not run on from "following"."""
    joint = " — " if NAMES_ITS_LIST_RE.search(lead) else " "
    return f"{lead.rstrip(LEAD_IN_TAIL)}{joint}{LEADING_LABEL_RE.sub('', following.lstrip())}"


def _joined_lines(quote: str) -> list[str]:
    """The quote's lines with each lead-in ("… must not—", "… the following:") joined to the line after it, so no clause stops mid-thought."""
    lines: list[str] = []
    for line in (raw.strip() for raw in quote.splitlines()):
        if not line:
            continue
        if lines and not LINE_CLOSED_RE.search(lines[-1]):
            lines[-1] = _join_lead_in(lines[-1], line)
        else:
            lines.append(line)
    return lines


def readable(clause: str) -> str:
    """A clause as a sentence: capitalised, no closing punctuation (the marker and stop follow), and at most
    MAX_CLAUSE_WORDS words: a longer one ends at its last comma or "and"/"or" within the limit (past its first
    15 words), else is cut with "…"."""
    words = clause.split()
    if len(words) <= MAX_CLAUSE_WORDS:
        text = " ".join(words)
    else:
        joints = [i for i in range(15, MAX_CLAUSE_WORDS) if words[i - 1].endswith(",") or (words[i].lower() in ("and", "or") and not _counts(words[i - 1]))]
        text = " ".join(words[: joints[-1]]) if joints else " ".join(words[:MAX_CLAUSE_WORDS]) + " …"
    text = text.rstrip(" .;:,")
    return text[:1].upper() + text[1:]


def extractive_short_answer(question: str, answer: Answer, weights: TermWeights) -> str | None:
    """The cited clause that best answers the question, as one sentence with its marker; None for an abstention."""
    if answer.abstained or not answer.citations:
        return None
    terms = set(content_terms(question))
    wants_number = bool(NUMBER_QUESTION_RE.search(asked_part(question)))
    best: tuple[float, tuple[int, ...], str] | None = None
    for markers, text in _quotes_with_lead_ins(answer):
        for clause in clauses(text):
            score = weights.overlap(terms, clause) + (NUMBER_BONUS if wants_number and HAS_NUMBER_RE.search(clause) else 0.0) - FIRST_QUOTE_PREFERENCE * (markers[0] - 1)
            if best is None or score > best[0]:
                best = (score, markers, clause)
    if best is None:
        return None
    return f"{readable(best[2])} [{', '.join(map(str, best[1]))}]."


def _quotes_with_lead_ins(answer: Answer) -> list[tuple[tuple[int, ...], str]]:
    """The first ``MAX_QUOTES`` cited quotes with their markers, each read with the lead-in quotes ("… must not—",
    outermost first) that introduce it, and a clause drawn from them cites them all. Lead-ins that introduce no
    quote given are read together ("(4) If an employee—" … "(b) remains unregistered for 12 months—")."""
    cited = answer.citations
    out: list[tuple[tuple[int, ...], str]] = []
    run: list[int] = []  # lead-in quotes waiting for the quote they introduce
    alone = 0  # quotes read on their own so far

    def read(markers: list[int]) -> str:
        text = cited[markers[-1] - 1].quote
        for m in reversed(markers[:-1]):
            text = _join_lead_in(cited[m - 1].quote, text)
        return text

    for n, citation in enumerate(cited, start=1):
        if run and not _introduces([cited[m - 1] for m in run], citation):
            if len(run) > 1:
                out.append((tuple(run), read(run)))
            run = []
        if LEAD_IN_END_RE.search(citation.quote):
            run.append(n)
            continue
        if run:
            out.append(((*run, n), read([*run, n])))
            run = []
        out.append(((n,), citation.quote))
        alone += 1
        if alone >= MAX_QUOTES:
            break
    if len(run) > 1:
        out.append((tuple(run), read(run)))
    return out or [((1,), cited[0].quote)]


def _introduces(leads: list[Citation], following: Citation) -> bool:
    """Whether the lead-in quotes before a quote introduce it: the same provision, a unit within the one holding
    the last lead-in ("(4)(b)" does not introduce "(3)"), and no lead-in restated at its start (a quote that
    brings its own lead-in, "(3) The principal … may— (a) …", begins a new reading)."""
    lead = leads[-1]
    if (lead.document_id, lead.provision_id) != (following.document_id, following.provision_id):
        return False
    parent = lead.pinpoint[: lead.pinpoint.rfind("(")] if lead.pinpoint else ""
    return following.pinpoint.startswith(parent) and not any(" ".join(q.quote.split()) in " ".join(following.quote.split()) for q in leads)


def checked_model_answer(text: str, quoted: Sequence[Quoted], max_sentences: int = 2) -> tuple[str, int]:
    """The model's sentences that pass every claim check (at most ``max_sentences``), and how many were removed."""
    kept, removed = [], 0
    for sentence in check_sentences(text, quoted):
        if sentence.problems:
            removed += 1
        elif len(kept) < max_sentences:
            # "Yes [1]." and "Yes. [1]" both become "Yes [1].": the markers gathered at the end of the sentence.
            body = sentence.bare.rstrip(".!?").strip()
            kept.append(f"{body} [{', '.join(map(str, dict.fromkeys(sentence.markers)))}].")
    return " ".join(kept), removed


class ShortAnswerer:
    """Adds a checked short answer to an ``Answer``: the model's when a writer is given and a sentence survives, else extractive."""

    def __init__(self, weights: TermWeights, write: Callable[[str, list[Quoted]], str] | None = None):
        # ``write`` drafts from the question and numbered quotes; its ``model_id`` and ``sha256`` (once loaded) are recorded.
        self.weights = weights
        self.write = write

    def short(self, question: str, answer: Answer) -> ShortAnswer | None:
        if answer.abstained or not answer.citations:
            return None
        removed, note = 0, ""
        if self.write is not None:
            quoted = quoted_of(answer)
            try:
                text, removed = checked_model_answer(self.write(question, quoted), quoted)
            except Exception as exc:  # a broken model must cost the short answer, not the answer
                text, note = "", f"the model failed ({exc})"
            if text:
                return ShortAnswer(text, "model", removed)
            note = note or f"no model sentence passed the claim checks ({removed} removed)"
        text = extractive_short_answer(question, answer, self.weights)
        return ShortAnswer(text, "extractive", removed, note) if text else None

    def add_to(self, question: str, answer: Answer) -> Answer:
        """The answer with its short answer and who wrote it (unchanged for an abstention)."""
        short = self.short(question, answer)
        if short is None:
            return answer
        model = short.by == "model"
        return answer.model_copy(
            update={
                "short_answer": short.text,
                "short_answer_by": short.by,
                "short_answer_model": getattr(self.write, "model_id", None) if model else None,
                "short_answer_model_sha256": getattr(self.write, "sha256", None) if model else None,
                "short_answer_removed": short.removed,
                "short_answer_note": short.note or None,
            }
        )
