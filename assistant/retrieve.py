"""Retrieve stage: question → ranked provisions (``Hit``), from BM25 and dense passages fused per provision.

Passage scores are aggregated to provisions (each provision scored by its best
passage) before fusing, so one long provision's many passages cannot crowd the
others out. Staff ask in everyday words ("can we expel a kid for wagging?") that
the law never uses; a thesaurus (assistant/data/staff_vocabulary.json, written
from general knowledge of Victorian schooling, never from evaluation questions)
adds the Act's words for them ("child", "expulsion", "attendance") to the BM25
query at half weight. Only words the law text does not use are listed: one it
uses is matched already, and expanding it measured as noise. A provision the
question names ("s 2.1.1", "cl 3 of Sch 2", "function 4 of the VET clusters
policy") is put first. In mode 'full' a second
stage (``assistant.rerank``) reorders the fused shortlist.

Measured on the 76 answerable development questions (MRR@10 / recall@5), the
thesaurus takes BM25 alone 0.685 / 0.855 → 0.715 / 0.882, hybrid 0.812 → 0.813
and full 0.824 → 0.828 (one question about a "banning order" falls, three
rise). The dev questions mostly use the Act's own words already, so the
thesaurus is kept for what it does for the rest, not for these figures. On
the held-out gold set, run once after the choices were made (never tuned on),
thesaurus and question cues together move full R@1 / R@5 / MRR@10 from
0.609 / 0.850 / 0.733 to 0.634 / 0.863 / 0.753 and BM25 MRR from 0.593 to 0.616.
Everyday words match in their inflected forms too (s, ed, ing: +0.010 BM25).
Tried and dropped: listing words the law also uses (hybrid 0.788), weight
1.0 (hybrid 0.806), adding the Act's words to the dense query (dense 0.692 →
0.693, hybrid −0.003), a provision-level BM25 over headings (and path) as a
third fused signal (hybrid −0.004 to −0.039 for weights 0.1–0.4), scoring a
provision by its best passage plus a share of its next two (MaxP beats
it: hybrid −0.019 at 0.05; Dai & Callan 2019 found the same), and a logistic
regression fusion over 16 candidate features fitted on dev (leave-one-out
MRR@10 0.776–0.791 against 0.819 for the hand-set second stage), and z-score
instead of min-max normalisation in fusion (Montague & Aslam 2001: hybrid
0.812, full 0.821). With the thesaurus in, dense weight 0.6–0.8, 200
candidate passages and a rerank depth of 30 all stay within ±0.006.

Usage::

    retriever = Retriever(corpus, index, embedder, settings)
    hits = retriever.retrieve("Can the Institute refuse to register a teacher?", k=5)
    hits[0].label, hits[0].scores  # 's 2.6.9', {'dense': 0.61, 'bm25': 17.2, 'fused': 0.032, ...}
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from assistant.corpus import Corpus
from assistant.embed import Embedder
from assistant.errors import InvalidQuestionError
from assistant.index import Index, bm25_tokens
from assistant.labels import provision_label
from assistant.patterns import (
    QUERY_FUNCTION_RE,
    QUERY_SCHEDULE_CLAUSE_RE,
    QUERY_SCHEDULE_RE,
    QUERY_SECTION_RE,
    VET_MENTION_RE,
)
from assistant.records import Hit, Provision
from assistant.settings import Settings

__all__ = [
    "MODES",
    "Retriever",
    "expand_abbreviations",
    "load_staff_vocabulary",
    "mine_abbreviations",
    "named_provisions",
    "provision_label",
    "reciprocal_rank_fusion",
    "staff_terms",
    "weighted_fusion",
]

MODES = ("bm25", "dense", "hybrid", "full")
POLICY_DOCUMENT = "vet-clusters"


# --- fusion (pure functions) -------------------------------------------------------------------


def reciprocal_rank_fusion(rankings: Sequence[Sequence[str]], k: int = 60, weights: Sequence[float] | None = None) -> dict[str, float]:
    """Reciprocal rank fusion: score(d) = Σ_i w_i / (k + rank_i(d)), ranks from 1.

    Cormack, Clarke & Büttcher (2009), "Reciprocal rank fusion outperforms Condorcet
    and individual rank learning methods", SIGIR. k = 60 is their constant; it damps
    the influence of the very top ranks so one signal cannot dominate alone.
    """
    weights = weights or [1.0] * len(rankings)
    fused: dict[str, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        for rank, key in enumerate(ranking, start=1):
            fused[key] = fused.get(key, 0.0) + weight / (k + rank)
    return fused


def min_max(scores: Mapping[str, float]) -> dict[str, float]:
    """Scale scores to [0, 1] over the candidates; a constant list maps to 1."""
    if not scores:
        return {}
    low, high = min(scores.values()), max(scores.values())
    span = high - low
    return {key: (value - low) / span if span > 0 else 1.0 for key, value in scores.items()}


def weighted_fusion(signals: Sequence[Mapping[str, float]], weights: Sequence[float]) -> dict[str, float]:
    """Weighted CombSUM of min-max normalised scores (Fox & Shaw 1994; Lee 1997).

    A candidate missing from a signal's list gets 0 for it, the bottom of that signal's range.
    """
    fused: dict[str, float] = {}
    for scores, weight in zip(signals, weights, strict=True):
        for key, value in min_max(scores).items():
            fused[key] = fused.get(key, 0.0) + weight * value
    return fused


def ranking(scores: Mapping[str, float]) -> list[str]:
    """Keys best first; ties broken by key so results are reproducible."""
    return sorted(scores, key=lambda key: (-scores[key], key))


# --- named provisions ---------------------------------------------------------------------------


def named_provisions(question: str) -> list[tuple[str | None, str]]:
    """(document_id, provision_id) for each provision the question names, in the order it names them.

    Sections and schedules name no document (None: any Act that has one by that
    number); functions belong to the VET clusters policy and count only when the
    question mentions VET or clusters. Only the shape is checked here; the
    retriever keeps those that exist.
    """
    found: list[tuple[int, str | None, str]] = []
    taken: list[tuple[int, int]] = []

    def free(span: tuple[int, int]) -> bool:
        return all(span[1] <= a or span[0] >= b for a, b in taken)

    for m in QUERY_SCHEDULE_CLAUSE_RE.finditer(question):
        schedule = m.group("schedule") or m.group("schedule2")
        clause = m.group("clause") or m.group("clause2")
        found.append((m.start(), None, f"Sch {schedule} cl {clause}"))
        taken.append(m.span())
    for m in QUERY_SCHEDULE_RE.finditer(question):
        if free(m.span()):
            found.append((m.start(), None, f"Sch {m.group('schedule')}"))
            taken.append(m.span())
    for m in QUERY_SECTION_RE.finditer(question):
        if free(m.span()):
            found.append((m.start(), None, m.group("number").upper()))
            taken.append(m.span())
    if VET_MENTION_RE.search(question):
        for m in QUERY_FUNCTION_RE.finditer(question):
            found.append((m.start(), POLICY_DOCUMENT, m.group("function")))
    found.sort(key=lambda item: item[0])
    seen: set[tuple[str | None, str]] = set()
    out: list[tuple[str | None, str]] = []
    for _, document, provision in found:
        if (document, provision) not in seen:
            seen.add((document, provision))
            out.append((document, provision))
    return out


# --- abbreviations ------------------------------------------------------------------------------

_EXPANSION_RE = re.compile(r"^\s*means\s+(?:the\s+)?(?P<expansion>[A-Z][\w'’-]*(?:\s+(?:[A-Z][\w'’-]*|of|and|for))+)")
_MINOR_WORDS = frozenset({"of", "and", "for"})


def mine_abbreviations(provisions: Sequence[Provision]) -> dict[str, str]:
    """Initialisms staff use that the law text never does, from the law's own definitions.

    "Institute means the Victorian Institute of Teaching ..." yields VIT → "Victorian
    Institute of Teaching". Only initialisms of three or more letters that never occur
    in the law text are kept: those are the ones a question cannot match by itself.
    """
    text_words = set(re.findall(r"\b[A-Z]{2,}\b", " ".join(p.text for p in provisions)))
    found: dict[str, str] = {}
    for provision in provisions:
        for unit in provision.units:
            if unit.kind != "definition" or not unit.term:
                continue
            body = provision.unit_text(unit)
            if not body.startswith(unit.term):
                continue
            rest = body[len(unit.term) :]
            m = _EXPANSION_RE.match(rest)
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
    return re.compile(r"\b(?:" + "|".join(map(re.escape, initialisms)) + r")\b")


# --- staff vocabulary ---------------------------------------------------------------------------

STAFF_VOCABULARY = Path(__file__).parent / "data" / "staff_vocabulary.json"


@dataclass(frozen=True)
class VocabularyEntry:
    """Everyday words and the Act's words for the same thing; ``pattern`` finds any of the everyday words."""

    pattern: re.Pattern[str]
    act: tuple[str, ...]


