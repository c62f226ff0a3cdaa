"""CLI command for the evaluation: ``assistant eval``.

Examples::

    assistant eval                                   # default configuration on eval/gold.jsonl, figures printed
    assistant eval --out eval/reports/latest --configs bm25,dense,hybrid,full,generative
    assistant eval --gate eval/thresholds.json       # exits 1 when a figure is below its threshold
    assistant eval --check --gold my_questions.jsonl # validate a gold file against the corpus only
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from assistant.corpus import load_corpus
from assistant.evaluation.compare import compare_results, load_results
from assistant.evaluation.gold import check_against_corpus, load_gold
from assistant.evaluation.report import fmt
from assistant.evaluation.run import (
    EvalRun,
    check_gate,
    load_thresholds,
    run_evaluation,
)
from assistant.settings import PROJECT_ROOT, Settings

DEFAULT_GOLD = PROJECT_ROOT / "eval" / "gold.jsonl"
DEFAULT_THRESHOLDS = PROJECT_ROOT / "eval" / "thresholds.json"
PRINTED = ("recall@1", "recall@5", "mrr@10", "ndcg@10", "citation_precision", "citation_recall", "key_fact_recall", "abstention_recall", "false_abstention_rate", "crag_score", "latency_p50_ms", "latency_p95_ms")


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a whole number, got '{text}'") from exc
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def add_commands(sub: argparse._SubParsersAction) -> None:
    cmd = sub.add_parser("eval", help="score the assistant on a gold file: retrieval, citations, key facts, abstention")
    cmd.add_argument("--gold", type=Path, default=DEFAULT_GOLD, help="gold JSONL file (default: eval/gold.jsonl)")
    cmd.add_argument("--out", type=Path, help="folder for results.jsonl, summary.json and report.md (default: print figures only)")
    cmd.add_argument(
        "--configs",
        default="",
        help="extra configurations to compare with the default, comma-separated: bm25, dense, hybrid, full, extractive, generative, or retrieval/answer",
    )
    cmd.add_argument("--gate", type=Path, help="thresholds JSON (e.g. eval/thresholds.json); exit 1 when the default configuration falls below it")
    cmd.add_argument("--k", type=_positive, help="provisions retrieved per question (default: the assistant's own)")
    cmd.add_argument("--limit", type=_positive, help="only the first N gold items (quick checks)")
    cmd.add_argument("--no-progress", action="store_true", help="no progress bar")
    cmd.add_argument("--check", action="store_true", help="only validate the gold file against the corpus, then exit")
    cmd.add_argument(
        "--same-as",
        type=Path,
        metavar="RUN",
        help="an earlier run folder (from --out) of the same gold file; exit 1 unless every answer, citation, abstention and retrieved order is identical",
    )
    cmd.set_defaults(handler=_eval)


def _check(gold_path: Path, settings: Settings) -> int:
    gold = load_gold(gold_path)
    problems = check_against_corpus(gold, load_corpus(settings))
    for problem in problems:
        print(problem)
    answerable = sum(item.answerable for item in gold.items)
    print(f"{gold.path}: {len(gold.items)} items ({answerable} answerable, {len(gold.items) - answerable} unanswerable); {len(problems)} problem(s)")
    return 1 if problems else 0


def _print_figures(run: EvalRun) -> None:
    width = max(len(r.config.name) for r in run.runs)
    print(f"{'configuration':<{width}}  " + "  ".join(f"{m:>10.10}" for m in PRINTED))
    for r in run.runs:
        overall = r.summary["overall"]
        print(f"{r.config.name:<{width}}  " + "  ".join(f"{fmt(m, overall.get(m)):>10}" for m in PRINTED))
    head = run.headline
    print(f"{head.summary['overall']['items']} items in {head.wall_s:.1f} s ({head.config.name}); {head.summary['overall']['errors']} error(s)")


def _same_as(earlier: Path, run: EvalRun) -> bool:
    differences = compare_results(load_results(earlier), run.headline.results)
    for line in differences:
        print(f"differs: {line}", file=sys.stderr)
    if differences:
        print(f"{len(differences)} difference(s) from {earlier}", file=sys.stderr)
        return False
    print(f"identical to {earlier}: {len(run.headline.results)} items, same answers, citations, abstentions and retrieved order")
    return True


def _eval(args: argparse.Namespace, settings: Settings) -> int:
    if args.check:
        return _check(args.gold, settings)
    thresholds = load_thresholds(args.gate) if args.gate else (load_thresholds(DEFAULT_THRESHOLDS) if DEFAULT_THRESHOLDS.is_file() else None)
    run = run_evaluation(
        settings,
        args.gold,
        configs=args.configs,
        out=args.out,
        k=args.k,
        limit=args.limit,
        progress=not args.no_progress,
        thresholds=thresholds,
    )
    _print_figures(run)
    if args.out:
        print(f"wrote {args.out / 'report.md'}, summary.json and results.jsonl")
    if args.same_as and not _same_as(args.same_as, run):
        return 1
    if not args.gate:
        return 0
    failures = check_gate(run.headline.summary["overall"], thresholds or {})
    for failure in failures:
        print(f"gate failed: {failure}", file=sys.stderr)
    if failures:
        print(f"{len(failures)} threshold(s) in {args.gate} not met", file=sys.stderr)
        return 1
    print(f"gate passed: every threshold in {args.gate} met")
    return 0
