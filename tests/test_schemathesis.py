"""Property-based run of the checked-in OpenAPI schema against the real server on loopback (schemathesis).

For every operation, schemathesis generates schema-valid requests (positive) and
schema-breaking ones (negative) and checks each response: never a 5xx, only
documented status codes and content types, bodies that match the documented
schema, and invalid requests refused. Examples are bounded and derandomized so the
run is reproducible and stays well under a minute.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from schemathesis import GenerationMode

from assistant.settings import Settings
from assistant.web.api import OPENAPI_PATH
from assistant.web.server import create_server, serve_in_background

pytestmark = pytest.mark.slow

TOKEN = "schemathesis-token-0123456789"
# schemathesis's default list of statuses that count as "refused", plus 413: a body over the
# size limit is refused before it is parsed.
REFUSALS = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429", "5xx"]
CONFIG = schemathesis.Config.from_dict({"checks": {"negative_data_rejection": {"expected-statuses": REFUSALS}}})
SCHEMA = schemathesis.openapi.from_path(OPENAPI_PATH, config=CONFIG)
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]
EXAMPLES = {GenerationMode.POSITIVE: 20, GenerationMode.NEGATIVE: 12}
# Rules the schema cannot state: feedback must carry a rating, a comment or a flag, and a
# question made only of control characters is cleaned to nothing. Schema-valid requests
# breaking them get a documented 422, so the "valid data is accepted" check is skipped there.
SEMANTIC_RULES = {"POST /api/v1/feedback", "POST /api/v1/ask", "GET /api/v1/search"}


@pytest.fixture(scope="module")
def server(built_index_settings: Settings, tmp_path_factory) -> str:
    from assistant.pipeline import Assistant

    settings = Settings(
        **{
            **built_index_settings.model_dump(),
            "data_dir": tmp_path_factory.mktemp("schemathesis-data"),
            "api_tokens": [TOKEN],
            "api_rate_limit_per_minute": 100_000,
        }
    )
    with serve_in_background(create_server(settings, Assistant.load(settings, build_if_missing=False))) as url:
        yield url


def _takes_input(operation) -> bool:
    return bool(list(operation.iter_parameters())) or operation.body


@pytest.mark.parametrize("mode", list(EXAMPLES), ids=lambda mode: mode.value)
@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda operation: operation.label)
def test_no_server_errors_and_responses_match_the_schema(server, operation, mode):
    if mode is GenerationMode.NEGATIVE and not _takes_input(operation):
        pytest.skip(f"{operation.label} takes no input to break")
    excluded = [schemathesis.checks.positive_data_acceptance] if operation.label in SEMANTIC_RULES else []

    @hypothesis_settings(
        max_examples=EXAMPLES[mode],
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def check(case) -> None:
        case.call_and_validate(base_url=server, headers={"Authorization": f"Bearer {TOKEN}"}, excluded_checks=excluded, timeout=60)

    check()
