"""Extractive answerer: quote the sentences of the retrieved law that answer the question.

Needs no generative model, so every claim in its answer is the law's own words,
cited to the most specific subsection, paragraph, definition or bullet.

How an answer is composed:

1. **Segments.** Each of the top retrieved provisions is cut into lines (one
   line per subsection, paragraph, definition or bullet; long lines into
   sentences). A paragraph keeps its lead-in ("It is the duty of the parent of a
   child of not less than 6 nor more than 17 years of age— (a) to enrol ...") and
   a penalty keeps the duty it punishes, when the two are contiguous and short.
2. **Scores.** Each segment gets ``0.55 * semantic + 0.30 * lexical + 0.15 * prior``:
   cosine similarity with the question under the already-loaded embedding model;
   the idf-weighted share of the question's content words that the segment (with
   its heading) contains; and a prior from the provision's retrieval rank.
3. **Selection.** The best segment, plus segments close to it in score (within
   0.08) up to ``max_answer_sentences``, without overlapping spans. For questions
   asking for a number (an age, days, penalty units, a term of office) the first
   sentence is the best segment that contains one.
4. **Additions.** A defined term the answer turns on (named in the question and
   the answer, or asked about directly) adds its s 1.1.3 definition; a selected
   segment that hands the matter to regulations, a Ministerial Order or
   guidelines adds a sentence saying so, citing the delegating words.
5. **Authority.** Sentences from the Act come before sentences from the VET
   clusters page, and each sentence names its source.

Abstention (``Evidence.should_abstain``) is decided here for both answerers; see
``ABSTENTION`` below for the rule and how its threshold was chosen.
"""

from __future__ import annotations

