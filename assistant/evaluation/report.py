"""Evaluation reports: the markdown report, the side-by-side plot, and why items fail.

Everything here is generated from the results of a run, so the "what fails and
why" section is always about the run it sits beside.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from assistant.evaluation.results import EvalRun, ItemResult

# The targets for the gold set (issue 5, "Must show"): (bound, value).
TARGETS: dict[str, tuple[str, float]] = {
    "recall@5": ("min", 0.95),
    "mrr@10": ("min", 0.85),
    "citation_precision": ("min", 0.90),
    "key_fact_recall": ("min", 0.80),
    "abstention_recall": ("min", 0.85),
    "false_abstention_rate": ("max", 0.05),
}
HEADLINE = (
    ("recall@1", "Recall@1"),
    ("recall@5", "Recall@5"),
    ("recall@10", "Recall@10"),
    ("mrr@10", "MRR@10"),
    ("ndcg@10", "nDCG@10"),
    ("citation_precision", "Citation precision"),
    ("citation_recall", "Citation recall"),
    ("key_fact_recall", "Key-fact recall"),
    ("abstention_recall", "Abstention recall (unanswerable)"),
    ("false_abstention_rate", "False-abstention rate (answerable)"),
    ("crag_score", "CRAG-style score (−1..1)"),
    ("abstain_kind_accuracy", "Abstained with the right kind (unanswerable)"),
    ("delegation_cited", "Delegated answers citing the delegating provision"),
    ("false_delegation_rate", "Answered as delegated (answerable)"),
    ("short_answer_rate", "Short answer shown (answered)"),
    ("short_key_fact_recall", "Key facts in the short answer"),
    ("short_by_model_rate", "Short answers the model wrote"),
    ("short_numbers_in_quotes", "Short answers whose numbers are all in the quotes"),
    ("latency_p50_ms", "Latency p50 (ms)"),
    ("latency_p95_ms", "Latency p95 (ms)"),
)
BREAKDOWN_COLUMNS = (
    ("recall@5", "R@5"),
    ("mrr@10", "MRR@10"),
    ("ndcg@10", "nDCG@10"),
    ("citation_precision", "Cit. P"),
    ("citation_recall", "Cit. R"),
    ("key_fact_recall", "Key facts"),
    ("abstention_recall", "Abst. recall"),
    ("abstain_kind_accuracy", "Right kind"),
    ("false_abstention_rate", "False abst."),
    ("crag_score", "CRAG"),
)
COMPARISON_COLUMNS = (
    ("recall@1", "R@1"),
    BREAKDOWN_COLUMNS[0],
    ("recall@10", "R@10"),
    *BREAKDOWN_COLUMNS[1:],
    ("latency_p50_ms", "p50 ms"),
    ("latency_p95_ms", "p95 ms"),
)
PLOTTED = ("recall@5", "mrr@10", "ndcg@10", "citation_precision", "citation_recall", "key_fact_recall", "abstention_recall", "false_abstention_rate", "crag_score")
WORST_SHOWN = 10


def fmt(metric: str, value: Any) -> str:
    if value is None:
        return "–"
    if metric.startswith("latency"):
        return f"{value:.0f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return f"{value:.3f}"


def _met(bound: str, limit: float, value: float | None) -> bool:
    return value is not None and (value >= limit if bound == "min" else value <= limit)


def _bound_text(bound: str, limit: float) -> str:
    return f"{'≥' if bound == 'min' else '≤'} {limit:g}"


# --- why items fail ------------------------------------------------------------------------------


def _rank(result: ItemResult) -> int | None:
    """Rank of the best-placed expected provision among the retrieved ones."""
    expected = set(result.expected)
    return next((r.rank for r in result.retrieved if r.key in expected), None)


def diagnose(result: ItemResult) -> tuple[str, str] | None:
    """The main thing wrong with one item, as (cause, detail); ``None`` when it is fully right.

    Causes, most serious first: the call raised; an unanswerable question was
    answered, or refused with the wrong kind; an answerable one was refused; no expected provision was cited
    (split by whether retrieval found it); a key fact is missing; a needed
    provision is not cited; an extra provision is cited; the expected
    provision was not ranked first.
    """
    s = result.scores
    rank = _rank(result)
    depth = len(result.retrieved)
    found = f"expected provision retrieved at rank {rank}" if rank else f"expected provision not in the {depth} retrieved"
    cited = ", ".join(c.label or c.key for c in result.citations) or "nothing"
    if result.error:
        return "error", result.error
    if not result.answerable:
        if not result.abstained:
            return "answered an unanswerable question", f"cited {cited}"
        if s.get("abstain_kind_right") is False:
            return "abstained with the wrong kind", f"{result.abstain_kind or 'no kind'} ({result.unanswerable_kind} item); {result.abstain_detail or result.abstain_reason}"
        return None
    if result.abstained:
        return "false abstention", f"{found}; {result.abstain_kind or 'no kind'}: {result.abstain_detail or result.abstain_reason or 'no reason given'}"
    if s["crag"] == -1:
        return ("wrong citation: retrieval miss" if not rank else "wrong citation: retrieved but not cited"), f"{found}; cited {cited}"
    if s["key_fact_recall"] is not None and s["key_fact_recall"] < 1:
        missing = [fact for fact in result.key_facts if fact.casefold() not in result.answer.casefold()]
        return "key fact missing", f"missing {missing}"
    if s["citation_recall"] is not None and s["citation_recall"] < 1:
        return "expected provision not cited", f"cited {cited}; expected {result.expected}"
    if s["citation_precision"] is not None and s["citation_precision"] < 1:
        return "extra citation", f"cited {cited}; expected {result.expected}"
    if rank != 1:
        return "expected provision ranked low", found
    return None


def _severity(result: ItemResult) -> tuple:
    s = result.scores

    def value(name: str) -> float:
        return 1.0 if s.get(name) is None else float(s[name])

    return (result.error is None, s["crag"], value("key_fact_recall"), value("citation_precision"), value("citation_recall"), value("mrr_10"))


def worst_items(results: Sequence[ItemResult], n: int = WORST_SHOWN) -> list[tuple[ItemResult, tuple[str, str]]]:
    """The ``n`` worst failures, taken in turn from each kind so every kind that fails is shown.

    Within a kind, worst means: errors, then wrong answers, abstentions, missing
    key facts, citation slips, low ranks. Ten retrieval misses from one kind
    would say less about the assistant than the worst item of each kind.
    """
    by_kind: dict[str, list[tuple[ItemResult, tuple[str, str]]]] = defaultdict(list)
    for r in sorted(results, key=_severity):
        if why := diagnose(r):
            by_kind[r.kind].append((r, why))
    chosen: list[tuple[ItemResult, tuple[str, str]]] = []
    while len(chosen) < n and any(by_kind.values()):
        for kind in sorted(by_kind, key=lambda k: _severity(by_kind[k][0][0]) if by_kind[k] else (True,)):
            if by_kind[kind] and len(chosen) < n:
                chosen.append(by_kind[kind].pop(0))
    return sorted(chosen, key=lambda pair: _severity(pair[0]))


# --- markdown --------------------------------------------------------------------------------------


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|", *("| " + " | ".join(row) + " |" for row in rows)]


def _headline(run: EvalRun) -> list[str]:
    overall = run.headline.summary["overall"]
    gate = run.thresholds or {}
    rows = []
    for metric, title in HEADLINE:
        target = TARGETS.get(metric)
        limit = next(((bound, limits[metric]) for bound, limits in gate.items() if metric in limits), None)
        marks = []
        if target:
            marks.append("meets target" if _met(*target, overall.get(metric)) else "**short of target**")
        if limit and not _met(*limit, overall.get(metric)):
            marks.append("**fails gate**")
        rows.append(
            [title, fmt(metric, overall.get(metric)), _bound_text(*target) if target else "", _bound_text(*limit) if limit else "", "; ".join(marks)]
        )
    return _table(["Metric", "Value", "Issue target", "Gate", ""], rows)


def _breakdown(summary: dict[str, Any], title: str) -> list[str]:
    groups = summary[f"by_{title.replace(' ', '_')}"]
    rows = [[name, str(g["items"]), *(fmt(m, g.get(m)) for m, _ in BREAKDOWN_COLUMNS)] for name, g in groups.items()]
    return [f"### By {title}", "", *_table([title.capitalize(), "Items", *(t for _, t in BREAKDOWN_COLUMNS)], rows), ""]


def _comparison(run: EvalRun, plot: Path | None) -> list[str]:
    lines = ["## Side by side", ""]
    if len(run.runs) == 1:
        lines += ["Only the default configuration was run; compare others with `--configs bm25,dense,hybrid,full,generative`.", ""]
    else:
        rows = [
            [f"`{r.config.name}`" + (" (default)" if r is run.headline else ""), *(fmt(m, r.summary["overall"].get(m)) for m, _ in COMPARISON_COLUMNS), f"{r.wall_s:.1f}"]
            for r in run.runs
        ]
        lines += [
            *_table(["Configuration", *(t for _, t in COMPARISON_COLUMNS), "Run s"], rows),
            "",
            "Configurations run in this order on one loaded assistant, so later rows find its caches warm "
            "(question vectors, segment embeddings): compare latency on the first row, or run a configuration on its own.",
            "",
        ]
        if plot is not None:
            lines += [f"![Side-by-side comparison]({plot.name})", ""]
    for name, reason in run.skipped.items():
        lines.append(f"- `{name}` not run: {reason}.")
    if run.skipped:
        lines.append("")
    return lines


def _item_block(result: ItemResult, why: tuple[str, str]) -> list[str]:
    expected = set(result.expected)
    retrieved = ", ".join(f"{r.rank}. {r.key.split('/', 1)[1]}{' ✓' if r.key in expected else ''}" for r in result.retrieved[:5]) or "nothing"
    cited = ", ".join(c.label or c.key for c in result.citations) or "nothing"
    answer = " ".join(result.answer.split())
    answer = answer[:200] + ("…" if len(answer) > 200 else "")
    return [
        f"- **{result.id}** ({result.difficulty}) — {result.question}",
        f"  - cause: **{why[0]}** — {why[1]}",
        f"  - expected: {', '.join(result.expected) or 'none (should abstain)'}; retrieved top 5: {retrieved}; cited: {cited}; abstained: {'yes' if result.abstained else 'no'}",
        *([f"  - answer: {answer}"] if answer else []),
    ]


def _kinds(results: Sequence[ItemResult]) -> str:
    counts = Counter(r.kind for r in results).most_common(3)
    return ", ".join(f"{kind} {n}" for kind, n in counts)


def _shortfalls(results: Sequence[ItemResult], overall: dict[str, Any]) -> list[str]:
    """One line per figure short of the issue's target, counting the items that hold it down and where they lie."""
    answerable = [r for r in results if r.answerable]
    answered = [r for r in answerable if not r.abstained]
    unanswerable = [r for r in results if not r.answerable]
    lines = []
    for metric, (bound, limit) in TARGETS.items():
        value = overall.get(metric)
        if value is None or _met(bound, limit, value):
            continue
        head = f"- **{dict(HEADLINE)[metric]} {fmt(metric, value)}** (target {_bound_text(bound, limit)}): "
        if metric == "recall@5":
            missed = [r for r in answerable if r.scores["recall_5"] < 1]
            absent = sum(_rank(r) is None for r in missed)
            lines.append(head + f"{len(missed)} of {len(answerable)} answerable items have an expected provision outside the top 5 ({absent} with none retrieved at all); by kind: {_kinds(missed)}.")
        elif metric == "mrr@10":
            low = [r for r in answerable if _rank(r) != 1]
            lines.append(head + f"{len(low)} of {len(answerable)} answerable items do not have an expected provision first; by kind: {_kinds(low)}.")
        elif metric == "citation_precision":
            extra = [r for r in answered if r.scores["citation_precision"] < 1]
            cited = [len({c.key for c in r.citations}) for r in answered]
            per_answer = sum(cited) / len(cited) if cited else 0.0
            unexpected = Counter(c.key for r in extra for c in {c.key: c for c in r.citations}.values() if c.key not in r.expected)
            common = ", ".join(f"{pid} ({n})" for pid, n in unexpected.most_common(3))
            lines.append(
                head + f"{len(extra)} of {len(answered)} answers cite a provision that is not expected; answers cite {per_answer:.1f} distinct provisions on average; "
                f"most often cited unexpectedly: {common}; by kind: {_kinds(extra)}."
            )
        elif metric == "key_fact_recall":
            missing = [r for r in answered if r.scores["key_fact_recall"] is not None and r.scores["key_fact_recall"] < 1]
            lines.append(head + f"{len(missing)} of {len(answered)} answers leave out a key fact; by kind: {_kinds(missing)}.")
        elif metric == "abstention_recall":
            answered_wrongly = [r for r in unanswerable if not r.abstained]
            lines.append(head + f"{len(answered_wrongly)} of {len(unanswerable)} unanswerable questions were answered, e.g. {', '.join(r.id for r in answered_wrongly[:5])}.")
        elif metric == "false_abstention_rate":
            refused = [r for r in answerable if r.abstained]
            found = sum(_rank(r) is not None for r in refused)
            lines.append(head + f"{len(refused)} of {len(answerable)} answerable questions were refused, {found} of them with an expected provision retrieved; by kind: {_kinds(refused)}.")
    return ["### Short of the issue's targets", "", *lines, ""] if lines else []


