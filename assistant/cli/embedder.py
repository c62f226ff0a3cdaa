"""CLI commands for the embedder: ``assistant embedder train|info``.

Building the index never trains: the tuned tensors ship in assistant/data/embedder,
and ``train`` writes new ones only when asked (to ``data/embedder`` by default;
pass ``--out assistant/data/embedder`` to replace the shipped ones, then rebuild
the index and refit the abstention model, whose signals read these vectors).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import fields
from pathlib import Path

from assistant.errors import AssistantError
from assistant.settings import Settings
from assistant.training.embedder import EmbedderTrainingConfig


def add_commands(sub: argparse._SubParsersAction) -> None:
    embedder = sub.add_parser("embedder", help="train and inspect the embedder tuned on the written staff questions")
    actions = embedder.add_subparsers(dest="embedder_command", required=True, metavar="ACTION")
    train = actions.add_parser("train", help="tune all-MiniLM-L6-v2 on the written questions of a groups file (from `assistant reranker mine`)")
    train.add_argument("--groups", type=Path, default=None, help="groups file (default: <data_dir>/reranker/groups.jsonl)")
    train.add_argument("--out", type=Path, default=None, help="output folder (default: <data_dir>/embedder)")
    train.add_argument("--device", default=None, help="cuda or cpu (default: cuda when available)")
    for field in fields(EmbedderTrainingConfig):
        train.add_argument(f"--{field.name.replace('_', '-')}", type=type(field.default), default=field.default)
    train.set_defaults(handler=_train)
    info = actions.add_parser("info", help="the embedder in use: what it is, how it was trained, whether its weights verify")
    info.set_defaults(handler=_info)


def _train(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.models import default_model_path, file_sha256
    from assistant.training.embedder import train_embedder

    groups = args.groups or settings.data_dir / "reranker" / "groups.jsonl"
    if not groups.is_file():
        raise AssistantError(f"no groups at {groups}; write them with `assistant reranker mine --out {groups}`")
    out = args.out or settings.data_dir / "embedder"
    config = EmbedderTrainingConfig(**{f.name: getattr(args, f.name) for f in fields(EmbedderTrainingConfig)})
    base = default_model_path()
    try:
        manifest = train_embedder(groups, base, out, config, device=args.device, progress=sys.stderr.isatty(), base_sha256=file_sha256(base / "model.safetensors"))
    except ValueError as exc:
        raise AssistantError(str(exc)) from exc
    print(f"trained in {manifest['seconds']} s on {manifest['device']} ({manifest['steps']} steps, final loss {manifest['final_loss']}) -> {out}")
    print("to ship it: --out assistant/data/embedder, then `assistant index build` and `assistant abstention fit`")
    return 0


def _info(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.embed import Embedder

    embedder = Embedder(settings)
    print(f"embedder: {embedder.model_id} ({embedder.path})")
    print(f"weights sha256: {embedder.weights_sha256} (verified)")
    if embedder.tuned_manifest:
        print(json.dumps({k: v for k, v in embedder.tuned_manifest.items() if k != "weights_sha256"}, indent=2))
    return 0
