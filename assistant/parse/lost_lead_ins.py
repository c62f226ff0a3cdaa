"""Lists whose opening words the Act's export lost, given back a lead-in that says so.

The export drops the line that opens some subsections with a list: s 2.6.7 goes from
"(1A) … under that Act." straight to "(a) made in the form approved by the Institute;",
its "(2) An application must be—" gone. Read as it stands, the list joins the subsection
above it, so an answer would cite "s 2.6.7(1A)(a)", a unit the Act does not have, and
quote it under words it does not belong to. A list that opens with (a) where no line
introduces a list is such a list. Its subsection is the one the history notes name for its
paragraphs ("S. 2.6.7(2)(b) amended …"), else the only number the gap in the provision's
subsections leaves (after (1A) and before (2A): (2); none before (2): (1)), leaving out
subsections the notes say were repealed. The lost words are not guessed: staff read
``LOST_LEAD_IN_PLACEHOLDER`` where they stood, and when no single number fits, the list
keeps that lead-in without one.
"""

from __future__ import annotations

from string import ascii_uppercase

from assistant import patterns as p
from assistant.records import Provision

Line = tuple[str, str]  # (raw, clean), as the parser holds a provision's law lines


def restore_lost_lead_ins(law_lines: list[Line], notes: list[str], number: str) -> list[Line]:
    """``law_lines`` with a placeholder lead-in, labelled where the Act allows one label only, above each
    list that opens without one; ``notes`` are the provision's history notes, ``number`` its section number."""
    subsections = [_subsection(clean) for _, clean in law_lines]
    present = {label for label in subsections if label}
    named, repealed = _noted_subsections(notes, number)
    out: list[Line] = []
    for i, (raw, clean) in enumerate(law_lines):
        label = p.UNIT_LABEL_RE.match(clean)
        if label and label["label"] == "a" and not (i and p.LIST_INTRODUCED_RE.search(law_lines[i - 1][1])):
            before = next((s for s in reversed(subsections[:i]) if s), None)
            after = next((s for s in subsections[i + 1 :] if s), None)
            paragraphs = _paragraph_labels(law_lines[i:])
            from_notes = {s for s, para in named if para in paragraphs} - present
            gap = set(_between(before, after)) - present - repealed if present else set()
            fits = from_notes or gap
            placeholder = f"({fits.pop()}) {p.LOST_LEAD_IN_PLACEHOLDER}" if len(fits) == 1 else p.LOST_LEAD_IN_PLACEHOLDER
            out.append((placeholder, placeholder))
        out.append((raw, clean))
    return out


def lost_lead_ins(provision: Provision) -> list[str]:
    """Pinpoints of the subsections a placeholder lead-in opens ("(2)"), "" where it opens the provision unnumbered."""
    out, pos = [], 0
    for line in provision.text.split("\n"):
        if p.LOST_LEAD_IN_PLACEHOLDER in line:
            out.append(next((u.pinpoint for u in provision.units if u.start == pos), ""))
        pos += len(line) + 1
    return out


def _subsection(clean: str) -> str | None:
    label = p.UNIT_LABEL_RE.match(clean)
    return label["label"] if label and label["label"][0].isdigit() else None


def _paragraph_labels(lines: list[Line]) -> set[str]:
    """The labels of the list that starts ``lines``, up to the next subsection."""
    labels: set[str] = set()
    for _, clean in lines:
        label = p.UNIT_LABEL_RE.match(clean)
        if label and label["label"][0].isdigit():
            break
        if label:
            labels.add(label["label"])
    return labels


def _noted_subsections(notes: list[str], number: str) -> tuple[set[tuple[str, str]], set[str]]:
    """(subsection, paragraph) pairs the history notes name, and the subsections they say were repealed."""
    named: set[tuple[str, str]] = set()
    repealed: set[str] = set()
    for note in notes:
        m = p.NOTE_SUBSECTION_RE.match(note)
        if not m or m["number"] != number:
            continue
        if m["paragraph"]:
            named.add((m["subsection"], m["paragraph"]))
        elif m["repealed"]:
            repealed.add(m["subsection"])
    return named, repealed


def _between(before: str | None, after: str | None) -> list[str]:
    """Plain subsection numbers that can stand between two labels: (1) and (3) leave 2, (1A) and (2A) leave 2,
    nothing and (2) leave 1; after the last subsection, the next number."""
    low = _number(before) if before else 0
    if after is None:
        return [str(low + 1)]
    high = _number(after)
    top = high if after != str(high) else high - 1
    return [str(n) for n in range(low + 1, top + 1)]


def _number(subsection: str) -> int:
    """A subsection label's number: 2 for (2) and (2A) (labels are digits, then capitals: ``SUBSECTION_LABEL``)."""
    return int(subsection.rstrip(ascii_uppercase))
