"""CLI commands for answering: ``assistant ask "..."`` and ``assistant bench`` (answer latency)."""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from assistant.answer.card import delegation_notes, lead_sentence, quote_items
from assistant.errors import AssistantError
from assistant.evaluation.metrics import percentile
from assistant.question import clean_question
from assistant.records import ABSTAIN_KIND_LABELS, Answer
from assistant.settings import PROJECT_ROOT, Settings

# Questions timed by `assistant bench`: the development set and the answer test cases (no held-out gold).
BENCH_FILES = (PROJECT_ROOT / "tests" / "data" / "dev_questions.jsonl", PROJECT_ROOT / "tests" / "data" / "answer_cases.jsonl")


def add_commands(sub: argparse._SubParsersAction) -> None:
    ask = sub.add_parser("ask", help='answer a question with pinpoint citations, e.g. `assistant ask "Until what age must a child attend school?"`')
    ask.add_argument("question")
    ask.add_argument("--json", action="store_true", help="print the Answer record as JSON")
    ask.add_argument("--mode", choices=["extractive", "generative"], help="answerer (default: ASSISTANT_ANSWER_MODE, extractive)")
    ask.add_argument("--k", type=int, help="provisions to retrieve (default: ASSISTANT_TOP_K)")
    ask.add_argument("--document", help="answer from one document only: etra-2006 or vet-clusters")
    ask.set_defaults(handler=_ask)
    bench = sub.add_parser("bench", help="time extractive answers (retrieval included) over the development questions")
    bench.add_argument("--questions", type=Path, action="append", help="JSONL file(s) with a 'question' field (default: tests/data question sets)")
    bench.add_argument("--limit", type=int, default=0, help="time at most this many questions (0: all)")
    bench.add_argument("--warmup", type=int, default=3, help="untimed questions first, so model loading is not counted")
    bench.add_argument("--cold", action="store_true", help="do not embed the answer segments first: time what a fresh start costs")
    bench.add_argument(
        "--empty-cache",
        action="store_true",
        help="with --cold: use an empty on-disk embedding cache too, as on a machine that has never answered a question",
    )
    bench.set_defaults(handler=_bench)


def format_answer(answer: Answer, verbose: bool = False) -> str:
    """The answer as staff read it: the plain answer first, then the law's words (each quote once) with labels, what it rests on.

    ``verbose`` adds what administrators read: an abstention's technical detail, removed sentences, the answerer and timing.
    """
    lines: list[str] = []
    if answer.rewritten_question:
        lines += [f"(understood as: {answer.rewritten_question})", ""]
    if answer.abstained:
        kind = ABSTAIN_KIND_LABELS.get(answer.abstain_kind or "", "not answered")
        lines += [f"Not answered by the law text ({kind}): {answer.abstain_reason or answer.text}"]
        lines += [answer.text] if answer.citations else []
        shown: set[int] = set(range(len(answer.citations)))
    else:
        lead, shown = lead_sentence(answer)
        lines.append(lead)
        lines += delegation_notes(answer)
    items = quote_items(answer, shown)
    if items:
        lines.append("")
    for item in items:
        citation = answer.citations[item.index]
        lines.append(f"[{item.numbers}] {citation.label} — {citation.heading}")
        lines.append("    " + " … ".join(f"“{text}”" for text in item.texts))
    if answer.abstained and answer.retrieved:
        lines += ["", "Closest provisions to read: " + "; ".join(f"{r.label} ({r.heading})" for r in answer.retrieved[:3])]
    stamps = dict.fromkeys(f"{c.document_title}, {c.version}" + (f", {c.as_at}" if c.as_at else "") for c in answer.citations)
    if stamps:
        lines += ["", "Rests on: " + "; ".join(stamps)]
    if answer.fallback:
        lines.append(f"(generative answer replaced by the extractive one: {answer.fallback})")
    if verbose:
        if answer.abstain_detail:
            lines.append(f"(detail: {answer.abstain_detail})")
        if answer.short_answer:
            lines.append(f"(short answer {'by the model, checked' if answer.short_answer_by == 'model' else 'from the quoted law'})")
        if answer.removed_sentences:
            lines.append(f"({answer.removed_sentences} generated sentence(s) removed for lacking a valid citation)")
        total = answer.timings_ms.get("total")
        lines.append(f"({answer.mode}{', ' + answer.model_id if answer.model_id else ''}" + (f"; {total:.0f} ms" if total is not None else "") + ")")
    return "\n".join(lines).rstrip()


