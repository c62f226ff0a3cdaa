"""CLI commands for the second stage's cross-encoder: ``assistant reranker mine|train|info``.

Building the index never trains: the trained reranker ships in
assistant/data/reranker, and ``train`` writes a new one only when asked (to
``data/reranker/model`` by default; point ASSISTANT_RERANKER_MODEL at it, or pass
``--out assistant/data/reranker`` to replace the shipped one).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import fields
from pathlib import Path

from assistant.errors import AssistantError
from assistant.settings import Settings
from assistant.training.train import OBJECTIVES, TrainingConfig


def add_commands(sub: argparse._SubParsersAction) -> None:
    reranker = sub.add_parser("reranker", help="mine training data for, train and inspect the second stage's cross-encoder")
    actions = reranker.add_subparsers(dest="reranker_command", required=True, metavar="ACTION")
    mine = actions.add_parser("mine", help="write training groups: written and mined questions with the first stage's hard negatives")
    mine.add_argument("--out", type=Path, default=None, help="groups file (default: <data_dir>/reranker/groups.jsonl)")
    mine.add_argument("--seed", type=int, default=13)
    mine.set_defaults(handler=_mine)
    train = actions.add_parser("train", help="train the cross-encoder (mines groups first when the file is missing)")
    train.add_argument("--groups", type=Path, default=None, help="groups file (default: <data_dir>/reranker/groups.jsonl)")
    train.add_argument("--out", type=Path, default=None, help="output folder (default: <data_dir>/reranker/model)")
    train.add_argument("--device", default=None, help="cuda or cpu (default: cuda when available); CPU takes hours")
    for field in fields(TrainingConfig):
        choices = OBJECTIVES if field.name == "objective" else None
        train.add_argument(f"--{field.name.replace('_', '-')}", type=type(field.default), default=field.default, choices=choices)
    train.set_defaults(handler=_train)
    info = actions.add_parser("info", help="the reranker in use: where it is, how it was trained, whether its weights verify")
    info.set_defaults(handler=_info)


def _default_groups(settings: Settings) -> Path:
    return settings.data_dir / "reranker" / "groups.jsonl"


def _mine(args: argparse.Namespace, settings: Settings) -> int:
    out = args.out or _default_groups(settings)
    groups = _mine_to(out, settings, args.seed)
    by_source = {s: sum(g.source == s for g in groups) for s in sorted({g.source for g in groups})}
    first = sum(g.first_rank == 1 for g in groups)
    print(f"{len(groups)} groups {by_source} -> {out}; the first stage ranks the answer first for {first / max(1, len(groups)):.0%}")
    return 0


def _mine_to(out: Path, settings: Settings, seed: int):
    from assistant.corpus import load_corpus
    from assistant.embed import Embedder
    from assistant.index import ensure_index, load_written_questions
    from assistant.retrieve import Retriever
    from assistant.training.mining import load_bank_questions, mine_groups, write_groups

    corpus = load_corpus(settings)
    embedder = Embedder(settings)
    index = ensure_index(corpus, settings, embedder, progress=sys.stderr.isatty())
    retriever = Retriever(corpus, index, embedder, settings)
    groups = mine_groups(retriever, load_written_questions(), seed=seed, progress=sys.stderr.isatty(), bank=load_bank_questions())
    write_groups(groups, index.passages, out)
    return groups


def _train(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.models import file_sha256
    from assistant.retrieve.cross_encoder import SHIPPED_RERANKER, base_model_path
    from assistant.training.train import train

    groups = args.groups or _default_groups(settings)
    if not groups.is_file():
        print(f"no groups at {groups}; mining them first")
        _mine_to(groups, settings, 13)
    out = args.out or settings.data_dir / "reranker" / "model"
    config = TrainingConfig(**{f.name: getattr(args, f.name) for f in fields(TrainingConfig)})
    base = base_model_path({})
    try:
        manifest = train(groups, base, out, config, device=args.device, progress=sys.stderr.isatty(), base_sha256=file_sha256(base / "model.safetensors"))
    except ValueError as exc:  # an options or starting-weights problem train() names in one line
        raise AssistantError(str(exc)) from exc
    print(f"trained in {manifest['seconds']} s on {manifest['device']} (final loss {manifest['final_loss']}) -> {out}")
    if out.resolve() != SHIPPED_RERANKER.resolve():
        print(f"use it with ASSISTANT_RERANKER_MODEL={out}")
    return 0


def _info(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.retrieve.cross_encoder import CrossEncoder

    if settings.reranker_weight <= 0:
        print("the cross-encoder is off (ASSISTANT_RERANKER_WEIGHT=0)")
        return 0
    scorer = CrossEncoder(settings)
    print(f"reranker: {scorer.model_id} ({scorer.path})")
    print(f"weights sha256: {scorer.weights_sha256} (verified)")
    if scorer.manifest:
        print(json.dumps({k: v for k, v in scorer.manifest.items() if k != "weights_sha256"}, indent=2))
    print(f"weight in the second stage: {settings.reranker_weight}; reads {settings.reranker_max_tokens} word pieces per pair")
    return 0
