"""Answer-stage patterns: law-text segments, generated answers, and the claims a short answer makes (numbers, parties, modality)."""

from __future__ import annotations

import re

from assistant.patterns.questions import NUMBER_WORDS

# --- law-text segments (answer stage) ------------------------------------------------------------

# The space between two sentences of one long line: after ".", ";" or ":", before a capital or "(".
SENTENCE_BREAK_IN_LINE_RE = re.compile(r"(?<=[.;:])\s+(?=[A-Z(])")
# A list joiner closing a line: "; or", ", and", " or".
TRAILING_JOINER_RE = re.compile(r"(?:\s*[;,]\s*(?:or|and)?|\s+(?:or|and))\s*$")
# Where a quote's sentence splits into clauses: a semicolon and the space after it.
CLAUSE_BREAK_RE = re.compile(r";\s+")
# A line that closes its thought: it ends ".", ";" or "; or"/"; and"; any other line leads in to the next.
LINE_CLOSED_RE = re.compile(r"[.;]\s*(?:or|and)?$")
# A quote that only leads in to a list: it ends "—", ":" or "the following".
LEAD_IN_END_RE = re.compile(r"(?:[—–:]|\bthe following|\bmust not|\bmay|\bare|\bis)\s*$", re.IGNORECASE)
# A lead-in naming its list ("any of the following—", "the following principles apply …—"): read as one sentence
# with an item, the item is set off ("… any of the following — purchase or acquire …"), as it is not after "must not—".
NAMES_ITS_LIST_RE = re.compile(r"\b(?:the following|as follows)\b", re.IGNORECASE)
# A unit label opening a line: (1), (2A), (a), (iv), (A).
LEADING_LABEL_RE = re.compile(r"^\((?:\d+[A-Z]*|[a-z]{1,4}|[A-Z]{1,2})\)\s*")
# A Schedule's item number opening a line: "4.3 The procedures …", "1.9.1 On the commencement …", "4 The deaf
# facilities …"; not a quantity ("20 penalty units", "1 January 2007"). A short answer drops it: staff would read a section.
SCHEDULE_ITEM_LABEL_RE = re.compile(r"^(?:\d+[A-Z]?(?:\.\d+[A-Z]?)+\s+(?=[A-Z])|\d+[A-Z]?\s+(?=(?:The|A|An)\s))")
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
    r"(?P<regulations>(?:in\s+accordance\s+with|prescribed\s+(?:by|in)|specified\s+in|set\s+out\s+in|subject\s+to|by)\s+(?:the\s+|any\s+)?regulations|"
    r"the\s+regulations\s+(?:may|prescribe)|any\s+other\s+prescribed\s+\w+|(?:in\s+)?the\s+prescribed\s+(?:manner|form|particulars|period|fee))|"
    r"(?P<council>Order\s+in\s+Council|Order\s+of\s+the\s+Governor\s+in\s+Council|Governor\s+in\s+Council\s+may,?\s+by\s+Order)|"
    r"(?P<order>(?:a\s+|any\s+|the\s+)?Ministerial\s+Orders?|(?:determined|specified)\s+by\s+the\s+Minister\s+by\s+Order|Minister,?\s+by\s+Order|"
    r"Minister\s+may\s+make\s+(?:an\s+)?Orders?|any\s+Order\s+made\s+by\s+the\s+Minister)|"
    r"(?P<guidelines>(?:any\s+|the\s+)?guidelines(?:\s+issued|\s+made|\s+approved)?)|"
    r"(?P<minister>(?:fixed|approved|determined)\s+by\s+the\s+Minister)",
    re.IGNORECASE,
)
# The Schedules listing matters another instrument may deal with (Schedule 5, regulations: s 5.10.1(2);
# Schedule 6, Ministerial Orders: s 5.10.4(2)), matched on the Schedule's heading in a provision's path. Each item of
# theirs ("4.4 The period for which a student may be suspended.") hands its matter on, with DELEGATED_TO_RE's groups.
INSTRUMENT_SCHEDULE_RE = re.compile(r"^Schedule\s+\d+[A-Z]?\s*[—–-]\s*(?:(?P<regulations>Regulations)|(?P<order>Ministerial\s+orders))$", re.IGNORECASE)

# --- generated answers (answer stage) -----------------------------------------------------------

# The model saying the sources do not answer: "The sources do not say."
NOT_ANSWERED_RE = re.compile(r"\bsources? (?:do|does) not (?:say|answer|cover|address)\b", re.IGNORECASE)
# A bracketed provision label instead of a number: "[s 2.1.1]", "[Sch 2 cl 2(3)]", "[VET clusters, function 4]".
LABEL_REF_RE = re.compile(r"\[((?:s|ss|section)\.?\s*\d[^\]]*|Sch(?:edule)?\s*\d[^\]]*|VET clusters[^\]]*)\]", re.IGNORECASE)
# Any run of whitespace, line breaks included.
WHITESPACE_RUN_RE = re.compile(r"\s+")

