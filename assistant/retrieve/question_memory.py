"""Question memory: the written staff questions, each with the provision that answers it, searched by meaning.

Staff describe situations ("a parent keeps her son home to work on the farm"),
and the words of a scenario rarely resemble the words of the provision that
answers it; they resemble other staff questions about the same provision far
more. So the second stage also asks which of the questions written from
the law text (``index.WRITTEN_QUESTIONS``, embedded when the index is built)
are nearest to the new one, and favours the provisions that answer those: a
nearest-neighbour vote learned from written examples rather than a rule. What
it did on the question bank is in docs/experiments.md (second stage).
"""

from __future__ import annotations

import numpy as np

from assistant.index import Index


class QuestionMemory:
    """The ``neighbours`` written questions nearest a question, voting for the provisions that answer them."""

    def __init__(self, index: Index, known_uids: set[str], neighbours: int, floor: float):
        answering = [f"{q.document}/{q.provision}" for q in index.questions]
        keep = [i for i, uid in enumerate(answering) if uid in known_uids]
        self.uids = [answering[i] for i in keep]
        self.vectors = index.question_vectors[keep]
        self.neighbours = neighbours
        self.floor = floor

    def __len__(self) -> int:
        return len(self.uids)

    def votes(self, query_vector: np.ndarray) -> dict[str, float]:
        """The provisions answering the nearest written questions, each with its best vote.

        A vote is 1 for the very same question and falls linearly to 0 at cosine
        similarity ``floor``; below it two questions share little more than their
        style (an unrelated pair of MiniLM questions scores 0.3–0.5), so it does not vote.
        """
        if not self.uids or self.neighbours < 1:
            return {}
        # einsum, not BLAS: a BLAS call here leaves its threads spinning against the cross-encoder of the next question.
        similarity = np.einsum("ij,j->i", self.vectors, query_vector.astype(np.float32))
        k = min(self.neighbours, len(similarity))
        out: dict[str, float] = {}
        for row in np.argpartition(-similarity, k - 1)[:k]:
            vote = (float(similarity[row]) - self.floor) / (1.0 - self.floor)
            if vote > 0:
                out[self.uids[row]] = max(out.get(self.uids[row], 0.0), min(vote, 1.0))
        return out
