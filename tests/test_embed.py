"""The embedding model: its weights are verified before loading; vectors are unit length and cached."""

from __future__ import annotations

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


def test_default_model_passes_verification():
    assert Embedder(Settings()).weights_sha256 == MINILM_SHA256


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
