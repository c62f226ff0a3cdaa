"""Training data for the cross-encoder: questions paired with the passage that answers them and the first stage's look-alikes.

Three sources, none an evaluation set:

* **Written questions** (``assistant/data/reranker_questions.jsonl``):
  staff-style questions written from the law text for every substantive
  provision, in everyday words and scenarios, several aimed at what sets a
  provision apart from its neighbour. Near copies of development, gold,
  answer-case or bank dev and test questions were removed (tests/test_reranker.py
  keeps it so).
* **The question bank's train split** (``eval/questions/train.jsonl``): the
  answerable items other than follow-ups (which need their history), most of
  them scenarios in staff words, written apart from the dev and test splits.
  Every provision an item expects is an answer, so none is its negative.
* **Questions mined from the law itself**: each heading, "What does X mean?"
  for each defined term, and sentence fragments turned into questions ("X must
  Y" → "Does X have to Y?"), some with the Act's words swapped for everyday ones
  from the staff vocabulary and words dropped (inverse-cloze style: half the
  time the sentence is cut from the positive passage so the model must match
  meaning, not copy words).

Hard negatives are the hybrid first stage's best passages of other provisions
for the same question, so the model learns exactly the confusions the first
stage makes. What each source did: docs/experiments.md (training).
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from assistant import patterns
from assistant.bm25_text import stopwords
from assistant.evaluation.bank import BANK_DIR
from assistant.evaluation.gold import load_gold
from assistant.evaluation.metrics import provision_level
from assistant.records import Passage, Provision, RerankerGroup, TrainingQuestion
from assistant.retrieve.expansion import STAFF_VOCABULARY
from assistant.training.train import passages_file

NEGATIVES = 15
OUTSIDE = 99

_FORMS = {
    "must": ("Does {s} have to {r}?", "Must {s} {r}?", "Is {s} required to {r}?", "Who has to {r}?"),
    "must not": ("Can {s} {r}?", "Is it an offence to {r}?", "Is {s} allowed to {r}?"),
    "may": ("Can {s} {r}?", "Is {s} allowed to {r}?", "Who can {r}?", "When can {s} {r}?"),
}
_HEADING_FORMS = ("{h}", "What are the rules about {h}?", "{h}?", "What does the law say on {h}?")
_DEFINITION_FORMS = ("What does {t} mean?", "What is a {t}?", "Who counts as a {t}?", "meaning of {t}")


def load_bank_questions(path: Path = BANK_DIR / "train.jsonl") -> list[TrainingQuestion]:
    """The bank's answerable train items that stand alone (not follow-ups), first expected provision as the answer."""
    questions = []
    for item in load_gold(path).items:
        if not item.answerable or item.follow_up_of or not item.expected:
            continue
        answers = list(dict.fromkeys(provision_level(e.key) for e in item.expected))
        document, provision = answers[0].split("/", 1)
        style = "scenario" if item.style == "scenario" else "direct"
        questions.append(TrainingQuestion(question=item.question, document=document, provision=provision, style=style, also_answering=answers[1:]))
    return questions


def _staff_words(path: Path = STAFF_VOCABULARY) -> dict[str, list[str]]:
    """The Act's phrase → everyday words for it (lower case), from the staff vocabulary read backwards."""
    out: dict[str, list[str]] = {}
    for entry in json.loads(path.read_text(encoding="utf-8"))["entries"]:
        for act in entry["act"]:
            out.setdefault(act.lower(), []).extend(word for word in entry["staff"] if not word.isupper())
    return out


