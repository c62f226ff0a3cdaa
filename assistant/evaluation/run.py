"""Evaluation stage: run gold questions through ``Assistant.ask`` and score what staff would see.

The harness only calls ``ask`` and reads the ``Answer`` record, like every other
surface, so it measures the assistant exactly as deployed. Metrics come from
``assistant.evaluation.metrics``; the markdown report and plot from ``assistant.evaluation.report``.

Usage::

    run = run_evaluation(Settings(), "eval/gold.jsonl", configs=["bm25", "full"], out=Path("eval/reports/latest"))
    run.headline.summary["overall"]["recall@5"]
"""

from __future__ import annotations

import json
import platform
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, get_args

from tqdm import tqdm

from assistant.corpus import Corpus, load_corpus
from assistant.embed import Embedder
from assistant.errors import EvaluationError
from assistant.evaluation.gold import GoldItem, GoldSet, check_against_corpus, load_gold
from assistant.evaluation.metrics import (
    METRIC_NAMES,
    ItemScore,
    aggregate,
    provision_key,
    score_item,
)
from assistant.evaluation.report import render_report, write_plot
from assistant.evaluation.results import (
    CitedProvision,
    Config,
    ConfigRun,
    EvalRun,
    ItemResult,
    RankedProvision,
)
from assistant.models import file_sha256
from assistant.records import Answer
from assistant.settings import PROJECT_ROOT, Settings

# The choices come from the settings, so a new mode is compared as soon as it can be configured.
RETRIEVAL_MODES: tuple[str, ...] = get_args(Settings.model_fields["retrieval_mode"].annotation)
ANSWER_MODES: tuple[str, ...] = get_args(Settings.model_fields["answer_mode"].annotation)
# What the breakdown tables group by, as (title, GoldItem attribute).
BREAKDOWNS = (("kind", "kind"), ("difficulty", "difficulty"), ("document", "documents"), ("style", "style"), ("turn", "turn"), ("unanswerable kind", "unanswerable_kind"))


class Asker(Protocol):
    """What the harness needs from the assistant: ``assistant.pipeline.Assistant`` satisfies it."""

    def ask(
        self,
        question: str,
        k: int | None = None,
        document: str | None = None,
        mode: str | None = None,
        retrieval_mode: str | None = None,
        history: Sequence[tuple[str, str]] | None = None,
    ) -> Answer: ...


def default_config(settings: Settings) -> Config:
    return Config(settings.retrieval_mode, settings.answer_mode)


def parse_configs(spec: str | Sequence[str] | None, settings: Settings) -> list[Config]:
    """Turn ``"bm25,dense,hybrid,full,generative"`` into configurations, the default one first.

    Each entry is a retrieval mode (answered the default way), an answer mode
    (retrieved the default way), ``retrieval/answer``, or ``default``.
    """
    entries = [e.strip() for e in (spec.split(",") if isinstance(spec, str) else spec or []) if e.strip()]
    base = default_config(settings)
    configs: list[Config] = [base]
    for entry in entries:
        retrieval, _, answer = entry.partition("/")
        if entry == "default":
            config = base
        elif not answer and retrieval in ANSWER_MODES:
            config = Config(base.retrieval, retrieval)
        else:
            config = Config(retrieval, answer or base.answer)
        if config.retrieval not in RETRIEVAL_MODES or config.answer not in ANSWER_MODES:
            raise EvaluationError(
                f"unknown configuration '{entry}'; use a retrieval mode {list(RETRIEVAL_MODES)}, "
                f"an answer mode {list(ANSWER_MODES)}, 'retrieval/answer' (e.g. 'bm25/extractive') or 'default'"
            )
        if config not in configs:
            configs.append(config)
    return configs


# --- per-item results ----------------------------------------------------------------------