def _ask(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.pipeline import Assistant

    # A question that cannot be asked is refused before seconds of model loading.
    clean_question(args.question, settings.max_question_chars)
    assistant = Assistant.load(settings)
    answer = assistant.ask(args.question, k=args.k, document=args.document, mode=args.mode)
    print(answer.model_dump_json(indent=2) if args.json else format_answer(answer, verbose=args.verbose))
    return 0


def load_questions(files: list[Path]) -> list[str]:
    questions: list[str] = []
    for path in files:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError as exc:
            raise AssistantError(f"{path}: question file not found") from exc
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                questions.append(str(json.loads(line)["question"]))
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise AssistantError(f"{path}:{number}: not a JSON object with a 'question' field ({exc})") from exc
    return questions


def _bench(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.pipeline import Assistant

    files = args.questions or [path for path in BENCH_FILES if path.is_file()]
    questions = load_questions(files)
    if args.limit:
        questions = questions[: args.limit]
    if not questions:
        raise AssistantError("no questions to time; pass --questions FILE.jsonl")
    if args.empty_cache:
        if not args.cold:
            raise AssistantError("--empty-cache times a first start; use it with --cold")
        # Removed when the command ends (TemporaryDirectory cleans up when collected or at exit).
        empty = tempfile.TemporaryDirectory(prefix="assistant-bench-")
        settings = settings.model_copy(update={"data_dir": Path(empty.name)})
    started = time.perf_counter()
    assistant = Assistant.load(settings)
    print(f"loaded in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    if assistant.short_model is not None:
        started = time.perf_counter()
        assistant.short_model.load()
        print(f"short-answer model {assistant.short_model.model_id} loaded in {time.perf_counter() - started:.1f} s (target <= 10 s)", file=sys.stderr)
    if not args.cold:
        started = time.perf_counter()
        count = assistant.warm()
        print(f"embedded {count} answer segments in {time.perf_counter() - started:.1f} s (cached on disk after the first run)", file=sys.stderr)
    print(f"timing {len(questions)} questions (extractive, retrieval included)", file=sys.stderr)
    for question in questions[: args.warmup]:
        assistant.ask(question, mode="extractive")
    totals: list[float] = []
    stages: dict[str, list[float]] = {}
    abstained = 0
    answered_flags: list[bool] = []
    for question in questions:
        t = time.perf_counter()
        answer = assistant.ask(question, mode="extractive")
        totals.append((time.perf_counter() - t) * 1000)
        abstained += answer.abstained
        answered_flags.append(not answer.abstained)
        for stage, ms in answer.timings_ms.items():
            stages.setdefault(stage, []).append(ms)
    print(f"extractive ask latency over {len(totals)} questions: p50 {percentile(totals, 50):.0f} ms, p95 {percentile(totals, 95):.0f} ms, "
          f"mean {statistics.fmean(totals):.0f} ms, max {max(totals):.0f} ms (targets: p50 <= 250 ms, p95 <= 500 ms)")
    for stage in ("retrieve", "answer"):
        if stage in stages:
            print(f"  {stage}: p50 {percentile(stages[stage], 50):.0f} ms, p95 {percentile(stages[stage], 95):.0f} ms")
    if "short_answer" in stages:
        timed = [ms for ms, answered in zip(stages["short_answer"], answered_flags, strict=True) if answered]
        print(f"  short answer ({settings.short_answer_writer}) over {len(timed)} answered: p50 {percentile(timed, 50):.0f} ms, p95 {percentile(timed, 95):.0f} ms"
              + (" (targets for the model: p50 <= 1500 ms, p95 <= 3000 ms)" if settings.short_answer_writer == "model" else ""))
    print(f"  abstained on {abstained} of {len(totals)}")
    return 0
