"""Building, reopening and refusing indexes: a small real corpus (the VET clusters page) keeps these quick."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from assistant import index as index_module
from assistant.answer.segments import embedded_segment_texts
from assistant.bm25_text import bm25_tokens
from assistant.corpus import load_corpus
from assistant.embed import Embedder
from assistant.errors import IndexCorruptError, IndexMismatchError, IndexNotBuiltError
from assistant.index import (
    build_index,
    ensure_index,
    index_status,
    load_index,
)
from assistant.models import default_model_path, text_sha256
from assistant.settings import PROJECT_ROOT, Settings

pytestmark = pytest.mark.slow


@pytest.fixture()
def small(tmp_path):
    """Settings for a one-document corpus copied into tmp, so a test may edit the source file."""
    source = PROJECT_ROOT / "corpus" / "vet-clusters-operational-functions.txt"
    corpus_dir = tmp_path / "corpus"
    corpus_dir.mkdir()
    shutil.copy(source, corpus_dir / source.name)
    entry = next(d for d in json.loads((PROJECT_ROOT / "corpus" / "manifest.json").read_text())["documents"] if d["id"] == "vet-clusters")
    (corpus_dir / "manifest.json").write_text(json.dumps({"documents": [entry]}))
    return Settings(corpus_manifest=corpus_dir / "manifest.json", index_dir=tmp_path / "index", data_dir=tmp_path / "data")


@pytest.fixture(scope="module")
def embedder():
    return Embedder(Settings()).load()


def _build(settings, embedder):
    corpus = load_corpus(settings)
    manifest = build_index(corpus, settings, embedder, force=True, progress=False)
    return corpus, manifest


def test_build_then_reopen(small, embedder):
    corpus, manifest = _build(small, embedder)
    index = load_index(small, corpus, embedder)
    assert len(index.passages) == manifest.passage_count == index.faiss.ntotal
    assert manifest.embedding_sha256 == embedder.weights_sha256
    assert set(manifest.corpus_files) == {"vet-clusters-operational-functions.txt"}
    assert index_status(small, corpus, embedder) is None
    on_disk = json.loads((small.index_dir / "manifest.json").read_text())
    assert {"format_version", "embedding_model", "dimension", "corpus_files", "chunker", "passage_count", "built_at", "libraries"} <= set(on_disk)
    # Every segment the answer stage scores has its vector in the index.
    texts = embedded_segment_texts(corpus)
    assert manifest.segment_count == len(texts) == len(index.segment_vectors) > 10
    assert all(text_sha256(t) in index.segment_vectors for t in texts)
    # Each row is its own text's vector.
    for text in texts[:3] + texts[-3:]:
        assert float(index.segment_vectors[text_sha256(text)] @ embedder.encode([text])[0]) > 0.999


def test_a_change_to_the_answer_stage_segments_makes_the_index_stale(small, embedder, monkeypatch):
    corpus, _ = _build(small, embedder)
    cut = index_module.embedded_segment_texts
    monkeypatch.setattr(index_module, "embedded_segment_texts", lambda c: cut(c)[:-1])
    with pytest.raises(IndexMismatchError, match=r"segments changed.*assistant index build --force"):
        load_index(small, corpus, embedder)


def test_a_rebuild_reuses_cached_embeddings(small, embedder):
    _build(small, embedder)
    _, again = _build(small, embedder)
    assert again.encoded_passages == again.encoded_segments == 0


def test_missing_index_names_the_build_command(small, embedder):
    with pytest.raises(IndexNotBuiltError, match="assistant index build"):
        load_index(small, load_corpus(small), embedder)


def test_changed_corpus_file_is_refused_with_the_rebuild_hint(small, embedder):
    corpus, _ = _build(small, embedder)
    source = small.corpus_manifest.parent / "vet-clusters-operational-functions.txt"
    source.write_text(source.read_text(encoding="utf-8").replace("Negotiate provision", "Negotiate the provision"), encoding="utf-8")
    with pytest.raises(IndexMismatchError, match=r"vet-clusters-operational-functions.txt.*assistant index build --force"):
        load_index(small, load_corpus(small), embedder)


def test_index_built_with_another_model_is_refused(small, embedder, tmp_path):
    corpus, _ = _build(small, embedder)
    other = tmp_path / "other-model"
    shutil.copytree(default_model_path(), other)
    weights = other / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0x01  # another set of weights (one value differs), same architecture
    weights.write_bytes(bytes(data))
    settings = small.model_copy(update={"embedding_model": str(other)})
    with pytest.raises(IndexMismatchError, match=r"embedding model.*assistant index build --force"):
        load_index(settings, corpus, Embedder(settings))


def test_changed_chunker_settings_are_refused(small, embedder):
    corpus, _ = _build(small, embedder)
    with pytest.raises(IndexMismatchError, match="chunker"):
        load_index(small.model_copy(update={"passage_max_tokens": 128}), corpus, embedder)


def test_a_build_killed_midway_leaves_the_previous_index_loadable(small, embedder, monkeypatch):
    corpus, first = _build(small, embedder)

    def killed(built, target, keep_names):
        assert (built / "manifest.json").is_file()  # the new index was fully written ...
        raise KeyboardInterrupt("killed")  # ... and the process dies before swapping it in

    monkeypatch.setattr(index_module, "swap_in", killed)
    with pytest.raises(KeyboardInterrupt):
        build_index(corpus, small, embedder, force=True, progress=False)
    index = load_index(small, corpus, embedder)
    assert index.manifest.built_at == first.built_at
    assert [p.name for p in small.index_dir.parent.iterdir() if ".building-" in p.name] == []


def test_the_written_questions_are_indexed_and_a_change_to_them_is_refused(small, embedder, tmp_path, monkeypatch):
    corpus, manifest = _build(small, embedder)
    index = load_index(small, corpus, embedder)
    assert manifest.question_count == len(index.questions) == index.question_vectors.shape[0] > 1000
    assert index.question_vectors.shape[1] == manifest.dimension
    edited = tmp_path / "questions.jsonl"
    lines = index_module.WRITTEN_QUESTIONS.read_text(encoding="utf-8").splitlines()
    edited.write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8")
    monkeypatch.setattr(index_module, "WRITTEN_QUESTIONS", edited)
    with pytest.raises(IndexMismatchError, match=r"written questions.*assistant index build --force"):
        load_index(small, corpus, embedder)
    rebuilt = build_index(corpus, small, embedder, progress=False)
    assert rebuilt.question_count == len(lines) - 1


@pytest.mark.parametrize(
    "damage", ["delete-faiss", "truncate-passages", "garble-manifest", "delete-bm25", "delete-questions", "garble-questions", "delete-segments", "garble-segment-keys"]
)
def test_missing_or_corrupt_files_give_a_clear_error(small, embedder, damage):
    corpus, _ = _build(small, embedder)
    folder = small.index_dir
    if damage == "delete-faiss":
        (folder / "dense.faiss").unlink()
    elif damage == "truncate-passages":
        lines = (folder / "passages.jsonl").read_text().splitlines()
        (folder / "passages.jsonl").write_text("\n".join(lines[:-1]) + "\n" + lines[-1][:20])
    elif damage == "garble-manifest":
        (folder / "manifest.json").write_text("{not json")
    elif damage == "delete-questions":
        (folder / "questions.npy").unlink()
    elif damage == "garble-questions":
        (folder / "questions.npy").write_bytes(b"\x93NUMPY garbage")
    elif damage == "delete-segments":
        (folder / "segments.npy").unlink()
    elif damage == "garble-segment-keys":
        (folder / "segments.json").write_text("[not json")
    else:
        shutil.rmtree(folder / "bm25")
    with pytest.raises(IndexCorruptError, match="assistant index build --force"):
        load_index(small, corpus, embedder)


def test_ensure_index_builds_on_first_start_then_loads(small, embedder):
    corpus = load_corpus(small)
    first = ensure_index(corpus, small, embedder, progress=False)
    second = ensure_index(corpus, small, embedder, progress=False)
    assert first.manifest.built_at == second.manifest.built_at


def test_bm25_keeps_section_numbers_whole_and_stems_words():
    assert bm25_tokens("Under section 2.6.9(1A) teachers registering") == ["under", "section", "2.6.9", "1a", "teacher", "regist"]


def test_a_rebuild_keeps_other_files_in_the_index_folder(small, embedder):
    small.index_dir.mkdir(parents=True)
    (small.index_dir / "README.md").write_text("what this folder is")
    _build(small, embedder)
    _build(small, embedder)
    assert (small.index_dir / "README.md").read_text() == "what this folder is"


def test_leftovers_of_killed_builds_are_cleared_but_a_running_build_is_left_alone(small, embedder):
    small.index_dir.parent.mkdir(parents=True, exist_ok=True)
    dead = small.index_dir.with_name(f".{small.index_dir.name}.building-999999999")
    running = small.index_dir.with_name(f".{small.index_dir.name}.building-{os.getppid()}")
    for folder in (dead, running):
        folder.mkdir()
        (folder / "passages.jsonl").write_text("half written")
    _build(small, embedder)
    assert not dead.exists() and running.exists()
    assert load_index(small, load_corpus(small), embedder).manifest.passage_count > 0


def test_a_flipped_byte_in_any_index_file_is_refused_naming_the_file_and_the_command(small, embedder, tmp_path):
    corpus, manifest = _build(small, embedder)
    assert set(manifest.file_sha256) >= {"passages.jsonl", "dense.faiss", "questions.npy", "segments.npy", "segments.json"} and any(name.startswith("bm25/") for name in manifest.file_sha256)
    for name in manifest.file_sha256:
        damaged = tmp_path / "damaged" / name.replace("/", "_")
        shutil.copytree(small.index_dir, damaged)
        data = bytearray((damaged / name).read_bytes())
        data[len(data) // 2] ^= 0x01  # one bit, in the middle: the file may still parse
        (damaged / name).write_bytes(bytes(data))
        with pytest.raises(IndexCorruptError) as refused:
            load_index(small.model_copy(update={"index_dir": damaged}), corpus, embedder)
        message = str(refused.value)
        assert "\n" not in message and name in message and "corrupt" in message and "assistant index build" in message, message
    assert load_index(small, corpus, embedder).manifest.passage_count == manifest.passage_count


def test_a_build_folder_of_a_dead_process_is_removed_when_the_index_loads(small, embedder):
    corpus, _ = _build(small, embedder)
    dead = small.index_dir.with_name(f".{small.index_dir.name}.building-999999999")
    dead.mkdir()
    load_index(small, corpus, embedder)
    assert not dead.exists()
