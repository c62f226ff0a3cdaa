"""The VET clusters policy page parsed into five functions with their key activities."""

from __future__ import annotations

import pytest

from assistant.errors import CorpusError
from assistant.parse.policy import parse_policy_page


@pytest.fixture(scope="module")
def functions(corpus):
    return {p.provision_id: p for p in corpus.document("vet-clusters").provisions}


def test_five_functions(functions):
    assert list(functions) == ["1", "2", "3", "4", "5"]
    assert functions["4"].heading == "Coordinate student access to VET"
    assert functions["4"].path == ["Vocational Education and Training Clusters", "Operational functions and key activities"]


def test_function_4_keeps_each_key_activity(functions):
    function = functions["4"]
    assert [u.pinpoint for u in function.units] == [f"activity {n}" for n in range(1, 9)]
    assert function.unit_text(function.unit("activity 2")) == "- Negotiate provision with TAFEs and RTOs"


def test_nested_bullets_stay_nested(functions):
    function = functions["2"]
    engage = function.unit("activity 2")
    nested = function.unit("activity 2.3")
    assert nested.start > engage.start and nested.end <= engage.end
    assert "Regional Pathways Workforce" in function.unit_text(nested)


def test_page_chrome_is_removed(functions):
    everything = "\n".join(p.text for p in functions.values())
    for chrome in ("Was this page helpful", "External Link", "Includes information on", "Reviewed 24 July 2025", "VIC.GOV.AU"):
        assert chrome not in everything


def test_a_page_without_numbered_functions_is_refused():
    with pytest.raises(CorpusError, match="page.txt: no numbered functions"):
        parse_policy_page("Just a heading\n\nSome prose.", "x", "page.txt")
