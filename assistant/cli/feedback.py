"""CLI commands for staff feedback: ``assistant feedback list`` and ``assistant feedback export``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from assistant.errors import AssistantError
from assistant.settings import Settings
from assistant.web.feedback import FeedbackStore


def add_commands(sub: argparse._SubParsersAction) -> None:
    feedback = sub.add_parser("feedback", help="read the feedback staff left in the UI and the API")
    feedback_sub = feedback.add_subparsers(dest="feedback_command", required=True, metavar="ACTION")
    list_cmd = feedback_sub.add_parser("list", help="print the newest feedback")
    list_cmd.add_argument("--limit", type=int, default=20, help="how many rows, newest last (default 20)")
    list_cmd.set_defaults(handler=_list)
    export = feedback_sub.add_parser("export", help="write feedback as gold-set candidates (eval/gold.jsonl format) for curators")
    export.add_argument("--out", required=True, type=Path, help="JSONL file to write, e.g. eval/candidates.jsonl")
    export.set_defaults(handler=_export)


def _list(args: argparse.Namespace, settings: Settings) -> int:
    store = FeedbackStore.from_settings(settings)
    entries = store.list(limit=max(0, args.limit))
    if not entries:
        print(f"no feedback yet in {store.path}")
        return 0
    for e in entries:
        flags = [e.rating or "-"]
        if e.wrong_citation:
            flags.append(f"wrong citation{' ' + e.citation_label if e.citation_label else ''}")
        print(f"#{e.id} {e.created_at:%Y-%m-%d %H:%M} [{', '.join(flags)}] {e.question[:100]}")
        if e.comment:
            print(f"    comment: {e.comment[:200]}")
    print(f"{store.count()} feedback rows in {store.path}")
    return 0


def _export(args: argparse.Namespace, settings: Settings) -> int:
    store = FeedbackStore.from_settings(settings)
    candidates = store.export_candidates()
    try:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        with args.out.open("w", encoding="utf-8") as fh:
            for candidate in candidates:
                fh.write(json.dumps(candidate, ensure_ascii=False) + "\n")
    except OSError as exc:
        raise AssistantError(f"{args.out}: cannot write the candidates ({exc}); choose another --out path") from exc
    rows = sum(len(c["feedback"]) for c in candidates)
    print(f"wrote {len(candidates)} gold-set candidates from {rows} feedback rows to {args.out}")
    print("curators: fill in key_facts, evidence, kind and difficulty, then copy the good ones into eval/gold.jsonl")
    return 0
