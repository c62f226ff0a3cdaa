"""Answer-for-answer comparison of two evaluation runs: did a change alter anything staff would see?

A refactor must leave every answer as it was; a quality change should alter
only what it meant to. This compares the default configuration's results item
by item: answer text, citations (with pinpoints), abstention with its kind, reason and detail,
and the retrieved order. Scores may move in the last decimals between CPUs, so
they are compared within ``SCORE_TOLERANCE``; latencies are not compared.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from assistant.errors import EvaluationError
from assistant.evaluation.results import ItemResult

SCORE_TOLERANCE = 1e-4


def load_results(path: Path) -> list[ItemResult]:
    """``results.jsonl`` from a run folder (or the file itself)."""
    file = path / "results.jsonl" if path.is_dir() else path
    try:
        lines = file.read_text(encoding="utf-8").splitlines()
        return [ItemResult.model_validate(json.loads(line)) for line in lines if line.strip()]
    except (OSError, ValueError) as exc:
        raise EvaluationError(f"{file}: cannot read earlier results ({exc}); give the folder an `assistant eval --out` wrote") from exc


def item_differences(before: ItemResult, after: ItemResult) -> list[str]:
    """What differs between two results for the same item, in words; empty when staff would see the same thing."""
    out = []
    if before.answer != after.answer:
        out.append(f"answer text: {before.answer[:120]!r} -> {after.answer[:120]!r}")
    cited_before = [(c.key, c.pinpoint) for c in before.citations]
    cited_after = [(c.key, c.pinpoint) for c in after.citations]
    if cited_before != cited_after:
        out.append(f"citations: {cited_before} -> {cited_after}")
    abstention_before = (before.abstained, before.abstain_kind, before.abstain_reason, before.abstain_detail)
    abstention_after = (after.abstained, after.abstain_kind, after.abstain_reason, after.abstain_detail)
    if abstention_before != abstention_after:
        out.append(f"abstention: {_abstention(before)} -> {_abstention(after)}")
    if (before.error or "") != (after.error or ""):
        out.append(f"error: {before.error} -> {after.error}")
    order_before = [r.key for r in before.retrieved]
    order_after = [r.key for r in after.retrieved]
    if order_before != order_after:
        out.append(f"retrieved order: {order_before} -> {order_after}")
    else:
        moved = [r.key for r, s in zip(before.retrieved, after.retrieved, strict=True) if abs(r.score - s.score) > SCORE_TOLERANCE]
        if moved:
            out.append(f"retrieval scores moved for {moved}")
    return out


def _abstention(result: ItemResult) -> str:
    if not result.abstained:
        return "False"
    return f"True, {result.abstain_kind or 'no kind'} ({result.abstain_reason}; {result.abstain_detail})"


def compare_results(before: Sequence[ItemResult], after: Sequence[ItemResult]) -> list[str]:
    """Every difference between two runs over the same gold items, one line each, prefixed by the item id."""
    by_id = {r.id: r for r in before}
    out = [f"{r.id}: only in the new run" for r in after if r.id not in by_id]
    seen = {r.id for r in after}
    out += [f"{item_id}: only in the earlier run" for item_id in by_id if item_id not in seen]
    for result in after:
        if result.id in by_id:
            out += [f"{result.id}: {difference}" for difference in item_differences(by_id[result.id], result)]
    return out
