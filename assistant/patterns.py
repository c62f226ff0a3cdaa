"""Every legal and question pattern in one place, so a change to how the Act or staff write is made once.

In order: the law text (numbers, labels, headings, history notes, cross-references);
provisions named in free text; follow-up cues; question shapes the second stage reads
(a meaning asked for, a period, penalty or age); law sentences turned into training
questions; question shapes and law-text segments the answer stage reads; generated
answers. Built from small named pieces so each can be tested as a table
(tests/test_patterns.py).
"""

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
PARAGRAPH_LABEL = r"[a-z]{1,3}"  # (a), (ab), (nd); also roman (i), (iia) decided by context
SUBSUB_LABEL = r"[A-Z]{1,2}"  # (A), (AB)
UNIT_LABEL_RE = re.compile(rf"^\((?P<label>{SUBSECTION_LABEL}|{PARAGRAPH_LABEL}|[ivxl]+[a-z]?|{SUBSUB_LABEL})\)\s+")
ROMAN_RE = re.compile(r"^(?=[ivx])x{0,3}(?:ix|iv|v?i{0,3})[a-h]?$")

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
    """Remove markdown emphasis and collapse runs of spaces, keeping line breaks."""
    return SPACES_RE.sub(" ", MARKUP_RE.sub("", text)).strip()


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


# --- question shapes (second stage) ------------------------------------------------------------

# A question that asks what a word means: the term right after "what is a", "who counts as",
# "meaning of", "definition of", or before "mean", with little else after it.
MEANING_ASKED_BEFORE_RE = re.compile(
    r"(?:\bwhat(?:'s|’s|\s+is|\s+are)|\bwho\s+(?:counts|is\s+counted|qualifies)\s+as|\bwhat\s+counts\s+as|\bmeaning\s+of|\bdefinition\s+of|\bdefine|\bdefines)"
    r"\s+(?:an?\s+|the\s+)?['‘\"“]?\s*$",
    re.IGNORECASE,
)
MEANING_ASKED_AFTER_RE = re.compile(r"^['’\"”]?\s*(?:(?:under|in|for|according\s+to)\b[^?]{0,30})?[?.!]?\s*$", re.IGNORECASE)
MEAN_AFTER_RE = re.compile(r"^['’\"”]?\s+(?:actually\s+|legally\s+)?mean\b", re.IGNORECASE)
def meaning_asked_at(question: str, start: int, end: int) -> bool:
    """Whether ``question[start:end]`` (a defined term found in it) is what the question asks the meaning of.

    "What's a 'category A offence'?", "Who counts as an overseas student under the Act?",
    "What does 'parent' actually mean?". A term the question merely uses is not asked about.
    The second stage puts a definition first only on this strict reading; the composer adds a
    definition on the looser one (``DEFINITIONAL_RE`` plus the phrases ``ASKED_TERM_RE`` and
    ``QUOTED_TERM_RE`` find). One rule for both was measured and lost on gold (docs/experiments.md).
    """
    before, after = question[:start], question[end:]
    return bool((MEANING_ASKED_BEFORE_RE.search(before) and MEANING_ASKED_AFTER_RE.match(after)) or MEAN_AFTER_RE.match(after))


MEANING_HEADING_RE = re.compile(r"^(?:Meaning|Definitions?) of (?:an? |the )?(?P<term>.+?)(?: in this \w+)?$", re.IGNORECASE)

