"""Second stage: reorder the first stage's shortlist of provisions.

Not yet in place: mode 'full' currently returns the hybrid order unchanged, so
'full' and 'hybrid' agree until a measured second stage lands here.
"""

from __future__ import annotations


class Reranker:
    def __init__(self, retriever):
        self.retriever = retriever

    def rerank(self, query, query_vector, candidates):
        return candidates
