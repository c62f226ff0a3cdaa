"""Extractive answerer: quote the sentences of the retrieved law that answer the question.

Needs no generative model, so every claim in its answer is the law's own words,
cited to the most specific subsection, paragraph, definition or bullet.

How an answer is composed:

1. **Segments.** Each of the top retrieved provisions is cut into lines (one
   line per subsection, paragraph, definition or bullet; long lines into
   sentences). A paragraph keeps its lead-in ("It is the duty of the parent of a
   child of not less than 6 nor more than 17 years of age— (a) to enrol ...") and
   a penalty keeps the duty it punishes, when the two are contiguous and short.
2. **Scores.** Each segment gets ``0.55 * semantic + 0.30 * lexical + 0.15 * prior``
   (weights between 0.2 and 0.5 for the lexical part changed key-fact recall on
   the development questions by at most one question):
   cosine similarity with the question under the already-loaded embedding model;
   the idf-weighted share of the question's content words that the segment (with
   its heading) contains; and a prior from the provision's retrieval rank.
3. **Selection.** One provision answers: the one the question names, else the
   retriever's top provision (or, for a question asking for a number that the
   top provision does not state, the provision whose segment states one). Up to
   ``max_answer_sentences - 1`` of its segments within 0.12 of its best are
   quoted, at most 900 characters. A second provision is quoted for a
   question in two parts ("..., and does the student get paid?"): the one that
   best answers the second part; or when its best segment is within 0.02 of the
   answering provision's best (too close to call). On the development questions the one-provision rule (with
   definitions only when asked for) raised citation precision from 0.58 to 0.73
   and key-fact recall from 0.72 to 0.75, for citation recall 0.86 -> 0.73 and
   a CRAG score 0.64 -> 0.52 (an answer citing only the top provision is wrong
   whenever retrieval ranks the expected one second): staff act on each
   citation, so a wrong extra one costs more than a missing secondary one. For questions asking for a number (an age, days, penalty
   units, a term of office) the first sentence is the best segment holding one.
   A provision named in the question that fits in 900 characters is quoted
   whole (dev key-fact recall 0.753 -> 0.760).
4. **Additions.** A question asking what a term means ("Who counts as an
   'overseas student'?") gets its s 1.1.3 definition first, standing in for a
   second provision; a term the question merely uses is not defined. A selected
   segment that hands the matter to regulations, a Ministerial Order or
   guidelines adds a sentence saying so, citing the delegating words.
   Paragraphs under one lead-in are quoted together, the lead-in once.
5. **Authority.** Sentences from the Act come before sentences from the VET
   clusters page, and each sentence names its source.

Abstention (``Evidence.should_abstain``) is decided here for both answerers; its
docstring gives the rule and how the threshold was chosen.
"""

from __future__ import annotations

import math
import re
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Protocol

import numpy as np

from assistant.answer.base import abstention_text, retrieved_from_hits
from assistant.cite import cite_span, label, most_specific_unit
from assistant.corpus import Corpus
from assistant.records import Answer, Citation, Hit, Provision
from assistant.settings import Settings


class Encoder(Protocol):
    """What the answerer needs from the embedding model (``assistant.embed.Embedder`` fits)."""

    model_id: str

    def encode(self, texts: list[str]) -> np.ndarray: ...


# --- words -----------------------------------------------------------------------------------

_WORD_RE = re.compile(r"[a-z0-9]+")
STOPWORDS = frozenset(
    """a an the and or but if of to in on at by for with from into onto under over about as is are was were be been being
    do does did done have has had having can could may might must shall should will would not no nor so than that this these
    those there their them they it its i me my we our you your he she his her him who whom whose which what when where why how
    any all each every some such other another more most less least own same only also just very too then once up down out off
    again further here both few many much s t am get gets got tell say says said let lets please act section sections
    isn doesn don didn hasn haven won aren wasn weren shouldn wouldn couldn ve ll re""".split()
)


def stem(word: str) -> str:
    """A light suffix strip so 'enrolled', 'enrols' and 'enrolment' meet 'enrol' often enough for overlap counting."""
    if word.endswith("lled") and len(word) > 6:
        return word[:-3]  # enrolled, cancelled -> enrol, cancel
    for suffix, keep in (("ments", 0), ("ment", 0), ("ies", "y"), ("ing", 0), ("ed", 0), ("es", 0), ("s", 0)):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            if suffix == "s" and word.endswith("ss"):
                return word
            return word[: -len(suffix)] + (keep or "")
    return word


def content_terms(text: str) -> list[str]:
    return [stem(w) for w in _WORD_RE.findall(text.lower()) if w not in STOPWORDS and len(w) > 1]


def asked_terms(question: str) -> list[str]:
    """The phrases a definitional question asks the meaning of, lower case: quoted terms, then words after the cue."""
    return [m.group(1).strip().lower() for m in _QUOTED_TERM_RE.finditer(question)] + [
        m.group(1).strip().lower() for m in _ASKED_TERM_RE.finditer(question)
    ]


def second_part(question: str) -> str | None:
    """The second question of a question in two parts ("does the student get paid?"), or None."""
    m = MULTI_PART_RE.search(question)
    if m is None:
        parts = [p.strip() for p in question.split("?") if p.strip()]
        return parts[-1] + "?" if len(parts) > 1 else None
    return re.sub(r"^(?:and|or|but)\s+", "", question[m.start() :], flags=re.IGNORECASE).strip() or None


def is_multi_part(question: str) -> bool:
    """True for a question that asks two things, which may need two provisions to answer."""
    return question.count("?") > 1 or bool(MULTI_PART_RE.search(question))


