"""Exported backends (ONNX Runtime, OpenVINO): exported once, verified at every load, regenerated when damaged, and matching torch.

The cache tests use a fake exporter (fast); the parity tests export the real
models (slow): the query encoder's vectors must match torch's to 1e-4 cosine,
the cross-encoder's scores to 0.15 logit (torch and OpenVINO run bfloat16 where
the CPU has it, whose rounding is most of that; 0.25 between the two), with the
same best passage.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from assistant.errors import ModelError
from assistant.onnx_models import RECIPE, OnnxGraph, OpenVinoGraph, exported_graph, intact, parity
from assistant.settings import Settings

SOURCE = "ab" * 32


class Exporter:
    """Writes a stand-in graph and counts how often it was asked to."""

    def __init__(self, fail: bool = False):
        self.calls = 0
        self.fail = fail

    def __call__(self, path):
        self.calls += 1
        if self.fail:
            raise RuntimeError("Unsupported operator aten::weird")
        path.write_bytes(b"graph " + str(self.calls).encode())


def test_a_graph_is_exported_once_and_reused(tmp_settings):
    build = Exporter()
    first = exported_graph("query-encoder", SOURCE, "fp32", tmp_settings, build, "ASSISTANT_QUERY_ENCODER_BACKEND")
    again = exported_graph("query-encoder", SOURCE, "fp32", tmp_settings, build, "ASSISTANT_QUERY_ENCODER_BACKEND")
    assert first == again and build.calls == 1
    manifest = json.loads(first.with_suffix(".json").read_text())
    assert manifest["recipe"] == RECIPE and manifest["source_sha256"] == SOURCE
    assert not [p for p in first.parent.iterdir() if p.name.startswith(".")]  # no half-written leftovers


def test_a_damaged_or_swapped_graph_is_exported_again(tmp_settings):
    build = Exporter()
    graph = exported_graph("cross-encoder", SOURCE, "fp32", tmp_settings, build, "ASSISTANT_CROSS_ENCODER_BACKEND")
    graph.write_bytes(b"tampered")
    assert not intact(graph, graph.with_suffix(".json"), SOURCE)
    exported_graph("cross-encoder", SOURCE, "fp32", tmp_settings, build, "ASSISTANT_CROSS_ENCODER_BACKEND")
    assert build.calls == 2 and graph.read_bytes() == b"graph 2"
    graph.unlink()
    exported_graph("cross-encoder", SOURCE, "fp32", tmp_settings, build, "ASSISTANT_CROSS_ENCODER_BACKEND")
    assert build.calls == 3


def test_new_weights_get_their_own_graph(tmp_settings):
    build = Exporter()
    one = exported_graph("cross-encoder", SOURCE, "fp32", tmp_settings, build, "ASSISTANT_CROSS_ENCODER_BACKEND")
    two = exported_graph("cross-encoder", "cd" * 32, "fp32", tmp_settings, build, "ASSISTANT_CROSS_ENCODER_BACKEND")
    assert one != two and build.calls == 2 and one.is_file()


def test_a_failed_export_says_how_to_run_without_it(tmp_settings):
    with pytest.raises(ModelError) as caught:
        exported_graph("query-encoder", SOURCE, "fp32", tmp_settings, Exporter(fail=True), "ASSISTANT_QUERY_ENCODER_BACKEND")
    message = str(caught.value)
    assert "aten::weird" in message and "ASSISTANT_QUERY_ENCODER_BACKEND=torch" in message and "\n" not in message


def test_a_graph_onnx_runtime_cannot_read_is_one_line_error(tmp_path):
    bad = tmp_path / "broken.onnx"
    bad.write_bytes(b"not a graph")
    with pytest.raises(ModelError) as caught:
        OnnxGraph.load(bad, threads=1)
    assert "broken.onnx" in str(caught.value) and "delete it to export it again" in str(caught.value)


def test_a_graph_openvino_cannot_compile_is_one_line_error(tmp_path):
    bad = tmp_path / "broken.onnx"
    bad.write_bytes(b"not a graph")
    with pytest.raises(ModelError) as caught:
        OpenVinoGraph.load(bad, threads=1, bf16=False)
    message = str(caught.value)
    assert "broken.onnx" in message and "ASSISTANT_CROSS_ENCODER_BACKEND=torch" in message and "\n" not in message


def test_auto_runs_the_cross_encoder_in_openvino(tmp_settings):
    from assistant.retrieve.cross_encoder import CrossEncoder

    assert CrossEncoder(tmp_settings).backend == "openvino"
    assert CrossEncoder(tmp_settings.model_copy(update={"cross_encoder_backend": "torch"})).backend == "torch"


def test_parity_reports_the_worst_case():
    vectors = {"q1": np.array([[1.0, 0.0]]), "q2": np.array([[0.0, 1.0]])}
    shifted = {"q1": np.array([[0.6, 0.8]]), "q2": np.array([[0.0, 1.0]])}
    report = parity(
        (vectors.__getitem__, shifted.__getitem__),
        (lambda q, texts: [2.0, 1.0], lambda q, texts: [1.0, 1.5] if q == "q1" else [2.0, 1.0]),
        ["q1", "q2"],
        [["a", "b"], ["a", "b"]],
    )
    assert report.min_cosine == pytest.approx(0.6) and report.max_logit_difference == pytest.approx(1.0) and report.same_best == 0.5


# --- the real models (slow) ---------------------------------------------------------------

QUESTIONS = [
    "Until what age must a child attend school?",
    "A parent keeps her son home to work on the farm: what can we do?",
    "Can the VRQA refuse to investigate a complaint?",
    "Who appoints school attendance officers?",
]
PASSAGES = [
    "Attendance at school. It is the duty of the parent of a child of not less than 6 nor more than 17 years of age to enrol the child at a registered school.",
    "Functions of school councils. A school council may enter into contracts, agreements or arrangements.",
    "The Authority may refuse to investigate a complaint if it considers the complaint frivolous, vexatious or not made in good faith.",
    "The Secretary may authorise a person employed in the Department to be a school attendance officer.",
    "A person must not be employed as a teacher in a school unless registered under this Part.",
]


@pytest.fixture(scope="module")
def backends(tmp_path_factory):
    from assistant.embed import Embedder
    from assistant.retrieve.cross_encoder import CrossEncoder

    data = tmp_path_factory.mktemp("onnx-data")
    torch_settings = Settings(data_dir=data, query_encoder_backend="torch", cross_encoder_backend="torch")
    onnx_settings = Settings(data_dir=data, query_encoder_backend="onnx", cross_encoder_backend="onnx")
    int8_settings = Settings(data_dir=data, query_encoder_backend="onnx", cross_encoder_backend="onnx-int8")
    openvino_settings = Settings(data_dir=data, query_encoder_backend="onnx", cross_encoder_backend="openvino")
    chosen = (("torch", torch_settings), ("onnx", onnx_settings), ("int8", int8_settings), ("openvino", openvino_settings))
    models = {name: (Embedder(s).load(), CrossEncoder(s).load()) for name, s in chosen}
    return data, models


@pytest.mark.slow
def test_onnx_runtime_matches_torch_on_questions_and_passages(backends):
    _, models = backends
    (torch_embedder, torch_scorer), (onnx_embedder, onnx_scorer) = models["torch"], models["onnx"]
    report = parity((torch_embedder.encode_question, onnx_embedder.encode_question), (torch_scorer.score, onnx_scorer.score), QUESTIONS, [PASSAGES] * len(QUESTIONS))
    assert report.min_cosine >= 0.9999
    assert report.max_logit_difference <= 0.15
    assert report.same_best == 1.0
    # The ONNX question vector is what retrieval searches the torch-built index with.
    assert onnx_embedder.encode_question(QUESTIONS[0]).shape == (1, torch_embedder.dimension)


@pytest.mark.slow
def test_openvino_cross_encoder_matches_torch_and_serves_threads(backends):
    from concurrent.futures import ThreadPoolExecutor

    _, models = backends
    (torch_embedder, torch_scorer), (_, openvino_scorer) = models["torch"], models["openvino"]
    report = parity((torch_embedder.encode_question,) * 2, (torch_scorer.score, openvino_scorer.score), QUESTIONS, [PASSAGES] * len(QUESTIONS))
    assert report.max_logit_difference <= 0.25 and report.same_best == 1.0
    # Each thread runs its own infer request: answers scored at once equal those scored one by one.
    alone = [openvino_scorer.score(q, PASSAGES) for q in QUESTIONS]
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(lambda q: openvino_scorer.score(q, PASSAGES), QUESTIONS * 3))
    assert np.allclose(np.array(together), np.array(alone * 3), atol=1e-5)


@pytest.mark.slow
def test_int8_cross_encoder_still_finds_the_answering_passage(backends):
    _, models = backends
    scorer = models["int8"][1]
    for question, answering in zip(QUESTIONS[:1] + QUESTIONS[2:], (0, 2, 3), strict=True):
        scores = scorer.score(question, PASSAGES)
        assert int(np.argmax(scores)) == answering, (question, scores)


@pytest.mark.slow
def test_a_damaged_export_is_replaced_when_the_model_next_loads(backends):
    from assistant.embed import Embedder

    data, models = backends
    graph = next((data / "onnx").glob("query-encoder-*-fp32.onnx"))
    graph.write_bytes(graph.read_bytes()[:1000])
    fresh = Embedder(Settings(data_dir=data, query_encoder_backend="onnx")).load()
    vector = fresh.encode_question(QUESTIONS[0])
    expected = models["torch"][0].encode_question(QUESTIONS[0])
    assert float(vector[0] @ expected[0]) >= 0.9999
    assert intact(graph, graph.with_suffix(".json"), fresh.weights_sha256)


@pytest.mark.slow
def test_under_a_graph_the_torch_copy_is_loaded_only_to_export_it(backends):
    from assistant.retrieve.cross_encoder import CrossEncoder

    data, models = backends
    assert models["torch"][1].holds_torch_model
    # The graphs above were exported once (each scorer then held the torch copy); a new process finds them and never loads it.
    models["openvino"][1].score(QUESTIONS[0], PASSAGES)
    fresh = CrossEncoder(Settings(data_dir=data, cross_encoder_backend="openvino")).load()
    assert not fresh.holds_torch_model
    assert fresh.score(QUESTIONS[0], PASSAGES) == pytest.approx(models["openvino"][1].score(QUESTIONS[0], PASSAGES), abs=1e-5)
    assert not fresh.holds_torch_model
    # With no graph on disk, the first score exports one from the torch copy.
    empty = CrossEncoder(Settings(data_dir=data / "elsewhere", cross_encoder_backend="openvino")).load()
    assert not empty.holds_torch_model
    assert int(np.argmax(empty.score(QUESTIONS[0], PASSAGES))) == int(np.argmax(models["torch"][1].score(QUESTIONS[0], PASSAGES)))
    assert empty.holds_torch_model