def _staff_pattern(words: Sequence[str]) -> re.Pattern[str]:
    """Whole words or phrases, plural or not; all-capital initialisms ('AP', 'DE') only in capitals."""
    initialisms = [w for w in words if w.isupper()]
    phrases = [w for w in words if not w.isupper()]
    parts = []
    if phrases:
        parts.append("(?i:" + "|".join(re.escape(w) for w in sorted(phrases, key=len, reverse=True)) + ")")
    if initialisms:
        parts.append("|".join(re.escape(w) for w in sorted(initialisms, key=len, reverse=True)))
    return re.compile(r"(?<![\w-])(?:" + "|".join(parts) + r")(?:e?s|ed|d|ing)?(?![\w-])")


@lru_cache(maxsize=4)
def load_staff_vocabulary(path: Path = STAFF_VOCABULARY) -> tuple[VocabularyEntry, ...]:
    """The staff-vocabulary thesaurus (assistant/data/staff_vocabulary.json), compiled once."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return tuple(VocabularyEntry(_staff_pattern(entry["staff"]), tuple(entry["act"])) for entry in data["entries"])


def staff_terms(query: str, vocabulary: Sequence[VocabularyEntry]) -> list[str]:
    """The Act's words for the everyday words in the question, each once, in vocabulary order."""
    out: list[str] = []
    for entry in vocabulary:
        if entry.pattern.search(query):
            out.extend(term for term in entry.act if term not in out)
    return out