# --- questions -------------------------------------------------------------------------------

NUMBER_QUESTION_RE = re.compile(
    r"\b(?:how\s+(?:many|much|old|long|often|soon|young|big|large)|size\s+of|what\s+age|which\s+age|what\s+is\s+the\s+age|age\s+(?:limit|range)|"
    r"minimum|maximum|penalt(?:y|ies)|fine|days?|weeks?|months?|years?|term\s+of\s+office|number\s+of|deadline|within\s+how)\b",
    re.IGNORECASE,
)
_NUMBER_WORDS = "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fourteen|fifteen|sixteen|seventeen|eighteen|twenty|thirty|sixty|ninety|hundred"
# A quantity, not a section or item number: "17 years", "14 days", "1 penalty unit", "3 consecutive meetings".
HAS_NUMBER_RE = re.compile(
    rf"\b(?:\d+(?:\.\d+)?|{_NUMBER_WORDS})\s+(?:consecutive\s+|or\s+more\s+|clear\s+|business\s+|school\s+)?"
    r"(?:years?|days?|weeks?|months?|hours?|minutes?|penalty\s+units?|members?|per\s+cent|times|meetings?|terms?)\b",
    re.IGNORECASE,
)
# The question asks what a term means or who/what it covers.
DEFINITIONAL_RE = re.compile(r"\b(?:mean|means|meaning|defin\w*|count(?:s|ed)? as|includ\w*|considered|regarded as|who is a|what is a|what is an|what counts)\b", re.IGNORECASE)
# A question in two parts: a second question joined by "and"/"or"/"but" ("Who has to sign off on
# the placement, and does the student get paid?"), or two question marks. A comma alone does not
# count: "Before an order is made, how long do they get?" asks one thing.
MULTI_PART_RE = re.compile(
    r"\b(?:and|or|but)\s+(?:what|who|whom|how|when|where|which|why|can|could|does|do|did|is|are|must|should|will|may|has|have)\b",
    re.IGNORECASE,
)
# The words a definitional question asks about: a quoted term ('overseas student'), or the words
# after "what is a", "meaning of", "count as" and the like, up to the end of the clause.
_QUOTED_TERM_RE = re.compile(r"['‘\"“]([^'’\"”?]{2,60})['’\"”]")
_ASKED_TERM_RE = re.compile(
    r"\b(?:what(?:'s|’s|\s+is|\s+are|\s+does)|meaning\s+of|definition\s+of|define[sd]?|counts?\s+as|counted\s+as|regarded\s+as|considered(?:\s+to\s+be)?|who\s+is)"
    r"\s+(?:an?\s+|the\s+)?([^?,;.]{2,80})",
    re.IGNORECASE,
)
# The Act hands the matter to another instrument.
DELEGATION_RE = re.compile(
    r"(?P<what>in accordance with the regulations|prescribed by the regulations|by the regulations|the regulations may|"
    r"(?:a |any |the )?Ministerial Order|(?:any |the )?guidelines(?: issued| made| approved)?)",
    re.IGNORECASE,
)
# Share of the question's (idf-weighted) words the delegating clause must contain to be worth saying.
DELEGATION_MIN_OVERLAP = 0.3
_DELEGATE_NAME = {"regulation": "the regulations", "ministerial order": "a Ministerial Order", "guideline": "guidelines"}

# --- facts a question asks for ------------------------------------------------------------------

# Questions asking for a kind of fact the law may simply not hold: a sum of money, a calendar date
# or this year's arrangements, a count in a given unit, a ratio. Each pairs with what the evidence
# must contain for the question to be answerable from it (see ``missing_fact``).
_UNITS = r"(?:days?|weeks?|months?|years?|hours?|minutes?|members?|students?|teachers?|times)"
FACT_ASKED = {
    "a sum of money": re.compile(
        r"\bhow\s+much\s+(?:[\w'’-]+\s+){0,6}?(?:fees?|costs?|charge[sd]?|price|salar(?:y|ies)|wages?|paid|pay|earn|subsidy|money)\b|"
        r"\bwhat(?:'s|’s|\s+is|\s+are)\s+the\s+(?:[\w'’-]+\s+){0,4}?(?:fees?|costs?|price|salar(?:y|ies)|wages?|rate|subsidy)\b|"
        r"\bsalar(?:y|ies)\b|\$\s?\d",
        re.IGNORECASE,
    ),
    "a date": re.compile(r"\b(?:this|next|last)\s+year\b|\bin\s+20\d\d\b|\bwhat\s+date\b|\bwhich\s+dates?\b|\bdates\b", re.IGNORECASE),
    "a count": re.compile(rf"\b(?:how\s+many|(?:minimum|maximum)\s+number\s+of)\s+(?:\w+\s+)?(?P<unit>{_UNITS})\b", re.IGNORECASE),
    "a ratio": re.compile(r"\bratios?\b", re.IGNORECASE),
}
_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
FACT_PRESENT = {
    "a sum of money": re.compile(r"\$\s?\d|\bdollars?\b|\bpenalty\s+units?\b|\bfee\s+units?\b", re.IGNORECASE),
    "a date": re.compile(rf"\b\d{{1,2}}\s+(?:{_MONTHS})\b|\b(?:{_MONTHS})\s+\d{{4}}\b"),
    "a ratio": re.compile(r"\bratios?\b|\b\d+\s*(?::|to)\s*\d+\b", re.IGNORECASE),
}
_NUMBER = rf"(?:\d+(?:\.\d+)?|{_NUMBER_WORDS}|a|one)"


