"""CLI commands for the corpus: ``assistant corpus stats`` and ``assistant corpus show``."""

from __future__ import annotations

import argparse
import json
import time

from assistant.corpus import load_corpus, stats
from assistant.settings import Settings


def add_commands(sub: argparse._SubParsersAction) -> None:
    corpus = sub.add_parser("corpus", help="inspect the parsed source documents")
    corpus_sub = corpus.add_subparsers(dest="corpus_command", required=True, metavar="ACTION")
    stats_cmd = corpus_sub.add_parser("stats", help="counts by kind, and table-of-contents entries missing from the body")
    stats_cmd.set_defaults(handler=_stats)
    show = corpus_sub.add_parser("show", help="print one provision, e.g. `assistant corpus show 2.6.9`")
    show.add_argument("provision", help="provision id: 2.6.9, 'Sch 2 cl 2', or a function number with --document vet-clusters")
    show.add_argument("--document", default="etra-2006")
    show.add_argument("--json", action="store_true", help="print the Provision record as JSON")
    show.set_defaults(handler=_show)
    bench = corpus_sub.add_parser("bench", help="time parsing the whole corpus")
    bench.add_argument("--repeat", type=int, default=5)
    bench.set_defaults(handler=_bench)


def _stats(args: argparse.Namespace, settings: Settings) -> int:
    print(stats(load_corpus(settings)))
    return 0


def _show(args: argparse.Namespace, settings: Settings) -> int:
    provision = load_corpus(settings).get(args.document, args.provision)
    if args.json:
        print(json.dumps(provision.model_dump(), indent=2, ensure_ascii=False))
        return 0
    print(f"{provision.provision_id} {provision.heading}")
    print(" › ".join(provision.path))
    print()
    print(provision.text)
    if provision.notes:
        print("\nHistory notes:")
        print("\n".join(f"  {n}" for n in provision.notes))
    return 0


def _bench(args: argparse.Namespace, settings: Settings) -> int:
    timings = []
    for _ in range(max(1, args.repeat)):
        start = time.perf_counter()
        corpus = load_corpus(settings)
        timings.append(time.perf_counter() - start)
    print(f"parsed {len(corpus.provisions)} provisions from {len(corpus.documents)} documents")
    print(f"parse time: best {min(timings):.3f} s, mean {sum(timings) / len(timings):.3f} s over {len(timings)} runs (target < 2 s)")
    return 0
