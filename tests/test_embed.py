"""The embedding model: its weights are verified before loading; vectors are unit length and cached."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from assistant import embed
from assistant.embed import Embedder, default_model_path
from assistant.errors import ModelError
from assistant.settings import MINILM_SHA256, Settings


@pytest.fixture(scope="module")
def tampered_model(tmp_path_factory):
    """A copy of the default model folder whose weight file has one byte changed."""
    folder = tmp_path_factory.mktemp("tampered") / "model"
    shutil.copytree(default_model_path(), folder)
    weights = folder / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF
    weights.write_bytes(bytes(data))
    return folder


def test_tampered_default_model_is_refused_with_a_clear_message(tampered_model, monkeypatch, tmp_settings):
    monkeypatch.setattr(embed, "default_model_path", lambda: tampered_model)
    with pytest.raises(ModelError, match=r"sha256 .* does not match the expected " + MINILM_SHA256 + r".*reinstall"):
        Embedder(tmp_settings).load()


def test_configured_model_with_wrong_hash_is_refused(tampered_model, tmp_settings):
    settings = tmp_settings.model_copy(update={"embedding_model": str(tampered_model), "embedding_sha256": MINILM_SHA256})
    with pytest.raises(ModelError, match="corrupted or was replaced"):
        Embedder(settings).load()


def test_a_model_that_is_not_a_folder_names_the_setting(tmp_settings):
    with pytest.raises(ModelError, match="ASSISTANT_EMBEDDING_MODEL"):
        Embedder(tmp_settings.model_copy(update={"embedding_model": "sentence-transformers/some-hub-model"}))


def test_default_model_is_the_verified_base_with_the_shipped_tuned_tensors():
    manifest = json.loads((embed.SHIPPED_EMBEDDER / embed.MANIFEST).read_text(encoding="utf-8"))
    assert manifest["base_sha256"] == MINILM_SHA256
    assert Embedder(Settings()).weights_sha256 == manifest["weights_sha256"] != MINILM_SHA256


def test_the_base_alone_is_a_configured_folder():
    assert Embedder(Settings(embedding_model=str(default_model_path()))).weights_sha256 == MINILM_SHA256


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda folder: (folder / embed.WEIGHTS).write_bytes(b"not tensors"), "does not match embedder.json"),
        (lambda folder: (folder / embed.WEIGHTS).unlink(), "is missing"),
        (lambda folder: (folder / embed.MANIFEST).write_text("{", encoding="utf-8"), "unreadable embedder manifest"),
    ],
)
def test_damaged_tuned_tensors_are_refused_with_the_fix(damage, message, tmp_path, monkeypatch, tmp_settings):
    copy = tmp_path / "embedder"
    shutil.copytree(embed.SHIPPED_EMBEDDER, copy)
    damage(copy)
    monkeypatch.setattr(embed, "SHIPPED_EMBEDDER", copy)
    with pytest.raises(ModelError, match=message + r".*git checkout -- assistant/data/embedder"):
        Embedder(tmp_settings).load()


def test_vectors_encoded_in_fixed_batches_depend_on_nothing_but_the_list(tmp_settings, monkeypatch):
    """The index's segment vectors: under bfloat16 a vector moves with its batch, so only a vector from the very same batch is reused."""

    def batch_sensitive(self, texts, show_progress=False):
        vectors = np.zeros((len(texts), 4), dtype=np.float32)
        vectors[:, 0] = [len(t) for t in texts]
        vectors[:, 1] = len(texts)
        return vectors

    monkeypatch.setattr(Embedder, "encode", batch_sensitive)
    monkeypatch.setattr(Embedder, "dimension", property(lambda self: 4))
    embedder = Embedder(tmp_settings)
    texts = [f"segment {'x' * i}" for i in range(10)]
    vectors, encoded = embedder.encode_in_fixed_batches(texts, 4)
    assert encoded == 10 and np.array_equal(vectors, np.vstack([batch_sensitive(None, texts[i : i + 4]) for i in (0, 4, 8)]))
    # Questions encode a few texts at a time into the ordinary cache; none of those is taken.
    embedder.encode_cached(texts[:1])
    again, encoded = embedder.encode_in_fixed_batches(texts, 4)
    assert encoded == 0 and np.array_equal(again, vectors)
    # Another list re-encodes every chunk whose texts changed, even where a text's vector is cached.
    shorter, encoded = embedder.encode_in_fixed_batches(texts[:9], 4)
    assert encoded == 1 and np.array_equal(shorter[:8], vectors[:8]) and shorter[8, 1] == 1
    with pytest.raises(ValueError, match="distinct"):
        embedder.encode_in_fixed_batches([texts[0], texts[0]], 4)


