"""Patterns of the law text: numbers, labels, headings, history notes, cross-references, provisions named in free text, follow-up cues, and patterns built from data (defined terms, initialisms, the staff thesaurus)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

# --- the law text ------------------------------------------------------------------------------

# A section number as the Act prints it: 2.1.1, 1.1.3A, 2A.1.4, 2.4.59G, 5.8.3AA, 2.1A.12.
SECTION_NUMBER = r"\d+[A-Z]*\.\d+[A-Z]*\.\d+[A-Z]*"
# Any Act's section number in its table of contents: ETRA's dotted 2.1.1 as well as
# the plain 3, 23A that most Victorian Acts use.
ANY_SECTION_NUMBER = r"\d+[A-Z]*(?:\.\d+[A-Z]*){0,2}"
# A schedule clause number: 1, 13A, 1.10 (Schedule 8 numbers its clauses 1.1, 1.2 ...).
CLAUSE_NUMBER = r"\d+[A-Z]*(?:\.\d+)?"

# Labels of subdivisions inside a provision.
SUBSECTION_LABEL = r"\d+[A-Z]*"  # (1), (1A), (2B)
PARAGRAPH_LABEL = r"[a-z]{1,4}"  # (a), (ab), (nd), (gaab); also roman (i), (iia) decided by context
SUBSUB_LABEL = r"[A-Z]{1,2}"  # (A), (AB)
UNIT_LABEL_RE = re.compile(rf"^\((?P<label>{SUBSECTION_LABEL}|{PARAGRAPH_LABEL}|[ivxl]+[a-z]?|{SUBSUB_LABEL})\)\s+")
# A Schedule's numbered items: "1 Wallan Secondary College" (a Schedule of names: pinpoint "item 1") and, in a
# clause of the Schedules of matters for regulations and Ministerial Orders, "4.4 The period for which …" (cited
# as the Act numbers it: Sch 6 cl 4.4).
SCHEDULE_ITEM_RE = re.compile(r"^(?P<number>\d+)\s+\S")
SCHEDULE_CLAUSE_ITEM_RE = re.compile(r"^(?P<number>\d+[A-Z]?\.\d+[A-Z]?)\s+\S")
ROMAN_RE = re.compile(r"^(?=[ivx])x{0,3}(?:ix|iv|v?i{0,3})[a-h]?$")
# A line introducing examples of the list item above it ("Examples of matters that can be provided for
# under this paragraph include—"): part of that item, unlike other unlabelled words after a list.
EXAMPLES_LINE_RE = re.compile(r"^Examples?\b")
# A line that introduces a list below it ends in a dash ("—", or "––" in a few amended provisions) or a colon.
LIST_INTRODUCED_RE = re.compile(r"[—–:]\s*$")

# Table of contents lines end with a page number.
TOC_LINE_RE = re.compile(r"^(?P<entry>.+?)\s+(?P<page>\d+)$")
TOC_SECTION_RE = re.compile(rf"^(?P<number>{ANY_SECTION_NUMBER})\s+(?P<heading>.+)$")
GROUP_HEADING_RE = re.compile(
    r"^(?P<kind>Chapter|Part|Division|Subdivision|Schedule)\s+(?P<number>[0-9A-Z.]+)—(?P<title>.+)$"
)
SCHEDULES_HEADING = "Schedules"
ENACTMENT_RE = re.compile(r"The Parliament of Victoria enacts as follows")
ENDNOTES_RE = re.compile(r"^Endnotes\s*$", re.MULTILINE)
VERSION_RE = re.compile(r"Version No\.?\s*\**\s*(\d+)")

# An amendment history note: "S. 2.6.9(1)(b) substituted by No. 31/2018 s. 7(2)."
# The Act's own text never cites an amending Act as "No. 31/2018", so that shape
# together with an amendment verb marks a note, wherever it begins.
_AMENDMENT_VERB = r"(?:inserted|amended|substituted|repealed|renumbered|re-numbered|expired|omitted|revoked|relocated)"
_AMENDING_ACT = r"No[s]?\.?\s+\d+/\d{4}"
HISTORY_NOTE_RE = re.compile(rf"\b{_AMENDMENT_VERB}\b.*?\bby\s+(?:Nos?\.?|Act)\s.*?{_AMENDING_ACT}|\b{_AMENDMENT_VERB}\b.*?{_AMENDING_ACT}")
# A whole section repealed: "S. 2.6.63 repealed by No. 19/2014 s. 31." / "Ss 6.1.1, 6.1.2 repealed by ...".
REPEALED_SECTIONS_RE = re.compile(rf"^(?:S\.|Ss)\s+(?P<numbers>{SECTION_NUMBER}(?:\s*(?:,|and)\s*{SECTION_NUMBER})*)\s+repealed by\b")

# What an amendment note is about: "S. 2.6.9(1)(b) ...", "Note to s. 2.1.10 ...", "Sch. 2 cl. 3(1) ...".
NOTE_SECTION_SUBJECT_RE = re.compile(rf"^(?:S\.|Ss|(?:Note|Example|Examples|Notes|Penalty) (?:to|at) s\.)\s*(?P<number>{ANY_SECTION_NUMBER})")
NOTE_SCHEDULE_SUBJECT_RE = re.compile(rf"^(?:(?:Note|Example) to )?Sch\.\s*(?P<schedule>\d+)(?:\s+cl\.\s*(?P<clause>{CLAUSE_NUMBER}))?")

# A definition starts with the bold defined term: "***accredited*** means—".
DEFINITION_RE = re.compile(r"^(?P<term>(?:\*{3}[^*]+?\*{3}\s*)+)(?=\S)")
DEFINITION_VERBS_RE = re.compile(r"^(?:means|includes|has|in relation|,|—|\()")
PLACEHOLDER_LINE_RE = re.compile(r"^[\s*]+$")

# Markdown emphasis in the export: ***term***, **Act name**, *term*.
MARKUP_RE = re.compile(r"\*+")
# An image the export kept only as empty markdown ("![]()": the formulas of ss 2.7.4 and 5.7A.21), and what staff read instead.
IMAGE_MARKUP_RE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
IMAGE_PLACEHOLDER = "[an image in the Act, not reproduced here: see the authorised version]"
# Where the export lost the words that open a list ("(2) An application must be—" before "(a) made in the form
# approved …"), what staff read instead; it ends in a dash, so it is quoted as the lead-in of the paragraph below.
LOST_LEAD_IN_PLACEHOLDER = "[the words that introduce this list are missing from the source copy: see the authorised version]—"
LOST_LEAD_IN_NOTE = LOST_LEAD_IN_PLACEHOLDER.rstrip("—")  # how an answer says so, outside any quote
# Those words, with the label a lost lead-in carries: never read as the law's own words (retrieval, scoring, short answers).
PLACEHOLDER_RE = re.compile(rf"(?:\(\w+\) )?{re.escape(LOST_LEAD_IN_PLACEHOLDER)}\s*|{re.escape(IMAGE_PLACEHOLDER)}")
# A history note about a subsection, or a unit in one: "S. 2.6.7(2)(b) amended by …", "S. 3.3.28(2) repealed by …".
NOTE_SUBSECTION_RE = re.compile(rf"^S\.\s*(?P<number>{SECTION_NUMBER})\((?P<subsection>{SUBSECTION_LABEL})\)(?:\((?P<paragraph>[a-z]{{1,4}})\))?(?P<repealed>\s+repealed\b)?")
SPACES_RE = re.compile(r"[ \t\u00a0]+")

# A Part number: 2.4, 2.1A, 2A.1.
PART_NUMBER = r"\d+[A-Z]*\.\d+[A-Z]*"

# Cross-references in law text.
CROSS_REF_RE = re.compile(
    rf"\b(?:section|sections|s\.)\s+(?P<section>{SECTION_NUMBER})(?P<pin>(?:\([0-9A-Za-z]+\))*)"
    rf"|\b(?:subsection|subsections)\s+(?P<subsection>\({SUBSECTION_LABEL}\)(?:\([a-z]+\))?)"
    rf"|\bclause\s+(?P<clause>{CLAUSE_NUMBER})\s+of\s+Schedule\s+(?P<clause_schedule>\d+)"
    rf"|\bSchedule\s+(?P<schedule>\d+)\b"
    rf"|\bPart\s+(?P<part>{PART_NUMBER})\b"
    rf"|\bDivision\s+(?P<division>\d+[A-Z]*)\s+of\s+Part\s+(?P<division_part>{PART_NUMBER})"
)

# An initialism in the law text: VRQA, TAFE.
INITIALISM_RE = re.compile(r"\b[A-Z]{2,}\b")
# A definition that spells out a name: "Institute means the Victorian Institute of Teaching ..." (for initialisms).
ABBREVIATION_EXPANSION_RE = re.compile(r"^\s*means\s+(?:the\s+)?(?P<expansion>[A-Z][\w'’-]*(?:\s+(?:[A-Z][\w'’-]*|of|and|for))+)")

# --- provisions named in free text, and follow-up cues --------------------------------------------

# A provision named in a question: "s 2.1.1", "section 2.6.9(1A)", "sec. 5.2.1",
# "Schedule 2 clause 3", "Sch 2 cl 3", "cl 3 of Sch 2", "function 4 of the VET clusters policy".
QUERY_SECTION_RE = re.compile(
    rf"(?:\b(?:s|ss|sec|sect|section|sections)\.?\s*)?(?<![\d.])(?P<number>{SECTION_NUMBER})(?P<pin>(?:\([0-9A-Za-z]{{1,4}}\))*)",
    re.IGNORECASE,
)
QUERY_SCHEDULE_CLAUSE_RE = re.compile(
    rf"\b(?:sch(?:edule)?\.?)\s*(?P<schedule>\d+)\s*,?\s*(?:cl(?:ause)?\.?|item)\s*(?P<clause>{CLAUSE_NUMBER})(?P<pin>(?:\([0-9A-Za-z]{{1,4}}\))*)"
    rf"|\b(?:cl(?:ause)?\.?)\s*(?P<clause2>{CLAUSE_NUMBER})(?P<pin2>(?:\([0-9A-Za-z]{{1,4}}\))*)\s+(?:of|in)\s+(?:the\s+)?(?:sch(?:edule)?\.?)\s*(?P<schedule2>\d+)",
    re.IGNORECASE,
)
QUERY_SCHEDULE_RE = re.compile(r"\b(?:sch(?:edule)?\.?)\s*(?P<schedule>\d+)\b", re.IGNORECASE)
# A Part or Division named in a question: "Part 2.4", "Division 3 of Part 2.6".
QUERY_PART_RE = re.compile(rf"\bPart\s+(?P<part>{PART_NUMBER})\b", re.IGNORECASE)
QUERY_DIVISION_RE = re.compile(rf"\bDivision\s+(?P<division>\d+[A-Z]*)\s+of\s+Part\s+(?P<part>{PART_NUMBER})\b", re.IGNORECASE)
QUERY_FUNCTION_RE = re.compile(r"\bfunction\s+(?P<function>[1-9])\b", re.IGNORECASE)
# A follow-up that leans on the previous question: "and for early childhood teachers?", "what about TAFEs?".
FOLLOW_UP_START_RE = re.compile(r"^(?:and|or|but|also|what about|how about|what if|same for|and what about|and for|then)\b", re.IGNORECASE)
ANAPHOR_RE = re.compile(r"\b(?:it|its|they|them|their|that|this|those|these|he|she|his|her|there)\b", re.IGNORECASE)
VET_MENTION_RE = re.compile(r"\bVET\b|\bclusters?\b|vocational", re.IGNORECASE)


def strip_markup(text: str) -> str:
    """Remove markdown emphasis, name an image the export lost, and collapse runs of spaces, keeping line breaks."""
    return SPACES_RE.sub(" ", MARKUP_RE.sub("", IMAGE_MARKUP_RE.sub(IMAGE_PLACEHOLDER, text))).strip()


def without_placeholders(text: str) -> str:
    """The text without what the assistant wrote where the export lost something (``PLACEHOLDER_RE``)."""
    return PLACEHOLDER_RE.sub("", text)


def only_placeholder(text: str) -> bool:
    """Whether the text holds none of the law's words, only what stands where the export lost something."""
    return not without_placeholders(text).strip()


