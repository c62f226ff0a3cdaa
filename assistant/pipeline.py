"""The application object: ``Assistant`` loads the corpus, models and index once and answers questions.

The CLI, the UI, the HTTP API and the evaluation harness all call this one
object, so they show the same ``Answer``.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence

import numpy as np

from assistant.answer import ExtractiveAnswerer, GenerativeAnswerer
from assistant.answer.short import ShortAnswerer
from assistant.corpus import Corpus, DocumentInfo, load_corpus
from assistant.embed import Embedder
from assistant.errors import InvalidQuestionError
from assistant.generator import ShortAnswerModel
from assistant.index import build_index, ensure_index, load_index
from assistant.question import clean_question, rewrite_follow_up
from assistant.records import Answer, Hit, Provision
from assistant.retrieve import MODES as RETRIEVAL_MODES
from assistant.retrieve import Retriever
from assistant.settings import Settings

ANSWER_MODES = ("extractive", "generative")

class _QueryVectors:
    """The embedder with a small cache of single-text encodings, which are questions (``Embedder.encode_question``).

    Retrieval and the answerer both encode the question; the cache makes the
    second call free. Everything else is passed through to the embedder.
    """

    def __init__(self, embedder: Embedder, size: int = 512):
        self._embedder = embedder
        self._size = size
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def encode(self, texts: list[str], show_progress: bool = False) -> np.ndarray:
        if len(texts) != 1:
            return self._embedder.encode(texts, show_progress=show_progress)
        key = texts[0]
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        vector = self._embedder.encode_question(key)
        vector.setflags(write=False)
        with self._lock:
            self._cache[key] = vector
            while len(self._cache) > self._size:
                self._cache.popitem(last=False)
        return vector

    def __getattr__(self, name: str):
        return getattr(self._embedder, name)


class Assistant:
    """Answers questions on the Act and the VET clusters page with checked pinpoint citations.

    Load once (corpus, embedding model, index; a generative model only when
    first asked for), then call from as many threads as you like.

    Usage::

        from assistant import Assistant

        assistant = Assistant.load()
        answer = assistant.ask("Until what age must a child attend school?")
        print(answer.text)                        # quotes with [1]-style markers
        print([c.label for c in answer.citations])  # ['s 2.1.1', ...]
        follow = assistant.ask("and who must enrol them?", history=[(answer.question, answer.text)])
        for item in assistant.ask_stream("Who appoints school attendance officers?"):
            print(item if isinstance(item, str) else item.citations)
    """

    def __init__(self, settings: Settings, corpus: Corpus, embedder: Embedder, retriever: Retriever):
        self._settings = settings
        self._corpus = corpus
        self._embedder = embedder
        self.retriever = retriever
        self.extractive = ExtractiveAnswerer(corpus, embedder, settings, segment_vectors=retriever.index.segment_vectors)
        self.generative = GenerativeAnswerer(corpus, settings, self.extractive)
        self.short_model = ShortAnswerModel(settings, embedder.encode) if settings.short_answer_writer == "model" else None
        self.short = ShortAnswerer(self.extractive.term_weights, self.short_model)

    @classmethod
    def load(
        cls, settings: Settings | None = None, build_if_missing: bool = True, rebuild_if_stale: bool = False, on_progress: Callable[[str, int, int], None] | None = None
    ) -> Assistant:
        """Load the corpus, the embedding model, the index (building it on first start when allowed), the cross-encoder and the abstention model.

        ``rebuild_if_stale`` also rebuilds an index built from other code, corpus or settings (the app's start does);
        ``on_progress(stage, done, total)`` hears each stage, and the passages embedded while an index builds.
        """
        settings = settings or Settings()
        report = on_progress or (lambda stage, done, total: None)
        report("Reading the law text", 0, 0)
        corpus = load_corpus(settings)
        report("Loading the embedding model", 0, 0)
        embedder = Embedder(settings).load()
        if rebuild_if_stale:
            report("Checking the search index", 0, 0)
            build_index(corpus, settings, embedder, progress=False, on_progress=lambda done, total: report("Building the search index: texts embedded", done, total))
            report("Loading the search index", 0, 0)
            index = load_index(settings, corpus, embedder)
        else:
            index = ensure_index(corpus, settings, embedder) if build_if_missing else load_index(settings, corpus, embedder)
        vectors = _QueryVectors(embedder)
        retriever = Retriever(corpus, index, vectors, settings)
        report("Loading the cross-encoder and the abstention model", 0, 0)
        if settings.retrieval_mode == "full" and settings.reranker_weight > 0:
            # A missing or corrupt cross-encoder stops start-up with its fix, not the first question.
            retriever.reranker.cross_encoder.load()
        assistant = cls(settings, corpus, vectors, retriever)
        assistant.extractive.abstention.model  # noqa: B018 - a missing or corrupt abstention model stops start-up, not the first question
        if assistant.short_model is not None and settings.generative_model.strip():
            assistant.short_model.load()  # a configured model that cannot load stops start-up with its reason
        return assistant

    # --- properties ------------------------------------------------------------------------
    @property
    def settings(self) -> Settings:
        return self._settings

    @property
    def corpus(self) -> Corpus:
        return self._corpus

    @property
    def documents(self) -> list[DocumentInfo]:
        return [d.info for d in self._corpus.documents]

    def warm(self) -> int:
        """Cut every quotable segment of the corpus and take its vector from the index up front (seconds).

        Optional: without it a question cuts only the provisions it needs; the
        vectors are the index's either way (``assistant bench --cold --empty-cache``).
        """
        return self.extractive.warm()

    # --- lookups ---------------------------------------------------------------------------
    def provision(self, document_id: str, provision_id: str) -> Provision:
        return self._corpus.get(document_id, provision_id)

    def search(self, query: str, k: int | None = None, document: str | None = None, mode: str | None = None) -> list[Hit]:
        """Ranked provisions for a query; ``mode`` is a retrieval mode (bm25, dense, hybrid, full)."""
        query = clean_question(query, self._settings.max_question_chars)
        return self.retriever.retrieve(query, k=k, document=document, mode=mode)

    # --- answering -------------------------------------------------------------------------
    def _modes(self, mode: str | None, retrieval_mode: str | None) -> tuple[str, str | None]:
        """``mode`` may name an answer mode or a retrieval mode, so one parameter serves the API, UI and evaluation."""
        answer_mode = self._settings.answer_mode
        if mode in ANSWER_MODES:
            answer_mode = mode
        elif mode in RETRIEVAL_MODES:
            retrieval_mode = retrieval_mode or mode
        elif mode is not None:
            raise InvalidQuestionError(f"unknown mode '{mode}'; choose one of {list(ANSWER_MODES)} (answer) or {list(RETRIEVAL_MODES)} (retrieval)")
        return answer_mode, retrieval_mode

    def _prepare(self, question, k, document, mode, history, retrieval_mode):
        started = time.perf_counter()
        cleaned = clean_question(question, self._settings.max_question_chars)
        answer_mode, retrieval_mode = self._modes(mode, retrieval_mode)
        rewritten = rewrite_follow_up(cleaned, history)
        standalone = rewritten or cleaned
        checked = time.perf_counter()
        hits = self.retriever.retrieve(standalone, k=k, document=document, mode=retrieval_mode)
        retrieved = time.perf_counter()
        answerer = self.generative if answer_mode == "generative" else self.extractive
        timings = {"validate": (checked - started) * 1000, "retrieve": (retrieved - checked) * 1000}
        return cleaned, rewritten, standalone, hits, answerer, timings, retrieved, started

    def ask(
        self,
        question: str,
        k: int | None = None,
        document: str | None = None,
        mode: str | None = None,
        history: Sequence[tuple[str, str]] | None = None,
        retrieval_mode: str | None = None,
        short_answer: bool = True,
    ) -> Answer:
        """Answer one question; ``history`` is the earlier turns as (question, answer text) pairs; ``short_answer=False`` skips the plain answer."""
        final = None
        for item in self.ask_stream(question, k=k, document=document, mode=mode, history=history, retrieval_mode=retrieval_mode, short_answer=short_answer):
            final = item
        assert isinstance(final, Answer)
        return final

    def ask_stream(
        self,
        question: str,
        k: int | None = None,
        document: str | None = None,
        mode: str | None = None,
        history: Sequence[tuple[str, str]] | None = None,
        retrieval_mode: str | None = None,
        short_answer: bool = True,
    ) -> Iterator[str | Answer]:
        """Text chunks as the answer is written, then the checked ``Answer`` (which may differ: see ``Answer.fallback``)."""
        cleaned, rewritten, standalone, hits, answerer, timings, answer_started, started = self._prepare(
            question, k, document, mode, history, retrieval_mode
        )
        final = None
        for item in answerer.answer_stream(standalone, hits):
            if isinstance(item, Answer):
                final = item
            else:
                yield item
        assert final is not None
        done = time.perf_counter()
        timings["answer"] = (done - answer_started) * 1000
        if short_answer:
            final = self.short.add_to(standalone, final)
            timings["short_answer"] = (time.perf_counter() - done) * 1000
            done = time.perf_counter()
        timings["total"] = (done - started) * 1000
        yield final.model_copy(
            update={"question": cleaned, "rewritten_question": rewritten, "timings_ms": {name: round(ms, 2) for name, ms in timings.items()}}
        )
