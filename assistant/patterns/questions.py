"""Question shapes: what the second stage and the answer stage read in a question, and law sentences turned into training questions."""

from __future__ import annotations

import re

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
# "is it fair", "would we win", "what do you think". ADVICE_CUE_RE (through advice_cue) is the abstention model's
# feature, fitted with exactly these words; ADVICE_ASKED_RE, wider, names the kind of an abstention.
ADVICE_WORDS = (
    r"should\s+(?:i|we)|is\s+it\s+(?:fair|worth|reasonable|ethical|right)|would\s+(?:we|i|they)\s+(?:win|lose|succeed)|what\s+do\s+you\s+(?:think|recommend)|"
    r"your\s+(?:opinion|view|advice)|best\s+(?:way|approach|option)|do\s+you\s+reckon|(?:can|could)\s+(?:i|we)\s+sue"
)
ADVICE_CUE_RE = re.compile(rf"\b(?:{ADVICE_WORDS})\b", re.IGNORECASE)
ADVICE_ASKED_RE = re.compile(
    rf"\b(?:{ADVICE_WORDS}|should\s+(?:they|our|my|the\s+family)|is\s+(?:that|this)\s+(?:fair|ethical|reasonable|wise)|do\s+you\s+(?:think|recommend)|"
    r"would\s+you\s+(?:recommend|suggest|advise)|(?:which|what)(?:'s|’s|\s+is|\s+would\s+be)\s+(?:better|best|less\s+hassle|easier)|would\s+(?:it|that)\s+be\s+(?:better|a\s+good\s+idea|wise)|"
    r"would\s+(?:it|that)\s+look\s+bad|(?:strong|good)\s+case|(?:write|draft)\s+(?:me\s+|us\s+)?a\s+letter|we\s+reckon|"
    # An outcome foretold (what a court, tribunal or decision-maker would likely do), or a plan judged good or bad.
    r"how\s+likely|(?:what\s+are|what['’]s)\s+(?:the|our|my|his|her|their)\s+(?:chances|odds)|would\s+(?:he|she)\s+(?:win|lose|succeed)|"
    r"would\s+(?:a|the)\s+(?:court|VCAT|tribunal|magistrate|judge|panel)\s+(?:find|side|rule|overturn|agree|accept|grant|award|uphold)|"
    r"would\s+(?:[\w'’-]+\s+){1,3}?be\s+likely\s+to|good\s+idea|is\s+(?:that|this|it)\s+(?:good|bad|best)\s+(?:governance|practice))\b",
    re.IGNORECASE,
)
# "Should" asks for a recommendation as a yes/no question's opening verb ("Should I sue …?", "…, or should we
# wait?"), and in a question choosing between options ("Which course should we add — Music or Sport?"). Staff also
# use it for what the law requires or entitles: "When should we apply?", "Should I have been given a receipt?",
# "Should the cluster be helping us?", "Should our council have got approval?"; those are not advice.
SHOULD_CLAUSE_START_RE = re.compile(r"(?:^|[.?!,;:(—–-]|\b(?:and|or|but|so|then|honestly|ok(?:ay)?|now|also))\s*$", re.IGNORECASE)
SHOULD_NOT_ADVICE_AFTER_RE = re.compile(r"^(?:[\w'’-]+\s+){1,4}?(?:be|have|expect(?:ing)?)\b", re.IGNORECASE)
SHOULD_CHOICE_RE = re.compile(r"\b(?:which|what)\b[^.?!]*?\bshould\s+(?:i|we)\b[^.?!]*\bor\b", re.IGNORECASE)


def advice_cue(question: str) -> re.Match[str] | None:
    """The abstention model's advice words (``ADVICE_CUE_RE``) asking for advice, or None (see ``advice_asked``)."""
    return _asking_advice(ADVICE_CUE_RE, question)


def advice_asked(question: str) -> re.Match[str] | None:
    """The words asking for advice or an opinion (``ADVICE_ASKED_RE``, or a choice asked with "should"), or None;
    a "should" counts only as a yes/no question's opening verb and not before "be", "have" or "expect"
    (what is owed, not what is wise)."""
    return _asking_advice(ADVICE_ASKED_RE, question) or SHOULD_CHOICE_RE.search(question)