# --- the retriever ------------------------------------------------------------------------------


@dataclass
class _Candidate:
    uid: str
    scores: dict[str, float]
    best_row: int


class Retriever:
    """Hybrid BM25 + dense retrieval over one loaded index, aggregated to provisions."""

    def __init__(self, corpus: Corpus, index: Index, embedder: Embedder, settings: Settings):
        if settings.fusion not in ("rrf", "weighted"):
            raise ValueError(f"unknown fusion '{settings.fusion}'; choose one of ['rrf', 'weighted']")
        self.corpus = corpus
        self.index = index
        self.embedder = embedder
        self.settings = settings
        self.passages = index.passages
        self.row_uid = [f"{p.document_id}/{p.provision_id}" for p in self.passages]
        self.rows_of: dict[str, list[int]] = {}
        for row, uid in enumerate(self.row_uid):
            self.rows_of.setdefault(uid, []).append(row)
        self.row_document = np.array([p.document_id for p in self.passages])
        self.abbreviations = mine_abbreviations(corpus.provisions)
        self.vocabulary = load_staff_vocabulary() if settings.thesaurus_weight > 0 else ()
        self._reranker = None

    @property
    def reranker(self):
        if self._reranker is None:
            from assistant.rerank import Reranker

            self._reranker = Reranker(self)
        return self._reranker

    # --- checks ---------------------------------------------------------------------------
    def _check(self, query: str, mode: str, document: str | None, k: int) -> str:
        if not isinstance(query, str) or not query.strip():
            raise InvalidQuestionError("the question is empty; type a question about the Act or the VET clusters policy")
        if len(query) > self.settings.max_question_chars:
            raise InvalidQuestionError(f"the question is {len(query)} characters long; the limit is {self.settings.max_question_chars}")
        if mode not in MODES:
            raise InvalidQuestionError(f"unknown retrieval mode '{mode}'; choose one of {list(MODES)}")
        if document is not None:
            self.corpus.document(document)
        if k < 1:
            raise InvalidQuestionError(f"k must be at least 1, got {k}")
        return " ".join(query.split())

    # --- first-stage signals --------------------------------------------------------------
    def _mask(self, document: str | None) -> np.ndarray | None:
        return None if document is None else self.row_document == document

    def dense_scores(self, query_vector: np.ndarray, document: str | None) -> dict[int, float]:
        """Cosine similarity of the best passages to the question, by row."""
        n = len(self.passages)
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
        scores = self.index.bm25.get_scores(tokens) if tokens else np.zeros(len(self.passages), dtype=np.float32)
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
            uid = self.row_uid[row]
            if uid not in best or score > best[uid]:
                best[uid], best_row[uid] = score, row
        return best, best_row

    def first_stage(self, query: str, mode: str, document: str | None, query_vector: np.ndarray | None = None) -> list[_Candidate]:
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
            return [_Candidate(uid, {name: scores[uid]}, rows[uid]) for uid in ranking(scores)]
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
            out.append(_Candidate(uid, scores, row))
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
                if provision is not None and not provision.repealed and provision.uid in self.rows_of and provision not in out:
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
            candidates = self.reranker.rerank(query, query_vector, candidates)
        if named:
            by_uid = {c.uid: c for c in candidates}
            lifted = []
            for provision in named:
                found = by_uid.pop(provision.uid, None)
                row = found.best_row if found else self._best_row_for(provision.uid, query_vector)
                scores = dict(found.scores) if found else {}
                scores["lookup"] = 1.0
                lifted.append(_Candidate(provision.uid, scores, row))
            candidates = lifted + [c for c in candidates if c.uid in by_uid]
        return [self._hit(c, rank) for rank, c in enumerate(candidates[:k], start=1)]

    def _best_row_for(self, uid: str, query_vector: np.ndarray | None) -> int:
        """The provision's passage closest to the question (its first when vectors cannot be read back)."""
        rows = self.rows_of[uid]
        if query_vector is None or len(rows) == 1:
            return rows[0]
        try:
            vectors = np.vstack([self.index.faiss.reconstruct(r) for r in rows])
        except RuntimeError:  # IVF-PQ indexes do not keep the vectors
            return rows[0]
        return rows[int(np.argmax(vectors @ query_vector))]

    def _hit(self, candidate: _Candidate, rank: int) -> Hit:
        passage = self.passages[candidate.best_row]
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


# --- metrics (pure functions) ------------------------------------------------------------------


def recall_at_k(ranked: Sequence[str], relevant: set[str], k: int) -> float:
    """Share of the relevant items found in the top k (Manning, Raghavan & Schütze 2008, ch. 8)."""
    if not relevant:
        return 0.0
    return len(relevant & set(ranked[:k])) / len(relevant)


def hit_at_k(ranked: Sequence[str], relevant: set[str], k: int) -> float:
    """1 when any relevant item is in the top k: the 'answering provision in the top k' rate."""
    return float(bool(relevant & set(ranked[:k])))


def reciprocal_rank(ranked: Sequence[str], relevant: set[str], k: int = 10) -> float:
    """1 / rank of the first relevant item within the top k, else 0; averaged it is MRR@k (Voorhees 1999, TREC-8 QA)."""
    for rank, key in enumerate(ranked[:k], start=1):
        if key in relevant:
            return 1.0 / rank
    return 0.0