def _failures(results: Sequence[ItemResult]) -> list[str]:
    diagnosed = [(r, diagnose(r)) for r in results]
    failing = [(r, why) for r, why in diagnosed if why]
    lines = ["## What fails and why", ""]
    if not failing:
        return [*lines, "Every item is answered correctly, citing the expected provisions with every key fact.", ""]
    causes = Counter(why[0] for _, why in failing)
    top = ", ".join(f"{cause} ({n})" for cause, n in causes.most_common(4))
    lines += [f"{len(failing)} of {len(results)} items fall short somewhere. Commonest causes: {top}.", ""]
    by_kind: dict[str, Counter] = defaultdict(Counter)
    totals = Counter(r.kind for r in results)
    for r, why in failing:
        by_kind[r.kind][why[0]] += 1
    rows = [[kind, str(totals[kind]), str(sum(by_kind[kind].values())), "; ".join(f"{c} {n}" for c, n in by_kind[kind].most_common()) or "–"] for kind in sorted(totals)]
    lines += [*_table(["Kind", "Items", "Falling short", "Causes"], rows), ""]
    worst = worst_items(results)
    lines += [f"### The worst {len(worst)} items, by kind", ""]
    grouped: dict[str, list] = defaultdict(list)
    for r, why in worst:
        grouped[r.kind].append((r, why))
    for kind in sorted(grouped):
        lines += [f"**{kind}**", ""]
        for r, why in grouped[kind]:
            lines += _item_block(r, why)
        lines.append("")
    return lines


