"""What a question may be, for every surface (API, UI, CLI, Python, evaluation): one validator, the follow-up rewrite, and the part that asks.

The HTTP API's request model, the UI's handler and ``Assistant`` all call
``clean_question``, so a question is refused for the same reason, in the same
words, wherever it is typed.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from assistant.errors import InvalidQuestionError
from assistant.patterns import (
    ANAPHOR_RE,
    FOLLOW_UP_START_RE,
    QUESTION_SENTENCE_BREAK_RE,
)

# What a non-text question is called in the message, in the words of the JSON a client sent.
_JSON_TYPE_NAMES = {type(None): "nothing (null)", bool: "true or false", int: "a number", float: "a number", list: "a list", dict: "an object"}
# Control and format characters (NUL, escape sequences, zero-width, bidi overrides) carry no meaning in a question.
_INVISIBLE_CATEGORIES = ("Cc", "Cf")


def clean_question(question: object, max_chars: int) -> str:
    """The question with control characters removed, or ``InvalidQuestionError`` saying what is wrong."""
    if not isinstance(question, str):
        given = _JSON_TYPE_NAMES.get(type(question), type(question).__name__)
        raise InvalidQuestionError(f"the question must be text, not {given}")
    if len(question) > max_chars:
        raise InvalidQuestionError(f"the question is {len(question):,} characters long; the limit is {max_chars:,}. Ask about one matter at a time.")
    visible = "".join(" " if unicodedata.category(ch) in _INVISIBLE_CATEGORIES else ch for ch in question)
    cleaned = " ".join(visible.split())
    if not cleaned:
        raise InvalidQuestionError("the question is empty; type a question about the Act or the VET clusters policy page")
    return cleaned


def rewrite_follow_up(question: str, history: Sequence[tuple[str, str]] | None) -> str | None:
    """A standalone question for a follow-up such as "and for early childhood teachers?", or None if it stands alone.

    A question is treated as a follow-up when there is history and it opens with
    a connective ("and", "what about"), is four words or fewer, or is short (up to
    eight words) and leans on a pronoun ("does it apply to them?"). The rewrite
    joins it to the previous question, which is what retrieval needs: the
    previous topic words plus the new ones.
    """
    if not history:
        return None
    previous = next((str(q).strip() for q, _ in reversed(list(history)) if str(q).strip()), "")
    if not previous:
        return None
    words = question.split()
    follows = bool(FOLLOW_UP_START_RE.match(question)) or len(words) <= 4 or (len(words) <= 8 and bool(ANAPHOR_RE.search(question)))
    if not follows:
        return None
    rest = FOLLOW_UP_START_RE.sub("", question).strip(" ,?") or question.strip(" ?")
    # A previous message that told rather than asked ("Our teacher has been charged.") keeps its full stop.
    head = previous if previous.endswith((".", "!", "?")) else f"{previous}?"
    return f"{head} {rest[:1].upper()}{rest[1:]}?"


def asked_part(question: str) -> str:
    """The sentences that ask (end with "?"); the whole text when none does.

    A scenario's background ("Our board was dismissed last year.") states facts; only
    what it then asks says what kind of fact (a date, a number, a penalty) the answer must hold.
    """
    asking = [s for s in QUESTION_SENTENCE_BREAK_RE.split(question.strip()) if s.rstrip().endswith("?")]
    return " ".join(asking) if asking else question