class QuestionMiner:
    """Questions from the law text itself: headings, defined terms and sentences (seeded, reproducible)."""

    def __init__(self, stopwords: frozenset[str], seed: int = 13):
        self.rng = random.Random(seed)
        self.stopwords = stopwords | {"who", "can", "does", "must", "allowed", "required", "rules", "law", "say", "mean", "what"}
        self.everyday = _staff_words()
        self.act_phrase = re.compile(r"\b(" + "|".join(re.escape(a) for a in sorted(self.everyday, key=len, reverse=True)) + r")\b", re.IGNORECASE)

    def informative(self, query: str) -> bool:
        """At least three words that are not stopwords: fragments like 'by the in Council' teach nothing."""
        return len([w for w in re.findall(r"[a-z]+", query.lower()) if w not in self.stopwords]) >= 3

    def everyday_words(self, text: str) -> str:
        def swap(m: re.Match[str]) -> str:
            options = self.everyday.get(m.group(0).lower())
            return self.rng.choice(options) if options and self.rng.random() < 0.5 else m.group(0)

        return self.act_phrase.sub(swap, text)

    def drop_words(self, text: str, rate: float = 0.15) -> str:
        words = text.split()
        return " ".join(w for w in words if self.rng.random() > rate) if len(words) > 5 else text

    def sentences(self, text: str) -> Iterator[str]:
        text = patterns.INLINE_UNIT_LABEL_RE.sub("", text)
        for part in re.split(r"(?<=[.;:])\s+|\n+", text):
            part = re.sub(r"\s+([,;:.])", r"\1", " ".join(patterns.INTERNAL_REFERENCE_RE.sub(" ", part).split())).strip(" ;:.,—-")
            part = re.sub(r"\b(?:under|of|in|by|to)\s*([,;.]|$)", r"\1", part)
            if len(part.split()) >= 6 and not part.lower().startswith(("penalty", "note")):
                yield part

    def _clip(self, words: Sequence[str], low: int, high: int) -> str:
        return " ".join(words[: self.rng.randint(low, high)])

    def question_from(self, sentence: str) -> str:
        """'X must Y' → 'Does X have to Y?'; other sentences give a fragment, as in inverse-cloze training."""
        if m := patterns.DUTY_SENTENCE_RE.match(sentence):
            modal = m["modal"].lower()
            modal = "must" if modal in ("is to", "are to") else "must not" if modal in ("is not to", "may not") else modal
            subject = "" if patterns.CONDITION_START_RE.match(m["subject"]) else m["subject"].strip()
            subject = (subject[0].lower() + subject[1:]) if subject else "someone"
            return self.rng.choice(_FORMS[modal]).format(s=subject, r=self._clip(m["rest"].split(), 4, 14))
        words = sentence.split()
        start = 0 if self.rng.random() < 0.6 else self.rng.randint(0, max(0, len(words) - 8))
        return self._clip(words[start:], 6, 14)

    def questions(self, passages: Sequence[Passage], penalty: bool) -> Iterator[tuple[str, Passage, str | None, str]]:
        """(question, answering passage, replacement text or None, source) for one provision's passages."""
        first = passages[0]
        if first.heading:
            heading = self.everyday_words(first.heading.lower())
            yield self.rng.choice(_HEADING_FORMS).format(h=heading), first, None, "heading"
            if penalty:
                yield f"What is the penalty for {heading}?", first, None, "heading"
        for passage in passages:
            if passage.term:
                yield self.rng.choice(_DEFINITION_FORMS).format(t=passage.term), passage, None, "definition"
        pool = [(p, s) for p in passages if not p.term for s in self.sentences(p.text)]
        self.rng.shuffle(pool)
        for passage, sentence in pool[:4]:
            query = self.drop_words(self.everyday_words(self.question_from(sentence)))
            cut = self.rng.random() < 0.5 and sentence in passage.embed_text
            yield query, passage, passage.embed_text.replace(sentence, " ") if cut else None, "sentence"


def mine_groups(
    retriever,
    written: Iterable[TrainingQuestion],
    seed: int = 13,
    progress: bool = False,
    provisions: Sequence[Provision] | None = None,
    bank: Iterable[TrainingQuestion] = (),
) -> list[RerankerGroup]:
    """Training groups for the written and bank questions and for questions mined from each unrepealed provision (all by default).

    ``retriever`` is a loaded ``assistant.retrieve.Retriever``; its hybrid first stage supplies
    the negatives and, for written questions, picks the answering provision's passage closest
    to the question as the positive.
    """
    from tqdm.auto import tqdm

    miner = QuestionMiner(stopwords(), seed)
    table = retriever.table
    passages = table.passages
    jobs: list[tuple[str, str, int | None, str | None, str, frozenset[str]]] = []
    for source, items in (("written", written), ("bank", bank)):
        for item in items:
            uid = f"{item.document}/{item.provision}"
            if uid in table:
                jobs.append((item.question, uid, None, None, source, frozenset(item.also_answering)))
    for provision in retriever.corpus.provisions if provisions is None else provisions:
        if provision.repealed or provision.uid not in table:
            continue
        rows = table.rows_of[provision.uid]
        by_id = {passages[r].passage_id: r for r in rows}
        for query, passage, text, source in miner.questions([passages[r] for r in rows], "Penalty:" in provision.text):
            query = " ".join(query.split())
            if miner.informative(query):
                jobs.append((query, provision.uid, by_id[passage.passage_id], text, source, frozenset()))
    groups = []
    for query, uid, row, text, source, also in tqdm(jobs, desc="mining reranker groups", disable=not progress):
        if row is None:
            row = table.best_row_for(uid, retriever.embedder.encode([query])[0])
        hits = retriever.retrieve(query, k=NEGATIVES + 1, mode="hybrid")
        ranked = [f"{h.document_id}/{h.provision_id}" for h in hits]
        groups.append(
            RerankerGroup(
                query=query,
                positive=passages[row].passage_id,
                positive_text=text,
                negatives=[h.best_passage_id for h in hits if (other := f"{h.document_id}/{h.provision_id}") != uid and other not in also][:NEGATIVES],
                source=source,
                first_rank=ranked.index(uid) + 1 if uid in ranked else OUTSIDE,
            )
        )
    return groups


def write_groups(groups: Sequence[RerankerGroup], passages: Sequence[Passage], file: Path) -> None:
    """Groups as JSONL plus ``<file>.passages.json`` (passage id → embedded text), all training needs."""
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text("".join(g.model_dump_json() + "\n" for g in groups), encoding="utf-8")
    used = {g.positive for g in groups} | {n for g in groups for n in g.negatives}
    texts = {p.passage_id: p.embed_text for p in passages if p.passage_id in used}
    passages_file(file).write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
