"""CLI command for the learned abstention decision: ``assistant abstention fit`` (see ``assistant.training.abstention``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from assistant.settings import Settings


def _share(text: str) -> float:
    try:
        value = float(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a share such as 0.03, got '{text}'") from exc
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 0 and below 1, got {value}")
    return value


def add_commands(sub: argparse._SubParsersAction) -> None:
    cmd = sub.add_parser("abstention", help="the learned abstention decision: fit it on the question bank")
    actions = cmd.add_subparsers(dest="action", required=True, metavar="ACTION")
    fit = actions.add_parser("fit", help="features on eval/questions/train.jsonl, logistic regression, threshold calibrated on dev.jsonl")
    fit.add_argument("--out", type=Path, default=None, help="model file (default: <data_dir>/abstention.json; the shipped one is assistant/data/abstention.json)")
    fit.add_argument("--max-false-abstention", type=_share, default=0.03, help="the most answerable dev questions it may refuse, as a share (default 0.03)")
    fit.set_defaults(handler=_fit)


def _fit(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.answer import ExtractiveAnswerer
    from assistant.corpus import load_corpus
    from assistant.embed import Embedder
    from assistant.evaluation.bank import BANK_DIR
    from assistant.evaluation.gold import load_gold
    from assistant.index import ensure_index
    from assistant.retrieve import Retriever
    from assistant.training.abstention import fit_abstention, labelled_features, rates

    progress = sys.stderr.isatty()
    corpus = load_corpus(settings)
    embedder = Embedder(settings).load()
    index = ensure_index(corpus, settings, embedder, progress=progress)
    retriever = Retriever(corpus, index, embedder, settings)
    extractive = ExtractiveAnswerer(corpus, embedder, settings, segment_vectors=index.segment_vectors)
    train_set, dev_set = load_gold(BANK_DIR / "train.jsonl"), load_gold(BANK_DIR / "dev.jsonl")
    train = labelled_features(retriever, extractive, train_set.items, progress)
    dev = labelled_features(retriever, extractive, dev_set.items, progress)
    trained_on = {"train": {"file": "eval/questions/train.jsonl", "sha256": train_set.sha256}, "dev": {"file": "eval/questions/dev.jsonl", "sha256": dev_set.sha256}}
    model = fit_abstention(train, dev, args.max_false_abstention, trained_on)
    out = args.out or settings.data_dir / "abstention.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(model.to_json(), encoding="utf-8")
    for name, rows in (("train", train), ("dev", dev)):
        recall, false_rate = rates(model, rows)
        print(f"{name}: abstention recall {recall:.3f}, false abstention {false_rate:.3f}")
    print(f"threshold {model.threshold:.3f}; wrote {out}")
    return 0
