"""Exported graphs of the two models every question meets: the query encoder and the cross-encoder.

``optimum`` cannot be installed beside transformers 5, so the graphs are
exported here with ``torch.onnx.export`` from the verified torch model, with
eager attention (the default attention exported a graph whose vectors drifted)
and opset 17. ``int8`` is ONNX Runtime's dynamic quantisation of the fp32 graph
(the cross-encoder's only). The same fp32 graph can also be compiled by OpenVINO,
which runs it in bfloat16 where the CPU computes that natively. Which model runs
where was chosen on measured speed and parity (docs/experiments.md, throughput):
the query encoder runs about twice as fast in ONNX Runtime as in torch; the
cross-encoder fastest in OpenVINO.

An export is kept under ``data_dir/onnx``, named by the source weights' sha256
and the recipe, with a manifest holding the graph's own sha256: verified at
every load, exported again (a few seconds) when missing or damaged, so nothing
large ships and a swapped file is never run.

Usage::

    graph = OnnxGraph.load(exported_graph("query-encoder", source_sha256, "fp32", settings, build, "ASSISTANT_QUERY_ENCODER_BACKEND"), threads=1)
    vectors = graph.run(input_ids, attention_mask, token_type_ids)
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from assistant.errors import ModelError
from assistant.models import file_sha256
from assistant.settings import Settings

OPSET = 17
# Part of every export's name: a change to how graphs are made makes old files unused rather than wrong.
RECIPE = "torch.onnx.export-opset17-eager-v1"
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
Variant = Literal["fp32", "int8"]
_export_lock = threading.Lock()


def variant_of(backend: str) -> Variant:
    """The cross-encoder's graph variant a backend setting names ('onnx-int8' → int8; 'onnx' and 'openvino' → fp32).

    The query encoder is always fp32: its int8 vectors drifted to cosine 0.96 of the
    index's, which moves what the first stage finds (docs/experiments.md, throughput).
    """
    return "int8" if backend == "onnx-int8" else "fp32"


def export_folder(settings: Settings) -> Path:
    return settings.data_dir / "onnx"


def exported_graph(name: str, source_sha256: str, variant: Variant, settings: Settings, build: Callable[[Path], None], setting: str) -> Path:
    """The verified graph for this source and variant; ``build(path)`` writes the fp32 graph when none is intact.

    ``setting`` names the environment variable that turns the backend off, for the message when export fails.

    Written to a temporary file and moved into place, so a reader (or another
    replica sharing the data folder) never sees half a file.
    """
    folder = export_folder(settings)
    stem = f"{name}-{source_sha256[:16]}-{variant}"
    graph, manifest = folder / f"{stem}.onnx", folder / f"{stem}.json"
    with _export_lock:
        if intact(graph, manifest, source_sha256):
            return graph
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=folder, prefix=f".{stem}-") as work:
            fp32 = Path(work) / "fp32.onnx"
            try:
                build(fp32)
                out = fp32
                if variant == "int8":
                    from onnxruntime.quantization import QuantType, quantize_dynamic

                    out = Path(work) / "int8.onnx"
                    quiet = logging.getLogger().level
                    logging.getLogger().setLevel(logging.ERROR)  # the quantiser advises pre-processing on the root logger, for vision models
                    try:
                        # Per output channel, matrix products only: ranking kept closest to fp32 of the variants measured.
                        quantize_dynamic(str(fp32), str(out), weight_type=QuantType.QInt8, per_channel=True, op_types_to_quantize=["MatMul"])
                    finally:
                        logging.getLogger().setLevel(quiet)
            except ModelError:
                raise
            except Exception as exc:  # the exporter and the quantiser fail in many library-specific ways
                raise ModelError(f"cannot export the {name} to ONNX ({exc}); set {setting}=torch to run it in torch") from exc
            body = {"name": name, "variant": variant, "recipe": RECIPE, "source_sha256": source_sha256, "sha256": file_sha256(out)}
            os.replace(out, graph)
            staged = Path(work) / "manifest.json"
            staged.write_text(json.dumps(body, indent=2) + "\n", encoding="utf-8")
            os.replace(staged, manifest)
    return graph


def intact(graph: Path, manifest: Path, source_sha256: str) -> bool:
    """Whether the graph exists, was made from this source by this recipe, and still has the sha256 recorded for it."""
    try:
        body = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return graph.is_file() and body.get("recipe") == RECIPE and body.get("source_sha256") == source_sha256 and body.get("sha256") == file_sha256(graph)


class OnnxGraph:
    """One ONNX Runtime session; ``run`` is safe to call from several threads at once."""

    def __init__(self, session, path: Path):
        self.session = session
        self.path = path

    @classmethod
    def load(cls, path: Path, threads: int) -> OnnxGraph:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = max(1, threads)
        options.inter_op_num_threads = 1
        # Idle threads that spin steal the core another request's pass needs (as BLAS threads did: docs/experiments.md).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # a damaged graph surfaces as ONNX Runtime's own errors
            raise ModelError(f"{path}: ONNX Runtime cannot load this graph ({exc}); delete it to export it again") from exc
        return cls(session, path)

    def run(self, input_ids: np.ndarray, attention_mask: np.ndarray, token_type_ids: np.ndarray) -> np.ndarray:
        return self.session.run(None, _feed(input_ids, attention_mask, token_type_ids))[0]


class OpenVinoGraph:
    """The fp32 graph compiled by OpenVINO for this CPU, in bfloat16 where the CPU computes it natively.

    An infer request is not safe to share, so each calling thread gets its own;
    under the latency hint they share one stream, which runs them one at a time.
    """

    def __init__(self, compiled, path: Path):
        self.compiled = compiled
        self.path = path
        self._local = threading.local()

    @classmethod
    def load(cls, path: Path, threads: int, bf16: bool) -> OpenVinoGraph:
        import openvino as ov

        config = {"INFERENCE_PRECISION_HINT": "bf16" if bf16 else "f32", "INFERENCE_NUM_THREADS": max(1, threads), "PERFORMANCE_HINT": "LATENCY"}
        try:
            core = ov.Core()
            compiled = core.compile_model(core.read_model(str(path)), "CPU", config)
        except Exception as exc:  # a damaged graph or an unsupported CPU surfaces as OpenVINO's own (many-line) errors
            reason = " ".join(str(exc).split())[:300]
            raise ModelError(f"{path}: OpenVINO cannot compile this graph ({reason}); delete it to export it again, or set ASSISTANT_CROSS_ENCODER_BACKEND=torch") from exc
        return cls(compiled, path)

    def run(self, input_ids: np.ndarray, attention_mask: np.ndarray, token_type_ids: np.ndarray) -> np.ndarray:
        request = getattr(self._local, "request", None)
        if request is None:
            request = self._local.request = self.compiled.create_infer_request()
        result = request.infer(_feed(input_ids, attention_mask, token_type_ids))
        # The result's arrays are the request's own buffers, overwritten by its next call.
        return np.array(result[self.compiled.output(0)], dtype=np.float32)


def _feed(input_ids: np.ndarray, attention_mask: np.ndarray, token_type_ids: np.ndarray) -> dict[str, np.ndarray]:
    """The graph's inputs by name, as the contiguous int64 arrays both runtimes take."""
    return {name: np.ascontiguousarray(array, dtype=np.int64) for name, array in zip(INPUTS, (input_ids, attention_mask, token_type_ids), strict=True)}


