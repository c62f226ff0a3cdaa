"""Query expansion for the word-matching signal: initialisms spelt out, and the Act's words for everyday ones.

Staff ask in everyday words ("can we expel a kid for wagging?") that the law
never uses. A thesaurus (assistant/data/staff_vocabulary.json, written from
general knowledge of Victorian schooling, never from evaluation questions) adds
the Act's words for them to the BM25 query at ``settings.thesaurus_weight``;
initialisms the law defines but never uses ("VIT") are spelt out. What each
choice measured is in docs/experiments.md (first stage).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from assistant.patterns import (
    ABBREVIATION_EXPANSION_RE,
    INITIALISM_RE,
    initialisms_re,
    staff_words_re,
)
from assistant.records import Provision
from assistant.settings import PACKAGE_DATA

_MINOR_WORDS = frozenset({"of", "and", "for"})


def mine_abbreviations(provisions: Sequence[Provision]) -> dict[str, str]:
    """Initialisms staff use that the law text never does, from the law's own definitions.

    "Institute means the Victorian Institute of Teaching ..." yields VIT → "Victorian
    Institute of Teaching". Only initialisms of three or more letters that never occur
    in the law text are kept: those are the ones a question cannot match by itself.
    """
    text_words = set(INITIALISM_RE.findall(" ".join(p.text for p in provisions)))
    found: dict[str, str] = {}
    for provision in provisions:
        for unit in provision.units:
            if unit.kind != "definition" or not unit.term:
                continue
            body = provision.unit_text(unit)
            if not body.startswith(unit.term):
                continue
            rest = body[len(unit.term) :]
            m = ABBREVIATION_EXPANSION_RE.match(rest)
            # A name cut short by a bracket ("... Reform Amendment (Skills) Act") is not a full name.
            if not m or rest[m.end() :].lstrip().startswith("("):
                continue
            expansion = m.group("expansion").strip()
            initials = "".join(word[0] for word in expansion.split() if word not in _MINOR_WORDS)
            if len(initials) >= 3 and initials.isupper() and initials not in text_words:
                found.setdefault(initials, expansion)
    return found


def expand_abbreviations(query: str, abbreviations: Mapping[str, str]) -> str:
    """The question with each known initialism spelt out after it: 'VIT' → 'VIT (Victorian Institute of Teaching)'."""

    def spell(m: re.Match[str]) -> str:
        return f"{m.group(0)} ({abbreviations[m.group(0)]})"

    if not abbreviations:
        return query
    return _initialisms_pattern(tuple(sorted(abbreviations, key=len, reverse=True))).sub(spell, query)


@lru_cache(maxsize=8)
def _initialisms_pattern(initialisms: tuple[str, ...]) -> re.Pattern[str]:
    return initialisms_re(initialisms)


STAFF_VOCABULARY = PACKAGE_DATA / "staff_vocabulary.json"


@dataclass(frozen=True)
class VocabularyEntry:
    """Everyday words and the Act's words for the same thing; ``pattern`` finds any of the everyday words."""

    pattern: re.Pattern[str]
    act: tuple[str, ...]


@lru_cache(maxsize=4)
def load_staff_vocabulary(path: Path = STAFF_VOCABULARY) -> tuple[VocabularyEntry, ...]:
    """The staff-vocabulary thesaurus (assistant/data/staff_vocabulary.json), compiled once."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return tuple(VocabularyEntry(staff_words_re(entry["staff"]), tuple(entry["act"])) for entry in data["entries"])


def staff_terms(query: str, vocabulary: Sequence[VocabularyEntry]) -> list[str]:
    """The Act's words for the everyday words in the question, each once, in vocabulary order."""
    out: list[str] = []
    for entry in vocabulary:
        if entry.pattern.search(query):
            out.extend(term for term in entry.act if term not in out)
    return out