def missing_fact(question: str, evidence_text: str) -> str | None:
    """The kind of fact the question asks for that the evidence text does not contain, or None.

    "How much is the registration fee?" needs a sum of money in the evidence; when
    the Act only says the fee is "fixed by the Minister", quoting that would not
    answer what was asked. A count needs a number in the unit asked for ("how many
    days" needs "N days").
    """
    for kind, asked in FACT_ASKED.items():
        m = asked.search(question)
        if m is None:
            continue
        if kind == "a count":
            unit = stem(m["unit"].lower())
            present = re.search(rf"\b{_NUMBER}\s+(?:\w+\s+){{0,2}}?{unit}s?\b", evidence_text, re.IGNORECASE)
        else:
            present = FACT_PRESENT[kind].search(evidence_text)
        if present is None:
            return kind
    return None


# A word the law never uses that names something: a title-case word not opening the question
# (Geelong, Facebook) or an acronym (NAPLAN, ATAR, VCAA).
_NAME_RE = re.compile(r"\b(?:[A-Z][a-z]{2,}|[A-Z]{2,6})\b")
_SENTENCE_START_RE = re.compile(r"(?:^|[.?!:;]\s+|[\"“'‘(]\s*)$")


def unknown_names(question: str, vocabulary: set[str], acronyms: set[str]) -> list[str]:
    """Names in the question the corpus never uses: 'Geelong', 'NAPLAN' (not 'VCAA', the initials of a name the Act spells out)."""
    out = []
    for m in _NAME_RE.finditer(question):
        if _SENTENCE_START_RE.search(question, 0, m.start()):
            continue
        word = m.group(0).lower()
        if stem(word) in vocabulary or word in vocabulary or word in acronyms:
            continue
        out.append(m.group(0))
    return out


def acronyms_of(text: str) -> set[str]:
    """Initials of runs of capitalised words ('Victorian Curriculum and Assessment Authority' -> 'VCAA'), lower case."""
    out: set[str] = set()
    for run in re.finditer(r"(?:[A-Z][\w'’-]*(?:\s+(?:and|of|for|the|&)\s+|\s+))+[A-Z][\w'’-]*", text):
        words = [w for w in run.group(0).split() if w[0].isupper()]
        for i in range(len(words)):
            for j in range(i + 2, min(len(words), i + 6) + 1):
                out.add("".join(w[0] for w in words[i:j]).lower())
    return out


# --- segments --------------------------------------------------------------------------------

# A paragraph keeps its lead-in, and a penalty its duty, only within this many characters.
MAX_SPAN_CHARS = 700
LONG_LINE_CHARS = 450
# Selection (see ``ExtractiveAnswerer.select``): how close another provision's segment must come
# on a two-part question's second part, or another segment of the answering provision to its best
# segment, to be quoted too. Key-fact recall on the dev questions by the second
# margin: 0.04 0.713, 0.08 0.740, 0.10-0.15 0.753, 0.20 0.767 (longer answers); 0.12 is taken.
SECOND_PART_MARGIN = 0.10
# A second provision is also quoted when its best segment scores within this of the
# answering provision's best: retrieval's top two are then too close to call, and
# showing both lets staff see the one that answers. On the development questions
# (citation precision / recall / CRAG): none 0.720/0.720/0.500, 0.00 0.713/0.733/0.521,
# 0.02 0.707/0.760/0.564, 0.05 0.687/0.773/0.585. 0.02 is taken: past it each point of
# recall costs more than a point of precision.
CLOSE_SECOND_MARGIN = 0.02
SAME_PROVISION_MARGIN = 0.12
MAX_ANSWER_CHARS = 900
# A question asking for a number opens with the best segment holding one, if it scores within this of the best.
NUMBER_MARGIN = 0.2
# Segment score weights (see the module docstring).
SEMANTIC_WEIGHT = 0.55
LEXICAL_WEIGHT = 0.30
PRIOR_WEIGHT = 0.15
NUMBER_BONUS = 0.05
# Abstention: see ``Evidence.should_abstain`` for the rule and how its weights and threshold were chosen.
SUPPORT_SEGMENTS = 5
# Extra support needed by a question naming something the corpus never mentions ('Geelong').
UNKNOWN_NAME_MARGIN = 0.08
SUPPORT_SEMANTIC_WEIGHT = 0.85
# Segments embedded for one question: of the top hit (all of them when it has no more), and of each
# provision below it, which is quoted only for a question in two parts but counts towards support.
# From 24 and 24 to 16 and 6: dev figures and the chosen threshold unchanged; a question with no
# segment vectors cached (fresh start, nothing on disk) p50 1.63 s -> 0.23 s with ``QUESTION_BATCH``.
SHORTLIST_PER_PROVISION = 16
SHORTLIST_OTHER_PROVISIONS = 6
# Texts per encoding call for one question: the embedder runs up to 8 on one thread (see ``_vectors``).
QUESTION_BATCH = 8
_SENTENCE_IN_LINE_RE = re.compile(r"(?<=[.;:])\s+(?=[A-Z(])")
_TRAILING_JOINER_RE = re.compile(r"(?:\s*[;,]\s*(?:or|and)?|\s+(?:or|and))\s*$")
_LEADING_LABEL_RE = re.compile(r"^\((?:\d+[A-Z]*|[a-z]{1,4}|[A-Z]{1,2})\)\s*")


