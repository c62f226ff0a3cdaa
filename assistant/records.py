"""The typed records passed between pipeline stages.

Every stage takes and returns these frozen pydantic models, so a newcomer can
read the pipeline as data: ``Provision`` (parse) → ``Passage`` (chunk) →
``Hit`` (retrieve) → ``Answer`` with ``Citation`` records (answer).
Ids come from the law (``etra-2006/2.6.9``), so they survive a rebuild.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Record(BaseModel):
    """Base for all records: immutable, and strict about unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


UnitKind = Literal["subsection", "definition", "paragraph", "subparagraph", "subsubparagraph", "item"]
ProvisionKind = Literal["section", "schedule", "schedule_clause", "function"]
# Why the sources do not answer a question (``Answer.abstain_kind``), and how the UI and the CLI name each kind to staff.
AbstainKind = Literal["not_in_sources", "delegated", "advice_or_opinion", "out_of_jurisdiction"]
ABSTAIN_KIND_LABELS: dict[str, str] = {
    "not_in_sources": "not in the sources",
    "delegated": "left to the regulations or an Order",
    "advice_or_opinion": "needs legal advice",
    "out_of_jurisdiction": "another state's or the Commonwealth's law",
}


class Unit(Record):
    """A labelled piece inside a provision: subsection, paragraph, definition or bullet.

    ``start``/``end`` are character offsets into ``Provision.text`` so a citation
    can highlight exactly the words it rests on.
    """

    label: str = Field(description="The label as printed: '(1A)', '(a)', '(ii)', a defined term, or a bullet number.")
    kind: UnitKind
    pinpoint: str = Field(description="Full pinpoint from the provision down: '(1A)(a)', '(1) \"accredited\"', '2.1'.")
    start: int
    end: int
    term: str | None = Field(default=None, description="The defined term, for definition units.")


class CrossRef(Record):
    """A reference in the law text to another provision ('section 2.6.8', 'Schedule 2')."""

    text: str
    start: int
    end: int
    target: str | None = Field(default=None, description="Provision id it points at in the same document, when resolvable.")


class Provision(Record):
    """One citable provision: a section, a schedule (clause), or a policy function."""

    document_id: str
    provision_id: str = Field(description="As the law numbers it: '2.1.1', 'Sch 2 cl 1', 'Sch 1', or '4' for a VET cluster function.")
    number: str = Field(description="The bare number: '2.1.1', '1' for 'Sch 2 cl 1', '4' for a function.")
    kind: ProvisionKind
    heading: str
    path: list[str] = Field(default_factory=list, description="Hierarchy: Chapter › Part › Division › Subdivision, or Schedule.")
    text: str = Field(description="The law text only: history notes removed, markup stripped; notes, examples and penalties kept.")
    units: list[Unit] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list, description="Amendment history notes, kept apart from the law text.")
    cross_refs: list[CrossRef] = Field(default_factory=list)
    repealed: bool = False
    order: int = Field(description="Position in the document, for browsing in order.")

    @property
    def uid(self) -> str:
        return f"{self.document_id}/{self.provision_id}"

    def unit(self, pinpoint: str) -> Unit | None:
        return next((u for u in self.units if u.pinpoint == pinpoint), None)

    def definition(self, term: str) -> Unit | None:
        wanted = term.strip().lower()
        return next((u for u in self.units if u.term and u.term.lower() == wanted), None)

    def unit_text(self, unit: Unit) -> str:
        return self.text[unit.start : unit.end].strip()


class Passage(Record):
    """A retrievable piece of one provision; never crosses provisions."""

    passage_id: str = Field(description="'<document>/<provision>#<n>', stable across rebuilds.")
    document_id: str
    provision_id: str
    pinpoint_first: str = Field(default="", description="First unit covered, e.g. '(1A)'; empty when the passage starts the provision.")
    pinpoint_last: str = Field(default="", description="Last unit covered, e.g. '(2)'.")
    heading: str
    path: list[str]
    text: str = Field(description="The law text of the passage.")
    start: int = Field(description="Offset of the passage's own text in the provision's text.")
    end: int
    embed_text: str = Field(description="What is embedded and BM25-indexed: a short header plus the text.")
    term: str | None = None


class Hit(Record):
    """A retrieved provision with the evidence for its rank."""

    document_id: str
    provision_id: str
    label: str
    heading: str
    path: list[str]
    score: float
    rank: int
    scores: dict[str, float] = Field(default_factory=dict, description="Per-signal scores: dense, bm25, fused, definition, part, cue, cross_encoder, memory (the question memory's vote), rerank, lookup.")
    best_passage_id: str
    best_passage_text: str


