"""The records of an evaluation run: configurations compared, one result per gold item, whole runs.

Shared by the runner (``assistant.evaluation.run``), the report
(``assistant.evaluation.report``) and the answer comparison
(``assistant.evaluation.compare``), so none of them imports another for types.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import Field

from assistant.records import Record


@dataclass(frozen=True)
class Config:
    """One column of the side-by-side comparison: a retrieval mode and an answer mode."""

    retrieval: str
    answer: str

    @property
    def name(self) -> str:
        return f"{self.retrieval}/{self.answer}"


class RankedProvision(Record):
    rank: int
    key: str
    label: str
    score: float


class CitedProvision(Record):
    key: str
    pinpoint: str
    label: str


class ItemResult(Record):
    """One line of results.jsonl: the gold item, what the assistant did, and the item's scores."""

    id: str
    question: str
    kind: str
    difficulty: str
    documents: str
    style: str = "unspecified"
    turn: str = Field(default="first", description="'follow-up' for a question asked after the item it follows, with that exchange as history.")
    unanswerable_kind: str | None = None
    answerable: bool
    expected: list[str]
    key_facts: list[str]
    retrieved: list[RankedProvision]
    answer: str
    short_answer: str | None = None
    short_answer_by: str | None = None
    citations: list[CitedProvision]
    abstained: bool
    abstain_kind: str | None = None
    abstain_reason: str | None = None
    abstain_detail: str | None = None
    error: str | None = None
    latency_ms: float
    timings_ms: dict[str, float] = {}
    scores: dict[str, float | int | bool | None]


@dataclass
class ConfigRun:
    config: Config
    results: list[ItemResult]
    summary: dict[str, Any]
    wall_s: float


@dataclass
class EvalRun:
    """A finished evaluation: the default configuration first, then any others compared with it."""

    runs: list[ConfigRun]
    provenance: dict[str, Any]
    gold_problems: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    # Shown beside the figures in the report; the CLI fills them from --gate or eval/thresholds.json.
    thresholds: dict[str, dict[str, float]] | None = None

    @property
    def headline(self) -> ConfigRun:
        return self.runs[0]