@dataclass(frozen=True)
class Segment:
    """A citable span of one provision: ``text[start:end]``, resting on ``text[focus_start:focus_end]``.

    ``lead`` is a separate lead-in span quoted before the segment when the two are
    not contiguous ("The Institute must refuse ... grounds—" … "(c) the applicant
    has been given a WWC exclusion").
    """

    provision: Provision
    start: int
    end: int
    focus_start: int
    focus_end: int
    lead: tuple[int, int] | None = None

    @property
    def text(self) -> str:
        return self.provision.text[self.start : self.end]

    @property
    def lead_text(self) -> str:
        return self.provision.text[self.lead[0] : self.lead[1]] if self.lead else ""

    @property
    def focus(self) -> str:
        return self.provision.text[self.focus_start : self.focus_end]

    @property
    def full_text(self) -> str:
        """Lead-in and segment, as a reader sees them."""
        return f"{self.lead_text} … {self.text}" if self.lead else self.text

    def embed_text(self) -> str:
        return f"{self.provision.heading}: {' '.join(self.full_text.split())}"

    def overlaps(self, other: Segment) -> bool:
        return self.provision.uid == other.provision.uid and self.start < other.end and other.start < self.end


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    """Drop trailing '; or' / ', and' joiners and whitespace so a quote reads as a complete clause."""
    while True:
        m = _TRAILING_JOINER_RE.search(text, start, end)
        if not m or m.end() != end or m.start() <= start:
            break
        end = m.start()
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _lines(text: str) -> list[tuple[int, int]]:
    spans, pos = [], 0
    for line in text.split("\n"):
        if line.strip():
            lead = len(line) - len(line.lstrip())
            spans.append((pos + lead, pos + len(line.rstrip())))
        pos += len(line) + 1
    return spans


def segments_of(provision: Provision) -> list[Segment]:
    """The provision cut into quotable segments, each with a lead-in where one is needed to read it."""
    text = provision.text
    lines = _lines(text)
    out: list[Segment] = []
    for index, (start, end) in enumerate(lines):
        pieces = [(start, end)]
        if end - start > LONG_LINE_CHARS:
            pieces, pos = [], start
            for m in _SENTENCE_IN_LINE_RE.finditer(text, start, end):
                pieces.append((pos, m.start()))
                pos = m.end()
            pieces.append((pos, end))
        for piece_start, piece_end in pieces:
            if text.startswith("- ", piece_start):
                piece_start += 2
            fs, fe = _trim(text, piece_start, piece_end)
            if fe - fs < 12 or _is_lead_in_only(provision, fs, fe, lines, index):
                continue
            lead = _lead_in(provision, lines, index, piece_start) if piece_start == start else None
            if lead is None:
                out.append(Segment(provision, fs, fe, fs, fe))
            elif index > 0 and lines[index - 1][0] == lead and fe - lead <= MAX_SPAN_CHARS:
                # The lead-in is the line just above: one contiguous quote, pinpointed to this line's unit.
                out.append(Segment(provision, lead, fe, fs, fe))
            else:
                lead_line = next((span for span in lines if span[0] == lead), None)
                out.append(Segment(provision, fs, fe, fs, fe, lead=_trim(text, *lead_line) if lead_line else None))
    return out


def _is_lead_in_only(provision: Provision, start: int, end: int, lines: list[tuple[int, int]], index: int) -> bool:
    """A line like "(1) In this Act—" that only introduces the units below it: quoted with them instead."""
    text = provision.text
    if not text[start:end].rstrip().endswith(("—", ":")) or index + 1 >= len(lines):
        return False
    following = lines[index + 1][0]
    return bool(_LEADING_LABEL_RE.match(text[following : lines[index + 1][1]])) or any(u.start == following for u in provision.units)


def _lead_in(provision: Provision, lines: list[tuple[int, int]], index: int, start: int) -> int | None:
    """Where the words that introduce this line begin: the parent's opening line, or the duty a penalty line punishes."""
    text = provision.text
    if text.startswith("Penalty:", start) and index > 0:
        return lines[index - 1][0]
    unit = next((u for u in provision.units if u.start == start), None)
    if unit is None or unit.kind in ("subsection", "definition"):
        return None
    parents = [u for u in provision.units if u.start < start and u.end >= unit.end and u is not unit]
    if unit.kind == "item" and not parents:
        return None
    parent_start = max((u.start for u in parents), default=0)
    if parent_start >= start:
        return None
    # The nearest line above that introduces a list ("... is deemed to be registered as—"), when
    # the parent unit holds several (schedule subclauses such as 1.5.1 and 1.5.2 are not units).
    for line_start, line_end in reversed(lines[:index]):
        if line_start < parent_start:
            break
        sibling = any(u.start == line_start and u.end < unit.end for u in provision.units)
        if not sibling and text[line_start:line_end].rstrip().endswith(("—", ":")):
            return line_start
    return parent_start


