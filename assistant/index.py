"""Index stage: build, save and load the dense (FAISS) + sparse (BM25) index over passages.

The index is a folder a person can open (``settings.index_dir``)::

    manifest.json    what it was built from: model and weight hash, corpus file hashes,
                     chunker settings, passage count, build time, library versions
    passages.jsonl   one Passage per line
    dense.faiss      inner product over L2-normalised vectors (= cosine similarity)
    bm25/            bm25s files over the same passages' embed texts
    questions.npy    the vectors of the written staff questions (``WRITTEN_QUESTIONS``,
                     line i = row i), which the second stage's question memory searches
    segments.npy     the vectors of every segment the answer stage scores, and
    segments.json    the sha256 of each one's text (row i), so no answer depends on
                     which questions were asked before it

Row *i* of ``dense.faiss`` and row *i* of the BM25 matrix are line *i* of
``passages.jsonl``. Builds write a temporary sibling folder and swap it in, so a
killed build leaves the previous index usable; loading compares the manifest with
the current settings and corpus and refuses a stale index with the command that
fixes it.
"""

from __future__ import annotations

import json
import platform
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ValidationError

from assistant.answer.segments import embedded_segment_texts
from assistant.artifacts import (
    building_folder,
    damaged_files,
    folder_digests,
    remove_stale_builds,
    swap_in,
)
from assistant.bm25_text import bm25_tokens
from assistant.chunk import CHUNKER_VERSION, chunk
from assistant.corpus import Corpus
from assistant.embed import Embedder
from assistant.errors import IndexCorruptError, IndexMismatchError, IndexNotBuiltError
from assistant.models import file_sha256, text_sha256
from assistant.records import Passage, TrainingQuestion
from assistant.settings import PACKAGE_DATA, Settings

# Raised whenever the same corpus and settings would give different passages (a parser or
# chunker change), so an index built by older code is rebuilt rather than served stale.
# 2: Division headings printed in the body but missing from the contents (Part 2.7) are paths, not text.
# 3: a schedule clause heading printed in bold (Sch 6 cl 9) starts its own clause.
# 4: the written staff questions' vectors (questions.npy) for the second stage's question memory.
# 5: the manifest records every file's sha256, verified on load; 6: the answer stage's segment vectors.
# 7: a list item ends before the words closing its list, (gaab) is a unit; 8: a lost image ("![]()") is a note.
# 9: a list whose lead-in the export lost gets a placeholder lead-in (never embedded) and its subsection; (ib) after (ia).
FORMAT_VERSION = 10
MANIFEST = "manifest.json"
PASSAGES = "passages.jsonl"
DENSE = "dense.faiss"
BM25_DIR = "bm25"
QUESTION_VECTORS = "questions.npy"
SEGMENT_VECTORS = "segments.npy"
SEGMENT_KEYS = "segments.json"
INDEX_FILES = (MANIFEST, PASSAGES, DENSE, BM25_DIR, QUESTION_VECTORS, SEGMENT_VECTORS, SEGMENT_KEYS)
DATA_FILES = (PASSAGES, DENSE, BM25_DIR, QUESTION_VECTORS, SEGMENT_VECTORS, SEGMENT_KEYS)
# Staff-style questions written from the law text, each with the provision that answers it: the
# cross-encoder's training questions, and the second stage's question memory.
WRITTEN_QUESTIONS = PACKAGE_DATA / "reranker_questions.jsonl"
# Segments encoded per call while building (each call batches by length; the chunks are fixed, so builds agree).
SEGMENT_CHUNK = 256
BUILD_HINT = "run `assistant index build`"
REBUILD_HINT = "run `assistant index build --force`"


