"""Shared fixtures: the real corpus (fast to parse) and isolated settings for tests that write.

No test may write into the repository's own ``index/`` or ``data/``: the
default folders point into a temporary directory for the whole session.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
SESSION_FOLDER = Path(tempfile.mkdtemp(prefix="assistant-tests-"))
os.environ["ASSISTANT_INDEX_DIR"] = str(SESSION_FOLDER / "index")
os.environ["ASSISTANT_DATA_DIR"] = str(SESSION_FOLDER / "data")

from assistant.corpus import Corpus, load_corpus  # noqa: E402
from assistant.settings import PROJECT_ROOT, Settings  # noqa: E402

# The repository's own folders a test must never write: what they hold when the session starts.
GUARDED = (PROJECT_ROOT / "index", PROJECT_ROOT / "data")


def _snapshot() -> dict[str, tuple[int, int]]:
    return {str(f): (f.stat().st_size, f.stat().st_mtime_ns) for folder in GUARDED if folder.is_dir() for f in folder.rglob("*") if f.is_file()}


BEFORE = _snapshot()


def pytest_sessionfinish(session, exitstatus):
    shutil.rmtree(SESSION_FOLDER, ignore_errors=True)
    changed = sorted(set(BEFORE.items()) ^ set(_snapshot().items()))
    if changed:
        print(f"\nerror: the tests wrote into the repository's own index/ or data/: {sorted({path for path, _ in changed})[:5]}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


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


@pytest.fixture(scope="session")
def built_index_settings(tmp_path_factory) -> Settings:
    """Settings pointing at the real corpus's index, built once per session into a tmp folder (slow).

    The embedding cache of the project's own data folder is copied in when present,
    so a session after `assistant index build` re-embeds nothing; the tests never write there.
    """
    from assistant.embed import Embedder
    from assistant.index import build_index

    root = tmp_path_factory.mktemp("built-index")
    settings = Settings(index_dir=root / "index", data_dir=root / "data")
    project_cache = PROJECT_ROOT / "data" / "embedding_cache.sqlite3"
    if project_cache.is_file():
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        shutil.copy(project_cache, settings.data_dir / project_cache.name)
    build_index(load_corpus(settings), settings, Embedder(settings), force=True, progress=False)
    return settings


@pytest.fixture(scope="session")
def live_settings(built_index_settings, tmp_path_factory) -> Settings:
    """The session's built index with a private data folder, so feedback rows are the live app's own."""
    return Settings(**{**built_index_settings.model_dump(), "data_dir": tmp_path_factory.mktemp("live-app-data")})


@pytest.fixture(scope="session")
def live_assistant(live_settings):
    """One real Assistant, shared by the tests that drive the served app and compare with the Python API."""
    from assistant.pipeline import Assistant

    return Assistant.load(live_settings, build_if_missing=False)


@pytest.fixture(scope="session")
def live_app_url(live_settings, live_assistant):
    """The real app (API + UI, as ``python app.py`` serves it) on a free loopback port."""
    from assistant.web.server import create_server, serve_in_background

    with serve_in_background(create_server(live_settings, live_assistant)) as url:
        yield f"{url}/"
