"""What the two retrieval stages hand each other: the passage table and the candidate provisions.

Both stages read the index's passages through one ``PassageTable``, so the
second stage needs nothing of the first but its ranked ``Candidate`` list.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from assistant.index import Index
from assistant.records import Passage


@dataclass(frozen=True)
class Candidate:
    """A provision on its way to becoming a ``Hit``: its per-signal scores and the row of its best passage.

    Each stage returns new candidates rather than changing the ones it was given.
    """

    uid: str
    scores: dict[str, float]
    best_row: int


class PassageTable:
    """The index's passages by row, grouped by provision (``document/provision`` uid)."""

    def __init__(self, index: Index):
        self.index = index
        self.passages: list[Passage] = index.passages
        self.row_uid = [f"{p.document_id}/{p.provision_id}" for p in self.passages]
        self.rows_of: dict[str, list[int]] = {}
        for row, uid in enumerate(self.row_uid):
            self.rows_of.setdefault(uid, []).append(row)
        self.row_document = np.array([p.document_id for p in self.passages])

    def __len__(self) -> int:
        return len(self.passages)

    def __contains__(self, uid: str) -> bool:
        return uid in self.rows_of

    def best_row_for(self, uid: str, query_vector: np.ndarray | None) -> int:
        """The provision's passage closest to the question (its first when vectors cannot be read back)."""
        rows = self.rows_of[uid]
        if query_vector is None or len(rows) == 1:
            return rows[0]
        try:
            vectors = np.vstack([self.index.faiss.reconstruct(r) for r in rows])
        except RuntimeError:  # IVF-PQ indexes do not keep the vectors
            return rows[0]
        return rows[int(np.argmax(vectors @ query_vector))]