def result_for(item: GoldItem, answer: Answer | None, latency_ms: float, error: str | None = None) -> ItemResult:
    """Score one answer against its gold item. No answer (the call raised) counts as an abstention."""
    retrieved = [
        RankedProvision(rank=rank, key=provision_key(r.document_id, r.provision_id), label=r.label, score=r.score)
        for rank, r in enumerate(answer.retrieved if answer else [], start=1)
    ]
    citations = [CitedProvision(key=provision_key(c.document_id, c.provision_id), pinpoint=c.pinpoint, label=c.label) for c in (answer.citations if answer else [])]
    abstained = answer.abstained if answer else True
    text = answer.text if answer else ""
    scores = score_item(
        answerable=item.answerable,
        expected=item.expected_keys,
        ranked=[r.key for r in retrieved],
        cited=[c.key for c in citations],
        abstained=abstained,
        answer_text=text,
        key_facts=item.key_facts,
        latency_ms=latency_ms,
        abstain_kind=answer.abstain_kind if answer else None,
        expected_kinds=item.abstain_kinds,
        delegated_by=item.delegated_by.key if item.delegated_by else None,
        short_answer=answer.short_answer if answer else None,
        short_by=answer.short_answer_by if answer else None,
        quotes=" ".join(c.quote for c in answer.citations) if answer else "",
    )
    return ItemResult(
        id=item.id,
        question=item.question,
        kind=item.kind,
        difficulty=item.difficulty,
        documents=item.documents,
        style=item.style,
        turn="follow-up" if item.follow_up_of else "first",
        unanswerable_kind=item.unanswerable_kind or (None if item.answerable else "unspecified"),
        answerable=item.answerable,
        expected=item.expected_keys,
        key_facts=item.key_facts,
        retrieved=retrieved,
        answer=text,
        short_answer=answer.short_answer if answer else None,
        short_answer_by=answer.short_answer_by if answer else None,
        citations=citations,
        abstained=abstained,
        abstain_kind=answer.abstain_kind if answer else None,
        abstain_reason=answer.abstain_reason if answer else None,
        abstain_detail=answer.abstain_detail if answer else None,
        error=error,
        latency_ms=round(latency_ms, 2),
        timings_ms=answer.timings_ms if answer else {},
        scores=asdict(scores),
    )


def evaluate_items(assistant: Asker, items: Sequence[GoldItem], config: Config, *, k: int | None = None, progress: bool = True) -> list[ItemResult]:
    """Ask every question once, timing each ``ask``; a question that raises is recorded, not fatal.

    One failing item must not lose a whole run, but it is never hidden: its
    error is in results.jsonl, the summary counts it and the gate fails on it.
    """
    results = []
    asked: dict[str, tuple[str, str]] = {}
    for item in tqdm(items, desc=config.name, unit="q", disable=not progress, file=sys.stderr):
        start = time.perf_counter()
        # A follow-up is asked as staff would ask it: after the earlier question and the answer they got.
        options = {"history": [asked[item.follow_up_of]]} if item.follow_up_of in asked else {}
        try:
            answer, error = assistant.ask(item.question, k=k, mode=config.answer, retrieval_mode=config.retrieval, **options), None
        except Exception as exc:  # noqa: BLE001 - recorded per item and counted by the gate
            answer, error = None, f"{type(exc).__name__}: {exc}"
        results.append(result_for(item, answer, (time.perf_counter() - start) * 1000, error))
        asked[item.id] = (item.question, answer.text if answer else "")
    return results


# --- summaries -----------------------------------------------------------------------------


def _rescore(results: Sequence[ItemResult]) -> dict[str, Any]:
    summary = aggregate([ItemScore(**r.scores) for r in results])
    summary["errors"] = sum(r.error is not None for r in results)
    # Recall@10 can only reach 1 when the assistant retrieves at least 10 provisions.
    summary["retrieved_depth"] = max((len(r.retrieved) for r in results), default=0)
    return summary


