"""Second stage: reorder the first stage's shortlist with evidence the fused score misses.

The first stage ranks by how much a provision's best passage resembles the
question. The rules here add what it cannot see: a question asking what a word
means puts the provisions defining that term first (bringing them into the
shortlist if needed); a question naming a Part or Division prefers provisions
in it; a question asking for a period, a penalty or an age prefers provisions
that state one (``patterns.QUESTION_CUES``). Then a trained cross-encoder
(``assistant.retrieve.cross_encoder``) reads the question with each of the top
``settings.reranker_depth`` candidates' best passage, and its min-max scaled
score is added at ``settings.reranker_weight``: it tells the provision that
answers from a neighbour that only shares its words. Last, the question memory
(``assistant.retrieve.question_memory``) favours the provisions that answer the
written staff questions nearest this one, at ``settings.question_memory_weight``.
Each signal is reported in ``Hit.scores``. Weights, depths and the ideas that did not help are in
docs/experiments.md (second stage).
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from assistant import patterns
from assistant.corpus import Corpus
from assistant.question import asked_part
from assistant.retrieve.candidates import Candidate, PassageTable
from assistant.retrieve.cross_encoder import CrossEncoder
from assistant.retrieve.fusion import min_max
from assistant.retrieve.question_memory import QuestionMemory
from assistant.settings import Settings

# Added to the min-max normalised fused score (range [0, 1]); chosen on the development questions.
DEFINITION_BONUS = 1.0
PART_BONUS = 0.3
CUE_BONUS = 0.2
DECISIVE_LEAD = 0.4
# On the question memory's scale: the shortlist the cross-encoder read stays in [0, 1 + weight],
# the rest of the reordered shortlist one below it, and a provision only the memory names between.
BELOW_READ = -1.0
MEMORY_ONLY = -0.5


class Reranker:
    """Reorders the top ``settings.rerank_depth`` provisions; built once per retriever."""

    def __init__(self, corpus: Corpus, table: PassageTable, settings: Settings, memory: QuestionMemory | None = None):
        self.table = table
        self.memory = memory if settings.question_memory_weight > 0 else None
        self.memory_weight = settings.question_memory_weight
        self.depth = settings.rerank_depth
        self.cross_encoder_weight = settings.reranker_weight
        self.cross_encoder_depth = settings.reranker_depth
        self.cross_encoder = CrossEncoder(settings) if self.cross_encoder_weight > 0 else None
        self.defines: dict[str, set[str]] = defaultdict(set)
        self.part_of: dict[str, tuple[str, str]] = {}
        # The passage holding each definition, so a meaning question's hit shows that definition.
        self.definition_row = {(p.document_id + "/" + p.provision_id, _norm(p.term)): row for row, p in enumerate(table.passages) if p.term}
        for provision in corpus.provisions:
            if provision.uid not in table:
                continue
            for unit in provision.units:
                if unit.kind == "definition" and unit.term:
                    self.defines[_norm(unit.term)].add(provision.uid)
            if m := patterns.MEANING_HEADING_RE.match(provision.heading):
                self.defines[_norm(m.group("term"))].add(provision.uid)
            groups = {m["kind"]: m["number"] for p in provision.path if (m := patterns.GROUP_HEADING_RE.match(p))}
            part, division = groups.get("Part", ""), groups.get("Division", "")
            self.part_of[provision.uid] = (part.upper(), division.upper())
        self.shapes = {
            provision.uid: {name for name, _, shape in patterns.QUESTION_CUES if shape.search(provision.text)}
            for provision in corpus.provisions
            if provision.uid in table
        }
        # Longest terms first, so "category A offence" wins over "offence".
        self.term_patterns = [
            (term, patterns.whole_term_re(term))
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
                if patterns.meaning_asked_at(query, m.start(), m.end()):
                    found.append(term)
        return found

    def named_parts(self, query: str) -> set[tuple[str, str]]:
        named = {(m.group("part").upper(), m.group("division").upper()) for m in patterns.QUERY_DIVISION_RE.finditer(query)}
        named |= {(m.group("part").upper(), "") for m in patterns.QUERY_PART_RE.finditer(query)}
        return named

    def rerank(self, query: str, query_vector: np.ndarray | None, candidates: list[Candidate], document: str | None = None) -> list[Candidate]:
        """The shortlist reordered; with ``document``, a provision joining it (a definition, the memory's choice) comes from that document only."""
        shortlist, rest = list(candidates[: self.depth]), list(candidates[self.depth :])
        terms = self.asked_terms(query)
        defining = {uid for term in terms for uid in self.defines[term] if in_document(uid, document)}
        present = {c.uid for c in shortlist}
        # A definition the first stage missed joins the shortlist.
        shortlist.extend(self.joining(uid, rest, query_vector) for uid in sorted(defining - present))
        base = min_max({c.uid: c.scores.get("fused", c.scores.get("dense", c.scores.get("bm25", 0.0))) for c in shortlist})
        parts = self.named_parts(query)
        asking = asked_part(query)
        cues = {name for name, asks, _ in patterns.QUESTION_CUES if asks.search(asking)}
        scored = []
        for c in shortlist:
            score = base[c.uid]
            scores, best_row = dict(c.scores), c.best_row
            if c.uid in defining:
                scores["definition"] = 1.0
                score += DEFINITION_BONUS
                best_row = next((self.definition_row[(c.uid, t)] for t in terms if (c.uid, t) in self.definition_row), best_row)
            part, division = self.part_of.get(c.uid, ("", ""))
            if parts and ((part, division) in parts or (part, "") in parts):
                scores["part"] = 1.0
                score += PART_BONUS
            if matched := cues & self.shapes.get(c.uid, set()):
                scores["cue"] = float(len(matched))
                score += CUE_BONUS * len(matched)
            scores["rerank"] = score
            scored.append(Candidate(c.uid, scores, best_row))
        scored.sort(key=by_rerank)
        read = 0
        decisive = self.decisive(scored)
        if self.cross_encoder is not None and not decisive:
            head, tail = scored[: self.cross_encoder_depth], scored[self.cross_encoder_depth :]
            scored = sorted(self.with_cross_encoder(query, head), key=by_rerank) + tail
            read = len(head)
        if self.memory is not None and query_vector is not None:
            ranked = self.with_memory(query_vector, scored, read, rest, document)
            return kept_first(ranked, scored[0], scored[1] if len(scored) > 1 else None) if decisive else ranked
        return scored + rest

    def decisive(self, ranked: list[Candidate]) -> bool:
        """Whether the rules' first candidate leads so clearly that the cross-encoder need not read the shortlist.

        The lead is the gap between the first two scores as a share of the range over
        the cross-encoder's depth; skipping saves the model's time where it would not
        change the order (docs/experiments.md).
        """
        head = [c.scores["rerank"] for c in ranked[: self.cross_encoder_depth]]
        if len(head) < 2:
            return True
        spread = head[0] - head[-1]
        return spread > 0 and (head[0] - head[1]) / spread >= DECISIVE_LEAD

    def with_cross_encoder(self, query: str, shortlist: list[Candidate]) -> list[Candidate]:
        """The shortlist with the cross-encoder's reading of question + best passage blended into each score.

        Both scores are min-max scaled over the shortlist, then summed with the
        cross-encoder's at ``settings.reranker_weight``, so the rules above still
        count (a definition asked for stays first unless the model strongly disagrees).
        """
        passages = self.table.passages
        logits = self.cross_encoder.score(query, [passages[c.best_row].embed_text for c in shortlist])
        rules = min_max({c.uid: c.scores["rerank"] for c in shortlist})
        model = min_max({c.uid: logit for c, logit in zip(shortlist, logits, strict=True)})
        return [
            Candidate(c.uid, {**c.scores, "cross_encoder": logit, "rerank": rules[c.uid] + self.cross_encoder_weight * model[c.uid]}, c.best_row)
            for c, logit in zip(shortlist, logits, strict=True)
        ]

    def joining(self, uid: str, rest: list[Candidate], query_vector: np.ndarray | None) -> Candidate:
        """A provision joining the shortlist: taken out of the first stage's tail, or with its passage closest to the question."""
        found = next((c for c in rest if c.uid == uid), None)
        if found is not None:
            rest.remove(found)
            return found
        return Candidate(uid, {}, self.table.best_row_for(uid, query_vector))

    def with_memory(self, query_vector: np.ndarray, scored: list[Candidate], read: int, rest: list[Candidate], document: str | None = None) -> list[Candidate]:
        """The reordered shortlist with the question memory's votes added, and the provisions it names joining it.

        The shortlist's scores are first put on one scale: those the cross-encoder
        read keep theirs, the rest take their min-max scaled rule score minus one,
        so the order so far is unchanged; a provision only the memory names
        starts at ``MEMORY_ONLY``. Each voted provision then gains
        ``settings.question_memory_weight`` times its vote.
        """
        votes = {uid: vote for uid, vote in self.memory.votes(query_vector).items() if in_document(uid, document)}
        if not votes:
            return scored + rest
        rules = min_max({c.uid: c.scores["rerank"] for c in scored[read:]})
        standing = {c.uid: c.scores["rerank"] if i < read else rules[c.uid] + (BELOW_READ if read else 0.0) for i, c in enumerate(scored)}
        joined = [self.joining(uid, rest, query_vector) for uid in sorted(set(votes) - set(standing))]
        standing.update({c.uid: MEMORY_ONLY for c in joined})
        out = []
        for c in scored + joined:
            scores = dict(c.scores)
            if c.uid in votes:
                scores["memory"] = votes[c.uid]
            scores["rerank"] = standing[c.uid] + self.memory_weight * votes.get(c.uid, 0.0)
            out.append(Candidate(c.uid, scores, c.best_row))
        return sorted(out, key=by_rerank) + rest


def in_document(uid: str, document: str | None) -> bool:
    """Whether a provision (``document/provision``) is in the document a question is limited to (any, when None)."""
    return document is None or uid.startswith(f"{document}/")


def kept_first(ranked: list[Candidate], leader: Candidate, runner_up: Candidate | None) -> list[Candidate]:
    """A decisive rules leader (a definition asked for, a Part named, a clear lead) first, the memory's order after it.

    Its score is lifted above the best of the rest by the lead it had in the rules, so
    scores still fall with rank and the second stage's margin reads as the clear
    lead it is (the abstention decision weighs that margin).
    """
    lead = leader.scores["rerank"] - runner_up.scores["rerank"] if runner_up else 0.0
    first = next(c for c in ranked if c.uid == leader.uid)
    others = [c for c in ranked if c.uid != leader.uid]
    best_other = max((c.scores["rerank"] for c in others if "rerank" in c.scores), default=first.scores["rerank"])
    if first.scores["rerank"] <= best_other:
        first = Candidate(first.uid, {**first.scores, "rerank": best_other + lead}, first.best_row)
    return [first, *others]


def by_rerank(candidate: Candidate) -> tuple[float, str]:
    """Best second-stage score first; ties broken by uid so results are reproducible."""
    return (-candidate.scores["rerank"], candidate.uid)


def _norm(term: str) -> str:
    return " ".join(term.lower().split())
