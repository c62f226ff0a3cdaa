"""Parse stage for legislation exported as JSON: rebuild the Act's text, then its provisions.

The export's own ``sections`` list is a broken split (one entry holds most of the
Act, some begin mid-sentence), so the text is rebuilt by joining the entries in
``sortOrder`` and the structure is recovered from the text itself, with the table
of contents as the authority on which lines are headings. Matching the contents
in order is what keeps cross-references that begin a line ("2.6.8 applies ...")
from being taken for headings, and keeps both sections numbered 6.1.43 apart.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from assistant import patterns as p
from assistant.errors import CorpusError
from assistant.parse.lost_lead_ins import restore_lost_lead_ins
from assistant.records import CrossRef, Provision, Unit

# How many table-of-contents entries ahead a heading may be found; entries skipped
# this way are reported as missing from the body.
_TOC_LOOKAHEAD = 6
_SOFT_BREAK_RE = re.compile(r" {2,}\n(?=[^\n])")
# A clause heading inside a schedule: tab-led ("\t10 Training agents"), or once, after a
# substitution note, printed in bold on a line of its own (" **9 TAFE teaching staff**").
_SCHEDULE_CLAUSE_RE = re.compile(
    rf"^(?:\t(?P<number>{p.CLAUSE_NUMBER})\s+(?P<heading>\S.*)|\s*\*\*(?P<bold_number>{p.CLAUSE_NUMBER})\s+(?P<bold_heading>[^*]+)\*\*\s*)$"
)
_LEVEL = {"subsection": 1, "definition": 2, "paragraph": 3, "subparagraph": 4, "subsubparagraph": 5}


@dataclass(frozen=True)
class TocEntry:
    """One line of the table of contents."""

    kind: str  # chapter, part, division, subdivision, schedules, schedule, section
    number: str
    title: str
    text: str  # the line without its page number, e.g. "2.1.1 Attendance at school"

    @property
    def key(self) -> str:
        return p.normalise_heading(self.text)


@dataclass
class ActParse:
    """The parsed Act: its provisions, its table of contents, and what the cross-check found."""

    provisions: list[Provision]
    toc: list[TocEntry]
    missing_from_body: list[TocEntry]
    version: str
    in_force_from: str


@dataclass
class _Block:
    kind: str
    number: str
    heading: str
    path: list[str]
    lines: list[str] = field(default_factory=list)
    repealed: bool = False
    notes: list[str] = field(default_factory=list)


def rebuild_text(data: dict, source: str) -> str:
    """Join the export's ``sections`` in order into the Act's full text."""
    if not isinstance(data, dict):
        raise CorpusError(f"{source}: expected a JSON object at the top level, got {type(data).__name__}")
    sections = data.get("sections")
    if not isinstance(sections, list) or not sections:
        raise CorpusError(f"{source}: no 'sections' list to rebuild the text from")
    try:
        ordered = sorted(sections, key=lambda s: int(s.get("sortOrder", 0)))
        text = "".join(str(s["content"]) for s in ordered)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise CorpusError(f"{source}: each entry of 'sections' needs 'content' and a numeric 'sortOrder' ({exc})") from exc
    if not text.strip():
        raise CorpusError(f"{source}: the rebuilt text is empty")
    # Lines ending in two spaces are soft breaks inside one line of the printed Act.
    return _SOFT_BREAK_RE.sub(" ", text.replace("\r\n", "\n"))


def parse_toc(toc_text: str) -> list[TocEntry]:
    entries: list[TocEntry] = []
    for raw in toc_text.split("\n"):
        m = p.TOC_LINE_RE.match(p.strip_markup(raw))
        if not m:
            continue
        entry = m["entry"].strip()
        if entry == "Endnotes":
            break
        if entry == p.SCHEDULES_HEADING:
            entries.append(TocEntry("schedules", "", entry, entry))
        elif g := p.GROUP_HEADING_RE.match(entry):
            entries.append(TocEntry(g["kind"].lower(), g["number"], g["title"].strip(), entry))
        elif s := p.TOC_SECTION_RE.match(entry):
            entries.append(TocEntry("section", s["number"], s["heading"].strip(), entry))
    return entries


def parse_act(data: dict, document_id: str, source: str = "<act>") -> ActParse:
    """Parse an Act exported as JSON into its provisions (sections and schedule clauses)."""
    text = rebuild_text(data, source)
    enact = p.ENACTMENT_RE.search(text)
    if not enact:
        raise CorpusError(f"{source}: cannot find 'The Parliament of Victoria enacts as follows' where the law begins")
    endnotes = p.ENDNOTES_RE.search(text, enact.end())
    body = text[enact.end() : endnotes.start() if endnotes else len(text)]
    toc = parse_toc(text[: enact.start()])
    if not any(e.kind == "section" for e in toc):
        raise CorpusError(f"{source}: the table of contents lists no sections")
    version_match = p.VERSION_RE.search(p.strip_markup(text[: enact.end()]))
    version = f"Version {version_match.group(1)}" if version_match else ""
    current = data.get("currentVersion") or {}
    in_force_from = str(current.get("startDate") or "") if isinstance(current, dict) else ""

    blocks, missing = _split_blocks(body.split("\n")[1:], toc)
    toc_numbers = {e.number for e in toc if e.kind == "section"}
    provisions: list[Provision] = []
    seen: dict[str, int] = {}
    for order, block in enumerate(blocks):
        provision_id = _provision_id(block)
        seen[provision_id] = seen.get(provision_id, 0) + 1
        if seen[provision_id] > 1:
            # The Act numbers two different sections 6.1.43; the second gets a suffix.
            provision_id = f"{provision_id}-{seen[provision_id]}"
        provisions.append(_to_provision(block, document_id, provision_id, order, toc_numbers))
    return ActParse(provisions, toc, missing, version, in_force_from)


def _split_blocks(lines: list[str], toc: list[TocEntry]) -> tuple[list[_Block], list[TocEntry]]:
    """Walk the body, matching headings against the table of contents in order."""
    groups: dict[str, str] = {}
    group_order = ["chapter", "part", "division", "subdivision"]
    blocks: list[_Block] = []
    missing: list[TocEntry] = []
    toc_numbers = {e.number for e in toc if e.kind == "section"}
    ti = 0
    current: _Block | None = None
    schedule: TocEntry | None = None

    def path() -> list[str]:
        if schedule is not None:
            return [p.SCHEDULES_HEADING, schedule.text]
        return [groups[k] for k in group_order if k in groups]

    for raw in lines:
        clean = p.normalise_heading(raw)
        if not clean:
            if current is not None:
                current.lines.append(raw)
            continue
        match_at = next(
            (j for j in range(ti, min(ti + _TOC_LOOKAHEAD, len(toc))) if toc[j].key == clean),
            None,
        )
        if match_at is not None:
            # Entries skipped on the way still shape the hierarchy: the contents is the
            # authority, and a few Division headings are printed there but not in the body.
            for skipped in toc[ti:match_at]:
                missing.append(skipped)
                if skipped.kind in group_order:
                    _enter_group(groups, group_order, skipped)
            entry = toc[match_at]
            ti = match_at + 1
            if entry.kind == "section":
                current = _start_block(blocks, _Block("section", entry.number, entry.title, path()))
            elif entry.kind == "schedules":
                current = None
            elif entry.kind == "schedule":
                schedule = entry
                current = _start_block(blocks, _Block("schedule", entry.number, entry.title, path()))
            else:
                _enter_group(groups, group_order, entry)
                current = None
            continue
        if schedule is None and (group := _unlisted_group_heading(raw)) is not None:
            # A few group headings are printed (in bold) in the body but left out of the contents.
            _enter_group(groups, group_order, group)
            current = None
            continue
        if schedule is not None and (clause := _SCHEDULE_CLAUSE_RE.match(raw)):
            number = clause["number"] or clause["bold_number"]
            heading = p.strip_markup(clause["heading"] or clause["bold_heading"])
            current = _start_block(blocks, _Block("schedule_clause", f"{schedule.number}:{number}", heading, path()))
            continue
        if (rep := p.REPEALED_SECTIONS_RE.match(p.strip_markup(raw))) and not re.search(r"\bnew s", raw):
            numbers = re.findall(p.SECTION_NUMBER, rep["numbers"])
            for number in numbers:
                if number not in toc_numbers:
                    _start_block(blocks, _Block("section", number, "Repealed", path(), repealed=True, notes=[p.strip_markup(raw)]))
            if all(n not in toc_numbers for n in numbers):
                continue
        if current is not None:
            current.lines.append(raw)
    missing.extend(e for e in toc[ti:] if e.kind == "section")
    return blocks, missing


def _unlisted_group_heading(raw: str) -> TocEntry | None:
    """A Division or Subdivision heading printed in bold on a line of its own, e.g. '**Division 3—School Policy and Funding Advisory Council**'."""
    stripped = raw.strip()
    if not (stripped.startswith("**") and stripped.endswith("**")):
        return None
    text = p.strip_markup(stripped)
    g = p.GROUP_HEADING_RE.match(text)
    if g is None or g["kind"] not in ("Division", "Subdivision"):
        return None
    return TocEntry(g["kind"].lower(), g["number"], g["title"].strip(), text)


def _enter_group(groups: dict[str, str], group_order: list[str], entry: TocEntry) -> None:
    for k in group_order[group_order.index(entry.kind) :]:
        groups.pop(k, None)
    groups[entry.kind] = entry.text


def _note_subject(note: str) -> str | None:
    """The provision an amendment note is about: 'S. 2.4.59H inserted ...' → '2.4.59H'."""
    clean = p.strip_markup(note)
    if m := p.NOTE_SECTION_SUBJECT_RE.match(clean):
        return m["number"]
    if m := p.NOTE_SCHEDULE_SUBJECT_RE.match(clean):
        return f"Sch {m['schedule']} cl {m['clause']}" if m["clause"] else f"Sch {m['schedule']}"
    return None


def _start_block(blocks: list[_Block], block: _Block) -> _Block:
    """Append a block, first moving the history notes printed just above its heading into it.

    The Act prints "S. 2.4.59H inserted by ..." in the margin before section 2.4.59H's
    heading, so in the text it trails the previous section.
    """
    if blocks:
        previous = blocks[-1]
        moved: list[str] = []
        while previous.lines and (not previous.lines[-1].strip() or _note_subject(previous.lines[-1]) == _provision_id(block)):
            line = previous.lines.pop()
            if line.strip():
                moved.insert(0, line)
        block.lines[:0] = moved
    blocks.append(block)
    return block


def _provision_id(block: _Block) -> str:
    if block.kind == "schedule_clause":
        schedule, clause = block.number.split(":")
        return f"Sch {schedule} cl {clause}"
    if block.kind == "schedule":
        return f"Sch {block.number}"
    return block.number


def _to_provision(block: _Block, document_id: str, provision_id: str, order: int, toc_numbers: set[str]) -> Provision:
    law_lines: list[tuple[str, str]] = []  # (raw, clean)
    notes = list(block.notes)
    for raw in block.lines:
        if not raw.strip() or p.PLACEHOLDER_LINE_RE.match(raw):
            continue
        if p.is_history_note(raw):
            notes.append(p.strip_markup(raw))
            continue
        law_lines.append((raw.strip(), p.strip_markup(raw)))
    law_lines = restore_lost_lead_ins(law_lines, notes, block.number)
    text_parts: list[str] = []
    offsets: list[int] = []
    pos = 0
    for _, clean in law_lines:
        offsets.append(pos)
        text_parts.append(clean)
        pos += len(clean) + 1
    text = "\n".join(text_parts)
    units = _units(law_lines, offsets, len(text), {"schedule": p.SCHEDULE_ITEM_RE, "schedule_clause": p.SCHEDULE_CLAUSE_ITEM_RE}.get(block.kind))
    number = block.number.split(":")[-1]
    return Provision(
        document_id=document_id,
        provision_id=provision_id,
        number=number,
        kind=block.kind,  # type: ignore[arg-type]
        heading=block.heading,
        path=block.path,
        text=text,
        units=units,
        notes=notes,
        cross_refs=_cross_refs(text, toc_numbers),
        repealed=block.repealed,
        order=order,
    )


def _roman_value(label: str) -> int:
    base = label.rstrip("abcdefgh") if len(label) > 1 and label[-1] not in "ivxl" else label
    values, total = {"i": 1, "v": 5, "x": 10, "l": 50}, 0
    for i, ch in enumerate(base):
        v = values.get(ch, 0)
        total += -v if i + 1 < len(base) and values.get(base[i + 1], 0) > v else v
    return total


def _classify(label: str, open_units: list[tuple[int, Unit]], after_lead_in: bool = False) -> str:
    """Decide a label's kind from its shape and, for (i), (v), (x), from its neighbours: (i) right after a
    line introducing a list ("(h) impose conditions … that the teacher—") starts that list."""
    if label[0].isdigit():
        return "subsection"
    if label.isupper():
        return "subsubparagraph"
    if not p.is_roman(label):
        return "paragraph"
    if label == "i" and after_lead_in and open_units and open_units[-1][0] == _LEVEL["paragraph"]:
        return "subparagraph"
    last_sub = next((u.label for lvl, u in reversed(open_units) if lvl == _LEVEL["subparagraph"]), None)
    last_para = next((u.label for lvl, u in reversed(open_units) if lvl == _LEVEL["paragraph"]), None)
    if last_sub and _roman_value(label) in (_roman_value(last_sub), _roman_value(last_sub) + 1):
        return "subparagraph"
    if last_para and (ord(label[0]) == ord(last_para[0]) + 1 or label.startswith(last_para) or (len(label) > 1 and label[:-1] == last_para[:-1])):
        return "paragraph"  # the next, one inserted after it ((ia) after (i)), or the next of those ((ib) after (ia))
    if last_para and _roman_value(label) == 1:
        return "subparagraph"
    if last_sub and _roman_value(label) > _roman_value(last_sub):
        return "subparagraph"  # the next after a repealed one: (viii) after (vi)
    return "paragraph"


def _units(law_lines: list[tuple[str, str]], offsets: list[int], text_len: int, item_re: re.Pattern | None) -> list[Unit]:
    stack: list[tuple[int, str, int]] = []  # (level, pinpoint piece, index into found)
    found: list[tuple[int, Unit]] = []
    closed_at: dict[int, int] = {}  # index into found -> where words closing its list begin
    last_closed: int | None = None
    previous_labelled, previous_line = False, ""
    for (raw, clean), offset in zip(law_lines, offsets):
        definition = p.DEFINITION_RE.match(raw)
        label_match = p.UNIT_LABEL_RE.match(clean)
        item_match = item_re.match(clean) if item_re else None
        if definition:
            term = p.strip_markup(definition["term"])
            kind, label, piece = "definition", term, f' "{term}"'
        elif label_match:
            label = label_match["label"]
            # A list that goes on after such words ("in the following circumstances—" then (iii)) keeps its kind.
            open_units = [found[i] for _, _, i in stack] + ([found[last_closed]] if last_closed is not None else [])
            kind = _classify(label, open_units, after_lead_in=bool(p.LIST_INTRODUCED_RE.search(previous_line)))
            piece = f"({label})"
        elif item_match:
            label, kind, piece = (number := item_match["number"]), "item", number if "." in number else f" item {number}"
        else:
            # Words right after a list item that close its list ("the review committee may—" after
            # (b), "in accordance with a Ministerial Order.", a penalty) belong to the list's parent.
            if stack and stack[-1][0] >= _LEVEL["paragraph"] and previous_labelled and not p.EXAMPLES_LINE_RE.match(clean):
                last_closed = stack.pop()[2]
                closed_at[last_closed] = offset - 1
            previous_labelled, previous_line = False, clean
            continue
        previous_labelled, previous_line = True, clean
        level = _LEVEL.get(kind, 1)
        while stack and stack[-1][0] >= level:
            stack.pop()
        pinpoint = ("".join(s[1] for s in stack) + piece).strip()
        unit = Unit(label=label, kind=kind, pinpoint=pinpoint, start=offset, end=text_len, term=term if kind == "definition" else None)  # type: ignore[arg-type]
        stack.append((level, piece, len(found)))
        found.append((level, unit))
        last_closed = None
    units: list[Unit] = []
    for i, (level, unit) in enumerate(found):
        end = next((u.start - 1 for lvl, u in found[i + 1 :] if lvl <= level), text_len)
        if i in closed_at:
            end = min(end, closed_at[i])
        units.append(unit.model_copy(update={"end": max(end, unit.start)}))
    return units


def _cross_refs(text: str, toc_numbers: set[str]) -> list[CrossRef]:
    refs: list[CrossRef] = []
    for m in p.CROSS_REF_RE.finditer(text):
        target = None
        if m["section"]:
            target = m["section"] if m["section"] in toc_numbers else None
        elif m["clause"]:
            target = f"Sch {m['clause_schedule']} cl {m['clause']}"
        elif m["schedule"]:
            target = f"Sch {m['schedule']}"
        refs.append(CrossRef(text=m.group(0), start=m.start(), end=m.end(), target=target))
    return refs


def load_act(path: Path, document_id: str) -> ActParse:
    """Read and parse an Act's JSON file, naming the file in any error."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise CorpusError(f"{path}: file not found") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CorpusError(f"{path}: not valid JSON ({exc})") from exc
    return parse_act(data, document_id, str(path))
