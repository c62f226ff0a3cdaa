"""Words shared by a question and the law: content words, a light stemmer, and their idf-weighted overlap.

The embedding model can miss the exact legal term a question uses ("WWC
exclusion", "overseas student"); counting the content words a segment shares
with the question, rare words weighing more, catches it.
"""

from __future__ import annotations

import math
from collections import Counter

from assistant.corpus import Corpus
from assistant.patterns import DESIGNATED_RE, WORD_RE

STOPWORDS = frozenset(
    """a an the and or but if of to in on at by for with from into onto under over about as is are was were be been being
    do does did done have has had having can could may might must shall should will would not no nor so than that this these
    those there their them they it its i me my we our you your he she his her him who whom whose which what when where why how
    any all each every some such other another more most less least own same only also just very too then once up down out off
    again further here both few many much s t am get gets got tell say says said let lets please act section sections
    isn doesn don didn hasn haven won aren wasn weren shouldn wouldn couldn ve ll re""".split()
)


def stem(word: str) -> str:
    """A light suffix strip so 'enrolled', 'enrols' and 'enrolment' meet 'enrol' often enough for overlap counting."""
    if word.endswith("lled") and len(word) > 6:
        return word[:-3]  # enrolled, cancelled -> enrol, cancel
    for suffix, keep in (("ments", 0), ("ment", 0), ("ies", "y"), ("ing", 0), ("ed", 0), ("es", 0), ("s", 0)):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            if suffix == "s" and word.endswith("ss"):
                return word
            return word[: -len(suffix)] + (keep or "")
    return word


def content_words(text: str) -> list[str]:
    """The stemmed words of the text that carry meaning: no stop words, no single letters."""
    return [stem(w) for w in WORD_RE.findall(text.lower()) if w not in STOPWORDS and len(w) > 1]


def content_terms(text: str) -> list[str]:
    """The content words, and each designated class as one term ("category a"), so category A is not category B."""
    return content_words(text) + [f"{stem(m.group(1).lower())} {m.group(2).lower()}" for m in DESIGNATED_RE.finditer(text)]


class TermWeights:
    """How specific each content word is: its inverse document frequency over the corpus's provisions.

    A word the corpus never uses weighs as much as its rarest word.
    """

    def __init__(self, idf: dict[str, float]):
        self.idf = idf
        self.max_idf = max(idf.values(), default=1.0)

    @classmethod
    def of_corpus(cls, corpus: Corpus) -> TermWeights:
        """Idf over provisions (heading + text), smoothed as in BM25 (Robertson & Zaragoza 2009)."""
        df: Counter[str] = Counter()
        provisions = corpus.provisions
        for p in provisions:
            df.update(set(content_terms(f"{p.heading} {p.text}")))
        n = len(provisions)
        return cls({t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()})

    def weight(self, term: str) -> float:
        return self.idf.get(term, self.max_idf)

    def overlap(self, q_terms: set[str], text: str | frozenset[str]) -> float:
        """Idf-weighted share of the question's content words found in ``text`` (or a set of its words)."""
        if not q_terms:
            return 0.0
        found = text if isinstance(text, frozenset) else set(content_terms(text))
        total = sum(self.weight(t) for t in q_terms)
        return sum(self.weight(t) for t in q_terms if t in found) / total