# --- claims a short answer makes (assistant.answer.claims) ----------------------------------------

# The value of each number word NUMBER_WORDS lists, so "17" in an answer matches "seventeen" in the law.
NUMBER_WORD_VALUES = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    "eleven": 11, "twelve": 12, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "twenty": 20, "thirty": 30, "sixty": 60, "ninety": 90, "hundred": 100,
}
# A number stated in a sentence: digits ("17", "12.5", "1,000", the "1000" of "$1000") or a number word.
STATED_NUMBER_RE = re.compile(rf"(?<![\w.])(?:\d{{1,3}}(?:,\d{{3}})+|\d+(?:\.\d+)?|{NUMBER_WORDS})(?![\w])", re.IGNORECASE)
# "one" that counts nothing: "no one", "one of", "any one", "one or more".
NOT_A_COUNT_RE = re.compile(r"\b(?:no|any|every|each|some)\s+one\b|\bone\s+(?:of|or\s+more|another)\b", re.IGNORECASE)
# What a sentence may carry that is not a stated quantity: markers "[1]", labels "s 2.1.1(a)", "Sch 2 cl 3", "function 4", "(1A)".
NOT_A_QUANTITY_RE = re.compile(
    r"\[\d+(?:\s*,\s*\d+)*\]|\b(?:s|ss|sec|section|sections)\.?\s*\d+[A-Z]*(?:\.\d+[A-Z]*){1,2}(?:\([0-9A-Za-z]{1,4}\))*"
    r"|\bSch(?:edule)?\.?\s*\d+(?:\s*cl(?:ause)?\.?\s*\d+[A-Z]*(?:\.\d+)?)?(?:\([0-9A-Za-z]{1,4}\))*|\bfunction\s+\d+|\(\d+[A-Z]*\)",
    re.IGNORECASE,
)
# A calendar month named in a sentence: it must be the law's too.
MONTH_RE = re.compile(r"\b(?:January|February|March|April|May|June|July|August|September|October|November|December)\b")
# Parties a sentence may name, each with the words that name it in the law; a sentence naming one needs it in its quote or heading.
PARTIES = {
    "the Minister": r"\bMinister\b",
    "the Secretary": r"\bSecretary\b",
    "the VRQA": r"\bVRQA\b|\bAuthority\b",
    "the Institute": r"\bVIT\b|\bInstitute\b",
    "the principal": r"\bprincipals?\b",
    "the school council": r"\bcouncils?\b",
    "the Governor in Council": r"\bGovernor\b",
    "the Department": r"\bDepartment\b",
    "a court": r"\bcourts?\b",
    "a tribunal": r"\bVCAT\b|\btribunal\b",
    "an attendance officer": r"\battendance\s+officers?\b",
    "an authorised officer": r"\bauthori[sz]ed\s+(?:officers?|persons?)\b",
    "a board": r"\bboards?\b",
    "a registered training organisation": r"\bRTOs?\b|\bregistered\s+training\s+organi[sz]ations?\b",
}
PARTY_RES = {party: re.compile(words, re.IGNORECASE) for party, words in PARTIES.items()}
# A negated duty or power: "must not", "may not", "cannot", "does not have to", "is not required to".
NEGATED_MODAL_RE = re.compile(
    r"\b(?:must|may|shall|can|could|should)\s+not\b|\b(?:mustn|can|shan|shouldn)['’]t\b|\bcannot\b|"
    r"\b(?:does|do|did)(?:\s+not|n['’]t)\s+(?:have|need)\s+to\b|\b(?:is|are)(?:\s+not|n['’]t)\s+(?:required|allowed|permitted|entitled|able)\b|"
    r"\bneed(?:\s+not|n['’]t)\b|\bnot\s+(?:allowed|permitted|required)\b|\bno\s+(?:one|person|school|parent)\s+(?:may|can|must)\b",
    re.IGNORECASE,
)
# A duty or power stated positively: "must", "may", "can", "has to", "is required to".
POSITIVE_MODAL_RE = re.compile(r"\b(?:must|may|shall|can|has\s+to|have\s+to|(?:is|are)\s+(?:required|allowed|permitted|entitled)\s+to)\b", re.IGNORECASE)
# Any negation in the law's words: what a sentence's "must not" needs to rest on.
NEGATION_RE = re.compile(r"\b(?:not|no|never|cannot|nor|neither|none|nothing|unless|except|only)\b|n['’]t\b", re.IGNORECASE)
