"""The question memory: a question close to a written staff question favours the provision that answers it."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from assistant.records import TrainingQuestion
from assistant.retrieve.candidates import Candidate
from assistant.retrieve.question_memory import QuestionMemory
from assistant.retrieve.second_stage import MEMORY_ONLY, in_document, kept_first


def _memory(rows: list[tuple[str, list[float]]], known: set[str], neighbours: int, floor: float = 0.0) -> QuestionMemory:
    questions = [TrainingQuestion(question=f"q{i}", document=uid.split("/")[0], provision=uid.split("/")[1]) for i, (uid, _) in enumerate(rows)]
    vectors = np.array([v for _, v in rows], dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return QuestionMemory(SimpleNamespace(questions=questions, question_vectors=vectors), known, neighbours, floor)


def test_the_nearest_questions_vote_for_their_provisions_with_their_best_vote():
    memory = _memory(
        [("act/1.1", [1, 0, 0]), ("act/1.1", [0.8, 0.6, 0]), ("act/2.2", [0.6, 0.8, 0]), ("act/3.3", [0, 0, 1])],
        known={"act/1.1", "act/2.2", "act/3.3"},
        neighbours=3,
    )
    votes = memory.votes(np.array([1, 0, 0], dtype=np.float32))
    assert set(votes) == {"act/1.1", "act/2.2"}  # the third-nearest is 1.1 again; 3.3 is not among the three
    assert votes["act/1.1"] == pytest.approx(1.0)
    assert votes["act/2.2"] == pytest.approx(0.6)


def test_a_vote_falls_to_nothing_at_the_floor():
    memory = _memory([("act/1.1", [1, 0]), ("act/2.2", [0.8, 0.6]), ("act/3.3", [0.4, 0.9165])], known={"act/1.1", "act/2.2", "act/3.3"}, neighbours=3, floor=0.5)
    votes = memory.votes(np.array([1, 0], dtype=np.float32))
    assert votes == pytest.approx({"act/1.1": 1.0, "act/2.2": 0.6})  # similarity 1 -> 1, 0.8 -> 0.6; 0.4 is below the floor


def test_questions_about_provisions_the_index_lacks_are_left_out_and_opposite_questions_vote_nothing():
    memory = _memory([("act/1.1", [1, 0]), ("act/9.9", [0.9, 0.1])], known={"act/1.1"}, neighbours=5)
    assert len(memory) == 1
    assert memory.votes(np.array([-1, 0], dtype=np.float32)) == {}
    assert _memory([("act/1.1", [1, 0])], known=set(), neighbours=5).votes(np.array([1, 0], dtype=np.float32)) == {}


@pytest.fixture(scope="module")
def retriever(built_index_settings):
    from assistant.corpus import load_corpus
    from assistant.embed import Embedder
    from assistant.index import load_index
    from assistant.retrieve import Retriever

    corpus = load_corpus(built_index_settings)
    embedder = Embedder(built_index_settings).load()
    return Retriever(corpus, load_index(built_index_settings, corpus, embedder), embedder, built_index_settings)


@pytest.mark.slow
def test_a_provision_only_the_memory_names_joins_the_shortlist_on_one_scale(retriever):
    written = next(q for q in retriever.index.questions if q.document == "etra-2006" and q.provision == "2.1.1")
    vector = retriever.embedder.encode([written.question])[0]
    reranker = retriever.reranker
    read = [Candidate("etra-2006/5.2.1", {"rerank": 2.5}, 0), Candidate("etra-2006/4.1.1", {"rerank": 1.5}, 0)]
    ranked = reranker.with_memory(vector, read, read=2, rest=[])
    joined = next(c for c in ranked if c.uid == "etra-2006/2.1.1")
    assert joined.scores["memory"] == pytest.approx(1.0, abs=1e-3)
    # It starts at MEMORY_ONLY and gains the weight times its vote, on the scale of the scores the cross-encoder read.
    assert joined.scores["rerank"] == pytest.approx(MEMORY_ONLY + reranker.memory_weight * joined.scores["memory"])
    assert [c.scores["rerank"] for c in ranked] == sorted((c.scores["rerank"] for c in ranked), reverse=True)
    assert retriever.table.row_uid[joined.best_row] == "etra-2006/2.1.1"


@pytest.mark.slow
def test_weight_zero_turns_the_memory_off(built_index_settings):
    from assistant.corpus import load_corpus
    from assistant.embed import Embedder
    from assistant.index import load_index
    from assistant.retrieve import Retriever

    settings = built_index_settings.model_copy(update={"question_memory_weight": 0.0})
    corpus = load_corpus(settings)
    embedder = Embedder(settings).load()
    plain = Retriever(corpus, load_index(settings, corpus, embedder), embedder, settings)
    hits = plain.retrieve("A parent keeps her son home to help on the farm. What can the school do?", mode="full")
    assert hits and all("memory" not in h.scores for h in hits)


def test_a_decisive_leader_stays_first_with_a_score_above_the_rest():
    """The rules' leader led the runner-up by 0.6; the memory then lifted another provision to 3.0. The leader stays
    first, scored 3.6, so scores still fall with rank and the margin reads as a clear lead."""
    leader, runner_up = Candidate("etra-2006/2.1.1", {"rerank": 1.6}, 0), Candidate("etra-2006/2.1.2", {"rerank": 1.0}, 0)
    ranked = [Candidate("etra-2006/1.1.3", {"rerank": 3.0}, 0), Candidate("etra-2006/2.1.1", {"rerank": 1.0}, 0), Candidate("etra-2006/2.1.2", {"rerank": 0.4}, 0)]
    kept = kept_first(ranked, leader, runner_up)
    assert [c.uid for c in kept] == ["etra-2006/2.1.1", "etra-2006/1.1.3", "etra-2006/2.1.2"]
    assert kept[0].scores["rerank"] == pytest.approx(3.6)
    already_first = kept_first(list(reversed(ranked[1:])) + ranked[:1], leader, None)
    assert already_first[0].uid == "etra-2006/2.1.1"


def test_a_question_limited_to_one_document_only_takes_provisions_from_it():
    assert in_document("vet-clusters/4", "vet-clusters") and in_document("etra-2006/2.1.1", None)
    assert not in_document("etra-2006/2.1.1", "vet-clusters") and not in_document("etra-2006x/1", "etra-2006")
