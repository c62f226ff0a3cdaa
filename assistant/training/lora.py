"""LoRA training for the short-answer model: low-rank updates to Gemma's projections, the loss on the answer's tokens only.

Worked examples come from ``assistant.training.generator``; the adapter written
here is merged into the model's weights at load by ``assistant.generator``, so it
costs nothing per token. Seeded: the same examples and config give the same adapter.
"""

from __future__ import annotations

import json
import math
import random
import time
from dataclasses import asdict
from pathlib import Path

import torch

from assistant.generator import ADAPTER_FILE, ADAPTER_MANIFEST, LORA_TARGETS, prompt_text
from assistant.models import file_sha256, text_sha256
from assistant.training.generator import GeneratorTrainingConfig, WorkedExample
from assistant.training.train import optimiser_step


class LoraLinear(torch.nn.Module):
    """A frozen linear layer plus a trainable low-rank update ``B A x · alpha / rank`` (B starts at zero, so training starts from the base)."""

    def __init__(self, base: torch.nn.Linear, rank: int, alpha: float):
        super().__init__()
        self.base = base
        self.scale = alpha / rank
        self.lora_a = torch.nn.Parameter(torch.empty(rank, base.in_features))
        self.lora_b = torch.nn.Parameter(torch.zeros(base.out_features, rank))
        torch.nn.init.kaiming_uniform_(self.lora_a, a=math.sqrt(5))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.base(x) + (x @ self.lora_a.t() @ self.lora_b.t()) * self.scale


def add_adapters(model, rank: int, alpha: float) -> dict:
    """Wrap every targeted projection in ``model`` with a LoRA update; returns {module name: wrapper}."""
    wrapped = {}
    for name, module in list(model.named_modules()):
        for child_name, child in list(module.named_children()):
            if child_name in LORA_TARGETS and isinstance(child, torch.nn.Linear):
                wrapper = LoraLinear(child, rank, alpha)
                setattr(module, child_name, wrapper)
                wrapped[f"{name}.{child_name}" if name else child_name] = wrapper
    return wrapped


def _encode(tokenizer, example: WorkedExample) -> tuple[list[int], int]:
    """Token ids of prompt + answer + newline, and where the answer starts (the loss reads from there)."""
    prompt = tokenizer(prompt_text(example.question, list(example.quotes)), add_special_tokens=True)["input_ids"]
    answer = tokenizer(" " + example.answer + "\n", add_special_tokens=False)["input_ids"]
    return prompt + answer, len(prompt)


def train_generator(
    examples: list[WorkedExample],
    base_folder: Path,
    out_dir: Path,
    config: GeneratorTrainingConfig = GeneratorTrainingConfig(),
    progress: bool = True,
    base_sha256: str = "",
) -> dict:
    """Train the adapters and write ``adapter.safetensors`` and ``adapter.json`` to ``out_dir``; returns the manifest."""
    import numpy as np
    import transformers
    from safetensors.torch import save_file
    from tqdm.auto import tqdm
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if not examples:
        raise ValueError("no worked examples to train on")
    random.seed(config.seed)
    np.random.seed(config.seed)
    torch.manual_seed(config.seed)
    tokenizer = AutoTokenizer.from_pretrained(str(base_folder), local_files_only=True)
    model = AutoModelForCausalLM.from_pretrained(str(base_folder), dtype=torch.float32, local_files_only=True)
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    adapters = add_adapters(model, config.rank, config.alpha)
    trainable = [p for w in adapters.values() for p in (w.lora_a, w.lora_b)]
    encoded = [_encode(tokenizer, e) for e in examples]
    order = list(range(len(encoded)))
    steps = config.epochs * math.ceil(len(order) / config.batch_size)
    optimiser = torch.optim.AdamW(trainable, lr=config.learning_rate, weight_decay=0.0)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, lambda s: min(1.0, (s + 1) / max(1.0, 0.05 * steps)) * max(0.0, (steps - s) / steps))
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    started, losses = time.time(), []
    bar = tqdm(total=steps, desc="training short-answer adapter", disable=not progress)
    model.train()
    for _ in range(config.epochs):
        random.shuffle(order)
        for start in range(0, len(order), config.batch_size):
            batch = [encoded[i] for i in order[start : start + config.batch_size]]
            width = max(len(ids) for ids, _ in batch)
            ids = torch.tensor([seq + [pad] * (width - len(seq)) for seq, _ in batch])
            mask = torch.tensor([[1] * len(seq) + [0] * (width - len(seq)) for seq, _ in batch])
            # Predict token t+1 from position t, over the answer's tokens only (the vocabulary is 262k wide).
            rows = [(b, t) for b, (seq, begin) in enumerate(batch) for t in range(begin - 1, len(seq) - 1)]
            targets = torch.tensor([batch[b][0][t + 1] for b, t in rows])
            # float32 throughout: on CPUs without native bfloat16 matrix units autocast's backward pass is far slower.
            hidden = model.model(input_ids=ids, attention_mask=mask).last_hidden_state
            picked = hidden[torch.tensor([b for b, _ in rows]), torch.tensor([t for _, t in rows])]
            logits = model.lm_head(picked)
            softcap = getattr(model.config, "final_logit_softcapping", None)
            if softcap:
                logits = torch.tanh(logits / softcap) * softcap
            loss = torch.nn.functional.cross_entropy(logits, targets)
            losses.append(optimiser_step(loss, optimiser, schedule, trainable))
            bar.update(1)
            bar.set_postfix(loss=f"{np.mean(losses[-20:]):.3f}")
    bar.close()
    out_dir.mkdir(parents=True, exist_ok=True)
    tensors = {}
    for name, wrapper in adapters.items():
        tensors[f"{name}.lora_a"] = wrapper.lora_a.detach().to(torch.float16).contiguous()
        tensors[f"{name}.lora_b"] = wrapper.lora_b.detach().to(torch.float16).contiguous()
    save_file(tensors, str(out_dir / ADAPTER_FILE), metadata={"format": "pt"})
    manifest = {
        "format": 1,
        "base_model": "gemma-3-270m-q4_k_m.gguf (converted)",
        "base_sha256": base_sha256,
        "adapter_sha256": file_sha256(out_dir / ADAPTER_FILE),
        "rank": config.rank,
        "alpha": config.alpha,
        "targets": sorted(LORA_TARGETS),
        "training": asdict(config),
        "examples": len(examples),
        "examples_sha256": _examples_sha256(examples),
        "final_loss": round(float(np.mean(losses[-20:])), 4),
        "seconds": round(time.time() - started, 1),
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__},
    }
    (out_dir / ADAPTER_MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def _examples_sha256(examples: list[WorkedExample]) -> str:
    return text_sha256("\n".join(json.dumps(asdict(e), sort_keys=True) for e in examples))
