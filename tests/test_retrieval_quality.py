"""Retrieval quality on the development questions, every mode side by side.

Each stage must earn its place: the tables printed by these tests are the evidence.
The old development questions (tests/data/dev_questions.jsonl) are short and
direct; the question bank's dev split (eval/questions/dev.jsonl) is written as
staff ask, mostly scenarios. The held-out gold set and the bank's test split are
never used here.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.corpus import load_corpus
from assistant.embed import Embedder
from assistant.evaluation.bank import BANK_DIR
from assistant.evaluation.metrics import hit_at_k, provision_key, reciprocal_rank
from assistant.index import load_index
from assistant.retrieve import MODES, Retriever

DEV = Path(__file__).parent / "data" / "dev_questions.jsonl"
BANK_DEV = BANK_DIR / "dev.jsonl"

# What the stack reaches on the old development questions (hit rate: an answering provision in the top 5).
# Measured on 76 answerable questions (recall@5 / MRR@10) with the tuned embedder: bm25 0.882/0.715, dense 0.947/0.788,
# hybrid 0.961/0.843, second stage without its cross-encoder ("rules") 0.961/0.857, with it but without
# the question memory ("cross") 1.000/0.870, full 0.974/0.943. The floors leave room for CPUs without
# bfloat16, where the cross-encoder runs in float32 and its scores differ in the third decimal.
# The question memory helps least here: near copies of these very questions were removed from the written
# questions it searches, so their nearest written questions are mostly about neighbouring provisions; a
# stronger vote than 3.5 pushed R@5 below "cross" (docs/experiments.md, second stage).
# Floors a CPU without native bfloat16 clears too: there the cross-encoder runs in float32, and that rounding
# alone moves one of these 76 questions out of the full pipeline's top five (74 -> 73).
FLOORS = {
    "bm25": {"recall@5": 0.86, "mrr@10": 0.69},
    "dense": {"recall@5": 0.92, "mrr@10": 0.76},
    "hybrid": {"recall@5": 0.94, "mrr@10": 0.82},
    "rules": {"recall@5": 0.94, "mrr@10": 0.83},
    "cross": {"recall@5": 0.96, "mrr@10": 0.85},
    "full": {"recall@5": 0.96, "mrr@10": 0.92},
}


def dev_questions() -> list[dict]:
    rows = [json.loads(line) for line in DEV.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [row for row in rows if row.get("answerable", True) and row.get("expected")]


def evaluate(retriever: Retriever, questions: list[dict], mode: str) -> dict[str, float]:
    totals = {"recall@1": 0.0, "recall@5": 0.0, "recall@10": 0.0, "mrr@10": 0.0}
    for row in questions:
        relevant = {f"{e['document']}/{e['provision']}" for e in row["expected"]}
        ranked = [f"{h.document_id}/{h.provision_id}" for h in retriever.retrieve(row["question"], k=10, mode=mode)]
        totals["recall@1"] += hit_at_k(ranked, relevant, 1)
        totals["recall@5"] += hit_at_k(ranked, relevant, 5)
        totals["recall@10"] += hit_at_k(ranked, relevant, 10)
        totals["mrr@10"] += reciprocal_rank(ranked, relevant, 10)
    return {name: value / len(questions) for name, value in totals.items()}


@pytest.mark.slow
@pytest.mark.skipif(not DEV.is_file(), reason="tests/data/dev_questions.jsonl not present")
def test_each_stage_earns_its_place(built_index_settings, capsys):
    settings = built_index_settings
    corpus = load_corpus(settings)
    embedder = Embedder(settings)
    index = load_index(settings, corpus, embedder)
    retriever = Retriever(corpus, index, embedder, settings)
    rules_only = Retriever(corpus, index, embedder, settings.model_copy(update={"reranker_weight": 0.0, "question_memory_weight": 0.0}))
    without_memory = Retriever(corpus, index, embedder, settings.model_copy(update={"question_memory_weight": 0.0}))
    questions = dev_questions()
    assert len(questions) >= 40
    results = {mode: evaluate(retriever, questions, mode) for mode in MODES if mode != "full"}
    results["rules"] = evaluate(rules_only, questions, "full")
    results["cross"] = evaluate(without_memory, questions, "full")
    results["full"] = evaluate(retriever, questions, "full")
    with capsys.disabled():
        print(f"\nretrieval on {len(questions)} development questions (hit rate of an answering provision)")
        print(f"{'mode':<8}" + "".join(f"{name:>11}" for name in results["bm25"]))
        for mode, metrics in results.items():
            print(f"{mode:<8}" + "".join(f"{value:>11.3f}" for value in metrics.values()))
    assert results["hybrid"]["mrr@10"] >= max(results["bm25"]["mrr@10"], results["dense"]["mrr@10"])
    assert results["rules"]["mrr@10"] >= results["hybrid"]["mrr@10"]
    assert results["cross"]["mrr@10"] > results["rules"]["mrr@10"]
    # The memory may cost these short direct questions at most two of them from the top five, for more at the top: with
    # the tuned embedder the stage without it reaches all 76 in the top five, and the memory moves R@1 0.776 -> 0.908
    # while two fall to sixth or below (docs/experiments.md, first stage); bfloat16 against float32 rounding in the
    # cross-encoder moves one question across the cut on its own.
    assert results["full"]["recall@5"] >= results["cross"]["recall@5"] - 2 / len(questions)
    assert results["full"]["recall@1"] > results["cross"]["recall@1"] + 0.05
    for mode, floors in FLOORS.items():
        for metric, floor in floors.items():
            assert results[mode][metric] >= floor, f"{mode} {metric} {results[mode][metric]:.3f} < {floor}"


@pytest.mark.slow
def test_the_question_memory_earns_its_place_on_questions_written_as_staff_ask(built_index_settings, capsys):
    """On the bank's dev split (standalone answerable items; 120 of them to keep the suite quick)."""
    settings = built_index_settings
    corpus = load_corpus(settings)
    embedder = Embedder(settings)
    index = load_index(settings, corpus, embedder)
    rows = [json.loads(line) for line in BANK_DEV.read_text(encoding="utf-8").splitlines() if line.strip()]
    questions = [
        {"question": row["question"], "expected": [dict(zip(("document", "provision"), provision_key(e["document"], e["provision"]).split("/", 1), strict=True)) for e in row["expected"]]}
        for row in rows
        if row["answerable"] and row["expected"] and not row.get("follow_up_of")
    ][:120]
    results = {
        "cross": evaluate(Retriever(corpus, index, embedder, settings.model_copy(update={"question_memory_weight": 0.0})), questions, "full"),
        "full": evaluate(Retriever(corpus, index, embedder, settings), questions, "full"),
    }
    with capsys.disabled():
        print(f"\nretrieval on {len(questions)} of the question bank's dev items (hit rate of an answering provision)")
        for mode, metrics in results.items():
            print(f"{mode:<8}" + "".join(f"{name} {value:.3f}  " for name, value in metrics.items()))
    assert results["full"]["recall@1"] >= results["cross"]["recall@1"] + 0.05
    assert results["full"]["mrr@10"] >= results["cross"]["mrr@10"] + 0.04
    assert results["full"]["recall@5"] >= results["cross"]["recall@5"]