def summarise(results: Sequence[ItemResult]) -> dict[str, Any]:
    """Overall figures and the same figures broken down by kind, difficulty, document, style and unanswerable kind."""
    summary: dict[str, Any] = {"overall": _rescore(results)}
    for title, attribute in BREAKDOWNS:
        groups: dict[str, list[ItemResult]] = defaultdict(list)
        for r in results:
            value = getattr(r, attribute)
            groups[value if value is not None else "answerable"].append(r)
        summary[f"by_{title.replace(' ', '_')}"] = {name: _rescore(group) for name, group in sorted(groups.items())}
    return summary


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def _relative(value: Any) -> Any:
    """Paths inside the project are recorded relative to it, so reports compare across checkouts."""
    if isinstance(value, str) and value.startswith(str(PROJECT_ROOT) + "/"):
        return value[len(str(PROJECT_ROOT)) + 1 :]
    return value


def provenance(settings: Settings, gold: GoldSet, corpus: Corpus) -> dict[str, Any]:
    """What a run rests on, so a figure can be reproduced or explained: code, data, model, settings, date."""
    embedder = Embedder(settings)
    index_manifest = settings.index_dir / "manifest.json"
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "git_commit": _git("rev-parse", "HEAD") or "unknown",
        "git_dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
        "gold": {"path": _relative(str(gold.path.resolve())), "sha256": gold.sha256, "items": len(gold.items)},
        "corpus_sha256": corpus.hashes(),
        "embedding_model": {"id": embedder.model_id, "weights_sha256": embedder.weights_sha256},
        "reranker": _reranker_identity(settings),
        "index_manifest_sha256": file_sha256(index_manifest) if index_manifest.is_file() else None,
        "settings": {key: _relative(value) for key, value in settings.model_dump(mode="json").items()},
        "python": platform.python_version(),
        "platform": platform.platform(),
        "command": " ".join(["assistant", *(_relative(arg) for arg in sys.argv[1:])]) if Path(sys.argv[0]).name in {"assistant", "__main__.py"} else "",
    }


def _reranker_identity(settings: Settings) -> dict[str, Any] | None:
    """The cross-encoder a 'full' run used (None when it is off)."""
    if settings.reranker_weight <= 0:
        return None
    from assistant.retrieve.cross_encoder import CrossEncoder

    scorer = CrossEncoder(settings)
    return {"id": scorer.model_id, "weights_sha256": scorer.weights_sha256, "weight": settings.reranker_weight, "depth": settings.reranker_depth}


# --- the gate ------------------------------------------------------------------------------


def load_thresholds(path: Path | str) -> dict[str, dict[str, float]]:
    """Read ``{"min": {metric: value}, "max": {metric: value}}``; unknown metric names are refused, not ignored."""
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise EvaluationError(f"{path}: thresholds file not found") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EvaluationError(f"{path}: not a JSON thresholds file ({exc})") from exc
    if not isinstance(raw, dict) or not set(raw) & {"min", "max"}:
        raise EvaluationError(f'{path}: expected {{"min": {{metric: value}}, "max": {{metric: value}}}}')
    thresholds: dict[str, dict[str, float]] = {}
    for bound in ("min", "max"):
        values = raw.get(bound, {})
        if not isinstance(values, dict):
            raise EvaluationError(f"{path}: '{bound}' must map metric names to numbers")
        for metric, value in values.items():
            if metric not in METRIC_NAMES:
                raise EvaluationError(f"{path}: unknown metric '{metric}' under '{bound}'; choose from {list(METRIC_NAMES)}")
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise EvaluationError(f"{path}: threshold for '{metric}' must be a number, got {value!r}")
        thresholds[bound] = {metric: float(value) for metric, value in values.items()}
    return thresholds


def check_gate(overall: dict[str, Any], thresholds: dict[str, dict[str, float]]) -> list[str]:
    """Every failed threshold as a sentence saying by how much; empty when the run passes.

    An item that raised during the run fails the gate too: errors must not pass
    as abstentions.
    """
    failures = []
    for bound, limits in thresholds.items():
        for metric, limit in limits.items():
            value = overall.get(metric)
            if value is None:
                failures.append(f"{metric} was not measured (no items it applies to); the gate needs it {'≥' if bound == 'min' else '≤'} {limit:g}")
            elif bound == "min" and value < limit:
                failures.append(f"{metric} = {value:.4f} is below the minimum {limit:g} by {limit - value:.4f}")
            elif bound == "max" and value > limit:
                failures.append(f"{metric} = {value:.4f} is above the maximum {limit:g} by {value - limit:.4f}")
    if overall.get("errors"):
        failures.append(f"{overall['errors']} item(s) raised an error instead of answering (see 'error' in results.jsonl)")
    return failures


