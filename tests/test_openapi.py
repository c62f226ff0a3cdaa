"""The checked-in API schema (docs/openapi.json) is the one the server serves."""

from __future__ import annotations

import json
import re

from fastapi.testclient import TestClient

from assistant.settings import Settings
from assistant.web.api import OPENAPI_PATH, create_api, render_openapi

REGENERATE = "schema drifted: run `python -m assistant.web.api --write-openapi` and commit docs/openapi.json"


def test_checked_in_schema_matches_the_code():
    assert OPENAPI_PATH.read_text(encoding="utf-8") == render_openapi(), REGENERATE


def test_served_schema_matches_the_checked_in_copy(tmp_settings: Settings):
    """Local settings (tokens, limits) must not change the published contract."""
    configured = Settings(**{**tmp_settings.model_dump(), "api_tokens": ["t"], "api_rate_limit_per_minute": 5, "api_cors_origins": ["https://x.example"]})
    served = TestClient(create_api(configured)).get("/openapi.json").json()
    assert served == json.loads(OPENAPI_PATH.read_text(encoding="utf-8")), REGENERATE


def test_schema_lists_every_route_with_its_error_responses():
    paths = json.loads(OPENAPI_PATH.read_text(encoding="utf-8"))["paths"]
    assert {"/api/v1/ask", "/api/v1/search", "/api/v1/provisions/{document}/{provision}", "/api/v1/feedback", "/health", "/ready"} <= set(paths)
    ask = paths["/api/v1/ask"]["post"]
    assert {"200", "401", "413", "422", "429", "503"} <= set(ask["responses"])
    assert ask["security"] == [{"HTTPBearer": []}]


def test_docs_page_loads_swagger_ui_from_the_app_itself(tmp_settings: Settings):
    """/docs works on a machine with no internet: every script, stylesheet and icon it names is served by the app."""
    client = TestClient(create_api(tmp_settings))
    page = client.get("/docs")
    assert page.status_code == 200 and "SwaggerUIBundle" in page.text
    urls = re.findall(r"""(?:src|href|url)\s*[=:]\s*['"]([^'"]+)['"]""", page.text)
    assert urls and not [u for u in urls if "//" in u], "the page names another host"
    for url in urls:
        assert client.get(url).status_code == 200, url
    assert client.get("/redoc").status_code == 404  # ReDoc would load from a CDN; it is not offered