class Citation(Record):
    """A checked pinpoint citation: the quote occurs verbatim in the cited provision's law text."""

    document_id: str
    provision_id: str
    pinpoint: str = ""
    label: str = Field(description="As staff write it: 's 2.6.9(1A)(a)', 'Sch 2 cl 2(3)', 'VET clusters, function 4'.")
    heading: str
    path: list[str]
    quote: str
    quote_start: int = Field(description="Offset of the quote in the provision's law text.")
    document_title: str
    version: str
    as_at: str
    note: str | None = Field(
        default=None,
        description="What staff should know that the law's words cannot say: the words introducing the quote's list are missing from the source copy.",
    )


class RetrievedProvision(Record):
    document_id: str
    provision_id: str
    label: str
    heading: str
    score: float
    scores: dict[str, float] = Field(default_factory=dict)


class Answer(Record):
    """What every surface shows: the CLI, the UI, the HTTP API and the evaluation."""

    question: str
    text: str = Field(description="The answer with inline citation markers [1], [2] matching `citations`.")
    citations: list[Citation] = Field(default_factory=list)
    abstained: bool = Field(
        default=False,
        description="True when the sources do not answer the question. `text` then says so and names the closest provisions, "
        "or, for a matter the Act leaves to another instrument, says which and cites the words that do it.",
    )
    abstain_kind: AbstainKind | None = Field(
        default=None,
        description="Why the sources do not answer (null when answered): 'not_in_sources' (neither the Act nor the VET clusters page covers it); "
        "'delegated' (the Act leaves it to the regulations, a Ministerial Order, guidelines or another instrument, and `citations` quote the words that do); "
        "'advice_or_opinion' (it asks for advice or a view on a case, which needs legal advice); "
        "'out_of_jurisdiction' (it is about another state's or the Commonwealth's law).",
    )
    abstain_reason: str | None = Field(default=None, description="Why, in one plain sentence for staff without figures, e.g. 'Neither the Act nor the VET clusters policy page says this.'")
    abstain_detail: str | None = Field(default=None, description="The technical detail behind an abstention, for administrators: the decision's probability and threshold, its strongest signal, the cue or delegating words found.")
    short_answer: str | None = Field(
        default=None,
        description="One or two plain sentences that answer the question, each ending with [n] markers into `citations`; "
        "null when abstaining or when not asked for. Every number, month and party in it occurs in the quotes it cites.",
    )
    short_answer_by: Literal["model", "extractive"] | None = Field(
        default=None, description="Who wrote `short_answer`: 'model' (the local generative model, every claim checked) or 'extractive' (a clause of a cited quote)."
    )
    short_answer_model: str | None = Field(default=None, description="The model that wrote `short_answer`, when a model did.")
    short_answer_model_sha256: str | None = Field(default=None, description="The sha256 of that model's weights file.")
    short_answer_removed: int = Field(default=0, description="Model sentences the claim checks removed before `short_answer` was shown.")
    short_answer_note: str | None = Field(default=None, description="Why the short answer is extractive when a model was configured.")
    retrieved: list[RetrievedProvision] = Field(default_factory=list)
    mode: Literal["extractive", "generative"] = "extractive"
    model_id: str = ""
    fallback: str | None = Field(default=None, description="Why the generative answer was replaced by the extractive one, when it was.")
    rewritten_question: str | None = Field(
        default=None, description="For a follow-up, the standalone text that was searched: the previous question joined to this one (the UI says which question it was read with)."
    )
    removed_sentences: int = Field(default=0, description="Generated sentences dropped for lacking a valid citation.")
    timings_ms: dict[str, float] = Field(default_factory=dict)
    answer_id: str | None = Field(
        default=None,
        description="Set by the HTTP API on every answer it returns; send it back with feedback (POST /api/v1/feedback) so the feedback is bound to the answer that was served.",
    )


class TrainingQuestion(Record):
    """A staff-style question written for training the reranker, with the provision that answers it.

    Written from the law text (assistant/data/reranker_questions.jsonl), never from
    evaluation questions: tests/test_reranker.py checks none is a near copy of one.
    """

    question: str
    document: str
    provision: str
    style: Literal["everyday", "scenario", "direct", "definition", "neighbour"] = "direct"
    also_answering: list[str] = Field(default_factory=list, description="Other provisions (document/provision) that answer it too: never used as its negatives.")


class RerankerGroup(Record):
    """One training example for the cross-encoder: a question, the passage that answers it, and hard negatives.

    Negatives are the first stage's own best passages of other provisions for the
    question: the look-alikes the second stage exists to tell apart.
    """

    query: str
    positive: str = Field(description="Passage id of the answering passage.")
    positive_text: str | None = Field(default=None, description="Text to use instead of the passage's own (a sentence removed for inverse-cloze queries).")
    negatives: list[str] = Field(description="Passage ids of other provisions' passages, the first stage's best first.")
    source: Literal["written", "bank", "heading", "definition", "sentence"]
    first_rank: int = Field(description="The answering provision's rank in the first stage (99 when outside the top 16).")
