"""The API's contract: request and response bodies, and the errors each route documents.

The models are the OpenAPI schema (docs/openapi.json), so their limits are fixed
here rather than read from local settings: the published contract does not
shift with configuration. A smaller ``settings.max_question_chars`` is still
enforced by the pipeline (422). A question is checked by
``assistant.question.clean_question``, in the same words as in the UI and in Python.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from assistant.question import clean_question
from assistant.settings import Settings
from assistant.web.feedback import MAX_COMMENT_CHARS

# The documented limit: the default of Settings.max_question_chars.
MAX_QUESTION_CHARS: int = Settings.model_fields["max_question_chars"].default
MAX_K = 50
# At least one non-blank character (JSON Schema patterns match anywhere, as pydantic's do).
NOT_BLANK = r"\S"
AnswerMode = Literal["extractive", "generative"]
RetrievalMode = Literal["bm25", "dense", "hybrid", "full"]
DocumentId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9-]*$", description="A document id: 'etra-2006' or 'vet-clusters'.")]


class AskRequest(BaseModel):
    """A question as staff would type it, with optional narrowing."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"question": "Until what age must a child attend school?"}]})

    question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS, pattern=NOT_BLANK, description=f"The question, 1 to {MAX_QUESTION_CHARS:,} characters, not all blank.")
    k: int | None = Field(default=None, ge=1, le=MAX_K, description="How many provisions to retrieve; the server default when omitted.")
    document: DocumentId | None = Field(default=None, description="Answer from this document only.")
    mode: AnswerMode | None = Field(default=None, description="'extractive' quotes the law; 'generative' writes with a local model. Server default when omitted.")
    short_answer: bool = Field(
        default=False,
        description="Also write `short_answer`: one or two plain sentences by the local model, every claim checked against the quotes "
        "(about a second more per question on a small CPU). Off by default so tools that only need citations stay fast.",
    )

    @field_validator("question", mode="before")
    @classmethod
    def _clean_question(cls, value: Any) -> str:
        # Before the Field's own checks, which only document the rules in the schema: the
        # refusal (InvalidQuestionError is a ValueError) then reads as it does everywhere else.
        return clean_question(value, MAX_QUESTION_CHARS)


class FeedbackRequest(BaseModel):
    """Feedback on one answer: a rating, a comment, or a flagged citation (at least one)."""

    model_config = ConfigDict(extra="forbid")

    question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS, pattern=NOT_BLANK)
    answer_id: str | None = Field(
        default=None,
        pattern=r"^[0-9a-f]{32}$",
        description="The answer_id of the Answer this server returned; the feedback is stored with that answer as it was served. Without it the feedback is kept as a comment on the question only.",
    )
    rating: Literal["up", "down"] | None = None
    comment: str = Field(default="", max_length=MAX_COMMENT_CHARS)
    wrong_citation: bool = False
    citation_label: str | None = Field(default=None, max_length=200, description="The wrong citation's label, e.g. 's 2.1.1(1)'.")


class FeedbackReceipt(BaseModel):
    id: int = Field(description="The stored feedback's row id.")
    status: Literal["recorded"] = "recorded"


class ValidationProblem(BaseModel):
    field: str = Field(description="Where the problem is, e.g. 'body.question' or 'query.k'.")
    message: str


class ErrorBody(BaseModel):
    """Every error response: a stable code, a sentence for people, and the request id to quote."""

    error: str = Field(description="A stable code: unauthorized, rate_limited, invalid_request, not_found, busy, ...")
    message: str
    request_id: str
    detail: list[ValidationProblem] | None = None


class Health(BaseModel):
    status: Literal["ok"] = "ok"
    version: str


class Readiness(BaseModel):
    status: Literal["ready", "loading", "failed"]
    message: str
    documents: list[str] = Field(default_factory=list)
    provisions: int = 0


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """A route's ``responses=``: each status it can refuse with, in the ErrorBody shape, and when."""
    described = {
        400: "The body is not UTF-8 JSON, or Content-Length is malformed.",
        401: "Missing or invalid bearer token (only when the server has tokens configured).",
        404: "No such document (or, for provisions, no such provision).",
        413: "Request body over the size limit.",
        422: "The request is invalid; `message` says what to fix.",
        429: "Rate limit exceeded; retry after the number of seconds in Retry-After.",
        503: "Busy or still loading; retry after the number of seconds in Retry-After.",
    }
    return {code: {"model": ErrorBody, "description": described[code]} for code in codes}
