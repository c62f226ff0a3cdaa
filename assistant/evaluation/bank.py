"""The question bank: staff questions written from the law text, split into train, dev and test.

Writers who never saw the code, the dev set or the gold set wrote the items
(``eval/questions/written/``): the ``pool`` writers' items become train and dev,
the ``test`` writers' (separate writers, their own brief) become test. Building
the bank is deterministic, so anyone can check the splits against what was
written:

* quotes are aligned to the law's own characters (a writer's straight quote for
  the Act's curly one), then every item is checked against the corpus and any
  that fails is left out and reported;
* near copies are removed: within a pool, and any pool item too like a test,
  gold, dev or answer-case question; test items too like a question the
  cross-encoder was trained on are dropped from test;
* pool items go to dev by a hash of their id (about a quarter), so adding items
  never moves old ones; a follow-up goes wherever the question it follows went.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from assistant.corpus import Corpus
from assistant.errors import EvaluationError
from assistant.evaluation.gold import GoldItem, check_item, is_near_copy, question_words
from assistant.evaluation.metrics import provision_level
from assistant.settings import PROJECT_ROOT

BANK_DIR = PROJECT_ROOT / "eval" / "questions"
WRITTEN_DIR = BANK_DIR / "written"
SPLITS = ("train", "dev", "test")
DEV_SHARE = 0.25
# Within one pool, only items this alike are the same question asked twice.
SAME_QUESTION_JACCARD = 0.8


@dataclass
class BankBuild:
    """The three splits and what was left out of them, with why."""

    splits: dict[str, list[GoldItem]]
    left_out: list[str] = field(default_factory=list)

    def summary(self) -> str:
        lines = []
        for name, items in self.splits.items():
            scenarios = sum(item.style == "scenario" for item in items)
            unanswerable = sum(not item.answerable for item in items)
            lines.append(f"{name}: {len(items)} items ({scenarios} scenarios, {unanswerable} unanswerable)")
        lines.append(f"left out: {len(self.left_out)}")
        return "\n".join(lines)


def _loose(text: str) -> str:
    return " ".join(text.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"').replace("\u00a0", " ").split()).lower()


def law_words(fragment: str, law_text: str) -> str | None:
    """The law text's own characters for a fragment a writer copied (quotes, spacing and case aside); None when absent."""
    collapsed = " ".join(law_text.split())
    if " ".join(fragment.split()) in collapsed:
        return " ".join(fragment.split())
    target = _loose(fragment)
    if not target:
        return None
    # Map positions in the loose form back to the collapsed law text (same length: one character for one).
    loose = collapsed.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"').replace("\u00a0", " ").lower()
    start = loose.find(target)
    return collapsed[start : start + len(target)] if start >= 0 else None


def aligned(raw: dict, corpus: Corpus) -> dict:
    """The raw item with its evidence and key facts in the law's own characters where they can be found."""
    item = dict(raw)
    refs = item.get("expected") or ([item["delegated_by"]] if isinstance(item.get("delegated_by"), dict) else [])
    texts = []
    for ref in refs:
        provision = corpus.find(str(ref.get("document", "")), provision_level(str(ref.get("provision", ""))))
        if provision is not None:
            texts.append(provision.text)
    if texts and item.get("evidence"):
        item["evidence"] = law_words(item["evidence"], texts[0]) or item["evidence"]
    facts = []
    for fact in item.get("key_facts") or []:
        facts.append(next((found for text in texts if (found := law_words(fact, text))), fact))
    item["key_facts"] = facts
    return item


def read_written(folder: Path) -> list[tuple[str, dict]]:
    """(where, raw item) for every line of every JSONL file in the folder, in file then line order.

    A line that is not a JSON object stops the build with its file and line: the
    writers' files are the source of truth, so a damaged one must be mended, not skipped.
    """
    if not folder.is_dir():
        raise EvaluationError(f"{folder}: no such folder of written questions; pass --written with pool/ and test/ inside")
    out = []
    for file in sorted(folder.glob("*.jsonl")):
        for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError as exc:
                raise EvaluationError(f"{file}:{number}: not valid JSON ({exc.msg} at column {exc.colno})") from exc
            if not isinstance(item, dict):
                raise EvaluationError(f"{file}:{number}: expected a JSON object, got {type(item).__name__}")
            out.append((f"{file.name}:{number}", item))
    return out


def _checked(written: Iterable[tuple[str, dict]], corpus: Corpus, left_out: list[str]) -> list[GoldItem]:
    items: list[GoldItem] = []
    seen: set[str] = set()
    for where, raw in written:
        try:
            item = GoldItem.model_validate(aligned(raw, corpus))
        except ValueError as exc:
            left_out.append(f"{where}: malformed ({str(exc).splitlines()[0]})")
            continue
        problems = check_item(item, corpus)
        if item.follow_up_of is not None and item.follow_up_of not in seen:
            problems.append(f"follows '{item.follow_up_of}', which is not an earlier kept item")
        if item.id in seen:
            problems.append("duplicate id")
        if problems:
            left_out.append(f"{where} ({item.id}): {problems[0]}")
            continue
        seen.add(item.id)
        items.append(item)
    return items


def _without_near_copies(items: Sequence[GoldItem], others: Sequence[frozenset[str]], left_out: list[str], why: str) -> list[GoldItem]:
    kept, kept_words, dropped = [], [], set()
    for item in items:
        words = question_words(item.question)
        if item.follow_up_of in dropped:
            reason = "follows a question that was left out"
        elif any(is_near_copy(words, other) for other in others):
            reason = why
        elif any(is_near_copy(words, w, SAME_QUESTION_JACCARD) for w in kept_words):
            reason = "the same question as an earlier item"
        else:
            kept.append(item)
            kept_words.append(words)
            continue
        dropped.add(item.id)
        left_out.append(f"{item.id}: {reason}")
    return kept


def in_dev(item_id: str) -> bool:
    """Stable assignment: the id's sha256 decides, so new items never move old ones."""
    return int(hashlib.sha256(item_id.encode("utf-8")).hexdigest()[:8], 16) / 0xFFFFFFFF < DEV_SHARE


def build_bank(corpus: Corpus, written: Path, protected: Sequence[str], trained_on: Sequence[str]) -> BankBuild:
    """Build the splits from ``written/pool`` and ``written/test``.

    ``protected`` are evaluation questions (gold, dev, answer cases) no pool item may copy;
    ``trained_on`` are training questions no test item may copy.
    """
    left_out: list[str] = []
    test = _checked(read_written(written / "test"), corpus, left_out)
    test = _without_near_copies(test, [question_words(q) for q in trained_on], left_out, "near copy of a training question")
    pool = _checked(read_written(written / "pool"), corpus, left_out)
    guarded = [question_words(q) for q in protected] + [question_words(item.question) for item in test]
    pool = _without_near_copies(pool, guarded, left_out, "near copy of a test or evaluation question")
    split_of: dict[str, str] = {}
    splits: dict[str, list[GoldItem]] = {"train": [], "dev": [], "test": test}
    for item in pool:
        name = split_of[item.follow_up_of] if item.follow_up_of else ("dev" if in_dev(item.id) else "train")
        split_of[item.id] = name
        splits[name].append(item)
    return BankBuild(splits=splits, left_out=left_out)


def write_bank(build: BankBuild, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name, items in build.splits.items():
        lines = [item.model_dump_json(exclude_defaults=True) for item in items]
        (out / f"{name}.jsonl").write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    (out / "left_out.txt").write_text("".join(line + "\n" for line in build.left_out), encoding="utf-8")
