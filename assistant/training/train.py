"""Train the second stage's cross-encoder from mined groups (``assistant.training.mining``).

A small model (all-MiniLM-L6-v2's first four layers and a one-logit head) with
its word-embedding table frozen, so only about 15 MB of other tensors ship and
the rest comes from the verified base package. Each step scores one positive
against the first stage's look-alikes with a listwise softmax loss: the model
learns exactly the confusions the first stage makes. This module needs only
torch, transformers and safetensors, so it runs on a bare GPU machine with the
groups file copied beside it. The recipe and what else was tried:
docs/experiments.md (training).

A second objective, ``pointwise``, continues a trained model with binary
cross-entropy: each question with its answer (1) and the first stage's best
look-alikes (0), so the score also says whether a passage answers at all, a
possible abstention signal (docs/experiments.md, abstention). ``state_variants``
rewrites that share of the questions to name the state ("… here in Victoria?",
from ``assistant.patterns``), so naming it is not read as a sign of a question
the law does not answer.
"""

from __future__ import annotations

import json
import math
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from assistant.models import file_sha256, load_trained_tensors

OBJECTIVES = ("listwise", "pointwise")


@dataclass(frozen=True)
class TrainingConfig:
    layers: int = 4
    epochs: int = 3
    learning_rate: float = 4e-5
    group_size: int = 8
    batch_groups: int = 32
    max_tokens: int = 192
    written_weight: int = 2
    bank_weight: int = 2
    # A trained reranker folder to continue from (empty: start from the base model).
    init_from: str = ""
    # Groups from the other sources drawn afresh each epoch beside all the bank's (0: all of them).
    replay: int = 0
    seed: int = 0
    # "listwise" (softmax over a group) or "pointwise" (binary cross-entropy per pair).
    objective: str = "listwise"
    # Comma-separated group sources to train on (empty: all).
    sources: str = ""
    # Share of questions rewritten to name the state (``patterns.with_state_named``).
    state_variants: float = 0.0


def passages_file(groups_file: Path) -> Path:
    """Where the passage texts a groups file refers to are kept: ``<groups file>.passages.json``."""
    return groups_file.with_name(groups_file.name + ".passages.json")


def read_groups(groups_file: Path) -> tuple[list[dict], dict[str, str]]:
    groups = [json.loads(line) for line in groups_file.read_text(encoding="utf-8").splitlines() if line.strip()]
    passages = json.loads(passages_file(groups_file).read_text(encoding="utf-8"))
    return groups, passages


def _continue_from(model, folder: Path) -> str:
    """Load a trained reranker's tensors (all but the frozen word embeddings) into ``model``; returns their sha256."""
    weights = folder / "reranker.safetensors"
    manifest = json.loads((folder / "reranker.json").read_text(encoding="utf-8"))
    digest = file_sha256(weights)
    if digest != manifest.get("weights_sha256"):
        raise ValueError(f"{weights}: sha256 {digest} does not match {folder / 'reranker.json'}")
    missing, unexpected = load_trained_tensors(model, weights)
    if missing or unexpected:
        raise ValueError(f"{folder}: its tensors do not fit a {model.config.num_hidden_layers}-layer model (missing {missing[:3]}, unexpected {unexpected[:3]})")
    return digest


def optimiser_step(loss, optimiser, schedule, parameters) -> float:
    """One training step: gradients clipped to norm 1, the optimiser and its learning-rate schedule advanced; returns the loss."""
    import torch

    optimiser.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(parameters, 1.0)
    optimiser.step()
    schedule.step()
    return loss.item()


def state_variants(groups: list[dict], share: float, seed: int) -> list[dict]:
    """``groups`` with about ``share`` of the questions that do not name the state rewritten to name it (seeded)."""
    from assistant.patterns import STATE_FORMS, STATE_NAMED_RE, with_state_named

    if share <= 0:
        return groups
    draw = random.Random(seed)
    out = []
    for group in groups:
        if not STATE_NAMED_RE.search(group["query"]) and draw.random() < share:
            group = {**group, "query": with_state_named(group["query"], draw.randrange(STATE_FORMS))}
        out.append(group)
    return out


def warmup_then_linear(optimiser, steps: int):
    """Learning rate rising over the first 10% of ``steps``, then falling linearly to 0."""
    import torch

    return torch.optim.lr_scheduler.LambdaLR(optimiser, lambda s: min(1.0, (s + 1) / max(1.0, 0.1 * steps)) * max(0.0, (steps - s) / steps))


def mixed_precision(device: str):
    """The autocast to train under, and whether it is bfloat16.

    bfloat16 on GPUs and on CPUs that compute it natively; elsewhere autocast's emulated
    backward pass is far slower than float32.
    """
    import torch

    from assistant.models import bf16_supported

    bf16 = device.startswith("cuda") or bf16_supported()
    return torch.autocast(device.split(":")[0], dtype=torch.bfloat16, enabled=bf16), bf16


def save_trained_tensors(model, file: Path) -> str:
    """Every tensor but the frozen word embeddings, as float16 safetensors; returns the file's sha256."""
    import torch
    from safetensors.torch import save_file

    tensors = {k: v.detach().to(torch.float16).cpu().contiguous() for k, v in model.state_dict().items() if "word_embeddings" not in k}
    save_file(tensors, str(file))
    return file_sha256(file)


