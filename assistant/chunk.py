"""Chunk stage: ``Provision`` → ``Passage``, cut at the law's own boundaries to fit the model's window.

A short provision is one passage. A long one is split at subsection, then
paragraph boundaries (``Provision.units`` offsets); each piece keeps the lead-in
words of the unit it sits under ("(1A) The Institute must refuse ... grounds—"),
so "(c) the applicant has been given a WWC exclusion" is embedded with what it
is a ground for. A single unit still too long is split at line, then sentence,
then word boundaries: nothing is silently truncated. Each definition is its own
passage so a question about one defined term finds that definition, not the
whole of s 1.1.3. Lengths are measured in the model's word pieces (special
tokens included) on the text actually embedded, header and lead-in included.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from assistant.labels import provision_label
from assistant.patterns import without_placeholders
from assistant.records import Passage, Provision, Unit
from assistant.settings import Settings

# Bump when the way passages are cut changes: the index manifest records it, so an
# index built by an older chunker is refused rather than silently mixed.
CHUNKER_VERSION = 2

_LINE_RE = re.compile(r"\n+")
_SENTENCE_RE = re.compile(r"(?<=[.;:—])\s+")
_WORD_RE = re.compile(r"\s+")


@dataclass
class _Block:
    """A contiguous stretch of the provision's text, with the lead-in it is read under."""

    start: int
    end: int
    lead: str
    term: str | None = None  # set for a definition, which never shares a passage
    # Lead-ins whose words this block's own text already holds: a block that is only a
    # unit's lead-in may absorb that unit's children without repeating the words.
    absorbs: frozenset[str] = frozenset()
    lead_only: bool = False


def header(provision: Provision, short_name: str) -> str:
    """The short header embedded with every passage: document, label, heading, breadcrumb."""
    crumbs = [p for p in provision.path if p != "Schedules"][-2:]
    title = " ".join(part for part in (short_name, provision_label(provision), provision.heading) if part)
    return f"{title}\n{' › '.join(crumbs)}" if crumbs else title


def _children(units: list[Unit]) -> dict[int, list[int]]:
    """Index of each unit's direct children (by containment of offsets); key -1 is the provision."""
    order = sorted(range(len(units)), key=lambda i: (units[i].start, -units[i].end))
    tree: dict[int, list[int]] = {-1: []}
    stack: list[int] = []
    for i in order:
        while stack and not (units[stack[-1]].start <= units[i].start and units[i].end <= units[stack[-1]].end):
            stack.pop()
        tree.setdefault(stack[-1] if stack else -1, []).append(i)
        tree.setdefault(i, [])
        stack.append(i)
    return tree


