"""HTTP API guards: request ids and JSON logs, bearer tokens, rate limits and body size.

They are plain ASGI middleware rather than FastAPI dependencies so that they run
before the body is read and validated: a client without a valid token gets 401
even when its JSON is malformed, and an oversized body is refused before it is
parsed. Paths under ``/api/`` are always guarded, the mounted UI by the same
rules when tokens are configured without a UI login; ``/health``, ``/ready`` and
the API reference are open.
"""

from __future__ import annotations

import contextvars
import hashlib
import hmac
import json
import logging
import math
import re
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

from starlette.responses import JSONResponse

from assistant.errors import AssistantError
from assistant.settings import Settings

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

API_PATH_PREFIX = "/api/"
# Open on every server: liveness and readiness for load balancers, and the API's reference.
OPEN_PATHS = ("/health", "/ready", "/openapi.json", "/docs")
# When a client refused by the UI's full queue should try again.
QUEUE_RETRY_AFTER_S = 5
REQUEST_ID_HEADER = "X-Request-ID"
# A client-chosen request id is echoed only when it is short and plain, so it cannot
# forge log lines or smuggle header syntax; anything else is replaced by a fresh one.
_CLIENT_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

log = logging.getLogger("assistant.web.api")


class JsonLogFormatter(logging.Formatter):
    """One JSON object per line, with the request id and any ``extra={"fields": {...}}``.

    Log shippers (journald, Loki, CloudWatch) parse these without a custom grammar.
    """

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": request_id_var.get(),
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_json_logging(level: int = logging.INFO) -> None:
    """Send the assistant's and uvicorn's error logs to stderr as JSON lines."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonLogFormatter())
    for name in ("assistant", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.setLevel(level)
        logger.propagate = False


def error_response(status: int, error: str, message: str, headers: dict[str, str] | None = None, detail: list[dict[str, str]] | None = None) -> JSONResponse:
    """The one error body every route and guard returns (the ``ErrorBody`` model in the schema)."""
    body = {"error": error, "message": message, "request_id": request_id_var.get(), "detail": detail}
    return JSONResponse(body, status_code=status, headers=headers)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def _client_host(scope: Scope) -> str:
    client = scope.get("client")
    return client[0] if client else "unknown"


class RequestContextMiddleware:
    """Gives each request an id (echoed as X-Request-ID) and logs one JSON line when it ends.

    The log holds the path without its query string: ``/api/v1/search?q=...``
    carries a staff member's question, which stays out of logs unless
    ``settings.log_questions`` is on. An exception that escapes the app becomes a
    500 with the usual error body (and is logged with its traceback), never a bare
    stack trace to the client.
    """

    def __init__(self, app: ASGIApp, settings: Settings):
        self.app = app
        self.log_query = settings.log_questions

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        offered = _header(scope, b"x-request-id")
        request_id = offered if offered and _CLIENT_REQUEST_ID.fullmatch(offered) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500
        started_response = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, started_response
            if message["type"] == "http.response.start":
                started_response = True
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("unexpected error", extra={"fields": {"event": "error", "path": scope.get("path")}})
            if started_response:
                raise
            response = error_response(500, "internal_error", f"unexpected server error; quote request id {request_id} when reporting it")
            await response(scope, receive, send_with_id)
        finally:
            path = scope.get("path", "")
            fields: dict[str, Any] = {
                "event": "request",
                "request_id": request_id,
                "method": scope.get("method"),
                "path": path,
                "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                "client": _client_host(scope),
                "caller": scope.get("state", {}).get("caller"),
            }
            if self.log_query and scope.get("query_string"):
                fields["query"] = scope["query_string"].decode("latin-1")
            if path.startswith(API_PATH_PREFIX) or path in ("/health", "/ready"):
                log.info("request", extra={"fields": fields})
            request_id_var.reset(token)


def open_door_problem(settings: Settings, host: str) -> str | None:
    """Why the server must not start on ``host``: beyond loopback with no token and no UI login, anyone who can reach it may use it."""
    loopback = host in ("localhost", "::1") or host.startswith("127.")
    if loopback or settings.allow_open or load_tokens(settings) or (settings.ui_username and settings.ui_password.get_secret_value()):
        return None
    return (
        f"refusing to serve on {host} with no API token and no UI login: set ASSISTANT_API_TOKENS (programs) and "
        "ASSISTANT_UI_USERNAME/ASSISTANT_UI_PASSWORD (people), or ASSISTANT_ALLOW_OPEN=true to serve it open on purpose"
    )


def load_tokens(settings: Settings) -> list[str]:
    """API tokens from ``settings.api_tokens`` and ``settings.api_token_file`` (one per line, '#' comments).

    A configured token file that is missing or holds no token is an error rather
    than an open API: failing closed is the safe reading of a broken configuration.
    """
    tokens = [secret.get_secret_value().strip() for secret in settings.api_tokens]
    path = settings.api_token_file
    if path is not None:
        try:
            lines = Path(path).read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise AssistantError(f"API token file {path} cannot be read ({exc.strerror}); fix ASSISTANT_API_TOKEN_FILE or remove it to run without auth") from exc
        from_file = [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
        if not from_file:
            raise AssistantError(f"API token file {path} holds no token; put one token per line")
        tokens.extend(from_file)
    return [token for token in tokens if token]


def token_fingerprint(token: str) -> str:
    """A short, non-reversible name for a token, safe to log and to key rate limits by."""
    return "tok_" + hashlib.sha256(token.encode()).hexdigest()[:10]


class TokenBucket:
    """Per-caller token buckets: ``per_minute`` requests a minute, bursts up to ``per_minute``.

    Classic token bucket (Turner 1986; as in RFC 2697's committed burst): a caller's
    bucket refills at ``per_minute / 60`` tokens a second up to its capacity, and
    each request takes one token.
    """

    MAX_CALLERS = 10_000

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic):
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, caller: str) -> float:
        """Take one token; returns 0 when allowed, otherwise the seconds until a token is free."""
        now = self.clock()
        with self._lock:
            tokens, stamp = self._buckets.get(caller, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - stamp) * self.rate)
            if tokens >= 1.0:
                self._buckets[caller] = (tokens - 1.0, now)
                return 0.0
            self._buckets[caller] = (tokens, now)
            if len(self._buckets) > self.MAX_CALLERS:
                self._forget_idle(now)
            return (1.0 - tokens) / self.rate

    def _forget_idle(self, now: float) -> None:
        full_after = self.capacity / self.rate
        self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < full_after}


class ApiGuardMiddleware:
    """One policy for every door of the server: bearer-token auth, a per-caller rate limit and a body size limit, in that order.

    ``/api/`` paths always go through all three. The UI's own routes (the page, ``/config``,
    ``/gradio_api/...``, the queue) need a token too when tokens are configured and no UI
    login is (with a UI login, Gradio's login page guards them), and the UI's POSTs, the
    ones that run the assistant, get the same rate and body limits. The operations routes
    and the API reference (``OPEN_PATHS``) stay open. Cross-origin headers are sent only to
    the configured origins, on every route (Gradio's own reflect any localhost page).
    """

    def __init__(self, app: ASGIApp, settings: Settings, tokens: list[str]):
        self.app = app
        self.tokens = [t.encode() for t in tokens]
        self.limiter = TokenBucket(settings.api_rate_limit_per_minute) if settings.api_rate_limit_per_minute > 0 else None
        self.max_body = settings.api_max_body_bytes
        self.ui_login = bool(settings.ui_username and settings.ui_password.get_secret_value())
        self.cors_origins = {origin.encode() for origin in settings.api_cors_origins}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        is_api = path.startswith(API_PATH_PREFIX)
        if not is_api and path.startswith(OPEN_PATHS):
            await self.app(scope, receive, _ui_send(scope, send, self.cors_origins))
            return
        needs_token = is_api or (bool(self.tokens) and not self.ui_login)
        runs_work = is_api or scope.get("method") in ("POST", "PUT", "PATCH")
        caller, refusal = self._authenticate(scope) if needs_token else ("ip:" + _client_host(scope), None)
        if refusal is None and self.limiter is not None and runs_work:
            refusal = self._rate_limit(caller)
        if refusal is None and runs_work:
            receive, refusal = await self._bounded_body(scope, receive)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        scope.setdefault("state", {})["caller"] = caller
        await self.app(scope, receive, send if is_api else _ui_send(scope, send, self.cors_origins))

    def _authenticate(self, scope: Scope) -> tuple[str, JSONResponse | None]:
        if not self.tokens:
            return "ip:" + _client_host(scope), None
        header = _header(scope, b"authorization") or ""
        scheme, _, offered = header.partition(" ")
        if scheme.lower() != "bearer" or not offered.strip():
            needed = (
                "this API needs a bearer token: send 'Authorization: Bearer <token>'"
                if scope.get("path", "").startswith(API_PATH_PREFIX)
                else "this server needs a bearer token (programs) or the UI login (people: set ASSISTANT_UI_USERNAME and ASSISTANT_UI_PASSWORD)"
            )
            return "", error_response(401, "unauthorized", needed, {"WWW-Authenticate": 'Bearer realm="assistant"'})
        offered_bytes = offered.strip().encode()
        matched: bytes | None = None
        # Compare with every token, in constant time each, so timing reveals neither which nor how much matched.
        for token in self.tokens:
            if hmac.compare_digest(token, offered_bytes):
                matched = token
        if matched is None:
            return "", error_response(
                401, "unauthorized", "the bearer token is not valid for this server", {"WWW-Authenticate": 'Bearer realm="assistant", error="invalid_token"'}
            )
        return token_fingerprint(matched.decode()), None

    def _rate_limit(self, caller: str) -> JSONResponse | None:
        wait = self.limiter.take(caller)
        if wait <= 0:
            return None
        seconds = max(1, math.ceil(wait))
        limit = int(self.limiter.capacity)
        return error_response(429, "rate_limited", f"over the limit of {limit} requests a minute for this caller; retry in {seconds} s", {"Retry-After": str(seconds)})

    async def _bounded_body(self, scope: Scope, receive: Receive) -> tuple[Receive, JSONResponse | None]:
        """Read the body up front (it is small by contract) and refuse it past the limit."""
        declared = _header(scope, b"content-length")
        too_large = error_response(413, "body_too_large", f"request body over the {self.max_body}-byte limit")
        if declared is not None:
            if not declared.isdigit():
                return receive, error_response(400, "bad_request", "Content-Length is not a number")
            if int(declared) > self.max_body:
                return receive, too_large
        if scope.get("method") not in ("POST", "PUT", "PATCH"):
            return receive, None
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return receive, error_response(400, "bad_request", "client disconnected before sending the body")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                return receive, too_large
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return replay, None


def _ui_send(scope: Scope, send: Send, allowed: set[bytes]) -> Send:
    """``send`` for the UI's routes: cross-origin headers dropped unless the request's Origin is one of ``allowed``,
    and a 503 (Gradio's full queue) told when to come back (``Retry-After``), as the API's are."""
    origin = (_header(scope, b"origin") or "").encode()
    keep_cors = bool(origin) and origin in allowed

    async def send_plain(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = [(k, v) for k, v in message.get("headers", []) if keep_cors or not k.lower().startswith(b"access-control-")]
            if message["status"] == 503 and not any(k.lower() == b"retry-after" for k, _ in headers):
                headers.append((b"retry-after", str(QUEUE_RETRY_AFTER_S).encode()))
            message["headers"] = headers
        await send(message)

    return send_plain