# Question types and the law-text shapes that answer them: a "how long" question is answered
# by a provision that states a period, a "what's the penalty" question by one with a penalty.
QUESTION_CUES: tuple[tuple[str, re.Pattern[str], re.Pattern[str]], ...] = (
    (
        "period",
        re.compile(r"\b(?:how\s+long|how\s+many\s+(?:days|weeks|months|years)|how\s+soon|deadline|time\s+limit|within\s+what|time\s*frame|timeline|when\s+does\s+\w+\s+(?:end|expire|lapse))\b", re.IGNORECASE),
        re.compile(r"\b(?:\d+|one|two|three|four|five|six|seven|ten|fourteen|twenty[- ]\w+|thirty|sixty)\s+(?:business\s+|working\s+|clear\s+)?(?:days?|weeks?|months?|years?)\b", re.IGNORECASE),
    ),
    (
        "penalty",
        re.compile(r"\b(?:penalt(?:y|ies)|fined?|fines|punishable|maximum\s+(?:fine|penalty)|how\s+much\s+(?:can|could|will|would)\b[^?]*\bfined)\b", re.IGNORECASE),
        re.compile(r"\bpenalty\s+units?\b|\bPenalty:", re.IGNORECASE),
    ),
    (
        "age",
        re.compile(r"\b(?:what\s+age|how\s+old|age\s+limit|old\s+enough|too\s+(?:young|old)|years?\s+old)\b", re.IGNORECASE),
        re.compile(r"\b(?:years\s+of\s+age|age\s+of\s+\d+|aged\s+\d+|school\s+age)\b", re.IGNORECASE),
    ),
)


# A question asking for advice or an opinion rather than what the law says: "should I sue",
# "is it fair", "would we win", "what do you think". ADVICE_CUE_RE is the abstention model's
# feature, fitted with exactly these words; ADVICE_ASKED_RE, wider, names the kind of an abstention.
ADVICE_WORDS = (
    r"should\s+(?:i|we)|is\s+it\s+(?:fair|worth|reasonable|ethical|right)|would\s+(?:we|i|they)\s+(?:win|lose|succeed)|what\s+do\s+you\s+(?:think|recommend)|"
    r"your\s+(?:opinion|view|advice)|best\s+(?:way|approach|option)|do\s+you\s+reckon|(?:can|could)\s+(?:i|we)\s+sue"
)
ADVICE_CUE_RE = re.compile(rf"\b(?:{ADVICE_WORDS})\b", re.IGNORECASE)
ADVICE_ASKED_RE = re.compile(
    rf"\b(?:{ADVICE_WORDS}|should\s+(?:they|our|my|the\s+family)|is\s+(?:that|this)\s+(?:fair|ethical|reasonable|wise)|do\s+you\s+(?:think|recommend)|"
    r"would\s+you\s+(?:recommend|suggest|advise)|(?:which|what)(?:'s|’s|\s+is|\s+would\s+be)\s+(?:better|best|less\s+hassle|easier)|would\s+(?:it|that)\s+be\s+(?:better|a\s+good\s+idea|wise)|"
    r"would\s+(?:it|that)\s+look\s+bad|(?:strong|good)\s+case|(?:write|draft)\s+(?:me\s+|us\s+)?a\s+letter|we\s+reckon)\b",
    re.IGNORECASE,
)
# A question about another jurisdiction's law or the Commonwealth's (the model's feature); ELSEWHERE_LAW_RE, narrower,
# names that law itself ("South Australia's rules", "the Commonwealth Privacy Act") and refuses whatever the model says.
OTHER_STATES = r"NSW|New\s+South\s+Wales|Queensland|QLD|South\s+Australia|Western\s+Australia|Tasmania|ACT|Northern\s+Territory"
ELSEWHERE_CUE_RE = re.compile(rf"\b(?:{OTHER_STATES}|interstate|Commonwealth|federal|Fair\s+Work|overseas\s+law)\b")
ELSEWHERE_LAW_RE = re.compile(
    rf"\b(?:{OTHER_STATES})['’]s?\s|\bother\s+states\b|\b(?:laws?|rules?|legislation)\s+(?:in|of)\s+(?:{OTHER_STATES})\b|\bFair\s+Work\b|"
    r"\bCommonwealth['’]s\b|\bCommonwealth\s+(?:[A-Z]\w+\s+)?(?:Act|law|legislation)\b|\bAustralian\s+Education\s+Act\b"
)


# --- law sentences turned into training questions (assistant.training.mining) ---------------------

