"""Fine-tune the embedder (all-MiniLM-L6-v2) on the written staff questions.

The base model learned from web text which sentences mean the same; a staff
scenario and the provision that answers it rarely share words, and two staff
questions about one provision often share none. Each step pulls a written
question towards the passage that answers it and towards another written
question about the same provision, against every other passage and question in
the batch (multiple-negatives ranking loss), with no two questions in a batch
about the same provision. The first stage's dense search and the question
memory both read these vectors. The word-embedding table stays frozen, so only
the other tensors ship (fp16, about 21 MB) and the rest comes from the verified
base package, as for the cross-encoder. Reads the groups file of ``assistant
reranker mine`` (its ``written`` groups: each question with the answering
passage closest to it). What it did: docs/experiments.md (first stage).
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from assistant.embed import mean_pooled
from assistant.models import file_sha256
from assistant.training.train import mixed_precision, optimiser_step, read_groups, run_record, save_trained_tensors, warmup_then_linear

SOURCE = "written"


@dataclass(frozen=True)
class EmbedderTrainingConfig:
    epochs: int = 1
    learning_rate: float = 2e-5
    # Questions a step; each brings its passage and another question, so a step encodes three times this.
    batch: int = 64
    # Weight of the question-to-question loss beside the question-to-passage loss (0: passages only).
    question_pair_weight: float = 1.0
    max_tokens: int = 192
    # Cosine similarities are multiplied by this before the softmax.
    scale: float = 20.0
    seed: int = 0


def provision_of(passage_id: str) -> str:
    """``etra-2006/2.1.1#2`` → ``etra-2006/2.1.1``."""
    return passage_id.split("#", 1)[0]


def batches(groups: list[dict], size: int, draw: random.Random) -> list[list[dict]]:
    """One epoch of batches in a seeded order, no provision twice in a batch (a second question about it would count as a wrong answer)."""
    order = groups[:]
    draw.shuffle(order)
    out: list[list[dict]] = []
    waiting: list[dict] = []
    for group in order:
        waiting.append(group)
        batch: list[dict] = []
        seen: set[str] = set()
        rest = []
        for g in waiting:
            uid = provision_of(g["positive"])
            if len(batch) < size and uid not in seen:
                seen.add(uid)
                batch.append(g)
            else:
                rest.append(g)
        if len(batch) == size:
            out.append(batch)
            waiting = rest
    return out


def train_embedder(
    groups_file: Path,
    base_model: Path,
    out_dir: Path,
    config: EmbedderTrainingConfig = EmbedderTrainingConfig(),
    device: str | None = None,
    progress: bool = True,
    base_sha256: str = "",
) -> dict:
    """Train and write ``embedder.safetensors`` and ``embedder.json`` to ``out_dir``; returns the manifest."""
    import numpy as np
    import torch
    from tqdm.auto import tqdm
    from transformers import AutoModel, AutoTokenizer

    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    draw = random.Random(config.seed)
    torch.manual_seed(config.seed)
    groups, passages = read_groups(groups_file)
    groups = [g for g in groups if g["source"] == SOURCE]
    questions_of: dict[str, list[str]] = {}
    for g in groups:
        questions_of.setdefault(provision_of(g["positive"]), []).append(g["query"])
    if len({provision_of(g["positive"]) for g in groups}) < config.batch:
        raise ValueError(f"{groups_file}: the written groups answer fewer than {config.batch} provisions, too few for one batch")
    tokenizer = AutoTokenizer.from_pretrained(str(base_model), local_files_only=True)
    model = AutoModel.from_pretrained(str(base_model), dtype=torch.float32, local_files_only=True).to(device)
    model.embeddings.word_embeddings.weight.requires_grad_(False)
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW(trainable, lr=config.learning_rate, weight_decay=0.01)
    epochs = [batches(groups, config.batch, draw) for _ in range(config.epochs)]
    steps = sum(len(e) for e in epochs)
    schedule = warmup_then_linear(optimiser, steps)
    autocast, bf16 = mixed_precision(device)

    def encode(texts: list[str]):
        encoded = tokenizer(texts, truncation=True, max_length=config.max_tokens, padding=True, return_tensors="pt").to(device)
        with autocast:
            pooled = mean_pooled(model(**encoded).last_hidden_state, encoded["attention_mask"])
        return torch.nn.functional.normalize(pooled.float(), dim=-1)

    started = time.time()
    losses: list[float] = []
    bar = tqdm(total=steps, desc="training embedder", disable=not progress)
    model.train()
    for epoch in epochs:
        for batch in epoch:
            queries = [g["query"] for g in batch]
            labels = torch.arange(len(batch), device=device)
            query_vectors = encode(queries)
            answers = encode([g["positive_text"] or passages[g["positive"]] for g in batch])
            loss = torch.nn.functional.cross_entropy(config.scale * query_vectors @ answers.T, labels)
            if config.question_pair_weight > 0:
                others = []
                for g in batch:
                    pool = [q for q in questions_of[provision_of(g["positive"])] if q != g["query"]]
                    others.append(draw.choice(pool) if pool else g["query"])
                loss = loss + config.question_pair_weight * torch.nn.functional.cross_entropy(config.scale * query_vectors @ encode(others).T, labels)
            losses.append(optimiser_step(loss, optimiser, schedule, trainable))
            bar.update(1)
            bar.set_postfix(loss=f"{np.mean(losses[-20:]):.3f}")
    bar.close()
    out_dir.mkdir(parents=True, exist_ok=True)
    weights_sha256 = save_trained_tensors(model, out_dir / "embedder.safetensors")
    manifest = {
        "format": 1,
        "base_model": "sentence-transformers/all-MiniLM-L6-v2",
        "base_sha256": base_sha256,
        "weights_sha256": weights_sha256,
        "training": asdict(config),
        "questions": len(groups),
        "provisions": len(questions_of),
        "steps": steps,
        "groups_sha256": file_sha256(groups_file),
        "final_loss": round(float(np.mean(losses[-20:])), 4) if losses else None,
        **run_record(device, bf16, started),
    }
    (out_dir / "embedder.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest
