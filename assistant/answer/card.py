"""What an answer shows first and beneath, the same on every surface (the UI's card, the CLI).

Staff read the plain answer first (the short answer, else the answer's first
sentence), then the law's own words with each quote once: a quote that only leads
in to a list ("… must not—") is shown with the paragraph after it, never alone, and
the quotes the lead sentence already carries are not repeated. A sentence saying
the Act leaves the detail to another instrument stays as a note.
"""

from __future__ import annotations

from dataclasses import dataclass

from assistant.answer.compose import DELEGATION_NOTE_PREFIX
from assistant.cite import MARKER_RE
from assistant.patterns import LEAD_IN_END_RE
from assistant.records import Answer


def flat(text: str) -> str:
    return " ".join(text.split())


def lead_sentence(answer: Answer) -> tuple[str, set[int]]:
    """The plain answer shown first, and the indexes of the citations whose quotes it carries in full."""
    if answer.short_answer:
        return answer.short_answer, set()
    first = answer.text.strip().split("\n", 1)[0]
    return first, {i for i, c in enumerate(answer.citations) if flat(c.quote) in flat(first)}


def quote_groups(answer: Answer, skip: set[int] = frozenset()) -> list[list[int]]:
    """The citations to list beneath, each once, as groups of indexes: a lead-in joins the quote after it from the
    same provision when that quote lies in the lead-in's unit ("(b) … unfair means—" leads into the words after
    its list, not into (e))."""
    groups: list[list[int]] = []
    for i, citation in enumerate(answer.citations):
        if i in skip:
            continue
        before = answer.citations[i - 1] if i else None
        joins = (
            groups
            and groups[-1][-1] == i - 1
            and before is not None
            and (before.document_id, before.provision_id) == (citation.document_id, citation.provision_id)
            and LEAD_IN_END_RE.search(before.quote.rstrip())
            and citation.pinpoint.startswith(before.pinpoint)
        )
        if joins:
            groups[-1].append(i)
        else:
            groups.append([i])
    return groups


def delegation_notes(answer: Answer) -> list[str]:
    """The answer's sentences saying the Act leaves the detail elsewhere, without their quote (listed beneath), markers kept."""
    notes = []
    for line in answer.text.split("\n"):
        if line.startswith(DELEGATION_NOTE_PREFIX):
            markers = " ".join(m.group(0) for m in MARKER_RE.finditer(line))
            notes.append(f"{line.split(':', 1)[0]}. {markers}".strip())
    return notes


@dataclass(frozen=True)
class QuoteItem:
    """One entry beneath the plain answer: the citation whose chip opens it, its markers ("1, 2"), and the quotes as shown."""

    index: int
    numbers: str
    texts: list[str]
    note: str | None = None  # shown before the quotes: the words introducing their list are missing from the source copy


def quote_items(answer: Answer, skip: set[int] = frozenset()) -> list[QuoteItem]:
    """The entries to list beneath, each quote once: a lead-in with the quote after it, and a lead-in already
    shown above not repeated at the start of a later quote ("… (a) the applicant …")."""
    seen: list[str] = []
    items = []
    for group in quote_groups(answer, skip):
        texts = []
        for i in group:
            text = flat(answer.citations[i].quote)
            repeated = next((lead for lead in seen if text.startswith(lead) and len(text) > len(lead)), None)
            texts.append("… " + text[len(repeated) :].lstrip() if repeated else text)
            if LEAD_IN_END_RE.search(text):
                seen.append(text)
        note = next((answer.citations[i].note for i in group if answer.citations[i].note), None)
        items.append(QuoteItem(group[-1], ", ".join(str(i + 1) for i in group), texts, note))
    return items
