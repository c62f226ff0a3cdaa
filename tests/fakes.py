"""Stand-ins for models, for tests of the logic around them.

``FakeEncoder`` fits the answerer's ``Encoder`` protocol without loading a
model: a text's vector is its bag of stemmed content words, each word hashed
to one of 384 dimensions, L2-normalised. Texts sharing words are similar, texts
sharing none are orthogonal (barring hash collisions), and the same text always
gets the same vector, in any process.
"""

from __future__ import annotations

import hashlib

import numpy as np

from assistant.answer.lexical import content_terms


class FakeEncoder:
    """Deterministic hashed bag-of-stemmed-words vectors: unit-length float32 rows, 384 wide like MiniLM's."""

    model_id = "test/fake-encoder"
    dimension = 384

    def __init__(self) -> None:
        self.encoded: list[str] = []  # every text asked for, in order, so tests can see what was (re-)encoded

    def encode(self, texts: list[str]) -> np.ndarray:
        self.encoded.extend(texts)
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            # A text with no content word ("?") still gets a unit vector, from the text itself.
            for word in content_terms(text) or [text.strip().lower()]:
                out[row, self.bucket(word)] += 1.0
        return out / np.linalg.norm(out, axis=1, keepdims=True)

    def bucket(self, word: str) -> int:
        """The dimension a word adds to."""
        return int.from_bytes(hashlib.sha256(word.encode("utf-8")).digest()[:8], "big") % self.dimension
