"""Citations: parse markers in answer text, check quotes against the law, format pinpoint labels.

Every citation the assistant shows is made here, and only from a quote that
occurs verbatim in the cited provision's law text (``Provision.text``). The
pinpoint is the most specific unit (subsection, paragraph, definition, bullet)
whose span contains the quote, so ``s 2.1.1`` becomes ``s 2.1.1(a)`` when the
quote lies inside paragraph (a).

Labels come from the shared ``assistant.labels.provision_label``, so a citation
reads the same in the CLI, UI, API and evaluation: ``s 2.6.9(1A)(a)``,
``Sch 2 cl 2(3)``, ``VET clusters, function 4, activity 2``, and a definition
``s 1.1.3(1) (definition of "parent")`` (a paragraph inside it:
``s 1.1.3(1) (definition of "accredited")(a)``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.corpus import Corpus
from assistant.labels import provision_label
from assistant.parse.lost_lead_ins import lost_lead_ins
from assistant.patterns import LOST_LEAD_IN_NOTE, LOST_LEAD_IN_PLACEHOLDER
from assistant.records import Citation, Provision, Unit

# An inline citation marker: "[1]", "[2]", or several in one bracket "[1, 3]".
MARKER_RE = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")
# A quoted passage in generated text: straight or curly double quotes, at least 3 words long
# so that a quoted defined term ("parent") is not mistaken for a claimed quotation.
QUOTE_RE = re.compile(r"[\"“]([^\"“”]{12,}?)[\"”]")
# Sentence ends: . ! ? (optionally followed by a closing quote or markers) then space + capital/quote/digit.
# A quoted passage, inside which sentence ends do not split the answer sentence.
_QUOTED_RE = re.compile(r"“[^”]*”|\"[^\"]*\"")
_SENTENCE_END_RE = re.compile(r"(?<=[.!?])(?:[\"”’)]*)(?:\s*\[\d+(?:\s*,\s*\d+)*\])*\s+(?=[A-Z\"“(\d])")


def label(provision: Provision, pinpoint: str = "") -> str:
    """The label for a pinpoint as the parser writes it, definitions included (the shared formatter)."""
    return provision_label(provision, pinpoint)


def most_specific_unit(provision: Provision, start: int, end: int) -> Unit | None:
    """The smallest unit whose span contains ``[start, end)``; None when only the whole provision does.

    Trailing whitespace of a unit is ignored so a quote that ends at a line
    break still falls inside its unit.
    """
    containing = [u for u in provision.units if u.start <= start and end <= max(u.end, u.start + len(provision.text[u.start : u.end].rstrip()))]
    return min(containing, key=lambda u: (u.end - u.start, -u.start), default=None)


def locate(provision: Provision, quote: str) -> int | None:
    """Offset of ``quote`` in the provision's law text, or None when it is not there verbatim."""
    if not quote or not quote.strip():
        return None
    at = provision.text.find(quote)
    return at if at >= 0 else None


_LOOSE_CHARS = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "‑": "-", "–": "-"})


def locate_loose(provision: Provision, quote: str) -> tuple[int, int] | None:
    """The span of ``quote`` in the law text, tolerating differences in whitespace and typographic quotes/hyphens.

    Generated text rewraps lines and straightens quotes; the span returned is the
    provision's own text, so the citation still quotes the law verbatim.
    """
    words = quote.translate(_LOOSE_CHARS).split()
    if not words:
        return None
    pattern = r"\s+".join(re.escape(w) for w in words)
    m = re.search(pattern, provision.text.translate(_LOOSE_CHARS))
    return (m.start(), m.end()) if m else None


