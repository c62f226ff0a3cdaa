"""First stage: question → ranked provisions, from BM25 and dense passages fused per provision; then the second stage.

Passage scores are aggregated to provisions (each provision scored by its best
passage) before fusing, so one long provision's many passages cannot crowd the
others out. BM25 reads the question with initialisms spelt out and the Act's
words for everyday ones (``assistant.retrieve.expansion``). A provision the
question names ("s 2.1.1", "cl 3 of Sch 2", "function 4 of the VET clusters
policy") is put first. In mode 'full' the second stage
(``assistant.retrieve.second_stage``) reorders the fused shortlist. What each
choice measured: docs/experiments.md (first stage).

Usage::

    retriever = Retriever(corpus, index, embedder, settings)
    hits = retriever.retrieve("Can the Institute refuse to register a teacher?", k=5)
    hits[0].label, hits[0].scores  # 's 2.6.9', {'dense': 0.61, 'bm25': 17.2, 'fused': 0.032, ...}
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from assistant.bm25_text import bm25_tokens
from assistant.corpus import Corpus
from assistant.embed import Embedder
from assistant.errors import InvalidQuestionError
from assistant.index import Index
from assistant.labels import provision_label
from assistant.patterns import VET_MENTION_RE, provision_references
from assistant.question import clean_question
from assistant.records import Hit, Provision
from assistant.retrieve.candidates import Candidate, PassageTable
from assistant.retrieve.expansion import (
    expand_abbreviations,
    load_staff_vocabulary,
    mine_abbreviations,
    staff_terms,
)
from assistant.retrieve.fusion import ranking, reciprocal_rank_fusion, weighted_fusion
from assistant.retrieve.question_memory import QuestionMemory
from assistant.retrieve.second_stage import Reranker
from assistant.settings import Settings

MODES = ("bm25", "dense", "hybrid", "full")
POLICY_DOCUMENT = "vet-clusters"


# --- named provisions ---------------------------------------------------------------------------


def named_provisions(question: str) -> list[tuple[str | None, str]]:
    """(document_id, provision_id) for each provision the question names, in the order it names them.

    Sections and schedules name no document (None: any Act that has one by that
    number); functions belong to the VET clusters policy and count only when the
    question mentions VET or clusters. Only the shape is checked here; the
    retriever keeps those that exist.
    """
    vet = bool(VET_MENTION_RE.search(question))
    out: list[tuple[str | None, str]] = []
    for ref in provision_references(question):
        if ref.kind == "function" and not vet:
            continue
        named = (POLICY_DOCUMENT if ref.kind == "function" else None, ref.provision_id)
        if named not in out:
            out.append(named)
    return out


# --- the retriever ------------------------------------------------------------------------------


class Retriever:
    """Hybrid BM25 + dense retrieval over one loaded index, aggregated to provisions."""

    def __init__(self, corpus: Corpus, index: Index, embedder: Embedder, settings: Settings):
        if settings.fusion not in ("rrf", "weighted"):
            raise ValueError(f"unknown fusion '{settings.fusion}'; choose one of ['rrf', 'weighted']")
        self.corpus = corpus
        self.index = index
        self.embedder = embedder
        self.settings = settings
        self.table = PassageTable(index)
        self.abbreviations = mine_abbreviations(corpus.provisions)
        self.vocabulary = load_staff_vocabulary() if settings.thesaurus_weight > 0 else ()
        self._reranker: Reranker | None = None

    @property
    def reranker(self) -> Reranker:
        """The second stage, built on first use (it indexes every definition; bm25/dense-only users skip that)."""
        if self._reranker is None:
            memory = QuestionMemory(self.index, set(self.table.row_uid), self.settings.question_memory_neighbours, self.settings.question_memory_floor)
            self._reranker = Reranker(self.corpus, self.table, self.settings, memory)
        return self._reranker

    # --- checks ---------------------------------------------------------------------------
    def _check(self, query: str, mode: str, document: str | None, k: int) -> str:
        query = clean_question(query, self.settings.max_question_chars)
        if mode not in MODES:
            raise InvalidQuestionError(f"unknown retrieval mode '{mode}'; choose one of {list(MODES)}")
        if document is not None:
            self.corpus.document(document)
        if k < 1:
            raise InvalidQuestionError(f"k must be at least 1, got {k}")
        return query

    # --- first-stage signals --------------------------------------------------------------
    def _mask(self, document: str | None) -> np.ndarray | None:
        return None if document is None else self.table.row_document == document

    def dense_scores(self, query_vector: np.ndarray, document: str | None) -> dict[int, float]:
        """Cosine similarity of the best passages to the question, by row."""
        n = len(self.table)
        fetch = min(n, self.settings.candidate_passages * (1 if document is None else 10))
        scores, rows = self.index.faiss.search(query_vector.reshape(1, -1), fetch)
        mask = self._mask(document)
        return {int(r): float(s) for s, r in zip(scores[0], rows[0], strict=True) if r >= 0 and (mask is None or mask[r])}

    def bm25_scores(self, query: str, document: str | None, expansion: Sequence[str] = ()) -> dict[int, float]:
        """BM25 (bm25s defaults: k1 = 1.5, b = 0.75) of the best passages, by row; empty when no term matches.

        ``expansion`` (the Act's words for the question's everyday words) adds its own BM25
        score times ``settings.thesaurus_weight``, leaving out words the question has.
        """
        vocab = self.index.bm25.vocab_dict
        tokens = [t for t in bm25_tokens(query) if t in vocab]
        extra = list(dict.fromkeys(t for t in bm25_tokens(" ".join(expansion)) if t in vocab and t not in tokens))
        if not tokens and not extra:
            return {}
        scores = self.index.bm25.get_scores(tokens) if tokens else np.zeros(len(self.table), dtype=np.float32)
        if extra:
            scores = scores + self.settings.thesaurus_weight * self.index.bm25.get_scores(extra)
        mask = self._mask(document)
        if mask is not None:
            scores = np.where(mask, scores, 0.0)
        fetch = min(len(scores), self.settings.candidate_passages)
        rows = np.argpartition(-scores, fetch - 1)[:fetch]
        return {int(r): float(scores[r]) for r in rows if scores[r] > 0}

    def _by_provision(self, row_scores: dict[int, float]) -> tuple[dict[str, float], dict[str, int]]:
        """Each provision's score is its best passage's; returns (scores, best row) by provision uid."""
        best: dict[str, float] = {}
        best_row: dict[str, int] = {}
        for row, score in row_scores.items():
            uid = self.table.row_uid[row]
            if uid not in best or score > best[uid]:
                best[uid], best_row[uid] = score, row
        return best, best_row

    def first_stage(self, query: str, mode: str, document: str | None, query_vector: np.ndarray | None = None) -> list[Candidate]:
        """Candidates ranked by the first stage, each with its per-signal scores."""
        signals: dict[str, tuple[dict[str, float], dict[str, int]]] = {}
        if mode != "bm25":
            if query_vector is None:
                query_vector = self.embedder.encode([query])[0]
            signals["dense"] = self._by_provision(self.dense_scores(query_vector, document))
        if mode != "dense":
            # Spelt-out initialisms help word matching; measured, they hurt the dense signal, so only BM25 gets them.
            lexical = expand_abbreviations(query, self.abbreviations)
            expansion = staff_terms(query, self.vocabulary)
            signals["bm25"] = self._by_provision(self.bm25_scores(lexical, document, expansion))
        if len(signals) == 1:
            (name, (scores, rows)), = signals.items()
            return [Candidate(uid, {name: scores[uid]}, rows[uid]) for uid in ranking(scores)]
        dense, bm25 = signals["dense"], signals["bm25"]
        weights = [self.settings.dense_weight, self.settings.bm25_weight]
        if self.settings.fusion == "rrf":
            fused = reciprocal_rank_fusion([ranking(dense[0]), ranking(bm25[0])], k=self.settings.rrf_k, weights=weights)
        else:
            fused = weighted_fusion([dense[0], bm25[0]], weights)
        out = []
        for uid in ranking(fused):
            scores = {"fused": fused[uid]}
            for name, (values, _) in signals.items():
                if uid in values:
                    scores[name] = values[uid]
            # The best passage is the dense one when dense found the provision: it matches meaning, not just words.
            row = dense[1].get(uid, bm25[1].get(uid))
            out.append(Candidate(uid, scores, row))
        return out

    # --- public ---------------------------------------------------------------------------
    def lookup_named(self, query: str, document: str | None = None) -> list[Provision]:
        """The existing, unrepealed provisions the question names, in the order it names them."""
        out: list[Provision] = []
        for doc, pid in named_provisions(query):
            documents = [doc] if doc is not None else [d.info.id for d in self.corpus.documents if d.info.format == "legislation-json"]
            for document_id in documents:
                if document is not None and document_id != document:
                    continue
                provision = self.corpus.find(document_id, pid)
                if provision is not None and not provision.repealed and provision.uid in self.table and provision not in out:
                    out.append(provision)
        return out

    def retrieve(self, query: str, k: int | None = None, document: str | None = None, mode: str | None = None) -> list[Hit]:
        """The k best provisions for the question, named provisions first."""
        mode = mode or self.settings.retrieval_mode
        k = k if k is not None else self.settings.top_k
        query = self._check(query, mode, document, k)
        named = self.lookup_named(query, document)
        query_vector = self.embedder.encode([query])[0] if mode != "bm25" else None
        candidates = self.first_stage(query, mode, document, query_vector)
        if mode == "full" and candidates:
            candidates = self.reranker.rerank(query, query_vector, candidates, document)
        if named:
            by_uid = {c.uid: c for c in candidates}
            lifted = []
            for provision in named:
                found = by_uid.pop(provision.uid, None)
                row = found.best_row if found else self.table.best_row_for(provision.uid, query_vector)
                scores = dict(found.scores) if found else {}
                scores["lookup"] = 1.0
                lifted.append(Candidate(provision.uid, scores, row))
            candidates = lifted + [c for c in candidates if c.uid in by_uid]
        return [self._hit(c, rank) for rank, c in enumerate(candidates[:k], start=1)]

    def _hit(self, candidate: Candidate, rank: int) -> Hit:
        passage = self.table.passages[candidate.best_row]
        provision = self.corpus.get(passage.document_id, passage.provision_id)
        main = next((candidate.scores[s] for s in ("rerank", "fused", "dense", "bm25") if s in candidate.scores), 0.0)
        return Hit(
            document_id=provision.document_id,
            provision_id=provision.provision_id,
            label=provision_label(provision),
            heading=provision.heading,
            path=list(provision.path),
            score=float(main),
            rank=rank,
            scores={name: round(float(value), 6) for name, value in candidate.scores.items()},
            best_passage_id=passage.passage_id,
            best_passage_text=passage.text,
        )
