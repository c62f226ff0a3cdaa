"""CLI command ``assistant bench``: answer latency, throughput under concurrent clients, memory, and the backends side by side.

Speed targets are checked here, by figures printed, never by timed tests.
``--compare`` runs each backend configuration in its own process one after
another on the same machine (so peak memory is each one's own, and a noisy
machine affects all alike), and prints one table: single-stream latency,
answers per second for closed-loop clients sharing the API's worker count,
peak memory, and the development figures, so speed is never read without quality.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from assistant.errors import AssistantError
from assistant.evaluation.metrics import percentile
from assistant.settings import PROJECT_ROOT, Settings

# Questions timed by `assistant bench`: the development set and the answer test cases (no held-out gold).
BENCH_FILES = (PROJECT_ROOT / "tests" / "data" / "dev_questions.jsonl", PROJECT_ROOT / "tests" / "data" / "answer_cases.jsonl")
METRICS_FILE = PROJECT_ROOT / "eval" / "questions" / "dev.jsonl"
# Backend configurations compared by default, as query encoder/cross-encoder.
COMPARED = "torch/torch,onnx/torch,onnx/openvino,onnx/onnx,onnx/onnx-int8"
METRICS = ("recall@5", "mrr@10", "citation_precision", "key_fact_recall", "abstention_recall", "false_abstention_rate")


def add_commands(sub: argparse._SubParsersAction) -> None:
    bench = sub.add_parser("bench", help="time answers (retrieval included) over the development questions; --compare puts the inference backends side by side")
    bench.add_argument("--questions", type=Path, action="append", help="JSONL file(s) with a 'question' field (default: tests/data question sets)")
    bench.add_argument("--limit", type=int, default=0, help="time at most this many questions (0: all)")
    bench.add_argument("--warmup", type=int, default=3, help="untimed questions first, so model loading is not counted")
    bench.add_argument("--cold", action="store_true", help="do not cut the answer segments and take their vectors first: time what a fresh start costs")
    bench.add_argument(
        "--empty-cache",
        action="store_true",
        help="with --cold: use an empty on-disk embedding cache too, as on a machine that has never answered a question",
    )
    bench.add_argument("--clients", default="", help="also measure sustained answers per second for these numbers of closed-loop clients, e.g. 1,4,20")
    bench.add_argument("--seconds", type=float, default=15.0, help="how long each --clients level runs")
    bench.add_argument("--metrics", type=Path, default=None, help="also evaluate this gold or bank file (e.g. eval/questions/dev.jsonl), so speed is read with quality")
    bench.add_argument("--json-out", type=Path, default=None, help="write the figures as JSON too")
    bench.add_argument(
        "--compare",
        nargs="?",
        const=COMPARED,
        default=None,
        help=f"run each query-encoder/cross-encoder backend pair in its own process and print them side by side (default pairs: {COMPARED}); "
        f"uses --clients (default 1,4,20) and --metrics (default {METRICS_FILE.relative_to(PROJECT_ROOT)})",
    )
    bench.set_defaults(handler=_bench)


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
    if args.compare:
        return _compare(args)
    from assistant.pipeline import Assistant

    files = args.questions or [path for path in BENCH_FILES if path.is_file()]
    questions = load_questions(files)
    if args.limit:
        questions = questions[: args.limit]
    if not questions:
        raise AssistantError("no questions to time; pass --questions FILE.jsonl")
    clients = _levels(args.clients)
    if args.empty_cache:
        if not args.cold:
            raise AssistantError("--empty-cache times a first start; use it with --cold")
        # Removed when the command ends (TemporaryDirectory cleans up when collected or at exit).
        empty = tempfile.TemporaryDirectory(prefix="assistant-bench-")
        settings = settings.model_copy(update={"data_dir": Path(empty.name)})
    figures: dict = {"query_encoder": settings.query_encoder_backend, "cross_encoder": settings.cross_encoder_backend}
    started = time.perf_counter()
    assistant = Assistant.load(settings)
    figures["load_s"] = round(time.perf_counter() - started, 1)
    print(f"loaded in {figures['load_s']} s", file=sys.stderr)
    if assistant.short_model is not None:
        started = time.perf_counter()
        assistant.short_model.load()
        print(f"short-answer model {assistant.short_model.model_id} loaded in {time.perf_counter() - started:.1f} s (target <= 10 s)", file=sys.stderr)
    if not args.cold:
        started = time.perf_counter()
        count = assistant.warm()
        print(f"took {count} answer segments and their vectors from the index in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    print(f"timing {len(questions)} questions (extractive, retrieval included)", file=sys.stderr)
    for question in questions[: args.warmup]:
        assistant.ask(question, mode="extractive")
    figures.update(_single_stream(assistant, questions, settings))
    for level in clients:
        rate, latencies = closed_loop(assistant, questions, level, args.seconds, settings.api_workers)
        figures[f"clients_{level}"] = {"answers_per_s": round(rate, 2), "p50_ms": round(percentile(latencies, 50)), "p95_ms": round(percentile(latencies, 95))}
        print(f"{level} closed-loop client(s), {settings.api_workers} workers, {args.seconds:.0f} s: {rate:.2f} answers/s, "
              f"latency p50 {percentile(latencies, 50):.0f} ms, p95 {percentile(latencies, 95):.0f} ms")
    if args.metrics:
        figures["metrics"] = _metrics(assistant, args.metrics, settings)
        print(f"{args.metrics.name}: " + ", ".join(f"{name} {value:.3f}" for name, value in figures["metrics"].items()))
    figures["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(f"peak memory (resident) {figures['peak_rss_mb']} MB")
    if args.json_out:
        args.json_out.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 0


def _levels(spec: str) -> list[int]:
    try:
        levels = [int(part) for part in spec.split(",") if part.strip()]
    except ValueError as exc:
        raise AssistantError(f"--clients takes numbers separated by commas, e.g. 1,4,20 (got '{spec}')") from exc
    if any(level < 1 for level in levels):
        raise AssistantError("--clients: each level must be at least 1")
    return levels


def _single_stream(assistant, questions: list[str], settings: Settings) -> dict:
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
    return {"single_p50_ms": round(percentile(totals, 50)), "single_p95_ms": round(percentile(totals, 95)), "abstained": abstained, "questions": len(totals)}


def closed_loop(assistant, questions: list[str], clients: int, seconds: float, workers: int) -> tuple[float, list[float]]:
    """Answers per second and each answer's latency (queueing included) for ``clients`` users asking back to back.

    Requests go through ``workers`` threads, as the API's pool runs them, so the
    figure is what a server with this many workers sustains.
    """
    latencies: list[float] = []
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="bench-worker") as pool:

        def client(offset: int) -> None:
            turn = offset
            while time.perf_counter() < deadline:
                asked = time.perf_counter()
                pool.submit(assistant.ask, questions[turn % len(questions)], mode="extractive").result()
                with lock:
                    latencies.append((time.perf_counter() - asked) * 1000)
                turn += clients

        started = time.perf_counter()
        threads = [threading.Thread(target=client, args=(offset,), name=f"bench-client-{offset}") for offset in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
    return len(latencies) / elapsed, latencies


def _metrics(assistant, path: Path, settings: Settings) -> dict[str, float]:
    from assistant.evaluation.gold import load_gold
    from assistant.evaluation.run import default_config, evaluate_items, summarise

    results = evaluate_items(assistant, load_gold(path).items, default_config(settings), progress=False)
    overall = summarise(results)["overall"]
    return {name: round(float(overall[name]), 4) for name in METRICS}


def _compare(args: argparse.Namespace) -> int:
    pairs = [pair.strip() for pair in args.compare.split(",") if pair.strip()]
    if not pairs or any(pair.count("/") != 1 for pair in pairs):
        raise AssistantError(f"--compare takes query-encoder/cross-encoder pairs separated by commas, e.g. {COMPARED}")
    rows = []
    with tempfile.TemporaryDirectory(prefix="assistant-compare-") as work:
        for pair in pairs:
            query, cross = pair.split("/")
            out = Path(work) / f"{len(rows)}.json"
            command = [sys.executable, "-m", "assistant", "bench", "--clients", args.clients or "1,4,20", "--seconds", str(args.seconds), "--json-out", str(out)]
            command += ["--metrics", str(args.metrics or METRICS_FILE)]
            for path in args.questions or []:
                command += ["--questions", str(path)]
            command += ["--limit", str(args.limit)] if args.limit else []
            env = {**os.environ, "ASSISTANT_QUERY_ENCODER_BACKEND": query, "ASSISTANT_CROSS_ENCODER_BACKEND": cross}
            print(f"== query encoder {query}, cross-encoder {cross}", flush=True)
            done = subprocess.run(command, env=env, check=False)
            if done.returncode != 0 or not out.is_file():
                raise AssistantError(f"the benchmark for {pair} failed (exit {done.returncode}); run it alone with ASSISTANT_QUERY_ENCODER_BACKEND={query} ASSISTANT_CROSS_ENCODER_BACKEND={cross} assistant bench")
            rows.append((pair, json.loads(out.read_text(encoding="utf-8"))))
    print()
    print(comparison_table(rows))
    return 0


def comparison_table(rows: list[tuple[str, dict]]) -> str:
    """One Markdown row per backend pair: latency, throughput at each client level, peak memory, development figures."""
    levels = sorted({int(key.split("_")[1]) for _, figures in rows for key in figures if key.startswith("clients_")})
    head = ["query encoder / cross-encoder", "p50 / p95 ms", *[f"answers/s, {n} client{'s' * (n > 1)}" for n in levels], "peak MB", *METRICS]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for pair, figures in rows:
        cells = [pair, f"{figures['single_p50_ms']} / {figures['single_p95_ms']}"]
        cells += [f"{figures[f'clients_{n}']['answers_per_s']:.2f}" if f"clients_{n}" in figures else "—" for n in levels]
        cells.append(str(figures.get("peak_rss_mb", "—")))
        cells += [f"{figures['metrics'][name]:.3f}" if "metrics" in figures else "—" for name in METRICS]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