import math
import re
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from assistant.answer import abstention_text, retrieved_from_hits
from assistant.cite import cite_span, label
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
    again further here both few many much s t am get gets got tell say says said let lets please act section sections""".split()
)


def stem(word: str) -> str:
    """A light suffix strip so 'enrolled', 'enrols' and 'enrolment' meet 'enrol' often enough for overlap counting."""
    for suffix, keep in (("ments", 0), ("ment", 0), ("ies", "y"), ("ing", 0), ("led", "l"), ("ed", 0), ("es", 0), ("s", 0)):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            if suffix == "s" and word.endswith("ss"):
                return word
            return word[: -len(suffix)] + (keep or "")
    return word


def content_terms(text: str) -> list[str]:
    return [stem(w) for w in _WORD_RE.findall(text.lower()) if w not in STOPWORDS and len(w) > 1]


# --- questions -------------------------------------------------------------------------------

NUMBER_QUESTION_RE = re.compile(
    r"\b(?:how\s+(?:many|much|old|long|often|soon|young)|what\s+age|which\s+age|what\s+is\s+the\s+age|age\s+(?:limit|range)|"
    r"minimum|maximum|penalt(?:y|ies)|fine|days?|weeks?|months?|years?|term\s+of\s+office|number\s+of|deadline|within\s+how)\b",
    re.IGNORECASE,
)
_NUMBER_WORDS = "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fourteen|fifteen|sixteen|seventeen|eighteen|twenty|thirty|sixty|ninety|hundred"
HAS_NUMBER_RE = re.compile(rf"\b(?:\d+|{_NUMBER_WORDS})\b", re.IGNORECASE)
# The question asks what a term means or who/what it covers.
DEFINITIONAL_RE = re.compile(r"\b(?:mean|means|meaning|defin\w*|count(?:s|ed)? as|includ\w*|considered|regarded as|who is a|what is a|what is an|what counts)\b", re.IGNORECASE)
# The Act hands the matter to another instrument.
DELEGATION_RE = re.compile(
    r"(?P<what>in accordance with the regulations|prescribed by the regulations|by the regulations|the regulations may|"
    r"(?:a |any |the )?Ministerial Order|(?:any |the )?guidelines(?: issued| made| approved)?)",
    re.IGNORECASE,
)
# Share of the question's (idf-weighted) words the delegating clause must contain to be worth saying.
DELEGATION_MIN_OVERLAP = 0.3
_DELEGATE_NAME = {"regulation": "the regulations", "ministerial order": "a Ministerial Order", "guideline": "guidelines"}

# --- segments --------------------------------------------------------------------------------

# A paragraph keeps its lead-in, and a penalty its duty, only within this many characters.
MAX_SPAN_CHARS = 700
LONG_LINE_CHARS = 450
_SENTENCE_IN_LINE_RE = re.compile(r"(?<=[.;:])\s+(?=[A-Z(])")
_TRAILING_JOINER_RE = re.compile(r"(?:\s*[;,]\s*(?:or|and)?|\s+(?:or|and))\s*$")
_LEADING_LABEL_RE = re.compile(r"^\((?:\d+[A-Z]*|[a-z]{1,4}|[A-Z]{1,2})\)\s*")


@dataclass(frozen=True)
class Segment:
    """A citable span of one provision: ``text[start:end]``, resting on ``text[focus_start:focus_end]``."""

    provision: Provision
    start: int
    end: int
    focus_start: int
    focus_end: int

    @property
    def text(self) -> str:
        return self.provision.text[self.start : self.end]

    @property
    def focus(self) -> str:
        return self.provision.text[self.focus_start : self.focus_end]

    def embed_text(self) -> str:
        return f"{self.provision.heading}: {' '.join(self.text.split())}"

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
            lead = _lead_in(provision, lines, index, piece_start) if piece_start == start else None
            span_start = lead if lead is not None and piece_end - lead <= MAX_SPAN_CHARS else piece_start
            s, e = _trim(text, span_start, piece_end)
            # A lead-in read across earlier siblings makes the whole span the claim, so the pinpoint is the parent.
            adjacent = span_start == piece_start or (index > 0 and lines[index - 1][0] == span_start)
            fs, fe = _trim(text, piece_start if adjacent else span_start, piece_end)
            if e - s < 12 or _is_lead_in_only(text, fs, fe, lines, index):
                continue
            out.append(Segment(provision, s, e, fs, fe))
    return out


def _is_lead_in_only(text: str, start: int, end: int, lines: list[tuple[int, int]], index: int) -> bool:
    """A line like "(1) In this Act—" that only introduces what follows: quoted with its paragraphs instead."""
    if not text[start:end].rstrip().endswith(("—", ":")):
        return False
    return index + 1 < len(lines) and bool(_LEADING_LABEL_RE.match(text[lines[index + 1][0] : lines[index + 1][1]]))


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


@dataclass
class Evidence:
    """The scored segments for one question, and the signals abstention rests on."""

    question: str
    hits: list[Hit]
    ranked: list[Scored]
    coverage: float
    wants_number: bool
    definitions: list[Scored] = field(default_factory=list)

    @property
    def best(self) -> Scored | None:
        return self.ranked[0] if self.ranked else None

    @property
    def support(self) -> float:
        """One number for "does the evidence answer this": see ``ABSTENTION``."""
        if not self.ranked:
            return 0.0
        best = self.ranked[0]
        return 0.5 * best.semantic + 0.5 * math.sqrt(best.lexical * self.coverage)

    def should_abstain(self, threshold: float) -> bool:
        return self.best is None or self.support < threshold


ABSTENTION = """Abstain when ``support < settings.abstain_threshold``, where

    support = 0.5 * semantic(best segment) + 0.5 * sqrt(lexical(best segment) * coverage)

