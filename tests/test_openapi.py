"""The checked-in API schema (docs/openapi.json) is the one the server serves."""

from __future__ import annotations

import json

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
