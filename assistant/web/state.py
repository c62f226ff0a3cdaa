"""What every API request shares: the one assistant, whether it is ready, the worker pool, the feedback store.

The server answers /health at once and /ready (503) until ``warm_up`` has run a
retrieval, so a load balancer sends no questions while the model still loads.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections import OrderedDict
from typing import Any, Protocol

from assistant.corpus import Corpus
from assistant.records import Answer, Hit, Provision
from assistant.settings import Settings
from assistant.web.feedback import FeedbackStore
from assistant.web.pool import BusyError, InferencePool

# The API's logger: its JSON lines are what operators filter on.
log = logging.getLogger("assistant.web.api")


class AnswerService(Protocol):
    """What the API needs from ``assistant.pipeline.Assistant``."""

    corpus: Corpus
    settings: Settings

    def ask(self, question: str, k: int | None = None, document: str | None = None, mode: str | None = None, history: Any = None, short_answer: bool = True) -> Answer: ...

    def search(self, query: str, k: int | None = None, document: str | None = None, mode: str | None = None) -> list[Hit]: ...

    def provision(self, document_id: str, provision_id: str) -> Provision: ...



# Answers the API remembers for feedback: about 10 KB each, so at most a few tens of MB.
SERVED_ANSWERS_KEPT = 5000


class ServedAnswers:
    """The answers this process served, newest kept, by answer id: feedback may only be bound to one of them.

    A client could otherwise send any text as "the answer" and have it stored, and exported
    to curators as gold-set material (a quote replaced by markup was accepted before).
    """

    def __init__(self, capacity: int):
        self.capacity = capacity
        self._answers: OrderedDict[str, Answer] = OrderedDict()
        self._lock = threading.Lock()

    def remember(self, answer: Answer) -> Answer:
        """``answer`` with a fresh id, kept until ``capacity`` newer answers push it out."""
        served = answer.model_copy(update={"answer_id": uuid.uuid4().hex})
        with self._lock:
            self._answers[served.answer_id] = served  # type: ignore[index]
            while len(self._answers) > self.capacity:
                self._answers.popitem(last=False)
        return served

    def get(self, answer_id: str) -> Answer | None:
        with self._lock:
            return self._answers.get(answer_id)


class ApiState:
    """The one shared assistant, its readiness, the worker pool and the feedback store."""

    def __init__(self, settings: Settings, assistant: AnswerService | None):
        self.settings = settings
        self.assistant = assistant
        self.pool = InferencePool(settings.api_workers, settings.api_queue_limit)
        self.ready = False
        self.failure: str | None = None
        self._feedback: FeedbackStore | None = None
        self._feedback_lock = threading.Lock()
        self.served = ServedAnswers(SERVED_ANSWERS_KEPT)

    def require(self) -> AnswerService:
        if self.assistant is None:
            raise BusyError(5, "the assistant is still loading")
        return self.assistant

    def feedback_store(self) -> FeedbackStore:
        # Opened on first feedback, so a read-only data folder does not stop the API from answering.
        with self._feedback_lock:
            if self._feedback is None:
                self._feedback = FeedbackStore.from_settings(self.settings)
            return self._feedback

    def warm_up(self) -> None:
        """Run one retrieval so the embedding model and index are in memory before /ready says so."""
        if self.assistant is None:
            return
        try:
            self.assistant.search("compulsory school age", k=1)
        except Exception as exc:  # noqa: BLE001 - readiness reports any failure instead of crashing the server
            self.failure = f"{type(exc).__name__}: {exc}"
            log.exception("warm-up failed", extra={"fields": {"event": "warm_up_failed"}})
            return
        self.ready = True
        log.info("ready", extra={"fields": {"event": "ready"}})
