"""Gold sets: the curated questions the evaluation scores the assistant against.

One JSON object per line (see eval/gold.jsonl)::

    {"id": "g001", "question": "Until what age ...?", "answerable": true,
     "expected": [{"document": "etra-2006", "provision": "2.1.1"}],
     "key_facts": ["17"], "evidence": "verbatim words of s 2.1.1",
     "kind": "numeric", "difficulty": "easy"}

``load_gold`` checks the shape of every line and reports every problem at once,
each naming the file and line. ``check_against_corpus`` checks what only the
corpus can tell: that expected provisions exist, that the evidence is quoted
verbatim and that each key fact is in the law text.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import (
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from assistant.corpus import Corpus
from assistant.errors import GoldSetError
from assistant.evaluation.metrics import normalise_text, provision_key
from assistant.patterns import ELSEWHERE_CUE_RE, ELSEWHERE_LAW_RE, WORD_RE
from assistant.records import Record

GoldKind = Literal["definition", "numeric", "procedure", "obligation", "multi", "policy", "lookup", "unanswerable"]
Difficulty = Literal["easy", "medium", "hard"]
# How the question is put: a situation in the asker's own words, or a plain question.
Style = Literal["scenario", "direct"]
# Why an unanswerable item cannot be answered from the sources.
UnanswerableKind = Literal["outside_sources", "delegated", "advice_or_opinion", "near_topic"]

# Words too common in staff questions to make two questions alike.
FILLER_WORDS = frozenset("a the of to is can what does do for in an and or if on be are it my our we i they their has have who how with at by that this school".split())
# Two questions sharing at least this share of their words (Jaccard) are near copies: one must not train or tune for the other.
NEAR_COPY_JACCARD = 0.5
# Problems listed in one error before the rest are summarised as a count.
_MAX_LISTED = 25
_WHITESPACE_RE = re.compile(r"\s+")


class ExpectedProvision(Record):
    """A provision that holds (part of) the answer; a pinpoint in ``provision`` is allowed and ignored when scoring."""

    document: str = Field(min_length=1)
    provision: str = Field(min_length=1)

    @property
    def key(self) -> str:
        """Provision-level key, as the metrics compare it: ``etra-2006/2.6.9``."""
        return provision_key(self.document, self.provision)

    @property
    def provision_id(self) -> str:
        """The provision without its pinpoint: ``2.6.9`` for ``2.6.9(1A)``."""
        return self.key.split("/", 1)[1]


class GoldItem(Record):
    """One gold question with what a correct answer must cite and say.

    Fields beyond the format are ignored, so annotators may keep notes in a file.
    ``kind`` and ``difficulty`` may be left out of files written elsewhere; they
    then show as 'unspecified' in the breakdowns.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: str = Field(min_length=1)
    question: str = Field(min_length=1)
    answerable: bool
    expected: list[ExpectedProvision]
    key_facts: list[str] = Field(default_factory=list)
    evidence: str = ""
    kind: GoldKind | Literal["unspecified"] = "unspecified"
    difficulty: Difficulty | Literal["unspecified"] = "unspecified"
    style: Style | Literal["unspecified"] = "unspecified"
    unanswerable_kind: UnanswerableKind | None = None
    # For a delegated item: the provision that hands the matter to regulations, an Order or guidelines.
    delegated_by: ExpectedProvision | None = None
    # One or two plain sentences that answer the question (the question bank's; training data for plain answers).
    short_answer: str = ""
    # A follow-up ("and how long can that last?") is asked with this earlier item's question and answer as history.
    follow_up_of: str | None = None
    # Who asks, in the writer's words ("principal", "TAFE compliance officer").
    persona: str = ""

    @field_validator("id", "question")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value

    @field_validator("key_facts")
    @classmethod
    def _facts_not_blank(cls, facts: list[str]) -> list[str]:
        if any(not fact.strip() for fact in facts):
            raise ValueError("key facts must not be blank")
        return facts

    @model_validator(mode="after")
    def _answerable_matches_expected(self) -> GoldItem:
        if self.answerable and not self.expected:
            raise ValueError("answerable item lists no expected provisions")
        if not self.answerable and self.expected:
            raise ValueError("unanswerable item lists expected provisions; set answerable to true or empty 'expected'")
        if (self.kind == "unanswerable") == self.answerable:
            raise ValueError(f"kind '{self.kind}' contradicts answerable={str(self.answerable).lower()}")
        if self.answerable and self.unanswerable_kind is not None:
            raise ValueError("an answerable item has no unanswerable_kind")
        if (self.unanswerable_kind == "delegated") != (self.delegated_by is not None):
            raise ValueError("a delegated item names its delegating provision in delegated_by, and only a delegated item does")
        return self

    @property
    def expected_keys(self) -> list[str]:
        return [e.key for e in self.expected]

    @property
    def abstain_kinds(self) -> frozenset[str]:
        """The ``Answer.abstain_kind`` values right for an unanswerable item; empty when its kind is not recorded.

        Outside the sources is "out_of_jurisdiction" when the question names another
        state, the Commonwealth or interstate law (the assistant's own cue words,
        patterns.ELSEWHERE_CUE_RE and ELSEWHERE_LAW_RE), and "not_in_sources" otherwise.
        """
        if self.unanswerable_kind == "outside_sources":
            elsewhere = ELSEWHERE_CUE_RE.search(self.question) or ELSEWHERE_LAW_RE.search(self.question)
            return frozenset({"out_of_jurisdiction" if elsewhere else "not_in_sources"})
        kinds = {"delegated": "delegated", "advice_or_opinion": "advice_or_opinion", "near_topic": "not_in_sources"}
        return frozenset({kinds[self.unanswerable_kind]}) if self.unanswerable_kind in kinds else frozenset()

    @property
    def documents(self) -> str:
        """Which document(s) the answer lies in, for the per-document breakdown; 'none' when unanswerable."""
        return "+".join(sorted({e.document for e in self.expected})) or "none"


