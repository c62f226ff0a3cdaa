"""Segments: the citable spans a provision is cut into, each readable on its own.

One segment per subsection, paragraph, definition or bullet (a long line is cut
into sentences), so a citation points at the most specific unit. A paragraph
keeps its lead-in ("It is the duty of the parent of a child of not less than 6
nor more than 17 years of age— (a) to enrol ...") and a penalty keeps the duty
it punishes, because neither means anything quoted alone. A subparagraph keeps
every lead-in above it: "(iii) obtain loan or credit facilities" under "(c) unless
authorised by ... a Ministerial Order—" means nothing, or the opposite of the law,
without "(3) A school council does not have the power to do any of the following—".
"""

from __future__ import annotations

from dataclasses import dataclass

from assistant.corpus import Corpus
from assistant.patterns import (
    LEADING_LABEL_RE,
    SENTENCE_BREAK_IN_LINE_RE,
    TRAILING_JOINER_RE,
    only_placeholder,
    without_placeholders,
)
from assistant.records import Provision

# A paragraph keeps its lead-in, and a penalty its duty, only within this many characters.
MAX_SPAN_CHARS = 700
# A line longer than this is cut into sentences.
LONG_LINE_CHARS = 450


@dataclass(frozen=True)
class Segment:
    """A citable span of one provision: ``text[start:end]``, resting on ``text[focus_start:focus_end]``.

    ``lead`` is a separate lead-in span quoted before the segment when the two are
    not contiguous ("The Institute must refuse ... grounds—" … "(c) the applicant
    has been given a WWC exclusion"). ``outer_leads`` are the lead-ins above that
    one (or above a contiguous one), outermost first, for a subparagraph in a list
    within a list.
    """

    provision: Provision
    start: int
    end: int
    focus_start: int
    focus_end: int
    lead: tuple[int, int] | None = None
    outer_leads: tuple[tuple[int, int], ...] = ()

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
    def reading_text(self) -> str:
        """The segment with its nearest lead-in: what it is scored on. Outer lead-ins are left out, since
        every item of their list shares them and they would tell the items apart no better. A placeholder for words
        the export lost is left out too: it is not the law's."""
        return without_placeholders(f"{self.lead_text} … {self.text}" if self.lead else self.text)

    @property
    def full_text(self) -> str:
        """Every lead-in, outermost first, and the segment, as a reader sees them."""
        return " … ".join([*(self.provision.text[a:b] for a, b in self.outer_leads), self.reading_text])

    @property
    def lead_span(self) -> tuple[int, int] | None:
        """Where the segment's lead-in starts and ends: a separate lead, or the words before its focus."""
        if self.lead is not None:
            return self.lead
        return (self.start, self.focus_start) if self.start < self.focus_start else None

    def embed_text(self) -> str:
        return f"{self.provision.heading}: {' '.join(self.reading_text.split())}"

    def overlaps(self, other: Segment) -> bool:
        return self.provision.uid == other.provision.uid and self.start < other.end and other.start < self.end