class IndexManifest(BaseModel):
    """What an index was built from; compared with the current settings and corpus on every load."""

    format_version: int
    embedding_model: str
    embedding_sha256: str
    embedding_precision: str = ""
    dimension: int
    corpus_files: dict[str, str]
    chunker: dict[str, int]
    faiss_index: str
    passage_count: int
    longest_passage_tokens: int = 0
    # sha256 of the written questions file whose vectors are in questions.npy.
    questions_sha256: str = ""
    question_count: int = 0
    # The answer stage's segments: how many, and the sha256 of their texts' sha256s in order
    # (a segmenter change makes the index stale).
    segment_count: int = 0
    segments_sha256: str = ""
    built_at: str
    build_seconds: float = 0.0
    encoded_passages: int = 0
    encoded_segments: int = 0
    libraries: dict[str, str] = {}
    # sha256 of every file the index holds (bm25/ file by file), checked on every load.
    file_sha256: dict[str, str] = {}


@dataclass
class Index:
    """A loaded index. ``passages[i]`` is row i of ``faiss`` and document i of ``bm25``."""

    manifest: IndexManifest
    passages: list[Passage]
    faiss: object
    bm25: object
    path: Path
    questions: list[TrainingQuestion]
    question_vectors: np.ndarray
    # sha256 of a segment's embedded text -> its vector (``assistant.answer.segments.embedded_segment_texts``).
    segment_vectors: dict[str, np.ndarray]


# --- building ---------------------------------------------------------------------------------


def chunker_settings(settings: Settings) -> dict[str, int]:
    return {"passage_max_tokens": settings.passage_max_tokens, "chunker_version": CHUNKER_VERSION}


def library_versions() -> dict[str, str]:
    from importlib.metadata import version

    packages = {"faiss": "faiss-cpu", "bm25s": "bm25s", "sentence_transformers": "sentence-transformers", "transformers": "transformers", "torch": "torch", "numpy": "numpy"}
    return {"python": platform.python_version(), **{name: version(package) for name, package in packages.items()}}


