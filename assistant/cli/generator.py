"""CLI command for the short-answer model: ``assistant generator train`` (see ``assistant.training.generator``).

Trains a LoRA adapter for the packaged Gemma 3 270M on the bank's train split and
writes it to ``<data_dir>/generator/adapter``; use it with
ASSISTANT_SHORT_ANSWER_WRITER=model ASSISTANT_GENERATIVE_ADAPTER=<folder>.
None ships: the one trained on this CPU wrote less faithful short answers than the
extractive writer (docs/experiments.md, short answers).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import fields
from pathlib import Path

from assistant.errors import AssistantError
from assistant.settings import PROJECT_ROOT, Settings

BANK_TRAIN = PROJECT_ROOT / "eval" / "questions" / "train.jsonl"


def add_commands(sub: argparse._SubParsersAction) -> None:
    from assistant.training.generator import GeneratorTrainingConfig

    generator = sub.add_parser("generator", help="train the short-answer model's adapter")
    actions = generator.add_subparsers(dest="generator_command", required=True, metavar="ACTION")
    train = actions.add_parser("train", help="train a LoRA adapter for the packaged Gemma 3 270M on the bank's train split (seeded; about an hour on two CPU cores)")
    train.add_argument("--questions", type=Path, default=BANK_TRAIN, help="bank items with short answers (default: eval/questions/train.jsonl)")
    train.add_argument("--out", type=Path, default=None, help="output folder (default: <data_dir>/generator/adapter)")
    train.add_argument("--limit", type=int, default=0, help="train on the first N examples only (0: all)")
    for field in fields(GeneratorTrainingConfig):
        train.add_argument(f"--{field.name.replace('_', '-')}", type=type(field.default), default=field.default)
    train.set_defaults(handler=_train)


def _train(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.corpus import load_corpus
    from assistant.generator import converted_folder, packaged_gguf
    from assistant.models import file_sha256
    from assistant.settings import GEMMA_GGUF_SHA256
    from assistant.training.generator import GeneratorTrainingConfig, worked_examples
    from assistant.training.lora import train_generator

    if settings.generative_model.strip():
        raise AssistantError("`assistant generator train` trains an adapter for the packaged Gemma 3 270M; unset ASSISTANT_GENERATIVE_MODEL")
    try:
        rows = [json.loads(line) for line in args.questions.read_text(encoding="utf-8").splitlines() if line.strip()]
    except (OSError, ValueError) as exc:
        raise AssistantError(f"cannot read {args.questions} ({exc})") from exc
    config = GeneratorTrainingConfig(**{f.name: getattr(args, f.name) for f in fields(GeneratorTrainingConfig)})
    examples = worked_examples(rows, load_corpus(settings), config.context_quotes, config.seed)
    if args.limit:
        examples = examples[: args.limit]
    folder = converted_folder(packaged_gguf(settings), settings, GEMMA_GGUF_SHA256)
    out = args.out or settings.data_dir / "generator" / "adapter"
    print(f"{len(examples)} worked examples from {args.questions}")
    try:
        manifest = train_generator(examples, folder, out, config, progress=sys.stderr.isatty(), base_sha256=file_sha256(folder / "model.safetensors"))
    except ValueError as exc:
        raise AssistantError(str(exc)) from exc
    print(f"trained in {manifest['seconds']} s (final loss {manifest['final_loss']}) -> {out}")
    print(f"use it with ASSISTANT_SHORT_ANSWER_WRITER=model ASSISTANT_GENERATIVE_ADAPTER={out}")
    return 0