def render_report(run: EvalRun, plot: Path | None = None) -> str:
    """report.md: headline against targets and gate, breakdowns, side by side, failures, provenance."""
    p = run.provenance
    head = run.headline
    lines = [
        "# Evaluation report",
        "",
        f"Gold file `{p['gold']['path']}` ({p['gold']['items']} items, sha256 `{p['gold']['sha256'][:12]}…`), "
        f"default configuration `{head.config.name}`, commit `{p['git_commit'][:10]}`{' (with uncommitted changes)' if p['git_dirty'] else ''}, {p['date']}.",
        f"Embedding model `{p['embedding_model']['id']}` (weights sha256 `{p['embedding_model']['weights_sha256'][:12]}…`). "
        f"{head.summary['overall']['items']} items ({head.summary['overall']['answerable']} answerable, {head.summary['overall']['unanswerable']} unanswerable) in {head.wall_s:.1f} s.",
        "",
        "Ranking metrics are at provision level over answerable items, on the (at most) "
        f"{head.summary['overall']['retrieved_depth']} provisions the assistant retrieves per question; citation and key-fact figures are macro "
        "averages over answerable items the assistant answered; see `assistant/evaluation/metrics.py` for exact definitions.",
        "",
        "## Headline",
        "",
        *_headline(run),
        "",
    ]
    if head.summary["overall"].get("errors"):
        lines += [f"**{head.summary['overall']['errors']} item(s) raised an error**; see `error` in results.jsonl.", ""]
    if run.gold_problems:
        lines += [f"The gold file has {len(run.gold_problems)} problem(s) against the corpus (`assistant eval --check`): these items are scored as written.", ""]
    lines += ["## Breakdowns", ""]
    for title in ("kind", "difficulty", "document", "style", "turn", "unanswerable kind"):
        lines += _breakdown(head.summary, title)
    lines += _comparison(run, plot)
    lines += _failures(head.results)
    lines += _shortfalls(head.results, head.summary["overall"])
    lines += [
        "## Reproduce",
        "",
        f"`{p['command'] or 'assistant eval --gold ' + p['gold']['path']}` — settings, corpus and model hashes are in `summary.json`.",
        "",
    ]
    return "\n".join(lines)


