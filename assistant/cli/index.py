"""CLI commands for the index: ``assistant index build|info|bench`` and ``assistant search``."""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

from assistant.corpus import load_corpus
from assistant.embed import Embedder
from assistant.evaluation.metrics import percentile
from assistant.index import (
    build_index,
    disk_size,
    index_status,
    load_index,
    read_manifest,
)
from assistant.retrieve import MODES, Retriever
from assistant.settings import PROJECT_ROOT, Settings

DEV_QUESTIONS = PROJECT_ROOT / "tests" / "data" / "dev_questions.jsonl"


def add_commands(sub: argparse._SubParsersAction) -> None:
    index = sub.add_parser("index", help="build, inspect and benchmark the search index")
    index_sub = index.add_subparsers(dest="index_command", required=True, metavar="ACTION")
    build = index_sub.add_parser("build", help="chunk, embed and index the corpus (reuses cached embeddings)")
    build.add_argument("--force", action="store_true", help="rebuild even when the index is current")
    build.set_defaults(handler=_build)
    info = index_sub.add_parser("info", help="what the index was built from, and whether it is current")
    info.set_defaults(handler=_info)
    bench = index_sub.add_parser("bench", help="time a cold and a warm build and retrieval latency (takes a few minutes)")
    bench.add_argument("--queries", type=int, default=120, help="queries timed per mode (at least 100 is meaningful)")
    bench.set_defaults(handler=_bench)

    search = sub.add_parser("search", help='ranked provisions for a question, e.g. `assistant search "who registers teachers?"`')
    search.add_argument("question")
    search.add_argument("--k", type=int, default=10, help="how many provisions to show")
    search.add_argument("--json", action="store_true", help="print the hits as JSON")
    search.add_argument("--document", default=None, help="only this document, e.g. etra-2006 or vet-clusters")
    search.add_argument("--mode", choices=MODES, default=None, help="retrieval mode (default: settings.retrieval_mode)")
    search.set_defaults(handler=_search)


def _build(args: argparse.Namespace, settings: Settings) -> int:
    corpus = load_corpus(settings)
    embedder = Embedder(settings)
    reason = index_status(settings, corpus, embedder)
    if reason is None and not args.force:
        print(f"index at {settings.index_dir} is current; use --force to rebuild")
        return 0
    started = time.perf_counter()
    manifest = build_index(corpus, settings, embedder, force=True, progress=sys.stderr.isatty())
    print(
        f"built {manifest.passage_count} passages and {manifest.segment_count} answer segments "
        f"({manifest.encoded_passages} and {manifest.encoded_segments} newly embedded, the rest from the cache) "
        f"in {time.perf_counter() - started:.1f} s -> {settings.index_dir}"
    )
    return 0


def _info(args: argparse.Namespace, settings: Settings) -> int:
    manifest = read_manifest(settings.index_dir)
    print(f"index: {settings.index_dir} ({disk_size(settings.index_dir) / 1e6:.1f} MB)")
    print(manifest.model_dump_json(indent=2))
    reason = index_status(settings, load_corpus(settings), Embedder(settings))
    print("status: current" if reason is None else f"status: {reason}")
    return 0


def _search(args: argparse.Namespace, settings: Settings) -> int:
    corpus = load_corpus(settings)
    embedder = Embedder(settings)
    retriever = Retriever(corpus, load_index(settings, corpus, embedder), embedder, settings)
    hits = retriever.retrieve(args.question, k=args.k, document=args.document, mode=args.mode)
    if args.json:
        print(json.dumps([h.model_dump() for h in hits], indent=2, ensure_ascii=False))
        return 0
    if not hits:
        print("no provisions found")
    for hit in hits:
        signals = "  ".join(f"{name} {value:.3f}" for name, value in hit.scores.items())
        print(f"{hit.rank:>2}. {hit.label:<28} {hit.heading}")
        print(f"    {signals}")
    return 0


def bench_queries(corpus, wanted: int) -> list[str]:
    """Staff-style development questions, topped up with heading questions to reach ``wanted``."""
    queries: list[str] = []
    if DEV_QUESTIONS.is_file():
        for line in DEV_QUESTIONS.read_text(encoding="utf-8").splitlines():
            if line.strip():
                queries.append(json.loads(line)["question"])
    for provision in corpus.provisions:
        if len(queries) >= wanted:
            break
        if not provision.repealed and provision.heading:
            queries.append(f"What does the law say about {provision.heading.lower()}?")
    return queries[:wanted]


def _percentiles(times: list[float]) -> str:
    ms = [t * 1000 for t in times]
    return f"p50 {percentile(ms, 50):.1f} ms, p95 {percentile(ms, 95):.1f} ms"


def _bench(args: argparse.Namespace, settings: Settings) -> int:
    corpus = load_corpus(settings)
    with tempfile.TemporaryDirectory(prefix="assistant-bench-") as tmp:
        bench_settings = settings.model_copy(update={"index_dir": Path(tmp) / "index", "data_dir": Path(tmp) / "data"})
        embedder = Embedder(bench_settings)
        started = time.perf_counter()
        manifest = build_index(corpus, bench_settings, embedder, force=True, progress=False)
        cold = time.perf_counter() - started
        warm_embedder = Embedder(bench_settings)
        started = time.perf_counter()
        warm_manifest = build_index(corpus, bench_settings, warm_embedder, force=True, progress=False)
        warm = time.perf_counter() - started
        print(f"passages: {manifest.passage_count}; longest passage: {manifest.longest_passage_tokens} word pieces (window {settings.passage_max_tokens})")
        print(f"cold build (model load, chunk, embed all, index): {cold:.1f} s (target <= 60 s)")
        print(f"warm rebuild ({warm_manifest.encoded_passages} passages re-embedded): {warm:.1f} s (target <= 5 s)")
        print(f"index size on disk: {disk_size(bench_settings.index_dir) / 1e6:.1f} MB")
        retriever = Retriever(corpus, load_index(bench_settings, corpus, embedder), embedder, bench_settings)
        queries = bench_queries(corpus, max(1, args.queries))
        targets = {"hybrid": "target p50 <= 20 ms, p95 <= 40 ms", "full": "target p50 <= 120 ms, p95 <= 250 ms"}
        for mode in ("hybrid", "full"):
            retriever.retrieve(queries[0], mode=mode)  # first call pays one-off set-up, not latency
            times = []
            for query in queries:
                started = time.perf_counter()
                retriever.retrieve(query, mode=mode)
                times.append(time.perf_counter() - started)
            stage = "first stage (hybrid)" if mode == "hybrid" else "full (hybrid + second stage)"
            print(f"retrieval latency, {stage}, {len(times)} queries, query embedding included: {_percentiles(times)} ({targets[mode]})")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory (max RSS): {peak:.0f} MB")
    # Timings on a shared machine mean little without the load they were taken under.
    print(f"machine: {os.cpu_count()} CPUs, load average {' / '.join(f'{x:.1f}' for x in os.getloadavg())} (1 / 5 / 15 min); embedding precision {embedder.precision}")
    return 0