``semantic`` is the cosine similarity between the question and the best-scoring
segment; ``lexical`` is the idf-weighted share of the question's content words
found in that segment (with its heading); ``coverage`` is the same share over the
top three retrieved provisions. The second term needs the question's key words
in both the best sentence and the evidence as a whole, so a question whose
topic is absent (a GAT date, head lice) scores low even when the embedding finds
a loosely similar sentence. The threshold was chosen on tests/data/dev_questions.jsonl
(see README and ``assistant.answer.extractive.choose_threshold``), never on eval/gold.jsonl."""


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
        self._cache: dict[str, tuple[list[Segment], np.ndarray]] = {}
        self._cache_lock = threading.Lock()
        self._idf = _idf(corpus)
        self._max_idf = max(self._idf.values(), default=1.0)
        self._definitions = _definition_index(corpus)

    @property
    def model_id(self) -> str:
        return getattr(self.encoder, "model_id", "")

    # --- evidence ------------------------------------------------------------------------
    def _segments(self, provisions: list[Provision]) -> list[tuple[list[Segment], np.ndarray]]:
        missing = [p for p in provisions if p.uid not in self._cache]
        if missing:
            cut = {p.uid: segments_of(p) for p in missing}
            texts = [s.embed_text() for p in missing for s in cut[p.uid]]
            encode_cached = getattr(self.encoder, "encode_cached", None)
            vectors = encode_cached(texts)[0] if encode_cached else self.encoder.encode(texts)
            with self._cache_lock:
                row = 0
                for p in missing:
                    n = len(cut[p.uid])
                    self._cache[p.uid] = (cut[p.uid], vectors[row : row + n])
                    row += n
        return [self._cache[p.uid] for p in provisions]

    def _idf_of(self, term: str) -> float:
        return self._idf.get(term, self._max_idf)

    def _lexical(self, q_terms: set[str], text: str) -> float:
        if not q_terms:
            return 0.0
        found = set(content_terms(text))
        total = sum(self._idf_of(t) for t in q_terms)
        return sum(self._idf_of(t) for t in q_terms if t in found) / total

    def evidence(self, question: str, hits: list[Hit]) -> Evidence:
        """Score every segment of the top hits (and of definitions the question names) against the question."""
        q_terms = set(content_terms(question))
        wants_number = bool(NUMBER_QUESTION_RE.search(question))
        top = [h for h in hits[: self.candidate_provisions]]
        provisions = [p for h in top if (p := self.corpus.find(h.document_id, h.provision_id)) is not None and not p.repealed]
        coverage_text = " ".join(f"{p.heading} {p.text}" for p in provisions[:3])
        coverage = self._lexical(q_terms, coverage_text)
        if not provisions:
            return Evidence(question, hits, [], coverage, wants_number)
        q_vec = self.encoder.encode([question])[0]
        rank_of = {f"{h.document_id}/{h.provision_id}": i for i, h in enumerate(top)}
        ranked: list[Scored] = []
        for provision, (segments, vectors) in zip(provisions, self._segments(provisions), strict=True):
            semantic = vectors @ q_vec if len(segments) else np.zeros(0)
            prior = 1.0 / (1.0 + 0.5 * rank_of[provision.uid])
            for segment, sem in zip(segments, semantic, strict=True):
                ranked.append(self._score(segment, float(sem), prior, q_terms, wants_number))
        ranked.sort(key=lambda s: -s.score)
        definitions = self._named_definitions(question, q_vec, q_terms)
        return Evidence(question, hits, ranked, coverage, wants_number, definitions)

    def _score(self, segment: Segment, semantic: float, prior: float, q_terms: set[str], wants_number: bool) -> Scored:
        lexical = self._lexical(q_terms, f"{segment.provision.heading} {segment.text}")
        has_number = bool(HAS_NUMBER_RE.search(_LEADING_LABEL_RE.sub("", segment.focus)))
        score = 0.55 * semantic + 0.30 * lexical + 0.15 * prior + (0.05 if wants_number and has_number else 0.0)
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
        provision = named[0].provision
        segments, vectors = self._segments([provision])[0]
        by_focus = {s.focus_start: i for i, s in enumerate(segments)}
        out = []
        for segment in named:
            i = by_focus.get(segment.focus_start)
            sem = float(vectors[i] @ q_vec) if i is not None else 0.0
            out.append(self._score(segment, sem, 0.5, q_terms, False))
        return out

    # --- composing -----------------------------------------------------------------------
    def select(self, evidence: Evidence) -> list[Scored]:
        """The segments the answer quotes, in the order they are said."""
        ranked = evidence.ranked
        if not ranked:
            return []
        limit = max(1, self.settings.max_answer_sentences)
        best = ranked[0]
        chosen = [best]
        per_provision = Counter([best.segment.provision.uid])
        chars = len(best.segment.text)
        for cand in ranked[1:]:
            if len(chosen) >= limit - 1 or cand.score < best.score - 0.08:
                break
            seg = cand.segment
            if any(seg.overlaps(c.segment) for c in chosen) or per_provision[seg.provision.uid] >= 2 or chars + len(seg.text) > 900:
                continue
            chosen.append(cand)
            per_provision[seg.provision.uid] += 1
            chars += len(seg.text)
        if evidence.wants_number and not chosen[0].has_number:
            numbered = next((c for c in ranked[:12] if c.has_number and c.score >= best.score - 0.15), None)
            if numbered is not None:
                chosen = [numbered] + [c for c in chosen if not c.segment.overlaps(numbered.segment)][: limit - 2]
        act_first = {d.info.id: i for i, d in enumerate(sorted(self.corpus.documents, key=lambda d: d.info.format != "legislation-json"))}
        lead = chosen[0]
        rest = sorted(chosen[1:], key=lambda c: act_first.get(c.segment.provision.document_id, 99))
        if act_first.get(lead.segment.provision.document_id, 99) > 0 and any(act_first.get(c.segment.provision.document_id, 99) == 0 for c in rest):
            if not (evidence.wants_number and lead.has_number):
                lead, rest = rest[0], [lead, *rest[1:]]
        return [lead, *rest]

    def _definition_to_add(self, evidence: Evidence, chosen: list[Scored]) -> Scored | None:
        said = " ".join(c.segment.text.lower() for c in chosen)
        definitional = bool(DEFINITIONAL_RE.search(evidence.question))
        for definition in evidence.definitions:
            if any(c.segment.overlaps(definition.segment) for c in chosen):
                continue
            term = (self._term_of(definition.segment) or "").lower()
            multiword = " " in term
            if definitional or (multiword and term in said):
                return definition
        return None

    def _term_of(self, segment: Segment) -> str | None:
        unit = next((u for u in segment.provision.units if u.kind == "definition" and u.start <= segment.focus_start < u.end), None)
        return unit.term if unit else None

    def compose(self, evidence: Evidence) -> tuple[str, list[Citation]]:
        """The answer text with one marker per sentence, and the citations the markers point at."""
        chosen = self.select(evidence)
        sentences: list[str] = []
        citations: list[Citation] = []
        documents = {c.segment.provision.document_id for c in chosen}
        both = len(documents) > 1

        def add(sentence_without_marker: str, citation: Citation) -> None:
            citations.append(citation)
            sentences.append(f"{sentence_without_marker} [{len(citations)}].")

        for item in chosen:
            seg = item.segment
            citation = cite_span(self.corpus, seg.provision, seg.start, seg.end, focus=(seg.focus_start, seg.focus_end))
            add(f"{self._intro(citation, seg.provision, both)}: “{' '.join(citation.quote.split())}”", citation)
        definition = self._definition_to_add(evidence, chosen)
        if definition is not None and len(sentences) < self.settings.max_answer_sentences + 1:
            seg = definition.segment
            citation = cite_span(self.corpus, seg.provision, seg.start, seg.end, focus=(seg.focus_start, seg.focus_end))
            add(f"{self._intro(citation, seg.provision, both)}: “{' '.join(citation.quote.split())}”", citation)
        delegation = self._delegation(chosen, set(content_terms(evidence.question)))
        if delegation is not None:
            provision, start, end, what = delegation
            citation = cite_span(self.corpus, provision, start, end)
            add(f"The Act leaves the detail to {what}; see {citation.label}: “{' '.join(citation.quote.split())}”", citation)
        return "\n".join(sentences), citations

    def _intro(self, citation: Citation, provision: Provision, both_sources: bool) -> str:
        if provision.kind == "function":
            where = citation.label.removeprefix("VET clusters, ")
            return f"The VET clusters policy page ({where}{', a policy page, not law' if both_sources else ''}) says"
        unit = provision.unit(citation.pinpoint) if citation.pinpoint else None
        if unit is not None and (unit.kind == "definition" or '"' in citation.pinpoint):
            term = self._term_of_pinpoint(citation.pinpoint)
            return f"The Act defines “{term}” in {label(provision, citation.pinpoint.split(chr(34))[0].strip())}"
        return f"Under {citation.label} of the Act"

    @staticmethod
    def _term_of_pinpoint(pinpoint: str) -> str:
        parts = pinpoint.split('"')
        return parts[1] if len(parts) >= 3 else pinpoint

    def _delegation(self, chosen: list[Scored], q_terms: set[str]) -> tuple[Provision, int, int, str] | None:
        """The first chosen Act segment that hands the matter on, with the clause that does it."""
        for item in chosen:
            seg = item.segment
            if seg.provision.kind == "function":
                continue
            m = DELEGATION_RE.search(seg.provision.text, seg.focus_start, seg.focus_end)
            if m is None:
                continue
            text = seg.provision.text
            clause_start = max(text.rfind(sep, seg.focus_start, m.start()) for sep in (",", ";", "—", "\n"))
            start = max(clause_start + 1, seg.focus_start, m.start() - 120)
            end = m.end()
            while start < end and text[start].isspace():
                start += 1
            # Only when the delegated clause is what the question is about, not a side remark.
            if self._lexical(q_terms, text[start:end]) < DELEGATION_MIN_OVERLAP:
                continue
            word = m["what"].lower()
            what = next(name for key, name in _DELEGATE_NAME.items() if key in word)
            return seg.provision, start, end, what
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
            else f"support {evidence.support:.2f} is below the threshold {self.settings.abstain_threshold:.2f}"
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
