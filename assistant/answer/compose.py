"""Composing: the chosen segments turned into cited sentences that say where each quote comes from.

Each sentence is the law's own words with a marker for its citation, so every
claim can be checked. Around the quotes: a definition the question asked for
comes first, paragraphs under one lead-in are quoted together with the lead-in
once, the Act comes before the VET clusters policy page (it is law, the page is
not), and a quote that hands the matter to regulations, a Ministerial Order or
guidelines adds a sentence saying so. When the matter asked about is what such
words leave elsewhere, the answer is that one sentence instead (``delegated_answer``),
marked as not answered by the sources.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from assistant.answer.evidence import Evidence, Scored
from assistant.answer.lexical import TermWeights, content_terms
from assistant.answer.questions import asked_terms
from assistant.answer.segments import Segment, defined_term
from assistant.cite import cite_span, label, most_specific_unit
from assistant.corpus import Corpus
from assistant.patterns import (
    DEFINITIONAL_RE,
    DELEGATED_TO_RE,
    HAS_NUMBER_RE,
    INSTRUMENT_SCHEDULE_RE,
    LOST_LEAD_IN_NOTE,
    only_placeholder,
    term_or_plural_re,
)
from assistant.records import Citation, Provision, Unit

# How an answer says the Act leaves a detail to another instrument; the UI shows such a sentence as a note.
DELEGATION_NOTE_PREFIX = "The Act leaves the detail to"

# Share of the question's (idf-weighted) words the delegating clause must contain to be worth saying in an answer.
DELEGATION_MIN_OVERLAP = 0.3
# ... and to take the matter it leaves elsewhere for the one asked about (a delegated abstention; chosen on bank dev).
DELEGATED_MIN_OVERLAP = 0.05
# How the answer names the instrument, by DELEGATED_TO_RE's group.
DELEGATE_NAMES = {"regulations": "the regulations", "order": "a Ministerial Order", "council": "an Order of the Governor in Council", "guidelines": "guidelines", "minister": "the Minister"}
# Who may deal with the matters a Schedule lists, by INSTRUMENT_SCHEDULE_RE's group.
SCHEDULE_MAKERS = {"regulations": "regulations", "order": "Ministerial Orders"}
# A delegated answer quotes the delegating words in their clause, up to this many characters.
DELEGATION_QUOTE_CHARS = 320


@dataclass(frozen=True)
class Delegation:
    """Words of a provision that hand a matter to another instrument: their span and how staff name the instrument."""

    provision: Provision
    start: int
    end: int
    what: str
    # For an item of a Schedule listing matters another instrument may deal with: who may ("Ministerial Orders").
    listed_for: str | None = None

    @cached_property
    def unit(self) -> Unit | None:
        """The most specific unit holding the words."""
        return most_specific_unit(self.provision, self.start, self.end)

    def states_figure(self, chosen: list[Scored], q_terms: set[str], weights: TermWeights) -> bool:
        """Whether the delegating provision states a quantity itself: in the unit holding the words ("4 years or
        any other period specified in a Ministerial Order") or in a part of it the answer would quote that is
        about what was asked, holding the question's most specific word the provision uses (s 2.2.19(5)'s
        "12 months" is about expulsion records, not how long a suspension lasts)."""
        if self.listed_for is not None:
            return bool(HAS_NUMBER_RE.search(self.provision.text[self.start : self.end]))
        unit = self.unit
        if HAS_NUMBER_RE.search(self.provision.text[unit.start : unit.end] if unit else self.provision.text):
            return True
        provision_words = set(content_terms(self.provision.text))
        key = max((t for t in q_terms if t in provision_words), key=weights.weight, default=None)
        return any(
            item.has_number and item.segment.provision.uid == self.provision.uid and (key is None or _shares_root(key, content_terms(item.segment.reading_text)))
            for item in chosen
        )

    def says(self, citation: Citation, quote: str | None = None) -> str:
        """How an answer puts the quoted words: what the provision says, or what a Schedule lists for the
        instrument; with no quote, a listed item the answer quotes already ("lists this")."""
        if self.listed_for is not None:
            listed = "this" if quote is None else f"“{quote}”"
            return f"{citation.label} lists {listed} among the matters {self.listed_for} may deal with"
        return f"{citation.label} says “{quote}”"

    def __str__(self) -> str:
        unit = self.unit
        where = label(self.provision, unit.pinpoint if unit else "")
        return f"'{self.provision.text[self.start : self.end]}' in {where}" + (f", a matter listed for {self.listed_for}" if self.listed_for else "")


def _shares_root(term: str, words: list[str]) -> bool:
    """Whether a word begins as ``term`` does, to its first five letters: the stemmer keeps "absence" and
    "absent" apart, and a figure about absences answers a question about them."""
    root = term[:5]
    return any(word.startswith(root) for word in words)


def compose(corpus: Corpus, weights: TermWeights, evidence: Evidence, chosen: list[Scored]) -> tuple[str, list[Citation]]:
    """The answer text with one marker per quote, and the citations the markers point at.

    A definition the question asks for comes first and stands in for a second
    provision. Paragraphs under one lead-in ("It is a reasonable excuse ...
    if—") are quoted together, the lead-in once. Only the first sentence says
    "of the Act".
    """
    definition = definition_to_add(evidence, chosen)
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
        lead_span = seg.lead_span
        intro = _intro(seg.provision, _unit_pinpoint(seg), both, first=not sentences)
        uid = seg.provision.uid

        def already_quoted(span: tuple[int, int]) -> bool:
            return any(u == uid and a <= span[0] and span[1] <= b for u, a, b in quoted)

        if lead_span is not None and already_quoted(lead_span):
            citation = cite_span(corpus, seg.provision, seg.focus_start, seg.focus_end)
            add(f"{intro}: … “{_oneline(citation.quote)}”", citation)
            return
        citation = cite_span(corpus, seg.provision, seg.start, seg.end, focus=(seg.focus_start, seg.focus_end))
        quoted.append((uid, seg.start, seg.end))
        # Each lead-in above the segment, outermost first, is its own checked quote and citation, unless
        # an earlier sentence of the answer quotes it already.
        spans = [*seg.outer_leads, *([seg.lead] if seg.lead is not None else [])]
        fresh = [span for span in spans if not already_quoted(span)]
        pieces = []
        for span in fresh:
            quoted.append((uid, *span))
            if only_placeholder(seg.provision.text[span[0] : span[1]]):
                pieces.append(LOST_LEAD_IN_NOTE)  # words the export lost: said so, not quoted as the law's
                continue
            lead = cite_span(corpus, seg.provision, *span)
            citations.append(lead)
            pieces.append(f"“{_oneline(lead.quote)}” [{len(citations)}]")
        before = "… " if len(fresh) < len(spans) else ""
        add(f"{intro}: {before}{' … '.join([*pieces, f'“{_oneline(citation.quote)}”'])}", citation)

    for item in items:
        quote(item)
    delegation = delegation_in(chosen, set(content_terms(evidence.question)), weights)
    if delegation is not None:
        citation = cite_span(corpus, delegation.provision, delegation.start, delegation.end)
        # A Schedule's item the answer quotes already is pointed to, not quoted twice.
        earlier = next((n for n, c in enumerate(citations, start=1) if _holds(c, citation)), None) if delegation.listed_for else None
        if earlier is None:
            add(f"{DELEGATION_NOTE_PREFIX} {delegation.what}: {delegation.says(citation, _oneline(citation.quote))}", citation)
        else:
            sentences.append(f"{DELEGATION_NOTE_PREFIX} {delegation.what}: {delegation.says(citation)} [{earlier}].")
    return "\n".join(sentences), citations


def _holds(outer: Citation, inner: Citation) -> bool:
    """Whether one citation's quote contains the other's, in the same provision."""
    same = (outer.document_id, outer.provision_id) == (inner.document_id, inner.provision_id)
    return same and outer.quote_start <= inner.quote_start and inner.quote_start + len(inner.quote) <= outer.quote_start + len(outer.quote)


def definition_to_add(evidence: Evidence, chosen: list[Scored]) -> Scored | None:
    """The definition of the term the question asks the meaning of ("Who counts as an
    'overseas student'?"), when the answer does not already quote a definition of it.
    A term the question merely uses is not defined: its definition would be one more
    citation to check, and staff asked about something else."""
    if not DEFINITIONAL_RE.search(evidence.question):
        return None
    asked = asked_terms(evidence.question)
    quoted_terms = {(defined_term(c.segment) or "").lower() for c in chosen}
    for definition in evidence.definitions:
        term = (defined_term(definition.segment) or "").lower()
        if not term or term in quoted_terms or any(c.segment.overlaps(definition.segment) for c in chosen):
            continue
        if any(term_or_plural_re(term).search(phrase) for phrase in asked):
            return definition
    return None


def delegation_in(chosen: list[Scored], q_terms: set[str], weights: TermWeights, min_overlap: float = DELEGATION_MIN_OVERLAP) -> Delegation | None:
    """The first words in a chosen Act segment that hand the matter on ("in accordance with the regulations"),
    when the words around them share at least ``min_overlap`` of the question's: what it is about, not a side remark."""
    for item in chosen:
        seg = item.segment
        if seg.provision.kind == "function":
            continue
        instrument = schedule_instrument(seg.provision)
        if instrument is not None:
            # An item of a Schedule of matters for regulations or Ministerial Orders hands on the matter it names
            # (with the words introducing it when they run on into it: "The matters to be included in … including— (a) …").
            start, end = seg.start, seg.start + len(seg.provision.text[seg.start : seg.end].rstrip())
            if end > start and weights.overlap(q_terms, seg.provision.text[seg.focus_start : seg.focus_end]) >= min_overlap:
                return Delegation(seg.provision, start, end, DELEGATE_NAMES[instrument], SCHEDULE_MAKERS[instrument])
            continue
        for m in DELEGATED_TO_RE.finditer(seg.provision.text, seg.focus_start, seg.focus_end):
            around = seg.provision.text[max(seg.focus_start, m.start() - 120) : min(seg.focus_end, m.end() + 120)]
            if weights.overlap(q_terms, around) >= min_overlap:
                return Delegation(seg.provision, m.start(), m.end(), DELEGATE_NAMES[m.lastgroup or ""])
    return None


def schedule_instrument(provision: Provision) -> str | None:
    """The instrument a provision's Schedule lists matters for (INSTRUMENT_SCHEDULE_RE's group), or None."""
    return next((m.lastgroup for part in provision.path if (m := INSTRUMENT_SCHEDULE_RE.match(part))), None)


def delegated_answer(corpus: Corpus, delegation: Delegation) -> tuple[str, Citation]:
    """One sentence saying the Act leaves the matter to the instrument, quoting the delegating words in their clause."""
    provision = delegation.provision
    start, end = _clause(delegation)
    citation = cite_span(corpus, provision, start, end, focus=(delegation.start, delegation.end))
    # Words cut off inside a sentence are marked, as a lawyer would.
    unit = delegation.unit
    opens_unit = unit is not None and provision.text[unit.start : start].strip() == ""
    before = "… " if not opens_unit and provision.text[:start].rstrip()[-1:] not in ("", *".;:—") else ""
    after = " …" if provision.text[end:].strip() and provision.text[end - 1] not in ".;:—" else ""
    return f"The Act leaves this to {delegation.what}: {delegation.says(citation, before + _oneline(citation.quote) + after)} [1].", citation


def _clause(delegation: Delegation) -> tuple[int, int]:
    """The unit holding the delegating words; when that is long, the sentence or clause holding them, cut at spaces to ``DELEGATION_QUOTE_CHARS``."""
    text, start, end = delegation.provision.text, delegation.start, delegation.end
    unit = delegation.unit
    low, high = (unit.start, unit.end) if unit else (0, len(text))
    if high - low > DELEGATION_QUOTE_CHARS:
        low = max([low] + [i + len(mark) for mark in (". ", "; ", "—", "\n") if (i := text.rfind(mark, low, start)) >= 0])
        high = min([high] + [i + 1 for mark in (".", ";", "—", "\n") if (i := text.find(mark, end, high)) >= 0])
    half = DELEGATION_QUOTE_CHARS // 2
    if start - low > half:
        low = text.find(" ", start - half, start) + 1 or low
    if high - end > half:
        high = cut if (cut := text.rfind(" ", end, end + half)) > end else high
    while low < start and text[low].isspace():
        low += 1
    while high > end and text[high - 1] in " ,\n":
        high -= 1
    return low, high


def _intro(provision: Provision, pinpoint: str, both_sources: bool, first: bool) -> str:
    """What opens a quote: where it comes from, and for the policy page that it is not law."""
    where = label(provision, pinpoint)
    if provision.kind == "function":
        where = where.removeprefix("VET clusters, ")
        return f"The VET clusters policy page ({where}{', a policy page, not law' if both_sources else ''}) says"
    if pinpoint.count('"') >= 2:  # a definition, or a paragraph inside one: '(1) "parent"'
        before, term = pinpoint.split('"')[:2]
        return f"The Act defines “{term}” in {label(provision, before.strip())}"
    return f"Under {where} of the Act" if first else f"Under {where}"


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
        span = item.segment.lead_span
        if span is not None:
            uid = item.segment.provision.uid
            out += [o for o in items if o not in out and o.segment.provision.uid == uid and (o.segment.lead_span or (None,))[0] == span[0]]
    return out


def _oneline(text: str) -> str:
    return " ".join(text.split())