def trim(text: str, start: int, end: int) -> tuple[int, int]:
    """Drop trailing '; or' / ', and' joiners and whitespace so a quote reads as a complete clause."""
    while True:
        m = TRAILING_JOINER_RE.search(text, start, end)
        if not m or m.end() != end or m.start() <= start:
            break
        end = m.start()
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def whole_provision(provision: Provision) -> Segment:
    """The provision's whole text as one segment, surrounding whitespace and a closing joiner trimmed."""
    text = provision.text
    start, end = trim(text, len(text) - len(text.lstrip()), len(text))
    return Segment(provision, start, end, start, end)


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
    line_at = {span[0]: i for i, span in enumerate(lines)}
    out: list[Segment] = []
    for index, (start, end) in enumerate(lines):
        pieces = [(start, end)]
        if end - start > LONG_LINE_CHARS:
            pieces, pos = [], start
            for m in SENTENCE_BREAK_IN_LINE_RE.finditer(text, start, end):
                pieces.append((pos, m.start()))
                pos = m.end()
            pieces.append((pos, end))
        for piece_start, piece_end in pieces:
            if text.startswith("- ", piece_start):
                piece_start += 2
            fs, fe = trim(text, piece_start, piece_end)
            if fe - fs < 12 or _is_lead_in_only(provision, fs, fe, lines, index) or only_placeholder(text[fs:fe]):
                continue  # too short to read, a lead-in quoted with what it introduces, or none of the law's words
            lead = _lead_in(provision, lines, index, piece_start) if piece_start == start else None
            if lead is None:
                out.append(Segment(provision, fs, fe, fs, fe))
                continue
            outer = _outer_leads(provision, lines, line_at, lead)
            lead_line = lines[line_at[lead]] if lead in line_at else None
            placeholder = lead_line is not None and only_placeholder(text[lead_line[0] : lead_line[1]])
            if index > 0 and lines[index - 1][0] == lead and fe - lead <= MAX_SPAN_CHARS and not placeholder:
                # The lead-in is the line just above: one contiguous quote, pinpointed to this line's unit.
                out.append(Segment(provision, lead, fe, fs, fe, outer_leads=outer))
            else:
                # A lead-in further up, or one the export lost (apart, so the quote holds only the law's words).
                out.append(Segment(provision, fs, fe, fs, fe, lead=trim(text, *lead_line) if lead_line else None, outer_leads=outer))
    return out


def _outer_leads(provision: Provision, lines: list[tuple[int, int]], line_at: dict[int, int], lead: int) -> tuple[tuple[int, int], ...]:
    """The lead-ins above the line starting at ``lead``, outermost first: each a line ending "—" or ":" that
    introduces the list holding the one below it. Empty when that line is not itself in such a list.
    ``line_at`` maps where each of ``lines`` starts to its index."""
    out: list[tuple[int, int]] = []
    at = lead
    while at in line_at:
        above = _lead_in(provision, lines, line_at[at], at)
        if above is None or above >= at or above not in line_at:
            break
        line_start, line_end = lines[line_at[above]]
        if not provision.text[line_start:line_end].rstrip().endswith(("—", ":")):
            break
        out.insert(0, trim(provision.text, line_start, line_end))
        at = above
    return tuple(out)


def _is_lead_in_only(provision: Provision, start: int, end: int, lines: list[tuple[int, int]], index: int) -> bool:
    """A line like "(1) In this Act—" that only introduces the units below it: quoted with them instead."""
    text = provision.text
    if not text[start:end].rstrip().endswith(("—", ":")) or index + 1 >= len(lines):
        return False
    following = lines[index + 1][0]
    return bool(LEADING_LABEL_RE.match(text[following : lines[index + 1][1]])) or any(u.start == following for u in provision.units)


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


def defined_term(segment: Segment) -> str | None:
    """The term of the definition the segment rests on, or None when it rests on no definition."""
    unit = next((u for u in segment.provision.units if u.kind == "definition" and u.start <= segment.focus_start < u.end), None)
    return unit.term if unit else None


def definition_segments(corpus: Corpus) -> list[tuple[str, Segment]]:
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
                end = trim(provision.text, unit.start, unit.end)[1]
                if end - unit.start > MAX_SPAN_CHARS:
                    end = seg.focus_end
                out.append((unit.term, Segment(provision, unit.start, end, unit.start, seg.focus_end)))
    return sorted(out, key=lambda pair: -len(pair[0]))


def embedded_segment_texts(corpus: Corpus) -> list[str]:
    """Every text the answer stage embeds, once: each in-force provision's segments in the law's order, then each definition.

    The index holds their vectors, computed in one fixed batching, so a segment's vector (and the
    answer) never depends on which questions were asked first (under bfloat16 a text's vector
    moves by up to 1e-3 with the texts batched beside it).
    """
    texts = [seg.embed_text() for provision in corpus.provisions if not provision.repealed for seg in segments_of(provision)]
    texts += [seg.embed_text() for _, seg in definition_segments(corpus)]
    return list(dict.fromkeys(texts))
