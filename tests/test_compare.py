"""Answer-for-answer comparison of two evaluation runs (`assistant eval --same-as`)."""

from __future__ import annotations

import pytest

from assistant.errors import EvaluationError
from assistant.evaluation.compare import compare_results, load_results
from assistant.evaluation.results import CitedProvision, ItemResult, RankedProvision


def result(item_id: str = "q1", **changes) -> ItemResult:
    base = {
        "id": item_id,
        "question": "Until what age must a child attend school?",
        "kind": "fact",
        "difficulty": "easy",
        "documents": "act",
        "answerable": True,
        "expected": ["etra-2006/2.1.1"],
        "key_facts": ["17"],
        "retrieved": [
            RankedProvision(rank=1, key="etra-2006/2.1.1", label="s 2.1.1", score=1.2),
            RankedProvision(rank=2, key="etra-2006/2.1.4", label="s 2.1.4", score=0.8),
        ],
        "answer": "Under s 2.1.1(a) of the Act: “It is the duty of the parent …” [1].",
        "citations": [CitedProvision(key="etra-2006/2.1.1", pinpoint="(a)", label="s 2.1.1(a)")],
        "abstained": False,
        "latency_ms": 120.0,
        "scores": {"recall@5": 1.0},
    }
    return ItemResult(**{**base, **changes})


def test_identical_runs_differ_in_nothing_even_when_latency_and_tiny_score_noise_differ():
    after = result(latency_ms=999.0, retrieved=[r.model_copy(update={"score": r.score + 1e-6}) for r in result().retrieved])
    assert compare_results([result()], [after]) == []


@pytest.mark.parametrize(
    ("change", "what"),
    [
        ({"answer": "Something else [1]."}, "answer text"),
        ({"citations": [CitedProvision(key="etra-2006/2.1.1", pinpoint="(b)", label="s 2.1.1(b)")]}, "citations"),
        ({"abstained": True, "abstain_reason": "support below threshold"}, "abstention"),
        ({"error": "RuntimeError: boom"}, "error"),
        ({"retrieved": list(reversed(result().retrieved))}, "retrieved order"),
        ({"retrieved": [result().retrieved[0].model_copy(update={"score": 0.5}), result().retrieved[1]]}, "retrieval scores moved"),
    ],
    ids=["text", "pinpoint", "abstention", "error", "order", "score"],
)
def test_each_kind_of_change_is_reported_with_the_item(change, what):
    differences = compare_results([result()], [result(**change)])
    assert len(differences) == 1
    assert differences[0].startswith(f"q1: {what}")


def test_items_missing_from_either_run_are_reported():
    differences = compare_results([result("q1"), result("q2")], [result("q1"), result("q3")])
    assert differences == ["q3: only in the new run", "q2: only in the earlier run"]


def test_results_round_trip_through_a_run_folder(tmp_path):
    (tmp_path / "results.jsonl").write_text(result().model_dump_json() + "\n", encoding="utf-8")
    assert load_results(tmp_path) == [result()]


def test_an_unreadable_earlier_run_names_the_file_and_the_fix(tmp_path):
    with pytest.raises(EvaluationError, match=r"results\.jsonl.*assistant eval --out"):
        load_results(tmp_path)
