"""The short-answer model: a configured model that cannot load stops start-up with its reason; the packaged one loads and drafts."""

import json

import numpy as np
import pytest

from assistant.answer.claims import Quoted
from assistant.errors import ModelError
from assistant.generator import EXAMPLES_FILE, ShortAnswerModel
from assistant.settings import Settings

AGE = Quoted("It is the duty of the parent of a child of not less than 6 nor more than 17 years of age to enrol the child at a registered school", "Duty of parents")


def encode(texts):
    """A deterministic stand-in for the embedder: a bag of letters, normalised."""
    vectors = np.array([[t.lower().count(c) for c in "abcdefghijklmnopqrstuvwxyz"] for t in texts], dtype=np.float32) + 1e-3
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


@pytest.mark.parametrize(
    ("configured", "message"),
    [
        ("{tmp}/no-such-folder", "is not a folder or a .gguf file"),
        ("{tmp}/missing.gguf", "does not exist"),
        ("{tmp}/empty", "holds no model weights"),
    ],
)
def test_a_configured_model_that_cannot_load_says_why(tmp_path, configured, message):
    (tmp_path / "empty").mkdir()
    model = ShortAnswerModel(Settings(generative_model=configured.format(tmp=tmp_path), data_dir=tmp_path), encode)
    with pytest.raises(ModelError, match=message):
        model.load()


def test_a_corrupt_model_folder_is_refused_with_its_path(tmp_path):
    (tmp_path / "model.safetensors").write_bytes(b"not weights")
    (tmp_path / "config.json").write_text("{}", encoding="utf-8")
    with pytest.raises(ModelError, match="cannot load the generative model"):
        ShortAnswerModel(Settings(generative_model=str(tmp_path), data_dir=tmp_path), encode).load()


def test_the_prompt_shows_the_nearest_worked_examples_then_the_question_and_its_numbered_quotes(tmp_path):
    examples = tmp_path / "examples.jsonl"
    rows = [
        {"question": "Until what age must a child be enrolled?", "quote": "not less than 6 nor more than 17", "answer": "Until 17 [1]."},
        {"question": "Who appoints attendance officers?", "quote": "The Secretary may appoint", "answer": "The Secretary [1]."},
        {"question": "zzz", "quote": "q", "answer": "a [1]."},
    ]
    examples.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    model = ShortAnswerModel(Settings(data_dir=tmp_path), encode, examples_file=examples, shots=2)
    prompt = model.prompt("Until what age must my child stay enrolled?", [AGE])
    assert prompt.count("Question:") == 3 and "zzz" not in prompt
    assert prompt.rstrip().endswith('[1] "' + AGE.quote + '"\nAnswer:')
    assert prompt.index("Who appoints") < prompt.index("Until what age must a child be enrolled?")  # the nearest last


def test_the_shipped_examples_each_cite_their_quote():
    rows = [json.loads(line) for line in EXAMPLES_FILE.read_text(encoding="utf-8").splitlines()]
    assert len(rows) > 500
    assert all(r["answer"].rstrip().endswith("[1].") and r["quote"] and r["question"] for r in rows)


@pytest.mark.slow
def test_the_packaged_model_loads_verified_and_drafts_one_line(tmp_path_factory):
    settings = Settings(short_answer_writer="model")
    model = ShortAnswerModel(settings, encode).load()
    assert len(model.sha256) == 64
    draft = model("Until what age must a child go to school?", [AGE])
    assert draft and "\n" not in draft
