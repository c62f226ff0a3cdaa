"""HTTP JSON API: the same ``Assistant.ask()`` the UI shows, behind versioned routes.

Routes (all JSON; ``/api/*`` needs ``Authorization: Bearer <token>`` when tokens are configured)::

    POST /api/v1/ask                                {question, k?, document?, mode?} -> Answer
    GET  /api/v1/search?q=...&k=&document=&mode=    -> [Hit, ...] ranked provisions
    GET  /api/v1/provisions/{document}/{provision}  -> Provision ('Sch 2 cl 2' as Sch%202%20cl%202)
    POST /api/v1/feedback                           {question, rating?, comment?, ...} -> FeedbackReceipt
    GET  /health                                    200 while the process is up
    GET  /ready                                     200 once the index and model are loaded, else 503

Inference runs in a bounded worker pool shared by all requests; when more than
``settings.api_queue_limit`` requests wait, new ones get 503 with Retry-After at
once instead of hanging. The checked-in schema is ``docs/openapi.json``; refresh
it with ``python -m assistant.web.api --write-openapi``.

Here are the routes, the error handlers and ``create_api``; the request and
response bodies are in ``assistant.web.schemas``, the worker pool in
``assistant.web.pool`` and the shared state in ``assistant.web.state``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.resources
import json
import logging
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.routing import APIRoute
from fastapi.security import HTTPBearer
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.staticfiles import StaticFiles

from assistant import __version__
from assistant.errors import (
    AnswerNotServedError,
    AssistantError,
    InvalidQuestionError,
    ProvisionNotFoundError,
)
from assistant.records import Answer, Hit, Provision
from assistant.settings import PROJECT_ROOT, Settings
from assistant.web.feedback import FeedbackRecord, settings_snapshot
from assistant.web.guards import (
    REQUEST_ID_HEADER,
    ApiGuardMiddleware,
    RequestContextMiddleware,
    error_response,
    load_tokens,
    request_id_var,
)
from assistant.web.pool import BusyError
from assistant.web.schemas import (
    MAX_K,
    MAX_QUESTION_CHARS,
    NOT_BLANK,
    AskRequest,
    FeedbackReceipt,
    FeedbackRequest,
    Health,
    Readiness,
    RetrievalMode,
    ValidationProblem,
    error_responses,
)
from assistant.web.state import AnswerService, ApiState

API_PREFIX = "/api/v1"
OPENAPI_PATH = PROJECT_ROOT / "docs" / "openapi.json"
DOCS_ASSETS = "/docs-assets"

log = logging.getLogger("assistant.web.api")


def _state(request: Request) -> ApiState:
    return request.app.state.api


def _check_document(assistant: AnswerService, document: str | None) -> None:
    if document is None:
        return
    known = [d.info.id for d in assistant.corpus.documents]
    if document not in known:
        raise ProvisionNotFoundError(f"unknown document '{document}'; choose one of {known}")


# --- routes ---------------------------------------------------------------------------

# Declares the bearer scheme in the OpenAPI schema; the check itself is ApiGuardMiddleware's,
# which runs before the body is read.
bearer = HTTPBearer(auto_error=False, description="Needed when the server has API tokens configured.")
router = APIRouter(prefix=API_PREFIX, tags=["assistant"], dependencies=[Depends(bearer)])


@router.post("/ask", response_model=Answer, responses=error_responses(400, 401, 404, 413, 422, 429, 503), summary="Answer a question with pinpoint citations")
async def ask(body: AskRequest, request: Request) -> Answer:
    state = _state(request)
    assistant = state.require()
    _check_document(assistant, body.document)
    answer = state.served.remember(await state.pool.run(assistant.ask, body.question, k=body.k, document=body.document, mode=body.mode, short_answer=body.short_answer))
    fields: dict[str, Any] = {
        "event": "ask",
        "request_id": request_id_var.get(),
        "question_chars": len(body.question),
        "document": body.document,
        "mode": answer.mode,
        "abstained": answer.abstained,
        "citations": [c.label for c in answer.citations],
    }
    if state.settings.log_questions:
        fields["question"] = body.question
    log.info("ask", extra={"fields": fields})
    return answer


@router.get("/search", response_model=list[Hit], responses=error_responses(400, 401, 404, 422, 429, 503), summary="Ranked provisions for a query")
async def search(
    request: Request,
    q: Annotated[str, Query(min_length=1, max_length=MAX_QUESTION_CHARS, pattern=NOT_BLANK, description=f"The query, 1 to {MAX_QUESTION_CHARS:,} characters, not all blank.")],
    k: Annotated[int | None, Query(ge=1, le=MAX_K, description="How many provisions; the server default when omitted.")] = None,
    document: Annotated[str | None, Query(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9-]*$", description="Search this document only.")] = None,
    mode: Annotated[RetrievalMode | None, Query(description="Retrieval signals: bm25, dense, hybrid or full (hybrid + reranking).")] = None,
) -> list[Hit]:
    state = _state(request)
    assistant = state.require()
    _check_document(assistant, document)
    return await state.pool.run(assistant.search, q, k=k, document=document, mode=mode)


@router.get(
    "/provisions/{document}/{provision}",
    response_model=Provision,
    responses=error_responses(400, 401, 404, 422, 429, 503),
    summary="One provision's full law text and units",
)
async def provision(
    request: Request,
    document: Annotated[str, PathParam(min_length=1, max_length=64, examples=["etra-2006"], description="Document id, e.g. 'etra-2006'.")],
    provision: Annotated[
        str,
        PathParam(min_length=1, max_length=64, examples=["Sch 2 cl 2"], description="Provision id as the law numbers it: '2.1.1', 'Sch 2 cl 2' (URL-encode the spaces), '4'."),
    ],
) -> Provision:
    assistant = _state(request).require()
    return assistant.provision(document, provision)


@router.post("/feedback", status_code=201, response_model=FeedbackReceipt, responses=error_responses(400, 401, 404, 413, 422, 429, 503), summary="Rate an answer or flag a citation")
def feedback(body: FeedbackRequest, request: Request) -> FeedbackReceipt:
    """Feedback is bound to an answer this server served (``answer_id``), stored with that answer as served;
    without an id it is kept as a comment on the question only, never as gold-set material."""
    state = _state(request)
    answer = None
    if body.answer_id is not None:
        answer = state.served.get(body.answer_id)
        if answer is None:
            raise AnswerNotServedError(f"no answer '{body.answer_id}' was served by this server (it keeps the last {state.served.capacity:,}); ask again and send the new answer_id")
        if " ".join(answer.question.split()) != " ".join(body.question.split()):
            raise RequestValidationError([{"loc": ("body", "question"), "msg": "is not the question of the answer with this answer_id", "type": "value_error"}], body=None)
    try:
        record = FeedbackRecord(**body.model_dump(exclude={"answer_id"}), answer=answer, source="api", settings=settings_snapshot(state.settings))
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False), body=None) from exc
    return FeedbackReceipt(id=state.feedback_store().add(record))


def _operations_routes(app: FastAPI) -> None:
    # Without this, unknown /api/ paths would fall through to the UI mounted at '/'.
    @app.api_route("/api/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
    async def unknown_api_route(request: Request, rest: str) -> None:
        path = request.url.path
        allowed = sorted({m for r in router.routes if isinstance(r, APIRoute) and r.path_regex.match(path) for m in r.methods})
        if allowed:
            raise StarletteHTTPException(405, f"{request.method} is not allowed on {path}; use {', '.join(allowed)}", headers={"Allow": ", ".join(allowed)})
        raise StarletteHTTPException(404, f"no API route '/api/{rest}'; the routes are listed at /docs")

    @app.get("/health", response_model=Health, tags=["operations"], summary="The process is up")
    async def health() -> Health:
        return Health(version=__version__)

    @app.get("/ready", response_model=Readiness, responses={503: {"model": Readiness, "description": "Still loading, or loading failed."}}, tags=["operations"], summary="The index and model are loaded")
    async def ready(request: Request):
        state = _state(request)
        assistant = state.assistant
        if state.ready and assistant is not None:
            return Readiness(
                status="ready",
                message="index and model loaded",
                documents=[d.info.id for d in assistant.corpus.documents],
                provisions=sum(len(d.provisions) for d in assistant.corpus.documents),
            )
        status, message = ("failed", f"loading failed: {state.failure}") if state.failure else ("loading", "loading the index and model")
        return JSONResponse(Readiness(status=status, message=message).model_dump(), status_code=503, headers={"Retry-After": "5"})


# --- errors ---------------------------------------------------------------------------


def _field(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc if part != "__root__") or "body"


def _problem_message(error: dict[str, Any]) -> str:
    message = str(error.get("msg", "invalid"))
    return message.removeprefix("Value error, ")


def _exception_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, exc: RequestValidationError):
        problems = [ValidationProblem(field=_field(tuple(e.get("loc", ()))), message=_problem_message(e)) for e in exc.errors()]
        summary = "; ".join(f"{p.field}: {p.message}" for p in problems[:3]) or "invalid request"
        return error_response(422, "invalid_request", summary, detail=[p.model_dump() for p in problems])

    @app.exception_handler(InvalidQuestionError)
    async def invalid_question(_request: Request, exc: InvalidQuestionError):
        return error_response(422, "invalid_request", str(exc))

    @app.exception_handler(ProvisionNotFoundError)
    async def not_found(_request: Request, exc: ProvisionNotFoundError):
        return error_response(404, "not_found", str(exc))

    @app.exception_handler(AnswerNotServedError)
    async def not_served(_request: Request, exc: AnswerNotServedError):
        return error_response(404, "answer_not_served", str(exc))

    @app.exception_handler(BusyError)
    async def busy(_request: Request, exc: BusyError):
        return error_response(503, "busy", str(exc), {"Retry-After": str(exc.retry_after)})

    @app.exception_handler(AssistantError)
    async def assistant_failure(_request: Request, exc: AssistantError):
        log.error("assistant error", exc_info=exc, extra={"fields": {"event": "error"}})
        return error_response(500, "internal_error", f"the assistant failed: {exc}")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException):
        codes = {400: "bad_request", 404: "not_found", 405: "method_not_allowed"}
        return error_response(exc.status_code, codes.get(exc.status_code, "http_error"), str(exc.detail), dict(exc.headers or {}))


# --- the application --------------------------------------------------------------------


def create_api(settings: Settings, assistant: AnswerService | None = None) -> FastAPI:
    """The JSON API as a FastAPI app; ``assistant=None`` serves 503 until one is attached.

    Usage::

        app = create_api(settings, Assistant.load(settings))
        uvicorn.run(app, host="127.0.0.1", port=7860, access_log=False)
    """
    tokens = load_tokens(settings)
    state = ApiState(settings, assistant)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if not tokens:
            log.warning("API tokens are not configured: /api/* is open to anyone who can reach this port", extra={"fields": {"event": "auth_off"}})
        warm = asyncio.get_running_loop().run_in_executor(None, state.warm_up)
        try:
            yield
        finally:
            warm.cancel()
            state.pool.shutdown()

    app = FastAPI(
        title="Victorian education law assistant API",
        version=__version__,
        description=(
            "Answers staff questions about the Education and Training Reform Act 2006 (Vic) and the VET clusters "
            "policy with pinpoint citations checked against the law text. Every error has the ErrorBody shape and "
            f"every response carries an {REQUEST_ID_HEADER} header."
        ),
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.api = state
    _self_hosted_docs(app)
    app.include_router(router)
    _operations_routes(app)
    _exception_handlers(app)
    # Added inner to outer: the guards run inside CORS (so preflights are answered) and the
    # request context wraps everything, so every response, refusals included, has a request id.
    app.add_middleware(ApiGuardMiddleware, settings=settings, tokens=tokens)
    if settings.api_cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.api_cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", REQUEST_ID_HEADER],
            expose_headers=[REQUEST_ID_HEADER, "Retry-After"],
        )
    app.add_middleware(RequestContextMiddleware, settings=settings)
    return app


def _self_hosted_docs(app: FastAPI) -> None:
    """/docs as Swagger UI from assets the app serves itself (FastAPI's default page loads them from a CDN, blank offline)."""
    assets = Path(str(importlib.resources.files("fastapi_swagger") / "resources"))
    app.mount(DOCS_ASSETS, StaticFiles(directory=assets), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} (reference)",
            swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_ASSETS}/favicon-32x32.png",
        )


def openapi_document() -> dict[str, Any]:
    """The schema as served, from default settings (it does not depend on local configuration)."""
    return create_api(Settings(api_tokens=[], api_token_file=None)).openapi()


def render_openapi() -> str:
    return json.dumps(openapi_document(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m assistant.web.api", description="Write or check the checked-in OpenAPI schema.")
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--write-openapi", action="store_true", help=f"write the schema to {OPENAPI_PATH.relative_to(PROJECT_ROOT)}")
    action.add_argument("--check-openapi", action="store_true", help="exit 1 when the checked-in schema differs from the served one")
    parser.add_argument("--path", type=Path, default=OPENAPI_PATH)
    args = parser.parse_args(argv)
    rendered = render_openapi()
    if args.write_openapi:
        args.path.parent.mkdir(parents=True, exist_ok=True)
        args.path.write_text(rendered, encoding="utf-8")
        print(f"wrote {args.path}")
        return 0
    current = args.path.read_text(encoding="utf-8") if args.path.is_file() else ""
    if current != rendered:
        print(f"{args.path} is out of date; run: python -m assistant.web.api --write-openapi", file=sys.stderr)
        return 1
    print(f"{args.path} is up to date")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
