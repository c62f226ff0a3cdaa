"""The ``assistant`` command: a thin surface over the same stages the app and API use.

Each stage module that has commands exposes ``add_commands(subparsers)``; its
handlers take ``(args, settings)`` and return an exit code.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from assistant.errors import AssistantError
from assistant.settings import Settings

# Modules that add subcommands, in the order they appear in --help.
COMMAND_MODULES: tuple[str, ...] = ("assistant.cli.corpus", "assistant.cli.index", "assistant.cli.reranker", "assistant.cli.embedder", "assistant.cli.generator", "assistant.cli.feedback", "assistant.cli.eval", "assistant.cli.bank", "assistant.cli.abstention", "assistant.cli.ask", "assistant.cli.bench", "assistant.cli.models")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="assistant", description="Answers questions on Victorian education law with pinpoint citations.")
    parser.add_argument("--verbose", action="store_true", help="show model-loading progress bars and, for answers, the technical detail administrators read")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).add_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not args.verbose:
        # Loading a model draws a progress bar on every call; staff reading an answer in a terminal do not need it.
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    try:
        return int(args.handler(args, Settings()) or 0)
    except AssistantError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
