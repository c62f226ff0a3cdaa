"""CLI command for the question bank: ``assistant bank build`` (see ``assistant.evaluation.bank``)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from assistant.corpus import load_corpus
from assistant.evaluation.bank import BANK_DIR, WRITTEN_DIR, build_bank, write_bank
from assistant.settings import PROJECT_ROOT, Settings

EVALUATION_QUESTIONS = (PROJECT_ROOT / "eval" / "gold.jsonl", PROJECT_ROOT / "tests" / "data" / "dev_questions.jsonl", PROJECT_ROOT / "tests" / "data" / "answer_cases.jsonl")


def add_commands(sub: argparse._SubParsersAction) -> None:
    cmd = sub.add_parser("bank", help="the question bank: build train/dev/test from the writers' files")
    actions = cmd.add_subparsers(dest="action", required=True, metavar="ACTION")
    build = actions.add_parser("build", help="check, de-duplicate and split eval/questions/written/{pool,test} into eval/questions/{train,dev,test}.jsonl")
    build.add_argument("--written", type=Path, default=WRITTEN_DIR, help="the writers' files (default: eval/questions/written)")
    build.add_argument("--out", type=Path, default=BANK_DIR, help="where the splits go (default: eval/questions)")
    build.set_defaults(handler=_build)


def evaluation_questions() -> list[str]:
    """Questions of the evaluation sets that the bank's train and dev splits must not copy."""
    return [json.loads(line)["question"] for file in EVALUATION_QUESTIONS for line in file.read_text(encoding="utf-8").splitlines() if line.strip()]


def _build(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.index import load_written_questions

    trained_on = [q.question for q in load_written_questions()]
    build = build_bank(load_corpus(settings), args.written, evaluation_questions(), trained_on)
    write_bank(build, args.out)
    print(build.summary())
    print(f"wrote {args.out}/train.jsonl, dev.jsonl, test.jsonl and left_out.txt (why each left-out item was left out)")
    return 0