# A duty or power: "<subject> must|may <rest>".
DUTY_SENTENCE_RE = re.compile(
    r"^(?P<subject>[^,;:]{3,90}?)\s+(?P<modal>must not|must|may not|may|is not to|is to|are to)\s+(?P<rest>.+)$",
    re.IGNORECASE,
)
INLINE_UNIT_LABEL_RE = re.compile(r"\((?:\d+[A-Z]*|[a-z]{1,4})\)\s*")
INTERNAL_REFERENCE_RE = re.compile(
    r"\b(?:sub)?(?:section|paragraph|clause)s?\s+[\dA-Z.()]+(?:\s*(?:or|and|to)\s+[\dA-Z.()]+)*|\bthis (?:Act|Part|Division|section|Subdivision)\b|—",
    re.IGNORECASE,
)
CONDITION_START_RE = re.compile(r"^(?:if|where|when|subject to|despite|except)\b", re.IGNORECASE)


# --- question shapes (answer stage, assistant.answer) ------------------------------------------

# A word for overlap counting, in lower-cased text.
WORD_RE = re.compile(r"[a-z0-9]+")
# A question asking for a number: an age, a count, a period, a penalty, a term of office.
NUMBER_QUESTION_RE = re.compile(
    r"\b(?:how\s+(?:many|much|old|long|often|soon|young|big|large)|size\s+of|what\s+age|which\s+age|what\s+is\s+the\s+age|age\s+(?:limit|range)|"
    r"minimum|maximum|penalt(?:y|ies)|fine|days?|weeks?|months?|years?|term\s+of\s+office|number\s+of|deadline|within\s+how)\b",
    re.IGNORECASE,
)
# A number spelled out, as the Act writes many quantities ("fourteen days").
NUMBER_WORDS = "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fourteen|fifteen|sixteen|seventeen|eighteen|twenty|thirty|sixty|ninety|hundred"
# The question asks what a term means or who/what it covers.
DEFINITIONAL_RE = re.compile(r"\b(?:mean|means|meaning|defin\w*|count(?:s|ed)? as|includ\w*|considered|regarded as|who is a|what is a|what is an|what counts)\b", re.IGNORECASE)
# Where a second question joined by "and"/"or"/"but" starts ("..., and does the student get paid?");
# a comma alone does not count: "Before an order is made, how long do they get?" asks one thing.
MULTI_PART_RE = re.compile(
    r"\b(?:and|or|but)\s+(?:what|who|whom|how|when|where|which|why|can|could|does|do|did|is|are|must|should|will|may|has|have)\b",
    re.IGNORECASE,
)
# The joining word at the start of a question's second part ("and does ...").
LEADING_CONJUNCTION_RE = re.compile(r"^(?:and|or|but)\s+", re.IGNORECASE)
# A quoted term, in straight or curly quotes: 'overseas student' (group 1: the term).
QUOTED_TERM_RE = re.compile(r"['‘\"“]([^'’\"”?]{2,60})['’\"”]")
# The words after "what is a", "meaning of", "count as" and the like, up to the end of the clause (group 1).
ASKED_TERM_RE = re.compile(
    r"\b(?:what(?:'s|’s|\s+is|\s+are|\s+does)|meaning\s+of|definition\s+of|define[sd]?|counts?\s+as|counted\s+as|regarded\s+as|considered(?:\s+to\s+be)?|who\s+is)"
    r"\s+(?:an?\s+|the\s+)?([^?,;.]{2,80})",
    re.IGNORECASE,
)
# A word the law never uses may name something: a title-case word (Geelong, Facebook) or an acronym (NAPLAN).
PROPER_NAME_RE = re.compile(r"\b(?:[A-Z][a-z]{2,}|[A-Z]{2,6})\b")
# Text ending where a sentence, clause or quotation starts: the next word's capital says nothing.
SENTENCE_START_BEFORE_RE = re.compile(r"(?:^|[.?!:;]\s+|[\"“'‘(]\s*)$")
# A run of capitalised words, "and"/"of"/"for"/"the"/"&" allowed inside: 'Victorian Curriculum and Assessment Authority'.
CAPITALISED_RUN_RE = re.compile(r"(?:[A-Z][\w'’-]*(?:\s+(?:and|of|for|the|&)\s+|\s+))+[A-Z][\w'’-]*")