def _asking_advice(pattern: re.Pattern[str], question: str) -> re.Match[str] | None:
    for m in pattern.finditer(question):
        if not m.group(0).lower().startswith("should"):
            return m
        sentence_start = max(question.rfind(stop, 0, m.start()) for stop in ".?!") + 1
        before = question[sentence_start : m.start()]
        if SHOULD_CLAUSE_START_RE.search(before) and not SHOULD_NOT_ADVICE_AFTER_RE.match(question[m.start() + len("should") :].lstrip()):
            return m
    return None


# A question about another jurisdiction's law or the Commonwealth's (the model's feature); ELSEWHERE_LAW_RE, narrower,
# names that law itself ("South Australia's rules", "the Commonwealth Privacy Act") and refuses whatever the model says.
OTHER_STATES = r"NSW|New\s+South\s+Wales|Queensland|QLD|South\s+Australia|Western\s+Australia|Tasmania|ACT|Northern\s+Territory"
ELSEWHERE_CUE_RE = re.compile(rf"\b(?:{OTHER_STATES}|interstate|Commonwealth|federal|Fair\s+Work|overseas\s+law)\b")
ELSEWHERE_LAW_RE = re.compile(
    rf"\b(?:{OTHER_STATES})['’]s?\s|\bother\s+states\b|\b(?:laws?|rules?|legislation)\s+(?:in|of)\s+(?:{OTHER_STATES})\b|\bFair\s+Work\b|"
    rf"\b(?:{OTHER_STATES})\s+(?:[A-Z][\w'’-]*\s+){{0,4}}(?:Act|law|laws|legislation|regulations)\b|"
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

# Training questions rewritten to name the state (``TrainingConfig.state_variants``): staff often say
# "in Victoria", and a model that never saw it in training read it as a sign of an unanswerable question.
STATE_NAMED_RE = re.compile(r"\bVic(?:toria|torian)?\b", re.IGNORECASE)
STATE_PREFIXES = ("In Victoria, ", "Under Victorian law, ", "For a Victorian school, ")
STATE_SUFFIXES = (" here in Victoria", " in Vic", " at our Victorian school", " under Victorian law")
STATE_FORMS = len(STATE_PREFIXES) + len(STATE_SUFFIXES)


def with_state_named(question: str, variant: int) -> str:
    """``question`` naming the state in one of ``STATE_PREFIXES`` + ``STATE_SUFFIXES`` (by ``variant``);
    a suffix goes before the closing "?" or ".". "Who appoints the principal?", 3 →
    "Who appoints the principal here in Victoria?"."""
    question = question.strip()
    variant %= STATE_FORMS
    if variant < len(STATE_PREFIXES):
        return STATE_PREFIXES[variant] + question[:1].lower() + question[1:]
    end = question[-1] if question[-1:] in ("?", ".") else ""
    return (question[:-1] if end else question) + STATE_SUFFIXES[variant - len(STATE_PREFIXES)] + (end or "?")


# --- question shapes (answer stage, assistant.answer) ------------------------------------------

# A word for overlap counting, in lower-cased text.
WORD_RE = re.compile(r"[a-z0-9]+")
# A question asking for a number: an age, a count, a period, a penalty, a term of office.
NUMBER_QUESTION_RE = re.compile(
    r"\b(?:how\s+(?:many|much|old|long|often|soon|young|big|large)|size\s+of|what\s+age|which\s+age|what\s+is\s+the\s+age|age\s+(?:limit|range)|"
    r"minimum|maximum|penalt(?:y|ies)|fine|days?|weeks?|months?|years?(?!\s*\d)|term\s+of\s+office|number\s+of|deadline|within\s+how)\b",
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


# Where one sentence of a question ends and the next begins ("Our board was dismissed last year. Are its contracts valid?").
QUESTION_SENTENCE_BREAK_RE = re.compile(r"(?<=[.?!])\s+")
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