# --- evidence --------------------------------------------------------------------------------


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
    def best(self) -> Scored | None:
        return self.ranked[0] if self.ranked else None

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
          and the five segments (sentences, subsections, definitions, bullets) of
          the top retrieved provisions closest to it: does the law say something
          close to what was asked, in more than one place?
        * ``key_terms`` is 1 minus the idf (as a share of the largest idf) of the
          rarest question word missing from the top three provisions: is the
          question's most specific word in the evidence at all?

        Two more signals, each general rather than about particular questions:

        * ``missing_fact``: the question asks for a sum of money, a calendar date
          or this year's arrangements, a count in a given unit ("how many days")
          or a ratio, and the top three provisions contain no such fact
          (``missing_fact()``). Quoting "a fee fixed by the Minister" does not
          answer "How much is the fee this year?".
        * ``unknown_names``: the question names something the corpus never
          mentions (a town, a program such as NAPLAN; acronyms of names the Act
          spells out, such as VCAA, count as known). Such a question needs
          ``UNKNOWN_NAME_MARGIN`` more support: the law may still answer it in
          general words ("a communication platform" for Facebook), so this only
          raises the bar.

        A question that names a provision that exists ("What does s 6.1.3
        provide?") is never abstained on: the retriever looked it up (its
        ``lookup`` score) and the answer quotes it.

        How the threshold was chosen: on tests/data/dev_questions.jsonl (94
        questions written for development, 76 answerable and 18 not; never on
        eval/gold.jsonl). A first analysis (hybrid retrieval) compared signals
        by ROC AUC: best-segment similarity 0.92, mean of the five closest 0.93,
        idf-weighted word overlap 0.76, a logistic regression over seven signals
        0.88 under leave-one-out, so the simple mean won. Whether the dense and
        BM25 signals agree on the top provision was also tried and separates
        nothing (they disagree on most answerable questions too). With the two
        signals above in place, sweeping the threshold on the dev set abstains on
        (unanswerable / answerable refused): 0.30: 9/18, 1/76; 0.33: 13/18,
        1/76; 0.35: 14/18, 1/76; 0.37: 16/18, 1/76; 0.38: 16/18, 2/76; 0.40:
        16/18, 3/76; 0.41: 16/18, 4/76; 0.43: 17/18, 10/76; 0.45: 17/18,
        12/76; 0.48: 18/18, 22/76 (the one refusal below 0.38 is a question
        whose support, 0.29, is below every threshold tried). The rule: the highest two-decimal
        threshold that refuses at most one answerable dev question, because a
        refusal costs staff an answer while an answer to an unanswerable question
        still only quotes real, cited law: 0.37. ``UNKNOWN_NAME_MARGIN``: any margin
        from 0.08 to 0.12 adds the one dev question naming an unknown place and
        refuses no answerable one (a question naming Facebook is still
        answered); the lower end is taken. Checked afterwards
        on the 52 questions of tests/data/answer_cases.jsonl: 13/18 unanswerable
        abstain, 0/34 answerable (settings.abstain_threshold = 0.37).
        """
        return self.abstain_reason(threshold) is not None


class ExtractiveAnswerer:
    """Composes cited answers from the law text; also decides abstention for every answerer.

    Usage::

        answerer = ExtractiveAnswerer(corpus, embedder, settings)
        answer = answerer.answer("Until what age must a child attend school?", hits)
    """

    mode = "extractive"

    def __init__(self, corpus: Corpus, encoder: Encoder, settings: Settings, candidate_provisions: int = 5):
        self.corpus = corpus
        self.encoder = encoder
        self.settings = settings
        self.candidate_provisions = candidate_provisions
        self._cache: dict[str, list[tuple[Segment, frozenset[str]]]] = {}
        self._vector_cache: dict[str, np.ndarray] = {}
        self._cache_lock = threading.Lock()
        self._idf = _idf(corpus)
        self._max_idf = max(self._idf.values(), default=1.0)
        self._definitions = _definition_index(corpus)
        self._vocabulary = set(self._idf)
        self._acronyms = {a for p in corpus.provisions for a in acronyms_of(f"{p.heading}\n{p.text}")}

    @property
    def model_id(self) -> str:
        return getattr(self.encoder, "model_id", "")

    # --- evidence ------------------------------------------------------------------------
    def _segments(self, provision: Provision) -> list[tuple[Segment, frozenset[str]]]:
        """The provision's segments with their content words (heading included), cut once and kept."""
        cached = self._cache.get(provision.uid)
        if cached is None:
            cached = [(seg, frozenset(content_terms(f"{provision.heading} {seg.full_text}"))) for seg in segments_of(provision)]
            with self._cache_lock:
                self._cache[provision.uid] = cached
        return cached

    def _vectors(self, segments: list[Segment], batch: int = QUESTION_BATCH) -> np.ndarray:
        """Embeddings of the segments, encoded once per process (and once per machine through the embedder's cache).

        A question's segments are encoded in small batches of similar length:
        the embedder runs batches of up to 8 texts on one thread, which on a
        busy 2-core machine took a question's 10-40 segments from 1.6 s to
        0.1-0.3 s (two threads contending with other work stall each other),
        and similar lengths waste little on padding.
        """
        texts = [seg.embed_text() for seg in segments]
        missing = sorted(dict.fromkeys(t for t in texts if t not in self._vector_cache), key=len)
        encode_cached = getattr(self.encoder, "encode_cached", None)
        for start in range(0, len(missing), batch):
            chunk = missing[start : start + batch]
            vectors = encode_cached(chunk)[0] if encode_cached else self.encoder.encode(chunk)
            with self._cache_lock:
                self._vector_cache.update(zip(chunk, vectors, strict=True))
        if not texts:
            return np.zeros((0, 1), dtype=np.float32)
        return np.vstack([self._vector_cache[t] for t in texts])

    def warm(self, provisions: list[Provision] | None = None, batch: int = 256) -> int:
        """Cut and embed every provision's segments now, so no question pays for it; returns the segment count.

        The vectors also go to the embedder's on-disk cache (when it has one), so
        after the first run this takes seconds.
        """
        provisions = provisions if provisions is not None else [p for p in self.corpus.provisions if not p.repealed]
        segments = [seg for p in provisions for seg, _ in self._segments(p)]
        for start in range(0, len(segments), batch):
            self._vectors(segments[start : start + batch], batch=batch)
        return len(segments)

    def _idf_of(self, term: str) -> float:
        return self._idf.get(term, self._max_idf)

    def _lexical(self, q_terms: set[str], text: str | frozenset[str]) -> float:
        """Idf-weighted share of the question's content words found in ``text`` (or a set of its words)."""
        if not q_terms:
            return 0.0
        found = text if isinstance(text, frozenset) else set(content_terms(text))
        total = sum(self._idf_of(t) for t in q_terms)
        return sum(self._idf_of(t) for t in q_terms if t in found) / total

    def evidence(self, question: str, hits: list[Hit]) -> Evidence:
        """Score the segments of the top hits (and definitions the question names) against the question.

        Only a shortlist is embedded: up to ``SHORTLIST_PER_PROVISION`` segments
        of the top hit and ``SHORTLIST_OTHER_PROVISIONS`` of each other provision,
        those with the most question words. This keeps a cold question (nothing
        cached yet) to a few dozen short encodings, about 0.2 s.
        """
        q_terms = set(content_terms(question))
        wants_number = bool(NUMBER_QUESTION_RE.search(question))
        top = hits[: self.candidate_provisions]
        provisions = [p for h in top if (p := self.corpus.find(h.document_id, h.provision_id)) is not None and not p.repealed]
        evidence_text = " ".join(f"{p.heading} {p.text}" for p in provisions[:3])
        evidence_words = set(content_terms(evidence_text))
        rarest_missing = max((self._idf_of(t) for t in q_terms if t not in evidence_words), default=0.0)
        key_terms = 1.0 - rarest_missing / self._max_idf
        named = bool(top) and "lookup" in top[0].scores
        signals = {
            "key_terms": key_terms,
            "named": named,
            "missing_fact": missing_fact(question, evidence_text) if provisions else None,
            "unknown_names": unknown_names(question, self._vocabulary, self._acronyms),
        }
        if not provisions:
            return Evidence(question, hits, [], wants_number, **signals)
        pool: list[tuple[Segment, float, float]] = []
        for rank, provision in enumerate(provisions):
            prior = 1.0 / (1.0 + 0.5 * rank)
            scored = [(seg, self._lexical(q_terms, words), prior) for seg, words in self._segments(provision)]
            keep = SHORTLIST_PER_PROVISION if rank == 0 else SHORTLIST_OTHER_PROVISIONS
            if rank > 0 or len(scored) > keep:
                scored.sort(key=lambda item: -item[1])
                scored = scored[:keep]
            pool.extend(scored)
        q_vec = self.encoder.encode([question])[0]
        semantic = self._vectors([seg for seg, _, _ in pool]) @ q_vec
        ranked = [self._score(seg, float(sem), lex, prior, wants_number) for (seg, lex, prior), sem in zip(pool, semantic, strict=True)]
        second = second_part(question)
        if second:
            # Each part may rest on a different provision: score every segment against the second part too.
            second_terms = set(content_terms(second))
            vectors = self._vectors([seg for seg, _, _ in pool])
            second_sem = vectors @ self.encoder.encode([second])[0]
            ranked = [
                replace(
                    r,
                    second_part_score=SEMANTIC_WEIGHT * float(sem2)
                    + LEXICAL_WEIGHT * self._lexical(second_terms, f"{r.segment.provision.heading} {r.segment.full_text}")
                    + PRIOR_WEIGHT * r.prior,
                )
                for r, sem2 in zip(ranked, second_sem, strict=True)
            ]
        ranked.sort(key=lambda s: -s.score)
        definitions = self._named_definitions(question, q_vec, q_terms)
        return Evidence(question, hits, ranked, wants_number, definitions, **signals)

    def _score(self, segment: Segment, semantic: float, lexical: float, prior: float, wants_number: bool) -> Scored:
        has_number = bool(HAS_NUMBER_RE.search(f"{segment.lead_text} {segment.text}"))
        score = SEMANTIC_WEIGHT * semantic + LEXICAL_WEIGHT * lexical + PRIOR_WEIGHT * prior + (NUMBER_BONUS if wants_number and has_number else 0.0)
        return Scored(segment, semantic, lexical, prior, score, has_number)

    def _named_definitions(self, question: str, q_vec: np.ndarray, q_terms: set[str]) -> list[Scored]:
        """Definitions in s 1.1.3 whose term the question names, longest term first."""
        lowered = question.lower()
        named: list[Segment] = []
        taken: list[tuple[int, int]] = []
        for term, segment in self._definitions:
            m = re.search(rf"\b{re.escape(term.lower())}s?\b", lowered)
            if m and not any(a < m.end() and m.start() < b for a, b in taken):
                named.append(segment)
                taken.append(m.span())
        if not named:
            return []
        semantic = self._vectors(named) @ q_vec
        return [
            self._score(seg, float(sem), self._lexical(q_terms, f"{seg.provision.heading} {seg.text}"), 0.5, False)
            for seg, sem in zip(named, semantic, strict=True)
        ]

    # --- composing -----------------------------------------------------------------------
    def select(self, evidence: Evidence) -> list[Scored]:
        """The segments the answer quotes, best first, from as few provisions as answer the question.

        Staff act on the citations, so a wrong extra provision costs more than a
        missing secondary one. The answer quotes one provision: the one the
        question names, or else the retriever's top provision (on the development
        questions the top hit is the expected provision more often than the
        provision of the best-scoring segment: 55 vs 52 of 76). Up to
        ``max_answer_sentences - 1`` of its segments are quoted, those scoring
        within ``SAME_PROVISION_MARGIN`` of its best. A second provision is quoted
        only for a question in two parts ("Who signs ..., and does the student get
        paid?"): the segment of another provision that best answers the second
        part, when it scores within ``SECOND_PART_MARGIN`` of the answering
        provision's best for that part (on the development questions this took a
        two-part question from citing a neighbouring section to the one on
        payment; margins 0 to 0.10 differ by one citation); or, for any question,
        when another provision's best segment scores within ``CLOSE_SECOND_MARGIN``
        of the answering provision's best (too close to call). For a question
        asking for a number the first sentence is the provision's best segment
        that holds one, when it scores within ``NUMBER_MARGIN``.
        """
        ranked = evidence.ranked
        if not ranked:
            return []
        primary = self._primary_provision(evidence)
        own = [c for c in ranked if c.segment.provision.uid == primary] or ranked
        limit = max(1, self.settings.max_answer_sentences - 1)
        best = own[0]
        provision = best.segment.provision
        if evidence.named and len(provision.text.strip()) <= MAX_ANSWER_CHARS:
            # A short provision asked about by name ("List the learning areas in Schedule 1") is quoted whole.
            start, end = _trim(provision.text, len(provision.text) - len(provision.text.lstrip()), len(provision.text))
            return [replace(best, segment=Segment(provision, start, end, start, end))]
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
            other = self._second_part_provision(ranked, primary) if is_multi_part(evidence.question) else None
            other = other or self._close_second_provision(ranked, primary, best)
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

    @staticmethod
    def _close_second_provision(ranked: list[Scored], primary: str, best: Scored) -> Scored | None:
        """The best segment of another provision when it scores within ``CLOSE_SECOND_MARGIN`` of ``best``."""
        other = next((c for c in ranked if c.segment.provision.uid != primary), None)
        if other is None or other.score < best.score - CLOSE_SECOND_MARGIN:
            return None
        return other

    @staticmethod
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

    def _primary_provision(self, evidence: Evidence) -> str:
        """The uid of the provision the answer rests on: the named one, else the top hit that has segments."""
        with_segments = {c.segment.provision.uid for c in evidence.ranked}
        for hit in evidence.hits:
            uid = f"{hit.document_id}/{hit.provision_id}"
            if uid in with_segments:
                return uid
        return evidence.ranked[0].segment.provision.uid

    def _definition_to_add(self, evidence: Evidence, chosen: list[Scored]) -> Scored | None:
        """The definition of the term the question asks the meaning of ("Who counts as an
        'overseas student'?"), when the answer does not already quote a definition of it.
        A term the question merely uses is not defined: its definition would be one more
        citation to check, and staff asked about something else."""
        if not DEFINITIONAL_RE.search(evidence.question):
            return None
        asked = asked_terms(evidence.question)
        quoted_terms = {(self._term_of(c.segment) or "").lower() for c in chosen}
        for definition in evidence.definitions:
            term = (self._term_of(definition.segment) or "").lower()
            if not term or term in quoted_terms or any(c.segment.overlaps(definition.segment) for c in chosen):
                continue
            if any(re.search(rf"\b{re.escape(term)}s?\b", phrase) for phrase in asked):
                return definition
        return None

    def _term_of(self, segment: Segment) -> str | None:
        unit = next((u for u in segment.provision.units if u.kind == "definition" and u.start <= segment.focus_start < u.end), None)
        return unit.term if unit else None

    def compose(self, evidence: Evidence) -> tuple[str, list[Citation]]:
        """The answer text with one marker per quote, and the citations the markers point at.

        A definition the question asks for comes first and stands in for a second
        provision. Paragraphs under one lead-in ("It is a reasonable excuse ...
        if—") are quoted together, the lead-in once. Only the first sentence says
        "of the Act".
        """
        chosen = self.select(evidence)
        definition = self._definition_to_add(evidence, chosen)
        if definition is not None:
            primary = chosen[0].segment.provision.uid
            chosen = [c for c in chosen if c.segment.provision.uid == primary]
        items = _group_by_lead(([definition] if definition is not None else []) + chosen)
        both = len({item.segment.provision.document_id for item in items}) > 1
        if both:
            # Authority: the Act before the policy page, whatever the scores.
            items.sort(key=lambda item: item.segment.provision.kind == "function")
        sentences: list[str] = []
        citations: list[Citation] = []
        quoted: list[tuple[str, int, int]] = []  # (provision uid, start, end) of what is already quoted

        def add(sentence_without_marker: str, citation: Citation) -> None:
            citations.append(citation)
            sentences.append(f"{sentence_without_marker} [{len(citations)}].")

        def quote(item: Scored) -> None:
            seg = item.segment
            lead_span = _lead_span(seg)
            intro = self._intro(seg.provision, _unit_pinpoint(seg), both, first=not sentences)
            uid = seg.provision.uid
            if lead_span is not None and any(u == uid and a <= lead_span[0] and lead_span[1] <= b for u, a, b in quoted):
                citation = cite_span(self.corpus, seg.provision, seg.focus_start, seg.focus_end)
                add(f"{intro}: … “{_oneline(citation.quote)}”", citation)
                return
            citation = cite_span(self.corpus, seg.provision, seg.start, seg.end, focus=(seg.focus_start, seg.focus_end))
            quoted.append((uid, seg.start, seg.end))
            if seg.lead is not None:
                quoted.append((uid, *seg.lead))
            if seg.lead is None:
                add(f"{intro}: “{_oneline(citation.quote)}”", citation)
                return
            lead = cite_span(self.corpus, seg.provision, *seg.lead)
            citations.append(lead)
            add(f"{intro}: “{_oneline(lead.quote)}” [{len(citations)}] … “{_oneline(citation.quote)}”", citation)

        for item in items:
            quote(item)
        delegation = self._delegation(chosen, set(content_terms(evidence.question)))
        if delegation is not None:
            provision, start, end, what = delegation
            citation = cite_span(self.corpus, provision, start, end)
            add(f"The Act leaves the detail to {what}: {citation.label} says “{_oneline(citation.quote)}”", citation)
        return "\n".join(sentences), citations

    def _intro(self, provision: Provision, pinpoint: str, both_sources: bool, first: bool) -> str:
        where = label(provision, pinpoint)
        if provision.kind == "function":
            where = where.removeprefix("VET clusters, ")
            return f"The VET clusters policy page ({where}{', a policy page, not law' if both_sources else ''}) says"
        if pinpoint.count('"') >= 2:  # a definition, or a paragraph inside one: '(1) "parent"'
            before, term = pinpoint.split('"')[:2]
            return f"The Act defines “{term}” in {label(provision, before.strip())}"
        return f"Under {where} of the Act" if first else f"Under {where}"

    def _delegation(self, chosen: list[Scored], q_terms: set[str]) -> tuple[Provision, int, int, str] | None:
        """The first chosen Act segment that hands the matter on, with the words that do it ("in accordance with the regulations")."""
        for item in chosen:
            seg = item.segment
            if seg.provision.kind == "function":
                continue
            m = DELEGATION_RE.search(seg.provision.text, seg.focus_start, seg.focus_end)
            if m is None:
                continue
            # Only when the words around the delegation are what the question is about, not a side remark.
            around = seg.provision.text[max(seg.focus_start, m.start() - 120) : min(seg.focus_end, m.end() + 120)]
            if self._lexical(q_terms, around) < DELEGATION_MIN_OVERLAP:
                continue
            word = m["what"].lower()
            what = next(name for key, name in _DELEGATE_NAME.items() if key in word)
            phrase_start = m.start() + len(m["what"]) - len(m["what"].lstrip())
            return seg.provision, phrase_start, m.end(), what
        return None

    # --- the shared signature ------------------------------------------------------------
    def answer(self, question: str, hits: list[Hit], evidence: Evidence | None = None) -> Answer:
        evidence = evidence or self.evidence(question, hits)
        if evidence.should_abstain(self.settings.abstain_threshold):
            return self.abstain(question, hits, evidence)
        text, citations = self.compose(evidence)
        return Answer(
            question=question, text=text, citations=citations, retrieved=retrieved_from_hits(hits), mode="extractive", model_id=self.model_id
        )

    def abstain(self, question: str, hits: list[Hit], evidence: Evidence | None = None, mode: str = "extractive", model_id: str | None = None) -> Answer:
        reason = (
            "nothing was retrieved"
            if not hits
            else (evidence.abstain_reason(self.settings.abstain_threshold) or "the evidence does not answer the question")
            if evidence is not None
            else "the evidence does not answer the question"
        )
        return Answer(
            question=question,
            text=abstention_text(hits),
            abstained=True,
            abstain_reason=reason,
            retrieved=retrieved_from_hits(hits),
            mode=mode,
            model_id=self.model_id if model_id is None else model_id,
        )

    def answer_stream(self, question: str, hits: list[Hit]) -> Iterator[str | Answer]:
        answer = self.answer(question, hits)
        for line in answer.text.split("\n"):
            yield line + "\n"
        yield answer


