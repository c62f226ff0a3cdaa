"""Second stage: reorder the first stage's shortlist of provisions with evidence the fused score misses.

The first stage ranks by how much a provision's best passage resembles the
question. Two things staff do that it cannot see, and that need no training:

* **Asking what a word means** ("What's a 'category A offence'?", "Who counts as
  an overseas student?"). The answer is the definition of that term, wherever
  it is defined (s 1.1.3, a Part's definitions section, a "Meaning of ..."
  section), but every provision that *uses* the term resembles the question too.
  When the question asks for a meaning and names a defined term, the provisions
  defining it are brought into the shortlist and put first.
* **Naming the Part or Division** ("the principles in Part 1.2"). Provisions
  in the Part the question names are preferred over look-alikes elsewhere.
* **Asking for a period, a penalty or an age** ("how long ...", "what's the
  fine ...", "at what age ..."). Provisions whose text states one ("14 days",
  "60 penalty units", "years of age") get a small bonus (``QUESTION_CUES``).
  On dev MRR@10 +0.002 (11 questions carry a cue); flat for bonuses 0.1–0.3.
  Cues for "must"/"may"/"who can" were not added: nearly every provision says
  "must" or "may", so they cannot tell candidates apart.

Then a trained cross-encoder (``assistant.cross_encoder``) reads the question
together with each of the first ``settings.reranker_depth`` (15) candidates'
best passage, and its min-max scaled score is added to the rules' at weight
``settings.reranker_weight`` (1.0). This is what tells a provision that answers
from its neighbour that only shares its words: the first stage ranks the answer
second more often than it misses it. When the rules' first candidate leads by
``DECISIVE_LEAD`` of the shortlist's range, the model is not run.

Each signal is reported in ``Hit.scores``. Measured on the 76 answerable
development questions (tests/test_retrieval_quality.py prints the table),
recall@5 / MRR@10: hybrid 0.947 / 0.813; with the rules 0.947 / 0.828; with the
cross-encoder too 0.961 / 0.881. The cross-encoder's depth and weight were set
there: depth 10 or 12 gives 0.947 / 0.870, 15 gives 0.961 / 0.881, 20 gives
0.961 / 0.880 at a third more time; weight 0.5 / 1 / 2 gives MRR 0.865 / 0.873 /
0.868 (at depth 20); reading 128 or 160 word pieces instead of 192 loses 0.03.
On the held-out gold set, run once after these choices, full moves from
R@5 0.863 / MRR@10 0.753 to 0.884 / 0.788.
Ideas that did not help are not kept: line-level max-similarity inside
each candidate, heading similarity, whole-provision centroid similarity,
hubness correction (CSLS), passage-count priors, Rocchio feedback, a
penalty on transitional provisions (+0.002, within noise), and a
cross-encoder trained only on questions mined from the law text (alone
MRR@10 0.62; blended, never above the rules).
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import TYPE_CHECKING

import numpy as np

from assistant import patterns
from assistant.cross_encoder import CrossEncoder
from assistant.retrieve import min_max

if TYPE_CHECKING:
    from assistant.retrieve import Retriever, _Candidate

# A question that asks what a word means: the term right after "what is a", "who counts as",
# "meaning of", "definition of", or before "mean", with little else after it.
_ASKS_BEFORE_RE = re.compile(
    r"(?:\bwhat(?:'s|’s|\s+is|\s+are)|\bwho\s+(?:counts|is\s+counted|qualifies)\s+as|\bwhat\s+counts\s+as|\bmeaning\s+of|\bdefinition\s+of|\bdefine|\bdefines)"
    r"\s+(?:an?\s+|the\s+)?['‘\"“]?\s*$",
    re.IGNORECASE,
)
_ASKS_AFTER_RE = re.compile(r"^['’\"”]?\s*(?:(?:under|in|for|according\s+to)\b[^?]{0,30})?[?.!]?\s*$", re.IGNORECASE)
_MEAN_AFTER_RE = re.compile(r"^['’\"”]?\s+(?:actually\s+|legally\s+)?mean\b", re.IGNORECASE)
MEANING_HEADING_RE = re.compile(r"^(?:Meaning|Definitions?) of (?:an? |the )?(?P<term>.+?)(?: in this \w+)?$", re.IGNORECASE)

# Question types and the law-text shapes that answer them: a "how long" question is answered
# by a provision that states a period, a "what's the penalty" question by one with a penalty.
QUESTION_CUES: tuple[tuple[str, re.Pattern[str], re.Pattern[str]], ...] = (
    (
        "period",
        re.compile(r"\b(?:how\s+long|how\s+many\s+(?:days|weeks|months|years)|how\s+soon|deadline|time\s+limit|within\s+what|time\s*frame|timeline|when\s+does\s+\w+\s+(?:end|expire|lapse))\b", re.IGNORECASE),
        re.compile(r"\b(?:\d+|one|two|three|four|five|six|seven|ten|fourteen|twenty[- ]\w+|thirty|sixty)\s+(?:business\s+|working\s+|clear\s+)?(?:days?|weeks?|months?|years?)\b", re.IGNORECASE),
    ),
    (
        "penalty",
        re.compile(r"\b(?:penalt(?:y|ies)|fined?|fines|punishable|maximum\s+(?:fine|penalty)|how\s+much\s+(?:can|could|will|would)\b[^?]*\bfined)\b", re.IGNORECASE),
        re.compile(r"\bpenalty\s+units?\b|\bPenalty:", re.IGNORECASE),
    ),
    (
        "age",
        re.compile(r"\b(?:what\s+age|how\s+old|age\s+limit|old\s+enough|too\s+(?:young|old)|years?\s+old)\b", re.IGNORECASE),
        re.compile(r"\b(?:years\s+of\s+age|age\s+of\s+\d+|aged\s+\d+|school\s+age)\b", re.IGNORECASE),
    ),
)

# Added to the min-max normalised fused score (range [0, 1]); chosen on the development questions.
DEFINITION_BONUS = 1.0
PART_BONUS = 0.3
CUE_BONUS = 0.2
DECISIVE_LEAD = 0.4


class Reranker:
    """Reorders the top ``settings.rerank_depth`` provisions; built once per retriever."""

    def __init__(self, retriever: Retriever):
        self.retriever = retriever
        self.depth = retriever.settings.rerank_depth
        self.cross_encoder_weight = retriever.settings.reranker_weight
        self.cross_encoder_depth = retriever.settings.reranker_depth
        self.cross_encoder = CrossEncoder(retriever.settings) if self.cross_encoder_weight > 0 else None
        self.defines: dict[str, set[str]] = defaultdict(set)
        self.part_of: dict[str, tuple[str, str]] = {}
        # The passage holding each definition, so a meaning question's hit shows that definition.
        self.definition_row = {(p.document_id + "/" + p.provision_id, _norm(p.term)): row for row, p in enumerate(retriever.passages) if p.term}
        for provision in retriever.corpus.provisions:
            if provision.uid not in retriever.rows_of:
                continue
            for unit in provision.units:
                if unit.kind == "definition" and unit.term:
                    self.defines[_norm(unit.term)].add(provision.uid)
            if m := MEANING_HEADING_RE.match(provision.heading):
                self.defines[_norm(m.group("term"))].add(provision.uid)
            groups = {m["kind"]: m["number"] for p in provision.path if (m := patterns.GROUP_HEADING_RE.match(p))}
            part, division = groups.get("Part", ""), groups.get("Division", "")
            self.part_of[provision.uid] = (part.upper(), division.upper())
        self.shapes = {
            provision.uid: {name for name, _, shape in QUESTION_CUES if shape.search(provision.text)}
            for provision in retriever.corpus.provisions
            if provision.uid in retriever.rows_of
        }
        # Longest terms first, so "category A offence" wins over "offence".
        self.term_patterns = [
            (term, re.compile(rf"(?<![\w-]){re.escape(term)}(?![\w-])", re.IGNORECASE))
            for term in sorted(self.defines, key=len, reverse=True)
        ]

    def asked_terms(self, query: str) -> list[str]:
        """Defined terms whose meaning the question asks for (none when it does not ask for a meaning)."""
        found: list[str] = []
        taken: list[tuple[int, int]] = []
        for term, pattern in self.term_patterns:
            for m in pattern.finditer(query):
                if not all(m.end() <= a or m.start() >= b for a, b in taken):
                    continue
                taken.append(m.span())
                before, after = query[: m.start()], query[m.end() :]
                if (_ASKS_BEFORE_RE.search(before) and _ASKS_AFTER_RE.match(after)) or _MEAN_AFTER_RE.match(after):
                    found.append(term)
        return found

    def named_parts(self, query: str) -> set[tuple[str, str]]:
        named = {(m.group("part").upper(), m.group("division").upper()) for m in patterns.QUERY_DIVISION_RE.finditer(query)}
        named |= {(m.group("part").upper(), "") for m in patterns.QUERY_PART_RE.finditer(query)}
        return named

    def rerank(self, query: str, query_vector: np.ndarray | None, candidates: list[_Candidate]) -> list[_Candidate]:
        from assistant.retrieve import _Candidate

        shortlist, rest = list(candidates[: self.depth]), list(candidates[self.depth :])
        terms = self.asked_terms(query)
        defining = {uid for term in terms for uid in self.defines[term]}
        present = {c.uid for c in shortlist}
        for uid in sorted(defining - present):
            # A definition the first stage missed joins the shortlist (and leaves the tail).
            found = next((c for c in rest if c.uid == uid), None)
            if found is not None:
                rest.remove(found)
            shortlist.append(found or _Candidate(uid, {}, self.retriever._best_row_for(uid, query_vector)))
        base = min_max({c.uid: c.scores.get("fused", c.scores.get("dense", c.scores.get("bm25", 0.0))) for c in shortlist})
        parts = self.named_parts(query)
        cues = {name for name, asks, _ in QUESTION_CUES if asks.search(query)}
        scored = []
        for c in shortlist:
            score = base[c.uid]
            if c.uid in defining:
                c.scores["definition"] = 1.0
                score += DEFINITION_BONUS
                c.best_row = next((self.definition_row[(c.uid, t)] for t in terms if (c.uid, t) in self.definition_row), c.best_row)
            part, division = self.part_of.get(c.uid, ("", ""))
            if parts and ((part, division) in parts or (part, "") in parts):
                c.scores["part"] = 1.0
                score += PART_BONUS
            if matched := cues & self.shapes.get(c.uid, set()):
                c.scores["cue"] = float(len(matched))
                score += CUE_BONUS * len(matched)
            c.scores["rerank"] = score
            scored.append(c)
        scored.sort(key=lambda c: (-c.scores["rerank"], c.uid))
        if self.cross_encoder is not None and not self.decisive(scored):
            head, tail = scored[: self.cross_encoder_depth], scored[self.cross_encoder_depth :]
            self.add_cross_encoder(query, head)
            head.sort(key=lambda c: (-c.scores["rerank"], c.uid))
            scored = head + tail
        return scored + rest

    def decisive(self, ranked: list[_Candidate]) -> bool:
        """Whether the rules' first candidate leads so clearly that the cross-encoder need not read the shortlist.

        The lead is the gap between the first two scores as a share of the range over
        the cross-encoder's depth. At ``DECISIVE_LEAD`` (0.4) 29% of the development
        questions skip the model with no change in their ranking quality
        (recall@5 0.961, MRR@10 0.881 either way); at 0.3, MRR@10 drops to 0.864.
        """
        head = [c.scores["rerank"] for c in ranked[: self.cross_encoder_depth]]
        if len(head) < 2:
            return True
        spread = head[0] - head[-1]
        return spread > 0 and (head[0] - head[1]) / spread >= DECISIVE_LEAD

    def add_cross_encoder(self, query: str, shortlist: list[_Candidate]) -> None:
        """Blend the cross-encoder's reading of question + best passage into each candidate's score.

        Both scores are min-max scaled over the shortlist, then summed with the
        cross-encoder's at ``settings.reranker_weight``, so the rules above still
        count (a definition asked for stays first unless the model strongly disagrees).
        """
        passages = self.retriever.passages
        logits = self.cross_encoder.score(query, [passages[c.best_row].embed_text for c in shortlist])
        rules = min_max({c.uid: c.scores["rerank"] for c in shortlist})
        model = min_max({c.uid: logit for c, logit in zip(shortlist, logits, strict=True)})
        for c, logit in zip(shortlist, logits, strict=True):
            c.scores["cross_encoder"] = logit
            c.scores["rerank"] = rules[c.uid] + self.cross_encoder_weight * model[c.uid]


def _norm(term: str) -> str:
    return " ".join(term.lower().split())
