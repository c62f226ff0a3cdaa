"""The quality gate: eval/thresholds.json, how shortfalls are reported, and the real run against it."""

from __future__ import annotations

import json

import pytest

from assistant.errors import EvaluationError
from assistant.evaluation.gold import load_gold
from assistant.evaluation.report import TARGETS
from assistant.evaluation.run import check_gate, load_thresholds, run_evaluation
from assistant.settings import PROJECT_ROOT

THRESHOLDS = PROJECT_ROOT / "eval" / "thresholds.json"
GOLD = PROJECT_ROOT / "eval" / "gold.jsonl"
BANK_TEST = PROJECT_ROOT / "eval" / "questions" / "test.jsonl"
BANK_TEST_THRESHOLDS = PROJECT_ROOT / "eval" / "thresholds-bank-test.json"


@pytest.mark.parametrize("thresholds_file", [THRESHOLDS, BANK_TEST_THRESHOLDS], ids=["gold", "bank-test"])
def test_checked_in_thresholds_gate_every_figure_the_issue_targets(thresholds_file):
    thresholds = load_thresholds(thresholds_file)
    gated = {metric: bound for bound, limits in thresholds.items() for metric in limits}
    assert {metric: bound for metric, (bound, _) in TARGETS.items()}.items() <= gated.items()


@pytest.mark.parametrize(
    ("overall", "failures"),
    [
        ({"recall@5": 0.96, "false_abstention_rate": 0.0, "errors": 0}, []),
        ({"recall@5": 0.90, "false_abstention_rate": 0.0, "errors": 0}, ["recall@5 = 0.9000 is below the minimum 0.95 by 0.0500"]),
        ({"recall@5": 0.95, "false_abstention_rate": 0.08, "errors": 0}, ["false_abstention_rate = 0.0800 is above the maximum 0.05 by 0.0300"]),
        ({"recall@5": None, "false_abstention_rate": 0.0, "errors": 0}, ["recall@5 was not measured (no items it applies to); the gate needs it ≥ 0.95"]),
        ({"recall@5": 1.0, "false_abstention_rate": 0.0, "errors": 2}, ["2 item(s) raised an error instead of answering (see 'error' in results.jsonl)"]),
    ],
    ids=["passes", "below-minimum", "above-maximum", "not-measured", "errors"],
)
def test_check_gate_says_which_metric_failed_by_how_much(overall, failures):
    assert check_gate(overall, {"min": {"recall@5": 0.95}, "max": {"false_abstention_rate": 0.05}}) == failures


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"min": {"recal@5": 0.9}}', "unknown metric 'recal@5'"),
        ('{"min": {"recall@5": "high"}}', "must be a number"),
        ('{"min": {"recall@5": true}}', "must be a number"),
        ('{"minimum": {"recall@5": 0.9}}', "expected"),
        ('{"min": [0.9]}', "must map metric names"),
        ("not json", "not a JSON thresholds file"),
    ],
    ids=["typo-in-metric", "string", "bool", "wrong-key", "list", "not-json"],
)
def test_malformed_thresholds_are_refused(tmp_path, content, message):
    path = tmp_path / "thresholds.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(EvaluationError, match=message):
        load_thresholds(path)


def test_missing_thresholds_file_is_named(tmp_path):
    with pytest.raises(EvaluationError, match="thresholds file not found"):
        load_thresholds(tmp_path / "nope.json")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("gold", "thresholds_file"),
    [pytest.param(GOLD, THRESHOLDS, id="gold"), pytest.param(BANK_TEST, BANK_TEST_THRESHOLDS, id="bank-test")],
)
def test_default_assistant_meets_the_thresholds(built_index_settings, tmp_path, gold, thresholds_file):
    """The same code path as `assistant eval --gate`, on the default configuration (index in a tmp folder)."""
    thresholds = load_thresholds(thresholds_file)
    run = run_evaluation(built_index_settings, gold, out=tmp_path, progress=False, thresholds=thresholds)
    failures = check_gate(run.headline.summary["overall"], thresholds)
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["overall"]["items"] == len(load_gold(gold).items)
    assert not failures, "\n".join(failures) + f"\nsee {tmp_path / 'report.md'}"