@dataclass(frozen=True)
class GoldSet:
    """The items of one gold file, with where each came from."""

    path: Path
    items: list[GoldItem]
    sha256: str
    lines: dict[str, int] = field(default_factory=dict)

    def where(self, item: GoldItem) -> str:
        return f"{self.path}:{self.lines.get(item.id, '?')}"


def _describe(error: ValidationError) -> str:
    parts = []
    for problem in error.errors():
        location = ".".join(str(p) for p in problem["loc"])
        parts.append(f"{location}: {problem['msg']}" if location else problem["msg"])
    return "; ".join(parts)


def _raise(path: Path, problems: list[str]) -> None:
    listed = problems[:_MAX_LISTED]
    more = f"\n  ... and {len(problems) - _MAX_LISTED} more" if len(problems) > _MAX_LISTED else ""
    raise GoldSetError(f"{path}: {len(problems)} problem(s) in the gold file:\n  " + "\n  ".join(listed) + more)


def load_gold(path: Path | str) -> GoldSet:
    """Read a gold JSONL file; every malformed line is reported, each with its file and line number."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise GoldSetError(f"{path}: gold file not found; pass an existing file with --gold") from exc
    except OSError as exc:
        raise GoldSetError(f"{path}: cannot read the gold file ({exc.strerror})") from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise GoldSetError(f"{path}: not UTF-8 text (byte {exc.start}); save the gold file as UTF-8 JSON lines") from exc

    items: list[GoldItem] = []
    lines: dict[str, int] = {}
    problems: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"{where}: not valid JSON ({exc.msg} at column {exc.colno})")
            continue
        if not isinstance(data, dict):
            problems.append(f"{where}: expected a JSON object, got {type(data).__name__}")
            continue
        try:
            item = GoldItem.model_validate(data)
        except ValidationError as exc:
            label = f" (item '{data['id']}')" if isinstance(data.get("id"), str) else ""
            problems.append(f"{where}{label}: {_describe(exc)}")
            continue
        if item.id in lines:
            problems.append(f"{where}: duplicate id '{item.id}' (first on line {lines[item.id]})")
            continue
        if item.follow_up_of is not None and item.follow_up_of not in lines:
            problems.append(f"{where}: follow_up_of '{item.follow_up_of}' is not an earlier item of this file")
            continue
        lines[item.id] = number
        items.append(item)
    if problems:
        _raise(path, problems)
    if not items:
        raise GoldSetError(f"{path}: no gold items; write one JSON object per line (see eval/gold.jsonl)")
    return GoldSet(path=path, items=items, sha256=hashlib.sha256(raw).hexdigest(), lines=lines)


def question_words(question: str) -> frozenset[str]:
    """The question's distinctive words, for telling near copies apart."""
    return frozenset(WORD_RE.findall(question.lower())) - FILLER_WORDS