def term_or_plural_re(term: str) -> re.Pattern[str]:
    """The term, or the term plus "s", as whole words (case as given)."""
    return re.compile(rf"\b{re.escape(term)}s?\b")


# Kinds of fact a question asks for that the law may simply not hold, each paired in FACT_PRESENT
# with what the evidence must contain (a count is checked by count_in_unit_re).
COUNT_UNITS = r"(?:days?|weeks?|months?|years?|hours?|minutes?|members?|students?|teachers?|times)"
FACT_ASKED = {
    "a sum of money": re.compile(
        r"\bhow\s+much\s+(?:[\w'’-]+\s+){0,6}?(?:fees?|costs?|charge[sd]?|price|salar(?:y|ies)|wages?|paid|pay|earn|subsidy|money)\b|"
        r"\bwhat(?:'s|’s|\s+is|\s+are)\s+the\s+(?:[\w'’-]+\s+){0,4}?(?:fees?|costs?|price|salar(?:y|ies)|wages?|rate|subsidy)\b|"
        r"\bsalar(?:y|ies)\b|\$\s?\d",
        re.IGNORECASE,
    ),
    "a date": re.compile(r"\b(?:this|next|last)\s+year\b|\bin\s+20\d\d\b|\bwhat\s+date\b|\bwhich\s+dates?\b|\bdates\b", re.IGNORECASE),
    "a count": re.compile(rf"\b(?:how\s+many|(?:minimum|maximum)\s+number\s+of)\s+(?:\w+\s+)?(?P<unit>{COUNT_UNITS})\b", re.IGNORECASE),
    "a ratio": re.compile(r"\bratios?\b", re.IGNORECASE),
}
# A question asking for the detail an instrument the Act delegates to would hold: an amount, a rate, a period,
# a count, or the contents, requirements or form of something ("what goes in it", "what would it look like").
DETAIL_ASKED_RE = re.compile(
    r"\bhow\s+(?:much|many|long)\b|\bwhat\s+rate\b|\bon\s+what\s+terms\b|\blook\s+like\b|\bwhat\s+(?:else\s+)?(?:goes|must\s+go|has\s+to\s+go|exactly)\b|"
    r"\bwhat(?:'s|’s|\s+is|\s+are)\s+(?:the\s+|our\s+)?(?:[\w'’-]+\s+){0,5}?(?:fees?|rates?|range|requirements|criteria|standards|steps|contents?|form|amount|limit)\b",
    re.IGNORECASE,
)
MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
FACT_PRESENT = {
    "a sum of money": re.compile(r"\$\s?\d|\bdollars?\b|\bpenalty\s+units?\b|\bfee\s+units?\b", re.IGNORECASE),
    "a date": re.compile(rf"\b\d{{1,2}}\s+(?:{MONTHS})\b|\b(?:{MONTHS})\s+\d{{4}}\b"),
    "a ratio": re.compile(r"\bratios?\b|\b\d+\s*(?::|to)\s*\d+\b", re.IGNORECASE),
}
# A number as a count may be written: 14, 0.5, "fourteen", "a", "one".
COUNT_NUMBER = rf"(?:\d+(?:\.\d+)?|{NUMBER_WORDS}|a|one)"


def count_in_unit_re(unit: str) -> re.Pattern[str]:
    """A count in the (stemmed) unit, up to two words between: "14 days", "3 consecutive meetings"."""
    return re.compile(rf"\b{COUNT_NUMBER}\s+(?:\w+\s+){{0,2}}?{unit}s?\b", re.IGNORECASE)


# --- law-text segments (answer stage) ------------------------------------------------------------