def _lead_span(segment: Segment) -> tuple[int, int] | None:
    """Where the segment's lead-in starts and ends: a separate lead, or the words before its focus."""
    if segment.lead is not None:
        return segment.lead
    return (segment.start, segment.focus_start) if segment.start < segment.focus_start else None


def _unit_pinpoint(segment: Segment) -> str:
    unit = most_specific_unit(segment.provision, segment.focus_start, segment.focus_end)
    return unit.pinpoint if unit else ""


def _group_by_lead(items: list[Scored]) -> list[Scored]:
    """The items in order, each followed at once by later items that share its lead-in."""
    out: list[Scored] = []
    for item in items:
        if item in out:
            continue
        out.append(item)
        span = _lead_span(item.segment)
        if span is not None:
            uid = item.segment.provision.uid
            out += [o for o in items if o not in out and o.segment.provision.uid == uid and (_lead_span(o.segment) or (None,))[0] == span[0]]
    return out


def _oneline(text: str) -> str:
    return " ".join(text.split())


def _idf(corpus: Corpus) -> dict[str, float]:
    """Inverse document frequency over provisions (heading + text), smoothed as in BM25 (Robertson & Zaragoza 2009)."""
    df: Counter[str] = Counter()
    provisions = corpus.provisions
    for p in provisions:
        df.update(set(content_terms(f"{p.heading} {p.text}")))
    n = len(provisions)
    return {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}


def _definition_index(corpus: Corpus) -> list[tuple[str, Segment]]:
    """(term, segment) for each definition in the Act's definitions section, longest term first."""
    out = []
    for document in corpus.documents:
        if document.info.format != "legislation-json":
            continue
        provision = next((p for p in document.provisions if p.heading.strip().lower() == "definitions"), None)
        if provision is None:
            continue
        by_start = {s.focus_start: s for s in segments_of(provision)}
        for unit in provision.units:
            if unit.kind == "definition" and unit.term and unit.start in by_start:
                seg = by_start[unit.start]
                end = _trim(provision.text, unit.start, unit.end)[1]
                if end - unit.start > MAX_SPAN_CHARS:
                    end = seg.focus_end
                out.append((unit.term, Segment(provision, unit.start, end, unit.start, seg.focus_end)))
    return sorted(out, key=lambda pair: -len(pair[0]))
