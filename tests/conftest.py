"""Shared fixtures: the real corpus (fast to parse) and isolated settings for tests that write."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from assistant.corpus import Corpus, load_corpus  # noqa: E402
from assistant.settings import Settings  # noqa: E402


@pytest.fixture(scope="session")
def corpus() -> Corpus:
    """The project's own corpus, parsed once per test session (about 0.4 s)."""
    return load_corpus(Settings())


@pytest.fixture(scope="session")
def act(corpus: Corpus):
    return {p.provision_id: p for p in corpus.document("etra-2006").provisions}


@pytest.fixture()
def tmp_settings(tmp_path) -> Settings:
    """Settings whose index and data folders are private to one test."""
    return Settings(index_dir=tmp_path / "index", data_dir=tmp_path / "data")