# --- plot ------------------------------------------------------------------------------------------


def write_plot(run: EvalRun, path: Path) -> Path:
    """One PNG: grouped bars of the quality metrics per configuration, and latency beside them."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [r.config.name for r in run.runs]
    fig, (quality, latency) = plt.subplots(1, 2, figsize=(13, 4.8), gridspec_kw={"width_ratios": [4, 1]})
    width = 0.8 / len(run.runs)
    for i, r in enumerate(run.runs):
        overall = r.summary["overall"]
        values = [overall.get(m) if overall.get(m) is not None else 0.0 for m in PLOTTED]
        positions = [x + i * width for x in range(len(PLOTTED))]
        quality.bar(positions, values, width, label=names[i])
        latency.bar([0 + i * width, 1 + i * width], [overall.get("latency_p50_ms") or 0.0, overall.get("latency_p95_ms") or 0.0], width, label=names[i])
    centre = 0.4 - width / 2
    quality.set_xticks([x + centre for x in range(len(PLOTTED))], [m.replace("_", " ") for m in PLOTTED], rotation=30, ha="right")
    quality.set_ylim(min(0.0, *(r.summary["overall"].get("crag_score") or 0.0 for r in run.runs)) - 0.05, 1.05)
    quality.axhline(0, color="black", linewidth=0.6)
    quality.set_title("Quality (higher is better, except false abstention)")
    quality.legend(fontsize=8)
    latency.set_xticks([centre, 1 + centre], ["p50", "p95"])
    latency.set_ylabel("ms per question")
    latency.set_title("Latency (later runs: warm caches)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
