"""CLI command ``assistant models export``: the exported graphs of the query encoder and the cross-encoder, checked against torch.

Graphs are exported on first use anyway (a few seconds each); exporting ahead
of a deployment spares the first question that wait, and the parity printed
here (development questions, each with the passages the first stage retrieves
for it) is what the inference backend setting should be chosen on.
"""

from __future__ import annotations

import argparse
import time

from assistant.errors import AssistantError
from assistant.settings import PROJECT_ROOT, Settings

BACKENDS = ("openvino", "onnx", "onnx-int8")
PARITY_QUESTIONS = PROJECT_ROOT / "eval" / "questions" / "dev.jsonl"


def add_commands(sub: argparse._SubParsersAction) -> None:
    models = sub.add_parser("models", help="export the query encoder and cross-encoder as graphs (ONNX Runtime, OpenVINO) and check them against torch")
    actions = models.add_subparsers(dest="models_command", required=True, metavar="ACTION")
    export = actions.add_parser("export", help="export (or verify) the graphs under <data_dir>/onnx and print their parity with torch")
    export.add_argument("--backend", choices=[*BACKENDS, "all"], default="all", help="the cross-encoder's graph: fp32 compiled by OpenVINO (openvino), fp32 (onnx) or int8 (onnx-int8) in ONNX Runtime, or all; the query encoder's is fp32")
    export.add_argument("--questions", type=int, default=40, help="development questions the parity is measured on (0: skip the check)")
    export.set_defaults(handler=_export)


def _export(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.cli.bench import load_questions
    from assistant.embed import Embedder
    from assistant.onnx_models import parity
    from assistant.pipeline import Assistant
    from assistant.retrieve.cross_encoder import CrossEncoder

    retriever = Assistant.load(settings.model_copy(update={"query_encoder_backend": "torch", "cross_encoder_backend": "torch"})).retriever
    scorer = retriever.reranker.cross_encoder
    if scorer is None:
        raise AssistantError("the cross-encoder is off (ASSISTANT_RERANKER_WEIGHT=0); nothing to export for it")
    questions = load_questions([PARITY_QUESTIONS])[: args.questions]
    # What the cross-encoder reads in use: each question's first-stage passages, with their headers.
    embed_text = {passage.passage_id: passage.embed_text for passage in retriever.table.passages}
    passages = [[embed_text[hit.best_passage_id] for hit in retriever.retrieve(q, k=15, mode="hybrid")] for q in questions]
    embedder = Embedder(settings.model_copy(update={"query_encoder_backend": "onnx"})).load()
    for backend in BACKENDS if args.backend == "all" else (args.backend,):
        started = time.perf_counter()
        cross_encoder = CrossEncoder(settings.model_copy(update={"cross_encoder_backend": backend})).load()
        graphs = [embedder.onnx_graph, cross_encoder.graph]
        print(f"{backend}: graphs ready in {time.perf_counter() - started:.1f} s (exported once, verified by sha256 at every load)")
        for graph in graphs:
            print(f"  {graph.path}")
        if questions:
            print("  " + parity((retriever.embedder.encode_question, embedder.encode_question), (scorer.score, cross_encoder.score), questions, passages).line(backend))
    return 0