# The space between two sentences of one long line: after ".", ";" or ":", before a capital or "(".
SENTENCE_BREAK_IN_LINE_RE = re.compile(r"(?<=[.;:])\s+(?=[A-Z(])")
# A list joiner closing a line: "; or", ", and", " or".
TRAILING_JOINER_RE = re.compile(r"(?:\s*[;,]\s*(?:or|and)?|\s+(?:or|and))\s*$")
# A unit label opening a line: (1), (2A), (a), (iv), (A).
LEADING_LABEL_RE = re.compile(r"^\((?:\d+[A-Z]*|[a-z]{1,4}|[A-Z]{1,2})\)\s*")
# A quantity, not a section or item number: "17 years", "14 days", "1 penalty unit", "3 consecutive meetings".
HAS_NUMBER_RE = re.compile(
    rf"\b(?:\d+(?:\.\d+)?|{NUMBER_WORDS})\s+(?:consecutive\s+|or\s+more\s+|clear\s+|business\s+|school\s+)?"
    r"(?:years?|days?|weeks?|months?|hours?|minutes?|penalty\s+units?|members?|per\s+cent|times|meetings?|terms?)\b",
    re.IGNORECASE,
)
# Words handing the matter to another instrument (group "what"): regulations, a Ministerial Order, guidelines.
# The abstention model's ``delegation_best`` feature was fitted with exactly this; answers use DELEGATED_TO_RE.
DELEGATION_RE = re.compile(
    r"(?P<what>in accordance with the regulations|prescribed by the regulations|by the regulations|the regulations may|"
    r"(?:a |any |the )?Ministerial Order|(?:any |the )?guidelines(?: issued| made| approved)?)",
    re.IGNORECASE,
)
# Words leaving a matter to another instrument, one named group per instrument: the regulations ("regulations"),
# a Ministerial Order ("order"), an Order of the Governor in Council ("council"), guidelines, or the Minister ("minister").
DELEGATED_TO_RE = re.compile(
    r"(?P<regulations>(?:in\s+accordance\s+with|prescribed\s+by|specified\s+in|set\s+out\s+in|subject\s+to|by)\s+(?:the\s+|any\s+)?regulations|"
    r"the\s+regulations\s+(?:may|prescribe)|any\s+other\s+prescribed\s+\w+|(?:in\s+)?the\s+prescribed\s+(?:manner|form|particulars|period|fee))|"
    r"(?P<council>Order\s+in\s+Council|Order\s+of\s+the\s+Governor\s+in\s+Council|Governor\s+in\s+Council\s+may,?\s+by\s+Order)|"
    r"(?P<order>(?:a\s+|any\s+|the\s+)?Ministerial\s+Orders?|(?:determined|specified)\s+by\s+the\s+Minister\s+by\s+Order|Minister,?\s+by\s+Order|"
    r"Minister\s+may\s+make\s+(?:an\s+)?Orders?|any\s+Order\s+made\s+by\s+the\s+Minister)|"
    r"(?P<guidelines>(?:any\s+|the\s+)?guidelines(?:\s+issued|\s+made|\s+approved)?)|"
    r"(?P<minister>(?:fixed|approved|determined)\s+by\s+the\s+Minister)",
    re.IGNORECASE,
)

# --- generated answers (answer stage) -----------------------------------------------------------

# The model saying the sources do not answer: "The sources do not say."
NOT_ANSWERED_RE = re.compile(r"\bsources? (?:do|does) not (?:say|answer|cover|address)\b", re.IGNORECASE)
# A bracketed provision label instead of a number: "[s 2.1.1]", "[Sch 2 cl 2(3)]", "[VET clusters, function 4]".
LABEL_REF_RE = re.compile(r"\[((?:s|ss|section)\.?\s*\d[^\]]*|Sch(?:edule)?\s*\d[^\]]*|VET clusters[^\]]*)\]", re.IGNORECASE)
# Any run of whitespace, line breaks included.
WHITESPACE_RUN_RE = re.compile(r"\s+")


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