def run_record(device: str, bf16: bool, started: float) -> dict:
    """Where and how long a training run ran, and with which libraries, for its manifest."""
    import torch
    import transformers

    return {
        "device": torch.cuda.get_device_name() if device.startswith("cuda") else "cpu",
        "precision": "bfloat16" if bf16 else "float32",
        "seconds": round(time.time() - started, 1),
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__},
    }


def train(
    groups_file: Path,
    base_model: Path,
    out_dir: Path,
    config: TrainingConfig = TrainingConfig(),
    device: str | None = None,
    progress: bool = True,
    base_sha256: str = "",
) -> dict:
    """Train and write ``config.json``, ``reranker.safetensors`` and ``reranker.json`` to ``out_dir``; returns the manifest."""
    import numpy as np
    import torch
    from tqdm.auto import tqdm
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    random.seed(config.seed)
    np.random.seed(config.seed)
    torch.manual_seed(config.seed)
    if config.objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {', '.join(OBJECTIVES)}, not {config.objective!r}")
    groups, passages = read_groups(groups_file)
    wanted = {s.strip() for s in config.sources.split(",") if s.strip()}
    groups = state_variants([g for g in groups if not wanted or g["source"] in wanted], config.state_variants, config.seed)
    if not groups:
        raise ValueError(f"{groups_file}: no groups from the sources {sorted(wanted)}")
    repeats = {"written": config.written_weight, "bank": config.bank_weight}
    examples = [g for g in groups for _ in range(repeats.get(g["source"], 1))]
    bank = [g for g in examples if g["source"] == "bank"]
    others = [g for g in examples if g["source"] != "bank"]
    per_epoch = len(examples) if not config.replay else len(bank) + min(config.replay, len(others))
    pool = sorted(passages)
    tokenizer = AutoTokenizer.from_pretrained(str(base_model), local_files_only=True)
    model = AutoModelForSequenceClassification.from_pretrained(
        str(base_model), num_labels=1, num_hidden_layers=config.layers, dtype=torch.float32, local_files_only=True
    ).to(device)
    init_sha256 = _continue_from(model, Path(config.init_from)) if config.init_from else ""
    model.bert.embeddings.word_embeddings.weight.requires_grad_(False)
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW(trainable, lr=config.learning_rate, weight_decay=0.01)
    steps = config.epochs * math.ceil(per_epoch / config.batch_groups)
    schedule = warmup_then_linear(optimiser, steps)
    autocast, bf16 = mixed_precision(device)
    pointwise = config.objective == "pointwise"
    started = time.time()
    losses = []
    bar = tqdm(total=steps, desc="training reranker", disable=not progress)
    for _ in range(config.epochs):
        model.train()
        epoch = examples if not config.replay else bank + random.sample(others, min(config.replay, len(others)))
        order = list(range(len(epoch)))
        random.shuffle(order)
        for start in range(0, len(order), config.batch_groups):
            batch = [epoch[i] for i in order[start : start + config.batch_groups]]
            pairs = []
            for group in batch:
                negatives = list(group["negatives"])
                if not pointwise:  # pointwise keeps the first stage's best look-alikes, in its order
                    random.shuffle(negatives)
                negatives = negatives[: config.group_size - 1]
                while len(negatives) < config.group_size - 1:
                    negatives.append(random.choice(pool))
                positive = group["positive_text"] or passages[group["positive"]]
                pairs += [(group["query"], positive)] + [(group["query"], passages[n]) for n in negatives]
            encoded = tokenizer(
                [q for q, _ in pairs], [t for _, t in pairs], truncation="longest_first", max_length=config.max_tokens, padding=True, return_tensors="pt"
            ).to(device)
            with autocast:
                logits = model(**encoded).logits[:, 0].float().view(len(batch), config.group_size)
            if pointwise:
                labels = torch.zeros_like(logits)
                labels[:, 0] = 1.0
                loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, labels)
            else:
                loss = torch.nn.functional.cross_entropy(logits, torch.zeros(len(batch), dtype=torch.long, device=device))
            losses.append(optimiser_step(loss, optimiser, schedule, trainable))
            bar.update(1)
            bar.set_postfix(loss=f"{np.mean(losses[-50:]):.3f}")
    bar.close()
    out_dir.mkdir(parents=True, exist_ok=True)
    weights_sha256 = save_trained_tensors(model, out_dir / "reranker.safetensors")
    model.config.save_pretrained(str(out_dir))
    manifest = {
        "format": 1,
        "base_model": "sentence-transformers/all-MiniLM-L6-v2",
        "base_sha256": base_sha256,
        "init_sha256": init_sha256,
        "weights_sha256": weights_sha256,
        "training": asdict(config),
        "groups": len(groups),
        "groups_by_source": {s: sum(g["source"] == s for g in groups) for s in sorted({g["source"] for g in groups})},
        "groups_sha256": file_sha256(groups_file),
        "final_loss": round(float(np.mean(losses[-50:])), 4) if losses else None,
        **run_record(device, bf16, started),
    }
    (out_dir / "reranker.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest
