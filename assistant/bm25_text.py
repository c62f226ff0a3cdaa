"""How text is cut into BM25 tokens: the index's sparse side, the first stage's queries, and mined training questions share it."""

from __future__ import annotations

import re
from functools import cache

# Section and clause numbers (2.6.9, 2.1A.12, 1.10) stay whole so "s 2.6.9" matches exactly.
_TOKEN_RE = re.compile(r"\d+[a-z]*(?:\.\d+[a-z]*)+|[a-z0-9]+")


@cache
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


@cache
def stopwords() -> frozenset[str]:
    """English stopwords (bm25s's list), dropped from BM25 tokens and from mined training questions."""
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN)


def bm25_tokens(text: str) -> list[str]:
    """Lower-case words, English stopwords dropped, Snowball-stemmed; section numbers kept whole."""
    raw = _TOKEN_RE.findall(text.lower().replace("’", "'").replace("'s", ""))
    stop = stopwords()
    words = [t for t in raw if t not in stop and (len(t) > 1 or t.isdigit())]
    stems = _stemmer().stemWords([w for w in words if "." not in w])
    it = iter(stems)
    return [w if "." in w else next(it) for w in words]
