"""Composing: the chosen segments turned into cited sentences that say where each quote comes from.

Each sentence is the law's own words with a marker for its citation, so every
claim can be checked. Around the quotes: a definition the question asked for
comes first, paragraphs under one lead-in are quoted together with the lead-in
once, the Act comes before the VET clusters policy page (it is law, the page is
not), and a quote that hands the matter to regulations, a Ministerial Order or
guidelines adds a sentence saying so.
"""

from __future__ import annotations

from assistant.answer.evidence import Evidence, Scored
from assistant.answer.lexical import TermWeights, content_terms
from assistant.answer.questions import asked_terms
from assistant.answer.segments import Segment, defined_term
from assistant.cite import cite_span, label, most_specific_unit
from assistant.corpus import Corpus
from assistant.patterns import DEFINITIONAL_RE, DELEGATION_RE, term_or_plural_re
from assistant.records import Citation, Provision

# Share of the question's (idf-weighted) words the delegating clause must contain to be worth saying.
DELEGATION_MIN_OVERLAP = 0.3
# How the delegation sentence names the instrument, by a word of the delegating phrase.
DELEGATE_NAMES = {"regulation": "the regulations", "ministerial order": "a Ministerial Order", "guideline": "guidelines"}


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
        if lead_span is not None and any(u == uid and a <= lead_span[0] and lead_span[1] <= b for u, a, b in quoted):
            citation = cite_span(corpus, seg.provision, seg.focus_start, seg.focus_end)
            add(f"{intro}: … “{_oneline(citation.quote)}”", citation)
            return
        citation = cite_span(corpus, seg.provision, seg.start, seg.end, focus=(seg.focus_start, seg.focus_end))
        quoted.append((uid, seg.start, seg.end))
        if seg.lead is not None:
            quoted.append((uid, *seg.lead))
        if seg.lead is None:
            add(f"{intro}: “{_oneline(citation.quote)}”", citation)
            return
        lead = cite_span(corpus, seg.provision, *seg.lead)
        citations.append(lead)
        add(f"{intro}: “{_oneline(lead.quote)}” [{len(citations)}] … “{_oneline(citation.quote)}”", citation)

    for item in items:
        quote(item)
    delegation = delegation_in(chosen, set(content_terms(evidence.question)), weights)
    if delegation is not None:
        provision, start, end, what = delegation
        citation = cite_span(corpus, provision, start, end)
        add(f"The Act leaves the detail to {what}: {citation.label} says “{_oneline(citation.quote)}”", citation)
    return "\n".join(sentences), citations


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


def delegation_in(chosen: list[Scored], q_terms: set[str], weights: TermWeights) -> tuple[Provision, int, int, str] | None:
    """The first chosen Act segment that hands the matter on: its provision, the span of the words
    that do it ("in accordance with the regulations"), and how to name the instrument."""
    for item in chosen:
        seg = item.segment
        if seg.provision.kind == "function":
            continue
        m = DELEGATION_RE.search(seg.provision.text, seg.focus_start, seg.focus_end)
        if m is None:
            continue
        # Only when the words around the delegation are what the question is about, not a side remark.
        around = seg.provision.text[max(seg.focus_start, m.start() - 120) : min(seg.focus_end, m.end() + 120)]
        if weights.overlap(q_terms, around) < DELEGATION_MIN_OVERLAP:
            continue
        word = m["what"].lower()
        what = next(name for key, name in DELEGATE_NAMES.items() if key in word)
        phrase_start = m.start() + len(m["what"]) - len(m["what"].lstrip())
        return seg.provision, phrase_start, m.end(), what
    return None


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