# --- whole runs ----------------------------------------------------------------------------


def run_evaluation(
    settings: Settings,
    gold_path: Path | str,
    *,
    configs: str | Sequence[str] | None = None,
    out: Path | None = None,
    k: int | None = None,
    limit: int | None = None,
    progress: bool = True,
    thresholds: dict[str, dict[str, float]] | None = None,
    loader: Callable[[Settings], Asker] | None = None,
    warn: Callable[[str], None] = lambda message: print(message, file=sys.stderr),
) -> EvalRun:
    """Evaluate the gold file under each configuration and, with ``out``, write results, summary and report.

    Answer and retrieval modes are switched per call (``ask(mode=...,
    retrieval_mode=...)``), so every configuration shares one loaded assistant:
    one embedding model, one index. ``loader`` defaults to ``Assistant.load``.
    """
    gold = load_gold(gold_path)
    corpus = load_corpus(settings)
    problems = check_against_corpus(gold, corpus)
    for problem in problems[:10]:
        warn(f"warning: {problem}")
    if len(problems) > 10:
        warn(f"warning: ... and {len(problems) - 10} more gold-file problems (run `assistant eval --check --gold {gold.path}`)")
    items = gold.items[:limit] if limit else gold.items
    if loader is None:
        from assistant.pipeline import Assistant

        loader = Assistant.load

    chosen = parse_configs(configs, settings)
    skipped: dict[str, str] = {}
    if not settings.generative_model.strip():
        for config in [c for c in chosen[1:] if c.answer == "generative"]:
            chosen.remove(config)
            skipped[config.name] = "no generative model configured (set ASSISTANT_GENERATIVE_MODEL)"
            warn(f"skipping {config.name}: {skipped[config.name]}")

    assistant = loader(settings)
    runs: list[ConfigRun] = []
    for config in chosen:
        start = time.perf_counter()
        results = evaluate_items(assistant, items, config, k=k, progress=progress)
        runs.append(ConfigRun(config, results, summarise(results), time.perf_counter() - start))

    run = EvalRun(runs=runs, provenance=provenance(settings, gold, corpus), gold_problems=problems, skipped=skipped, thresholds=thresholds)
    if out is not None:
        write_run(run, out)
    return run


def _write_results(path: Path, results: Sequence[ItemResult]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for result in results:
            handle.write(result.model_dump_json() + "\n")


def summary_document(run: EvalRun, config_run: ConfigRun) -> dict[str, Any]:
    """summary.json: the figures, the configuration they were measured under, and the provenance."""
    return {
        "config": config_run.config.name,
        "wall_s": round(config_run.wall_s, 2),
        **config_run.summary,
        "comparison": {r.config.name: {**r.summary["overall"], "wall_s": round(r.wall_s, 2)} for r in run.runs},
        "skipped_configs": run.skipped,
        "gold_problems": run.gold_problems,
        "provenance": run.provenance,
    }


def write_run(run: EvalRun, out: Path) -> None:
    """Write results.jsonl, summary.json and report.md for the default configuration, and each other configuration under configs/."""

    out.mkdir(parents=True, exist_ok=True)
    _write_results(out / "results.jsonl", run.headline.results)
    (out / "summary.json").write_text(json.dumps(summary_document(run, run.headline), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    for other in run.runs[1:]:
        folder = out / "configs" / other.config.name.replace("/", "-")
        _write_results(folder / "results.jsonl", other.results)
        (folder / "summary.json").write_text(json.dumps(summary_document(run, other), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    plot = write_plot(run, out / "side_by_side.png") if len(run.runs) > 1 else None
    (out / "report.md").write_text(render_report(run, plot), encoding="utf-8")

