"""Extractive answerer: quote the sentences of the retrieved law that answer the question.

Needs no generative model, so every claim in its answer is the law's own words,
cited to the most specific subsection, paragraph, definition or bullet.

An answer is put together in steps, one module each:

1. ``segments``: each top retrieved provision is cut into citable segments.
2. ``evidence``: each segment is scored against the question (meaning, shared
   words from ``lexical``, retrieval rank), and abstention is decided; with
   ``questions`` for what the question asks.
3. ``select``: the segments of as few provisions as answer the question.
4. ``compose``: the quotes turned into cited sentences.

This module ties them together; the segment vectors come from the index
(``Index.segment_vectors``), so no question embeds a segment. Abstention (``assistant.answer.abstention``)
is decided here for both answerers. What each rule did on the development questions, and what was tried
and dropped: see docs/experiments.md, answer stage.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Protocol

import numpy as np

from assistant.answer.abstention import (
    STAFF_REASONS,
    Abstention,
    AbstentionDecision,
    kind_of,
)
from assistant.answer.base import abstention_text, retrieved_from_hits
from assistant.answer.compose import (
    DELEGATED_MIN_OVERLAP,
    Delegation,
    compose,
    delegated_answer,
    delegation_in,
)
from assistant.answer.evidence import (
    HEADING_WORDS_WEIGHT,
    LEXICAL_WEIGHT,
    PRIOR_WEIGHT,
    SEMANTIC_WEIGHT,
    Evidence,
    Scored,
    score_segment,
)
from assistant.answer.lexical import TermWeights, content_terms, content_words
from assistant.answer.questions import (
    acronyms_of,
    missing_fact,
    second_part,
    unknown_names,
)
from assistant.answer.segments import Segment, definition_segments, segments_of
from assistant.answer.select import select_segments
from assistant.corpus import Corpus
from assistant.models import text_sha256
from assistant.patterns import NUMBER_QUESTION_RE, term_or_plural_re
from assistant.question import asked_part
from assistant.records import Answer, Hit, Provision
from assistant.settings import Settings


class Encoder(Protocol):
    """What the answerer needs from the embedding model (``assistant.embed.Embedder`` fits).

    ``encode`` returns one unit-length float32 row per text. An encoder may also
    offer ``encode_cached(texts) -> (vectors, count)`` backed by a cache on disk;
    the answerer uses it when present.
    """

    model_id: str

    def encode(self, texts: list[str]) -> np.ndarray: ...


# Segments scored for one question: of the top hit (all of them when it has no more), and of each
# provision below it, which is quoted only for a question in two parts but counts towards support.
SHORTLIST_PER_PROVISION = 16
SHORTLIST_OTHER_PROVISIONS = 6
# Texts per encoding call for one question: the embedder runs up to 8 on one thread (see ``_vectors``).
QUESTION_BATCH = 8


class ExtractiveAnswerer:
    """Composes cited answers from the law text; also decides abstention for every answerer.

    Usage::

        answerer = ExtractiveAnswerer(corpus, embedder, settings)
        answer = answerer.answer("Until what age must a child attend school?", hits)
    """

    mode = "extractive"

    def __init__(self, corpus: Corpus, encoder: Encoder, settings: Settings, candidate_provisions: int = 5, segment_vectors: Mapping[str, np.ndarray] | None = None):
        self.corpus = corpus
        # The index's vectors of every segment, by the sha256 of its text (``Index.segment_vectors``).
        self.segment_vectors = segment_vectors or {}
        self.encoder = encoder
        self.settings = settings
        self.candidate_provisions = candidate_provisions
        self._cache: dict[str, list[tuple[Segment, frozenset[str], frozenset[str]]]] = {}
        self._vector_cache: dict[str, np.ndarray] = {}
        self._cache_lock = threading.Lock()
        self.term_weights = TermWeights.of_corpus(corpus)
        self._definitions = definition_segments(corpus)
        self._vocabulary = set(self.term_weights.idf)
        self._acronyms = {a for p in corpus.provisions for a in acronyms_of(f"{p.heading}\n{p.text}")}
        self.abstention = AbstentionDecision(settings)

    @property
    def model_id(self) -> str:
        return getattr(self.encoder, "model_id", "")

    # --- segments and their vectors ------------------------------------------------------
    def _segments_with_terms(self, provision: Provision) -> list[tuple[Segment, frozenset[str], frozenset[str]]]:
        """The provision's segments with their content words, heading included and not, cut once and kept."""
        cached = self._cache.get(provision.uid)
        if cached is None:
            heading = frozenset(content_terms(provision.heading))
            cached = [(seg, heading | (words := frozenset(content_terms(seg.reading_text))), words) for seg in segments_of(provision)]
            with self._cache_lock:
                self._cache[provision.uid] = cached
        return cached

    def _vectors(self, segments: list[Segment], batch: int = QUESTION_BATCH) -> np.ndarray:
        """Embeddings of the segments: the index's (``segment_vectors``), else encoded once per process.

        With the index's vectors nothing is encoded here, so an answer never depends on
        which questions came before it. Without them (an answerer built with no index),
        a question's segments are encoded in small batches of similar length:
        the embedder runs batches of up to 8 texts on one thread, which avoids
        two threads contending with other work on a busy machine, and similar
        lengths waste little on padding.
        """
        texts = [seg.embed_text() for seg in segments]
        unseen = [t for t in dict.fromkeys(texts) if t not in self._vector_cache]
        if self.segment_vectors and unseen:
            known = {t: v for t in unseen if (v := self.segment_vectors.get(text_sha256(t))) is not None}
            with self._cache_lock:
                self._vector_cache.update(known)
            unseen = [t for t in unseen if t not in known]
        missing = sorted(unseen, key=len)
        encode_cached = getattr(self.encoder, "encode_cached", None)
        for start in range(0, len(missing), batch):
            chunk = missing[start : start + batch]
            vectors = encode_cached(chunk)[0] if encode_cached else self.encoder.encode(chunk)
            with self._cache_lock:
                self._vector_cache.update(zip(chunk, vectors, strict=True))
        if not texts:
            return np.zeros((0, 1), dtype=np.float32)
        return np.vstack([self._vector_cache[t] for t in texts])

    def warm(self, provisions: list[Provision] | None = None, batch: int = 256) -> int:
        """Cut every provision's segments and take their vectors now, so no question pays for it; returns the segment count.

        With the index's vectors this only cuts and looks up (seconds); an answerer without
        them embeds the segments, and the vectors also go to the embedder's on-disk cache.
        """
        provisions = provisions if provisions is not None else [p for p in self.corpus.provisions if not p.repealed]
        segments = [seg for p in provisions for seg, _, _ in self._segments_with_terms(p)]
        for start in range(0, len(segments), batch):
            self._vectors(segments[start : start + batch], batch=batch)
        return len(segments)

    # --- evidence ------------------------------------------------------------------------
    def evidence(self, question: str, hits: list[Hit]) -> Evidence:
        """Score the segments of the top hits (and definitions the question names) against the question.

        Only a shortlist is scored: up to ``SHORTLIST_PER_PROVISION`` segments
        of the top hit and ``SHORTLIST_OTHER_PROVISIONS`` of each other provision,
        those with the most question words (so an answerer without the index's
        vectors encodes a few dozen short texts for a cold question).
        """
        weights = self.term_weights
        q_terms = set(content_terms(question))
        wants_number = bool(NUMBER_QUESTION_RE.search(asked_part(question)))
        top = hits[: self.candidate_provisions]
        provisions = [p for h in top if (p := self.corpus.find(h.document_id, h.provision_id)) is not None and not p.repealed]
        evidence_text = " ".join(f"{p.heading} {p.text}" for p in provisions[:3])
        evidence_words = set(content_terms(evidence_text))
        # Words only: the abstention model was fitted on them (a class such as "year 11" is for matching segments).
        rarest_missing = max((weights.weight(t) for t in set(content_words(question)) if t not in evidence_words), default=0.0)
        key_terms = 1.0 - rarest_missing / weights.max_idf
        named = bool(top) and "lookup" in top[0].scores
        signals = {
            "key_terms": key_terms,
            "named": named,
            "defined": bool(top) and "definition" in top[0].scores,
            "missing_fact": missing_fact(question, evidence_text) if provisions else None,
            "unknown_names": unknown_names(question, self._vocabulary, self._acronyms),
        }
        if not provisions:
            return Evidence(question, hits, [], wants_number, **signals)
        pool: list[tuple[Segment, float, float]] = []
        for rank, provision in enumerate(provisions):
            prior = 1.0 / (1.0 + 0.5 * rank)
            scored = [
                (seg, HEADING_WORDS_WEIGHT * weights.overlap(q_terms, with_heading) + (1 - HEADING_WORDS_WEIGHT) * weights.overlap(q_terms, own), prior)
                for seg, with_heading, own in self._segments_with_terms(provision)
            ]
            keep = SHORTLIST_PER_PROVISION if rank == 0 else SHORTLIST_OTHER_PROVISIONS
            if rank > 0 or len(scored) > keep:
                scored.sort(key=lambda item: -item[1])
                scored = scored[:keep]
            pool.extend(scored)
        q_vec = self.encoder.encode([question])[0]
        semantic = self._vectors([seg for seg, _, _ in pool]) @ q_vec
        ranked = [score_segment(seg, float(sem), lex, prior, wants_number) for (seg, lex, prior), sem in zip(pool, semantic, strict=True)]
        second = second_part(question)
        if second:
            # Each part may rest on a different provision: score every segment against the second part too.
            second_terms = set(content_terms(second))
            vectors = self._vectors([seg for seg, _, _ in pool])
            second_sem = vectors @ self.encoder.encode([second])[0]
            ranked = [
                replace(
                    r,
                    second_part_score=SEMANTIC_WEIGHT * float(sem2)
                    + LEXICAL_WEIGHT * weights.overlap(second_terms, f"{r.segment.provision.heading} {r.segment.reading_text}")
                    + PRIOR_WEIGHT * r.prior,
                )
                for r, sem2 in zip(ranked, second_sem, strict=True)
            ]
        ranked.sort(key=lambda s: -s.score)
        definitions = self._named_definitions(question, q_vec, q_terms)
        return Evidence(question, hits, ranked, wants_number, definitions, **signals)

    def _named_definitions(self, question: str, q_vec: np.ndarray, q_terms: set[str]) -> list[Scored]:
        """Definitions in s 1.1.3 whose term the question names, longest term first."""
        lowered = question.lower()
        named: list[Segment] = []
        taken: list[tuple[int, int]] = []
        for term, segment in self._definitions:
            m = term_or_plural_re(term.lower()).search(lowered)
            if m and not any(a < m.end() and m.start() < b for a, b in taken):
                named.append(segment)
                taken.append(m.span())
        if not named:
            return []
        semantic = self._vectors(named) @ q_vec
        return [
            score_segment(seg, float(sem), self.term_weights.overlap(q_terms, f"{seg.provision.heading} {seg.text}"), 0.5, False)
            for seg, sem in zip(named, semantic, strict=True)
        ]

    # --- the shared signature ------------------------------------------------------------
    def answer(self, question: str, hits: list[Hit], evidence: Evidence | None = None) -> Answer:
        evidence = evidence or self.evidence(question, hits)
        chosen = select_segments(evidence, self.settings.max_answer_sentences)
        abstention, delegation = self.refusal(evidence, chosen)
        if abstention is not None:
            return self.abstain(question, hits, abstention, delegation)
        text, citations = compose(self.corpus, self.term_weights, evidence, chosen)
        return Answer(
            question=question, text=text, citations=citations, retrieved=retrieved_from_hits(hits), mode="extractive", model_id=self.model_id
        )

    def delegation(self, evidence: Evidence, chosen: list[Scored] | None = None) -> Delegation | None:
        """Words in the segments the answer would quote that leave the matter asked about to another instrument."""
        if evidence.named or not evidence.ranked:
            return None
        chosen = select_segments(evidence, self.settings.max_answer_sentences) if chosen is None else chosen
        return delegation_in(chosen, set(content_terms(evidence.question)), self.term_weights, DELEGATED_MIN_OVERLAP)

    def refusal(self, evidence: Evidence, chosen: list[Scored] | None = None) -> tuple[Abstention | None, Delegation | None]:
        """Whether not to answer (``AbstentionDecision.decide``), and for a delegated matter the words that delegate it."""
        chosen = select_segments(evidence, self.settings.max_answer_sentences) if chosen is None else chosen
        delegation = self.delegation(evidence, chosen)
        figure_stated = delegation is not None and delegation.states_figure(chosen, set(content_terms(evidence.question)), self.term_weights)
        abstention = self.abstention.decide(evidence, None if delegation is None else str(delegation), figure_stated)
        return abstention, delegation if abstention is not None and abstention.kind == "delegated" else None

    def declined(self, evidence: Evidence, detail: str) -> tuple[Abstention, Delegation | None]:
        """An abstention some other judge made (the generative model saying the sources do not answer), with its kind."""
        delegation = self.delegation(evidence)
        kind = kind_of(evidence.question, delegation is not None)
        return Abstention(kind, f"{detail}; delegating words: {delegation}" if kind == "delegated" else detail), delegation if kind == "delegated" else None

    def abstain(
        self, question: str, hits: list[Hit], abstention: Abstention, delegation: Delegation | None = None, mode: str = "extractive", model_id: str | None = None
    ) -> Answer:
        """Not answered by the sources: the reason in staff words, and either the closest provisions or,
        for a delegated matter, one sentence citing the words that hand it on."""
        text, citations = abstention_text(hits), []
        reason = STAFF_REASONS[abstention.kind].format(what=delegation.what if delegation else "another instrument")
        if delegation is not None:
            text, citation = delegated_answer(self.corpus, delegation)
            citations = [citation]
        return Answer(
            question=question,
            text=text,
            citations=citations,
            abstained=True,
            abstain_kind=abstention.kind,
            abstain_reason=reason,
            abstain_detail=abstention.detail,
            retrieved=retrieved_from_hits(hits),
            mode=mode,
            model_id=self.model_id if model_id is None else model_id,
        )

    def answer_stream(self, question: str, hits: list[Hit]) -> Iterator[str | Answer]:
        answer = self.answer(question, hits)
        for line in answer.text.split("\n"):
            yield line + "\n"
        yield answer