def normalise_heading(text: str) -> str:
    """A form of a heading that the table of contents and the body agree on."""
    return SPACES_RE.sub(" ", MARKUP_RE.sub("", text)).strip().lower()


def is_history_note(line: str) -> bool:
    return bool(HISTORY_NOTE_RE.search(line))


def is_roman(label: str) -> bool:
    return bool(label) and bool(ROMAN_RE.match(label))


@dataclass(frozen=True)
class ProvisionReference:
    """A provision named in free text: where it starts, what kind it is, its id and any pinpoint."""

    start: int
    kind: str  # "schedule clause", "schedule", "section" or "function"
    provision_id: str
    pinpoint: str = ""


def provision_references(text: str) -> list[ProvisionReference]:
    """Every provision reference in the text, in the order written; a schedule clause hides its schedule and numbers inside it.

    "cl 3 of Sch 2" and "Sch 2 cl 3" both give ``Sch 2 cl 3``; "s 2.6.9(1A)" gives
    ``2.6.9`` with pinpoint ``(1A)``; "function 4" gives ``4`` (which document it
    belongs to is the caller's call). Only the shape is checked, not existence.
    """
    found: list[ProvisionReference] = []
    taken: list[tuple[int, int]] = []

    def free(span: tuple[int, int]) -> bool:
        return all(span[1] <= a or span[0] >= b for a, b in taken)

    for m in QUERY_SCHEDULE_CLAUSE_RE.finditer(text):
        schedule, clause = m["schedule"] or m["schedule2"], m["clause"] or m["clause2"]
        found.append(ProvisionReference(m.start(), "schedule clause", f"Sch {schedule} cl {clause}", m["pin"] or m["pin2"] or ""))
        taken.append(m.span())
    for m in QUERY_SCHEDULE_RE.finditer(text):
        if free(m.span()):
            found.append(ProvisionReference(m.start(), "schedule", f"Sch {m['schedule']}"))
            taken.append(m.span())
    for m in QUERY_SECTION_RE.finditer(text):
        if free(m.span()):
            found.append(ProvisionReference(m.start(), "section", m["number"].upper(), m["pin"] or ""))
            taken.append(m.span())
    for m in QUERY_FUNCTION_RE.finditer(text):
        found.append(ProvisionReference(m.start(), "function", m["function"]))
    return sorted(found, key=lambda ref: ref.start)



