"""Python client for the HTTP API: returns the same ``Answer``, ``Hit`` and ``Provision`` records.

Usage::

    from assistant.web.client import Client

    with Client("http://127.0.0.1:7860", token="...") as client:
        answer = client.ask("Until what age must a child attend school?")
        print(answer.text)
        for citation in answer.citations:
            print(citation.label, citation.quote)

A busy server answers 503 with Retry-After; the client waits that long (at most
``max_retry_wait`` seconds) and tries again, up to ``retries`` times. Every other
error raises ``ApiError`` with the server's message and request id.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import TypeAdapter

from assistant import __version__
from assistant.errors import AssistantError
from assistant.records import Answer, Hit, Provision

_HITS = TypeAdapter(list[Hit])


class ApiError(AssistantError):
    """The server refused or failed a request, or could not be reached (``status_code`` None)."""

    def __init__(self, message: str, *, status_code: int | None = None, error: str = "", request_id: str = "", retry_after: float | None = None):
        super().__init__(message)
        self.status_code = status_code
        self.error = error
        self.request_id = request_id
        self.retry_after = retry_after


class Client:
    """A small synchronous client; one instance reuses its connections and is safe to share between threads."""

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        timeout: float = 60.0,
        retries: int = 3,
        max_retry_wait: float = 30.0,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        headers = {"User-Agent": f"etra-assistant-client/{__version__}", "Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.retries = max(0, retries)
        self.max_retry_wait = max_retry_wait
        self._sleep = sleep
        self._http = httpx.Client(base_url=base_url.rstrip("/"), headers=headers, timeout=timeout, transport=transport)

    def ask(self, question: str, *, k: int | None = None, document: str | None = None, mode: str | None = None, short_answer: bool = False) -> Answer:
        """``short_answer=True`` asks for the checked plain-language answer too (slower)."""
        body = _without_none({"question": question, "k": k, "document": document, "mode": mode, "short_answer": short_answer or None})
        return Answer.model_validate(self._request("POST", "/api/v1/ask", json=body))

    def search(self, query: str, *, k: int | None = None, document: str | None = None, mode: str | None = None) -> list[Hit]:
        params = _without_none({"q": query, "k": k, "document": document, "mode": mode})
        return _HITS.validate_python(self._request("GET", "/api/v1/search", params=params))

    def provision(self, document_id: str, provision_id: str) -> Provision:
        """One provision; ids with spaces ('Sch 2 cl 2') are URL-encoded here."""
        path = f"/api/v1/provisions/{quote(document_id, safe='')}/{quote(provision_id, safe='')}"
        return Provision.model_validate(self._request("GET", path))

    def feedback(
        self,
        question: str,
        *,
        answer: Answer | None = None,
        rating: str | None = None,
        comment: str = "",
        wrong_citation: bool = False,
        citation_label: str | None = None,
    ) -> int:
        """Record feedback on an answer; returns the stored row id."""
        body = _without_none(
            {
                "question": question,
                "answer_id": answer.answer_id if answer is not None else None,
                "rating": rating,
                "comment": comment,
                "wrong_citation": wrong_citation,
                "citation_label": citation_label,
            }
        )
        return int(self._request("POST", "/api/v1/feedback", json=body)["id"])

    def health(self) -> dict[str, Any]:
        return self._request("GET", "/health")

    def ready(self) -> bool:
        """True once the server has its index and model loaded (no retries: a probe should be quick)."""
        try:
            return self._http.get("/ready").status_code == 200
        except httpx.TransportError:
            return False

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        attempt = 0
        while True:
            response = self._send(method, path, **kwargs)
            if response.status_code == 503 and attempt < self.retries:
                attempt += 1
                self._sleep(min(_retry_after(response) or 1.0, self.max_retry_wait))
                continue
            if response.is_success:
                return response.json()
            raise _api_error(method, path, response)

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return self._http.request(method, path, **kwargs)
        except httpx.TimeoutException as exc:
            raise ApiError(f"{method} {path}: no answer within {self._http.timeout.read} s ({type(exc).__name__}); raise the client timeout or try later") from exc
        except httpx.TransportError as exc:
            raise ApiError(f"{method} {path}: cannot reach {self._http.base_url} ({exc}); is the server running?") from exc


def _without_none(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _api_error(method: str, path: str, response: httpx.Response) -> ApiError:
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    message = body.get("message") or response.text[:200] or response.reason_phrase
    return ApiError(
        f"{method} {path}: HTTP {response.status_code}: {message}",
        status_code=response.status_code,
        error=str(body.get("error", "")),
        request_id=str(body.get("request_id") or response.headers.get("X-Request-ID", "")),
        retry_after=_retry_after(response),
    )