def is_near_copy(words: frozenset[str], other: frozenset[str], threshold: float = NEAR_COPY_JACCARD) -> bool:
    """Whether two questions' distinctive words overlap (Jaccard) by at least ``threshold``."""
    return len(words & other) / max(1, len(words | other)) >= threshold


def _collapse(text: str) -> str:
    return _WHITESPACE_RE.sub(" ", text).strip()


def check_item(item: GoldItem, corpus: Corpus) -> list[str]:
    """What is wrong with one item given the corpus: missing provisions, misquoted evidence, absent key facts."""
    problems: list[str] = []
    provisions = []
    for expected in item.expected:
        provision = corpus.find(expected.document, expected.provision_id)
        if provision is None:
            problems.append(f"expected provision '{expected.key}' is not in the corpus")
        elif provision.repealed:
            problems.append(f"expected provision '{expected.key}' is repealed")
        else:
            provisions.append(provision)
    if item.delegated_by is not None:
        delegating = corpus.find(item.delegated_by.document, item.delegated_by.provision_id)
        if delegating is None:
            problems.append(f"delegating provision '{item.delegated_by.key}' is not in the corpus")
        elif item.evidence.strip() and _collapse(item.evidence) not in _collapse(delegating.text):
            problems.append(f"evidence is not verbatim in the delegating provision '{item.delegated_by.key}': {item.evidence[:80]!r}")
    if not item.answerable or len(provisions) != len(item.expected):
        return problems
    if not item.evidence.strip():
        problems.append("answerable item has no evidence")
    elif _collapse(item.evidence) not in _collapse(provisions[0].text):
        problems.append(f"evidence is not verbatim in the law text of '{item.expected[0].key}': {item.evidence[:80]!r}")
    texts = [normalise_text(p.text) for p in provisions]
    for fact in item.key_facts:
        if not any(normalise_text(fact) in text for text in texts):
            problems.append(f"key fact {fact!r} is in none of the expected provisions")
    return problems


def check_against_corpus(gold: GoldSet, corpus: Corpus) -> list[str]:
    """Every corpus problem in the file, each as 'FILE:LINE (item 'ID'): problem'."""
    return [f"{gold.where(item)} (item '{item.id}'): {problem}" for item in gold.items for problem in check_item(item, corpus)]


def chapters_covered(items: Iterable[GoldItem], corpus: Corpus, document_id: str = "etra-2006") -> tuple[set[str], set[str]]:
    """(covered, all) top-level groups of a document: Chapters of the Act and 'Schedules', or the policy's functions."""
    document = corpus.document(document_id)
    top = {p.provision_id: (p.path[0] if p.path and document.info.format == "legislation-json" else p.provision_id) for p in document.provisions}
    covered = {top[e.provision_id] for item in items for e in item.expected if e.document == document_id and e.provision_id in top}
    return covered, set(top.values())