def cite_span(corpus: Corpus, provision: Provision, start: int, end: int, focus: tuple[int, int] | None = None) -> Citation:
    """A citation for ``provision.text[start:end]``.

    ``focus`` is the part of the span the claim rests on when the span also
    carries a lead-in for readability ("It is the duty of the parent ...—" before
    paragraph (a)): the pinpoint then names that paragraph, as a lawyer would.
    """
    if not (0 <= start < end <= len(provision.text)):
        raise ValueError(f"span {start}:{end} is outside {provision.uid} (length {len(provision.text)})")
    unit = most_specific_unit(provision, *(focus or (start, end)))
    pinpoint = unit.pinpoint if unit else ""
    info = corpus.document(provision.document_id).info
    return Citation(
        document_id=provision.document_id,
        provision_id=provision.provision_id,
        pinpoint=pinpoint,
        label=label(provision, pinpoint),
        heading=provision.heading,
        path=list(provision.path),
        quote=provision.text[start:end],
        quote_start=start,
        document_title=info.title,
        version=info.version,
        as_at=info.as_at,
        note=LOST_LEAD_IN_NOTE if _lead_in_lost(provision, unit) else None,
    )


def _lead_in_lost(provision: Provision, unit: Unit | None) -> bool:
    """Whether the list holding ``unit`` opens with a placeholder for words the export lost: its subsection's, or
    with no subsection the provision's (``lost_lead_ins``)."""
    if unit is None or unit.kind == "subsection" or LOST_LEAD_IN_PLACEHOLDER not in provision.text:
        return False
    outer = next((u.pinpoint for u in provision.units if u.kind == "subsection" and u.start <= unit.start and unit.end <= u.end), "")
    return outer in lost_lead_ins(provision)


def cite(corpus: Corpus, document_id: str, provision_id: str, quote: str) -> Citation | None:
    """A checked citation, or None when the provision does not exist or the quote is not in its law text."""
    provision = corpus.find(document_id, provision_id)
    if provision is None:
        return None
    at = locate(provision, quote)
    if at is None:
        return None
    return cite_span(corpus, provision, at, at + len(quote))


def verify(corpus: Corpus, citation: Citation) -> bool:
    """True when the citation's quote is at ``quote_start`` in the cited provision and the label matches its span."""
    provision = corpus.find(citation.document_id, citation.provision_id)
    if provision is None:
        return False
    end = citation.quote_start + len(citation.quote)
    if not citation.quote or provision.text[citation.quote_start : end] != citation.quote:
        return False
    # A pinpoint can name two units: the Act's examples reuse paragraph letters (s 2.1A.37(1) lists examples (a)–(c)
    # under its paragraph (a), then its own (b), (c) ...); the quote must lie in one of them.
    units = [u for u in provision.units if u.pinpoint == citation.pinpoint] if citation.pinpoint else []
    if citation.pinpoint and not any(u.end >= citation.quote_start and u.start < end for u in units):
        return False
    return citation.label == label(provision, citation.pinpoint)


@dataclass(frozen=True)
class MarkedSentence:
    """One sentence of answer text with the citation numbers it carries and the passages it quotes."""

    text: str
    markers: tuple[int, ...]
    quotes: tuple[str, ...]

    @property
    def bare(self) -> str:
        """The sentence without its markers."""
        return re.sub(r"\s+", " ", re.sub(r"\s*" + MARKER_RE.pattern, "", self.text)).strip()


def split_sentences(text: str) -> list[str]:
    """Split answer text into sentences, keeping each sentence's trailing markers with it.

    Lines always end a sentence; a full stop inside a quoted passage does not.
    """
    sentences: list[str] = []
    for block in text.split("\n"):
        quoted = [q.span() for q in _QUOTED_RE.finditer(block)]
        pos = 0
        for m in _SENTENCE_END_RE.finditer(block):
            if any(a < m.start() < b - 1 for a, b in quoted):
                continue
            sentences.append(block[pos : m.end()].strip())
            pos = m.end()
        sentences.append(block[pos:].strip())
    return [s for s in sentences if s]


def parse_marked(text: str) -> list[MarkedSentence]:
    """Sentences of generated or composed text with their markers ([1], [2, 3]) and quoted passages."""
    result = []
    for sentence in split_sentences(text):
        markers = tuple(int(n) for m in MARKER_RE.finditer(sentence) for n in re.split(r"\s*,\s*", m.group(1)))
        quotes = tuple(q.strip() for q in QUOTE_RE.findall(MARKER_RE.sub("", sentence)))
        result.append(MarkedSentence(sentence, markers, quotes))
    return result


def markers(text: str) -> list[int]:
    """Every citation number in the text, in order of appearance."""
    return [n for s in parse_marked(text) for n in s.markers]
