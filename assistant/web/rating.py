"""Feedback from the UI: a thumb under an answer is saved at once; a comment and a flagged citation amend that record.

One answer rated is one row for curators, whatever order staff click in: the
state kept between clicks (``rated``: the turn, its row id and what was said)
lets a later click amend the row instead of adding a second.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import gradio as gr

from assistant.records import Answer
from assistant.settings import Settings
from assistant.web.feedback import FeedbackRecord, FeedbackStore, settings_snapshot
from assistant.web.render import Turn

log = logging.getLogger(__name__)


def answer_at(turns: list[Turn], turn_index: int | str | None) -> Answer | None:
    if turn_index is None or not turns:
        return None
    try:
        return turns[int(turn_index)].answer
    except (IndexError, ValueError, TypeError):
        return None


def validation_message(exc: ValueError) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        return "; ".join(str(e.get("msg", "")).removeprefix("Value error, ") for e in errors())
    return str(exc)


class Rating:
    """The feedback store (opened on first use, so a read-only data folder does not stop answers) and the clicks that write to it."""

    def __init__(self, settings: Settings, store: FeedbackStore | None, friendly_error: Callable[[BaseException], str]) -> None:
        self.settings = settings
        self._store = store
        self.friendly_error = friendly_error

    @property
    def store(self) -> FeedbackStore:
        if self._store is None:
            self._store = FeedbackStore.from_settings(self.settings)
        return self._store

    def rate(self, turns: list[Turn], rated: dict | None, document: str, ref: str) -> tuple[Any, ...]:
        """A thumb ('rate:3:down'): saved at once; returns (feedback form, status, which-citation box, state, comment box, wrong box)."""
        try:
            _, turn_text, rating = ref.split(":")
            turn_index = int(turn_text)
        except ValueError:
            return (gr.update(), "Nothing to rate there.", *([gr.update()] * 4))
        answer = answer_at(turns, turn_index)
        if answer is None or rating not in ("up", "down"):
            return (gr.update(visible=True), "That answer belongs to an earlier conversation; ask again to rate it.", *([gr.update()] * 4))
        same = rated if rated and rated.get("turn") == turn_index else None
        status, rated = self.save(turns, {**(same or {"turn": turn_index}), "rating": rating}, document)
        if same is not None:  # the same answer again: keep what the form holds
            return (gr.update(visible=True), status, gr.update(), rated, gr.update(), gr.update())
        return (gr.update(visible=True), status, gr.update(choices=[c.label for c in answer.citations], value=None), rated, "", False)

    def add_to(self, turns: list[Turn], rated: dict | None, wrong: bool, citation_label: str | None, comment: str, document: str) -> tuple[str, dict | None]:
        """The form's button: the comment and the flagged citation join the thumb's record."""
        if not rated:
            return "Click Yes or No under an answer first: feedback is saved against an answer.", rated
        return self.save(turns, {**rated, "comment": (comment or "").strip(), "wrong": bool(wrong or citation_label), "label": citation_label or None}, document)

    def save(self, turns: list[Turn], rated: dict, document: str) -> tuple[str, dict | None]:
        """Store ``rated`` ({turn, rating, comment, wrong, label, row}) as one record: added the first time, amended after; returns (status, state)."""
        answer = answer_at(turns, rated.get("turn"))
        if answer is None:
            return "Ask a question first: feedback is saved against an answer.", None
        try:
            record = FeedbackRecord(
                question=answer.question,
                answer=answer,
                rating=rated.get("rating"),  # type: ignore[arg-type]
                comment=rated.get("comment", ""),
                wrong_citation=bool(rated.get("wrong")),
                citation_label=rated.get("label"),
                settings={**settings_snapshot(self.settings), "document_filter": document or None},
                source="ui",
            )
            if rated.get("row"):
                row_id = int(rated["row"])
                self.store.amend(row_id, record)
            else:
                row_id = self.store.add(record)
        except ValueError as exc:  # pydantic's ValidationError is a ValueError
            return f"Not saved: {validation_message(exc)}", rated
        except Exception as exc:
            log.exception("saving feedback failed")
            return f"Not saved: {self.friendly_error(exc)}", rated
        thumb = {"up": "helpful", "down": "not helpful"}.get(rated.get("rating") or "", "no rating")
        if rated.get("comment") or rated.get("wrong"):
            return f"Thank you: feedback #{row_id} saved ({thumb}, with your comment or flag).", {**rated, "row": row_id}
        return f"Thank you: feedback #{row_id} saved ({thumb}). Add a comment or flag a wrong citation here if you like.", {**rated, "row": row_id}