# --- patterns built from data: defined terms, initialisms, the staff thesaurus -------------------


def whole_term_re(term: str) -> re.Pattern[str]:
    """A defined term as a whole word or phrase, any case ("category A offence", not "offences")."""
    return re.compile(rf"(?<![\w-]){re.escape(term)}(?![\w-])", re.IGNORECASE)


def initialisms_re(initialisms: tuple[str, ...]) -> re.Pattern[str]:
    """Any of the initialisms as a whole word, longest listed first wins."""
    return re.compile(r"\b(?:" + "|".join(map(re.escape, initialisms)) + r")\b")


def staff_words_re(words: Sequence[str]) -> re.Pattern[str]:
    """Whole words or phrases, plural or inflected (s, ed, ing); all-capital initialisms ('AP', 'DE') only in capitals."""
    initialisms = [w for w in words if w.isupper()]
    phrases = [w for w in words if not w.isupper()]
    parts = []
    if phrases:
        parts.append("(?i:" + "|".join(re.escape(w) for w in sorted(phrases, key=len, reverse=True)) + ")")
    if initialisms:
        parts.append("|".join(re.escape(w) for w in sorted(initialisms, key=len, reverse=True)))
    return re.compile(r"(?<![\w-])(?:" + "|".join(parts) + r")(?:e?s|ed|d|ing)?(?![\w-])")


# A class the law names by a letter or number after a word ("category A offence", "Schedule 1", "Division 3",
# "Year 10"): the letter is a stop word and a lone digit too short to count, so the pair is kept as one term
# ("category a") and "category A" no longer reads the same as "category B".
DESIGNATED_RE = re.compile(r"\b((?i:category|class|type|schedule|part|division|chapter|level|year|grade|stage|tier))\s+([A-Z]|\d{1,3}[A-Z]?)\b")