def export_module(module, sample: dict[str, np.ndarray], output: str, path: Path) -> None:
    """Write ``module(input_ids, attention_mask, token_type_ids)`` as a graph with dynamic batch and length."""
    import warnings

    import torch

    args = tuple(torch.as_tensor(sample[k]) for k in INPUTS)
    axes = {k: {0: "batch", 1: "tokens"} for k in INPUTS} | {output: {0: "batch"}}
    with warnings.catch_warnings(), torch.inference_mode(False), torch.no_grad():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation and tracer notes
        torch.onnx.export(module.eval(), args, str(path), input_names=list(INPUTS), output_names=[output], dynamic_axes=axes, opset_version=OPSET, dynamo=False)


def eager_copy(model):
    """A float32 copy of a Hugging Face model with eager attention, leaving the model in use untouched."""
    import copy

    clone = copy.deepcopy(model).float().eval()
    if hasattr(clone, "set_attn_implementation"):
        clone.set_attn_implementation("eager")
    else:
        clone.config._attn_implementation = "eager"
    return clone


@dataclass(frozen=True)
class Parity:
    """How closely a backend's models match torch's on the same questions and passages."""

    questions: int
    min_cosine: float  # query vectors, the worst question
    max_logit_difference: float  # cross-encoder scores, the worst pair
    same_best: float  # share of questions whose best-scored passage is the same (a near tie within 0.05 counts)

    def line(self, backend: str) -> str:
        return (
            f"{backend}: query vectors cosine >= {self.min_cosine:.6f}; cross-encoder |logit difference| <= {self.max_logit_difference:.4f}, "
            f"same best passage for {self.same_best:.0%} of {self.questions} questions"
        )


def parity(
    encode: tuple[Callable[[str], np.ndarray], Callable[[str], np.ndarray]],
    score: tuple[Callable[[str, list[str]], list[float]], Callable[[str, list[str]], list[float]]],
    questions: list[str],
    passages: list[list[str]],
) -> Parity:
    """Torch (first of each pair) against a candidate backend (second), question by question."""
    cosines, differences, same = [], [], 0
    for question, texts in zip(questions, passages, strict=True):
        reference, candidate = encode[0](question)[0], encode[1](question)[0]
        cosines.append(float(reference @ candidate))
        expected, got = np.array(score[0](question, texts)), np.array(score[1](question, texts))
        differences.append(float(np.abs(expected - got).max()))
        same += bool(got[int(expected.argmax())] >= got.max() - 0.05)
    return Parity(len(questions), min(cosines), max(differences), same / max(1, len(questions)))