def make_faiss(vectors: np.ndarray, kind: str):
    """Inner product over unit vectors. 'flat' is exact; 'hnsw' and 'ivfpq' trade exactness for scale."""
    import faiss

    n, dim = vectors.shape
    if kind == "flat":
        index = faiss.IndexFlatIP(dim)
    elif kind == "hnsw":
        index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efSearch = 128
    elif kind == "ivfpq":
        nlist = max(1, min(int(np.sqrt(n)), n // 39))
        subquantizers = next(m for m in (16, 12, 8, 6, 4, 3, 2, 1) if dim % m == 0)
        nbits = 8 if n >= 256 * 39 else 4
        index = faiss.IndexIVFPQ(faiss.IndexFlatIP(dim), dim, nlist, subquantizers, nbits, faiss.METRIC_INNER_PRODUCT)
        index.train(vectors)
        index.nprobe = min(nlist, 16)
    else:
        raise ValueError(f"unknown faiss_index '{kind}'; choose one of ['flat', 'hnsw', 'ivfpq']")
    if n:
        index.add(vectors)
    return index


def load_written_questions() -> list[TrainingQuestion]:
    return [TrainingQuestion.model_validate_json(line) for line in WRITTEN_QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]


def segment_keys(texts: list[str]) -> tuple[list[str], str]:
    """Each segment text's sha256, and one sha256 over them all in order."""
    keys = [text_sha256(t) for t in texts]
    return keys, text_sha256("\n".join(keys))


def _write_index(
    folder: Path, manifest: IndexManifest, passages: list[Passage], vectors: np.ndarray, question_vectors: np.ndarray, segment_vectors: np.ndarray, keys: list[str]
) -> IndexManifest:
    import bm25s
    import faiss

    folder.mkdir(parents=True)
    with (folder / PASSAGES).open("w", encoding="utf-8") as out:
        for passage in passages:  # line i <-> FAISS row i <-> BM25 document i
            out.write(passage.model_dump_json() + "\n")
    faiss.write_index(make_faiss(vectors, manifest.faiss_index), str(folder / DENSE))
    np.save(folder / QUESTION_VECTORS, question_vectors, allow_pickle=False)
    np.save(folder / SEGMENT_VECTORS, segment_vectors, allow_pickle=False)
    (folder / SEGMENT_KEYS).write_text(json.dumps(keys) + "\n", encoding="utf-8")
    retriever = bm25s.BM25()
    retriever.index([bm25_tokens(p.embed_text) or [""] for p in passages], show_progress=False)
    retriever.save(str(folder / BM25_DIR), show_progress=False)
    # The manifest goes last, with every file's sha256: a folder without one is never mistaken for a finished index.
    manifest = manifest.model_copy(update={"file_sha256": folder_digests(folder, DATA_FILES)})
    (folder / MANIFEST).write_text(manifest.model_dump_json(indent=2), encoding="utf-8")
    return manifest


def build_index(corpus: Corpus, settings: Settings, embedder: Embedder, force: bool = False, progress: bool = True, on_progress: Callable[[int, int], None] | None = None) -> IndexManifest:
    """Chunk, embed (reusing cached vectors) and index the corpus; returns the new manifest.

    Without ``force`` an index that already matches the settings and corpus is kept.
    ``on_progress(done, total)`` hears the texts embedded so far: the passages, then the
    answer stage's segments, which are encoded in fixed batches of their list
    (``Embedder.encode_in_fixed_batches``) so that two builds of one corpus on one machine hold
    the same vectors.
    """
    target = settings.index_dir
    if not force and index_status(settings, corpus, embedder) is None:
        return read_manifest(target)
    started = time.perf_counter()
    short_names = {d.info.id: d.info.short_name for d in corpus.documents}
    passages = chunk(corpus.provisions, settings, embedder.count_tokens, short_names)
    if not passages:
        raise IndexCorruptError("the corpus has no indexable text; check `assistant corpus stats`")
    segment_texts = embedded_segment_texts(corpus)
    total = len(passages) + len(segment_texts)
    vectors, encoded = embedder.encode_cached(
        [p.embed_text for p in passages], show_progress=progress, on_progress=(lambda done, _: on_progress(done, total)) if on_progress else None
    )
    questions = load_written_questions()
    question_vectors, _ = embedder.encode_cached([q.question for q in questions], show_progress=progress)
    segment_vectors, encoded_segments = embedder.encode_in_fixed_batches(
        segment_texts, SEGMENT_CHUNK, on_progress=(lambda done, _: on_progress(len(passages) + done, total)) if on_progress else None
    )
    keys, segments_digest = segment_keys(segment_texts)
    manifest = IndexManifest(
        format_version=FORMAT_VERSION,
        embedding_model=embedder.model_id,
        embedding_sha256=embedder.weights_sha256,
        embedding_precision=embedder.precision,
        dimension=int(vectors.shape[1]),
        corpus_files=corpus.hashes(),
        chunker=chunker_settings(settings),
        faiss_index=settings.faiss_index,
        passage_count=len(passages),
        longest_passage_tokens=max(embedder.count_tokens(p.embed_text) for p in passages),
        questions_sha256=file_sha256(WRITTEN_QUESTIONS),
        question_count=len(questions),
        segment_count=len(keys),
        segments_sha256=segments_digest,
        built_at=datetime.now(UTC).isoformat(timespec="seconds"),
        encoded_passages=encoded,
        encoded_segments=encoded_segments,
        libraries=library_versions(),
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_builds(target)
    building = building_folder(target)
    try:
        manifest = manifest.model_copy(update={"build_seconds": round(time.perf_counter() - started, 2)})
        manifest = _write_index(building, manifest, passages, vectors, question_vectors, segment_vectors, keys)
        swap_in(building, target, INDEX_FILES)
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return manifest


# --- loading ----------------------------------------------------------------------------------


def read_manifest(folder: Path) -> IndexManifest:
    file = folder / MANIFEST
    if not file.is_file():
        raise IndexNotBuiltError(f"no index at {folder}; {BUILD_HINT}")
    try:
        return IndexManifest.model_validate_json(file.read_text(encoding="utf-8"))
    except (ValidationError, ValueError, OSError) as exc:
        raise IndexCorruptError(f"{file} is unreadable ({exc.__class__.__name__}); {REBUILD_HINT}") from exc


def mismatch(manifest: IndexManifest, settings: Settings, corpus: Corpus, embedder: Embedder) -> str | None:
    """Why an index cannot serve the current settings and corpus, or None when it can."""
    if manifest.format_version != FORMAT_VERSION:
        return f"index format {manifest.format_version}, this version reads format {FORMAT_VERSION}"
    if manifest.embedding_sha256 != embedder.weights_sha256:
        return f"built with embedding model {manifest.embedding_model} ({manifest.embedding_sha256[:12]}), settings use {embedder.model_id} ({embedder.weights_sha256[:12]})"
    current = corpus.hashes()
    if manifest.corpus_files != current:
        changed = sorted(set(manifest.corpus_files.items()) ^ set(current.items()))
        names = sorted({name for name, _ in changed})
        return f"corpus file(s) changed since the index was built: {', '.join(names)}"
    if manifest.chunker != chunker_settings(settings):
        return f"built with chunker settings {manifest.chunker}, settings now {chunker_settings(settings)}"
    if manifest.faiss_index != settings.faiss_index:
        return f"built with faiss_index '{manifest.faiss_index}', settings now '{settings.faiss_index}'"
    if manifest.questions_sha256 != file_sha256(WRITTEN_QUESTIONS):
        return f"the written questions ({WRITTEN_QUESTIONS.name}) changed since the index was built"
    if manifest.segments_sha256 != segment_keys(embedded_segment_texts(corpus))[1]:
        return "the answer stage's segments changed since the index was built"
    return None


def index_status(settings: Settings, corpus: Corpus, embedder: Embedder) -> str | None:
    """None when the index at ``settings.index_dir`` is present and current, else the reason it is not."""
    try:
        manifest = read_manifest(settings.index_dir)
    except (IndexNotBuiltError, IndexCorruptError) as exc:
        return str(exc)
    reason = mismatch(manifest, settings, corpus, embedder)
    if reason:
        return f"{reason}; {REBUILD_HINT}"
    missing = [name for name in DATA_FILES if not (settings.index_dir / name).exists()]
    if missing:
        return f"index file(s) missing: {', '.join(missing)}; {REBUILD_HINT}"
    return None


def _read_passages(file: Path, expected: int) -> list[Passage]:
    try:
        with file.open(encoding="utf-8") as lines:
            passages = [Passage.model_validate_json(line) for line in lines if line.strip()]
    except FileNotFoundError as exc:
        raise IndexCorruptError(f"{file} is missing; {REBUILD_HINT}") from exc
    except (ValidationError, ValueError, UnicodeDecodeError) as exc:
        raise IndexCorruptError(f"{file} is corrupt ({exc.__class__.__name__}); {REBUILD_HINT}") from exc
    if len(passages) != expected:
        raise IndexCorruptError(f"{file} holds {len(passages)} passages, the manifest says {expected}; {REBUILD_HINT}")
    return passages


def load_index(settings: Settings, corpus: Corpus, embedder: Embedder) -> Index:
    """Open the index, refusing one built from another model, corpus or chunker."""
    import bm25s
    import faiss

    folder = settings.index_dir
    remove_stale_builds(folder)
    manifest = read_manifest(folder)
    reason = mismatch(manifest, settings, corpus, embedder)
    if reason:
        raise IndexMismatchError(f"the index at {folder} is out of date: {reason}; {REBUILD_HINT}")
    damaged = damaged_files(folder, manifest.file_sha256)
    if damaged:
        raise IndexCorruptError(f"{folder / damaged[0].removesuffix(' (missing)')} is {'missing' if damaged[0].endswith('(missing)') else 'corrupt (its sha256 differs from the one recorded when the index was built)'}; {REBUILD_HINT}")
    passages = _read_passages(folder / PASSAGES, manifest.passage_count)
    dense_file = folder / DENSE
    if not dense_file.is_file():
        raise IndexCorruptError(f"{dense_file} is missing; {REBUILD_HINT}")
    try:
        dense = faiss.read_index(str(dense_file))
    except RuntimeError as exc:
        raise IndexCorruptError(f"{dense_file} is corrupt; {REBUILD_HINT}") from exc
    if dense.ntotal != len(passages) or dense.d != manifest.dimension:
        raise IndexCorruptError(f"{dense_file} holds {dense.ntotal} vectors of {dense.d} dimensions, expected {len(passages)} of {manifest.dimension}; {REBUILD_HINT}")
    sparse_dir = folder / BM25_DIR
    if not sparse_dir.is_dir():
        raise IndexCorruptError(f"{sparse_dir} is missing; {REBUILD_HINT}")
    try:
        sparse = bm25s.BM25.load(str(sparse_dir), show_progress=False)
    except Exception as exc:  # bm25s raises whatever numpy/json raise on a damaged file
        raise IndexCorruptError(f"{sparse_dir} is corrupt ({exc.__class__.__name__}); {REBUILD_HINT}") from exc
    if int(sparse.scores["num_docs"]) != len(passages):
        raise IndexCorruptError(f"{sparse_dir} indexes {sparse.scores['num_docs']} passages, expected {len(passages)}; {REBUILD_HINT}")
    questions = load_written_questions()
    question_vectors = _read_vectors(folder / QUESTION_VECTORS, manifest.question_count, manifest.dimension)
    if len(questions) != manifest.question_count:
        raise IndexCorruptError(f"{WRITTEN_QUESTIONS} holds {len(questions)} questions, the manifest says {manifest.question_count}; {REBUILD_HINT}")
    segment_vectors = _read_segment_vectors(folder, manifest)
    return Index(
        manifest=manifest, passages=passages, faiss=dense, bm25=sparse, path=folder, questions=questions, question_vectors=question_vectors, segment_vectors=segment_vectors
    )


def _read_vectors(file: Path, rows: int, dimension: int) -> np.ndarray:
    try:
        vectors = np.load(file, allow_pickle=False)
    except FileNotFoundError as exc:
        raise IndexCorruptError(f"{file} is missing; {REBUILD_HINT}") from exc
    except (ValueError, OSError, EOFError) as exc:
        raise IndexCorruptError(f"{file} is corrupt ({exc.__class__.__name__}); {REBUILD_HINT}") from exc
    if vectors.shape != (rows, dimension) or vectors.dtype != np.float32:
        raise IndexCorruptError(f"{file} holds {vectors.shape} {vectors.dtype} vectors, expected ({rows}, {dimension}) float32; {REBUILD_HINT}")
    return vectors


def _read_segment_vectors(folder: Path, manifest: IndexManifest) -> dict[str, np.ndarray]:
    vectors = _read_vectors(folder / SEGMENT_VECTORS, manifest.segment_count, manifest.dimension)
    try:
        keys = json.loads((folder / SEGMENT_KEYS).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexCorruptError(f"{folder / SEGMENT_KEYS} is missing or corrupt ({exc.__class__.__name__}); {REBUILD_HINT}") from exc
    if not isinstance(keys, list) or len(keys) != manifest.segment_count:
        raise IndexCorruptError(f"{folder / SEGMENT_KEYS} does not list {manifest.segment_count} segments; {REBUILD_HINT}")
    return dict(zip(keys, vectors, strict=True))


def ensure_index(corpus: Corpus, settings: Settings, embedder: Embedder, progress: bool = True) -> Index:
    """Load the index, building it first when there is none (the app's first start).

    An index that exists but is stale is refused, not silently rebuilt: the error names the command.
    """
    if not (settings.index_dir / MANIFEST).is_file():
        if progress:
            print(f"building the search index in {settings.index_dir} (first start; about a minute) ...", file=sys.stderr)
        build_index(corpus, settings, embedder, force=True, progress=progress)
    return load_index(settings, corpus, embedder)


def disk_size(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