@pytest.mark.slow
def test_embedder_training_is_seeded_and_its_tensors_load_over_the_base(tmp_path, monkeypatch, tmp_settings):
    from assistant.training.embedder import EmbedderTrainingConfig, batches, train_embedder

    passages = {f"etra-2006/{i}#1": f"Section {i}: a parent must enrol the child at school number {i}." for i in range(6)}
    rows = [
        {"query": f"{word} enrol at school {i}?", "positive": f"etra-2006/{i}#1", "positive_text": None, "negatives": [], "source": "written", "first_rank": 2}
        for i in range(6)
        for word in ("Must we", "Do parents")
    ]
    groups = tmp_path / "groups.jsonl"
    groups.write_text("".join(json.dumps(r) + "\n" for r in [*rows, {**rows[0], "source": "heading"}]), encoding="utf-8")
    groups.with_name("groups.jsonl.passages.json").write_text(json.dumps(passages), encoding="utf-8")
    # No provision twice in a batch: a second question about it would count as a wrong answer.
    import random

    for batch in batches(rows, 4, random.Random(0)):
        assert len({g["positive"] for g in batch}) == 4
    config = EmbedderTrainingConfig(batch=4, max_tokens=32, learning_rate=1e-4)
    base = default_model_path()
    first = train_embedder(groups, base, tmp_path / "a", config, device="cpu", progress=False, base_sha256=MINILM_SHA256)
    second = train_embedder(groups, base, tmp_path / "b", config, device="cpu", progress=False, base_sha256=MINILM_SHA256)
    assert first["weights_sha256"] == second["weights_sha256"]
    assert (first["questions"], first["provisions"]) == (12, 6)
    with pytest.raises(ValueError, match="fewer than 8 provisions"):
        train_embedder(groups, base, tmp_path / "c", EmbedderTrainingConfig(batch=8), device="cpu", progress=False)

    question = "Must we enrol at school 3?"
    plain = Embedder(tmp_settings.model_copy(update={"embedding_model": str(base)})).encode([question])
    monkeypatch.setattr(embed, "SHIPPED_EMBEDDER", tmp_path / "a")
    tuned = Embedder(tmp_settings)
    assert tuned.weights_sha256 == first["weights_sha256"]
    vector = tuned.encode([question])
    assert np.allclose(np.linalg.norm(vector), 1.0, atol=1e-5) and float((vector @ plain.T)[0, 0]) < 0.99999


@pytest.mark.slow
def test_vectors_are_unit_length_and_the_cache_reencodes_only_new_text(tmp_settings):
    embedder = Embedder(tmp_settings)
    texts = ["Who registers teachers?", "School councils may charge fees for extra items."]
    vectors, encoded = embedder.encode_cached(texts)
    assert vectors.shape == (2, embedder.dimension) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    again, encoded_again = embedder.encode_cached([*texts, "A new passage about VET clusters."])
    assert (encoded, encoded_again) == (2, 1)
    assert np.allclose(again[:2], vectors, atol=1e-6)
    assert embedder.count_tokens("s 2.6.9") < embedder.count_tokens("s 2.6.9 Registration as a teacher")