class _Chunker:
    def __init__(self, provision: Provision, head: str, max_tokens: int, count_tokens: Callable[[str], int]):
        self.p = provision
        self.text = provision.text
        self.head = head
        self.max = max_tokens
        self.count = count_tokens
        self.units = provision.units
        self.tree = _children(self.units)
        self.has_definition = {i: self._contains_definition(i) for i in self.tree}

    def _contains_definition(self, i: int) -> bool:
        return any(self.units[c].kind == "definition" or self._contains_definition(c) for c in self.tree.get(i, []))

    def embed_text(self, lead: str, start: int, end: int) -> str:
        body = without_placeholders(self.text[start:end]).strip()
        return "\n".join(part for part in (self.head, without_placeholders(lead), body) if part)

    def fits(self, lead: str, start: int, end: int) -> bool:
        return self.count(self.embed_text(lead, start, end)) <= self.max

    def blocks(self, node: int, start: int, end: int, lead: str, term: str | None = None) -> list[_Block]:
        """Cover [start, end) with blocks that each fit, descending into units only when needed."""
        unit = self.units[node] if node >= 0 else None
        if unit is not None and unit.kind == "definition":
            term = unit.term or unit.label
        kids = self.tree.get(node, [])
        if self.fits(lead, start, end) and not self.has_definition.get(node, False):
            return [_Block(start, end, lead, term)]
        if not kids:
            return self.split_leaf(start, end, lead, term)
        # The unit's own words before its first child are the lead-in its children are read under.
        own_lead = self.text[start : self.units[kids[0]].start].strip()
        child_lead = self.trim_lead("\n".join(part for part in (lead, own_lead) if part))
        out: list[_Block] = []
        if own_lead:
            lead_blocks = self.split_leaf(start, self.units[kids[0]].start, lead, term)
            if len(lead_blocks) == 1:
                lead_blocks[0].absorbs = frozenset({child_lead})
                lead_blocks[0].lead_only = True
            out.extend(lead_blocks)
        cursor = self.units[kids[0]].start
        for n, k in enumerate(kids):
            child = self.units[k]
            if self.text[cursor : child.start].strip():
                out.extend(self.split_leaf(cursor, child.start, child_lead, term))
            # Words between a unit and the next are those that close a list ("the review committee may—", a note):
            # they belong to the list's parent, but a passage reads them with the item before them, since alone
            # under the lead-in they make a passage of little else and the item loses the passage it is found by.
            following = self.units[kids[n + 1]].start if n + 1 < len(kids) else end
            child_end = following if self.text[child.end : following].strip() else child.end
            out.extend(self.blocks(k, child.start, child_end, child_lead, term))
            cursor = child_end
        if self.text[cursor:end].strip():
            out.extend(self.split_leaf(cursor, end, child_lead, term))
        return out

    def trim_lead(self, lead: str) -> str:
        """Keep a lead-in to a third of the window: its opening words carry what the children are about.

        The words cut here are still indexed in full, in the passage that holds the lead-in itself.
        """
        budget = self.max // 3
        if self.count(lead) <= budget:
            return lead
        words = lead.split(" ")
        low, high = 1, len(words)
        while low < high:
            mid = (low + high + 1) // 2
            if self.count(" ".join(words[:mid]) + " …") <= budget:
                low = mid
            else:
                high = mid - 1
        return " ".join(words[:low]) + " …"

    def split_leaf(self, start: int, end: int, lead: str, term: str | None) -> list[_Block]:
        """Split one stretch at line, then sentence, then word boundaries so every piece fits."""
        if self.fits(lead, start, end):
            return [_Block(start, end, lead, term)]
        for pattern in (_LINE_RE, _SENTENCE_RE, _WORD_RE):
            cuts = [m.end() + start for m in pattern.finditer(self.text[start:end]) if start < m.end() + start < end]
            if cuts:
                break
        else:
            raise ValueError(f"{self.p.uid}: a single word is longer than {self.max} word pieces")
        pieces = list(zip([start, *cuts], [*cuts, end], strict=True))
        out: list[_Block] = []
        piece_start, piece_end = pieces[0]
        for a, b in pieces[1:]:
            if self.fits(lead, piece_start, b):
                piece_end = b
            else:
                out.extend(self.split_leaf(piece_start, piece_end, lead, term))
                piece_start, piece_end = a, b
        out.extend(self.split_leaf(piece_start, piece_end, lead, term))
        return out

    def pack(self, blocks: list[_Block]) -> list[_Block]:
        """Merge neighbouring blocks read under the same lead-in while they fit; definitions stay alone."""
        packed: list[_Block] = []
        for block in blocks:
            last = packed[-1] if packed else None
            if last is not None and self.fits(last.lead, last.start, block.end):
                same_reading = block.lead == last.lead or block.lead in last.absorbs
                if same_reading and (last.term == block.term or (last.lead_only and last.term is None)):
                    last.end = block.end
                    last.term = block.term
                    last.absorbs = last.absorbs | block.absorbs
                    last.lead_only = False
                    continue
            packed.append(_Block(block.start, block.end, block.lead, block.term, block.absorbs, block.lead_only))
        return packed

    def pinpoints(self, start: int, end: int) -> tuple[str, str]:
        """The first and last outermost units covered by [start, end), or the unit it lies inside."""
        inside = [i for i, u in enumerate(self.units) if start <= u.start and u.end <= end + 1 and u.start < end]
        if inside:
            inside_set = set(inside)
            parent = {c: n for n, kids in self.tree.items() for c in kids}
            outer = [i for i in inside if parent.get(i, -1) not in inside_set]
            outer.sort(key=lambda i: self.units[i].start)
            return self.units[outer[0]].pinpoint, self.units[outer[-1]].pinpoint
        around = [u for u in self.units if u.start <= start and end <= u.end + 1]
        if around:
            deepest = min(around, key=lambda u: u.end - u.start)
            return deepest.pinpoint, deepest.pinpoint
        return "", ""


def chunk_provision(provision: Provision, settings: Settings, count_tokens: Callable[[str], int], short_name: str = "") -> list[Passage]:
    if provision.repealed or not provision.text.strip():
        return []
    head = header(provision, short_name)
    if count_tokens(head) >= settings.passage_max_tokens // 2:
        head = " ".join(part for part in (short_name, provision_label(provision)) if part)
    chunker = _Chunker(provision, head, settings.passage_max_tokens, count_tokens)
    blocks = chunker.pack(chunker.blocks(-1, 0, len(provision.text), ""))
    passages: list[Passage] = []
    for n, block in enumerate(blocks, start=1):
        # Trim surrounding whitespace so the offsets point at the words themselves.
        raw = provision.text[block.start : block.end]
        start = block.start + (len(raw) - len(raw.lstrip()))
        end = block.end - (len(raw) - len(raw.rstrip()))
        first, last = chunker.pinpoints(start, end)
        passages.append(
            Passage(
                passage_id=f"{provision.uid}#{n}",
                document_id=provision.document_id,
                provision_id=provision.provision_id,
                pinpoint_first=first,
                pinpoint_last=last,
                heading=provision.heading,
                path=list(provision.path),
                text=provision.text[start:end],
                start=start,
                end=end,
                embed_text=chunker.embed_text(block.lead, start, end),
                term=block.term,
            )
        )
    return passages


def chunk(
    provisions: list[Provision],
    settings: Settings,
    count_tokens: Callable[[str], int],
    short_names: dict[str, str] | None = None,
) -> list[Passage]:
    """All passages of the indexable provisions, in document order; repealed and empty provisions are skipped.

    ``Passage.text`` is exactly ``provision.text[start:end]`` (so citations can point into it);
    ``Passage.embed_text`` adds the header and the lead-in the passage is read under.
    """
    short_names = short_names or {}
    out: list[Passage] = []
    for provision in provisions:
        out.extend(chunk_provision(provision, settings, count_tokens, short_names.get(provision.document_id, "")))
    return out
