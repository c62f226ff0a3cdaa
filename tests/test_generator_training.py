"""Training the short-answer adapter: worked examples the claim checks accept, and an adapter that loads as it was trained."""

import json

import pytest
import torch

from assistant.answer.claims import check_sentences
from assistant.errors import ModelError
from assistant.generator import ADAPTER_FILE, ADAPTER_MANIFEST, ShortAnswerModel, adapter_folder, merge_adapter
from assistant.models import file_sha256
from assistant.settings import Settings
from assistant.training.generator import worked_examples
from assistant.training.lora import add_adapters

AGE_ITEM = {
    "id": "t-1",
    "question": "Mum rings: her boy is 16 and wants to leave school for a job. Does he have to stay?",
    "answerable": True,
    "expected": [{"document": "etra-2006", "provision": "2.1.1"}],
    "evidence": "It is the duty of the parent of a child of not less than 6 nor more than 17 years of age",
    "short_answer": "Yes, the duty covers children from 6 up to 17 years of age. He can leave at 15 with a permit.",
}


def test_a_worked_example_keeps_only_the_sentences_its_quotes_bear_out(corpus):
    [example] = worked_examples([AGE_ITEM], corpus, context_quotes=0.0, seed=0)
    assert example.quotes[0].quote.startswith("It is the duty of the parent")
    # "15" is in no quote, so that sentence is not taught; the first is, marked with its quote.
    assert example.answer == "Yes, the duty covers children from 6 up to 17 years of age [1]."
    assert all(not s.problems for s in check_sentences(example.answer, list(example.quotes)))


def test_items_that_cannot_teach_the_task_are_left_out(corpus):
    unanswerable = {**AGE_ITEM, "id": "t-2", "answerable": False}
    follow_up = {**AGE_ITEM, "id": "t-3", "follow_up_of": "t-1"}
    nothing_checks = {**AGE_ITEM, "id": "t-4", "short_answer": "Until 19, in another state."}
    evidence_elsewhere = {**AGE_ITEM, "id": "t-5", "evidence": "words this provision never uses anywhere at all"}
    assert worked_examples([unanswerable, follow_up, nothing_checks, evidence_elsewhere], corpus, 0.6, 0) == []


def test_context_quotes_are_seeded_and_each_marker_points_at_a_quote_that_bears_it_out(corpus):
    rows = [json.loads(line) for line in open("eval/questions/train.jsonl", encoding="utf-8")][:120]
    first, again = worked_examples(rows, corpus, 0.6, 7), worked_examples(rows, corpus, 0.6, 7)
    assert first == again and len(first) > 40
    assert any(len(e.quotes) > 1 for e in first)
    assert any("[2]" in e.answer or "[3]" in e.answer for e in first)  # the quote that bears it out is not always the first
    for example in first:
        assert all(not s.problems for s in check_sentences(example.answer, list(example.quotes))), example.id


def _tiny_model():
    from transformers import Gemma3ForCausalLM, Gemma3TextConfig

    torch.manual_seed(0)
    config = Gemma3TextConfig(vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=1, head_dim=16)
    return Gemma3ForCausalLM(config).eval()


def _write_adapter(tmp_path, base_sha256="base"):
    """A tiny model with random (non-zero) adapters written as ``assistant generator train`` writes them; returns its logits with them."""
    from safetensors.torch import save_file

    model = _tiny_model()
    adapters = add_adapters(model, rank=4, alpha=8.0)
    tensors = {}
    for name, wrapper in adapters.items():
        torch.nn.init.normal_(wrapper.lora_b, std=0.5)
        tensors[f"{name}.lora_a"] = wrapper.lora_a.detach().to(torch.float16)
        tensors[f"{name}.lora_b"] = wrapper.lora_b.detach().to(torch.float16)
        wrapper.lora_a.data = tensors[f"{name}.lora_a"].float()
        wrapper.lora_b.data = tensors[f"{name}.lora_b"].float()
    save_file(tensors, str(tmp_path / ADAPTER_FILE))
    manifest = {"base_sha256": base_sha256, "adapter_sha256": file_sha256(tmp_path / ADAPTER_FILE), "rank": 4, "alpha": 8.0}
    (tmp_path / ADAPTER_MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    ids = torch.tensor([[1, 5, 9, 13, 2]])
    with torch.no_grad():
        return model(input_ids=ids).logits, ids


def test_the_merged_adapter_gives_the_model_it_was_trained_as(tmp_path):
    trained, ids = _write_adapter(tmp_path)
    model = _tiny_model()
    with torch.no_grad():
        plain = model(input_ids=ids).logits
    assert len(merge_adapter(model, tmp_path, "base")) == 64
    with torch.no_grad():
        merged = model(input_ids=ids).logits
    assert not torch.allclose(plain, trained, atol=1e-3)
    assert torch.allclose(merged, trained, atol=1e-4)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda folder: (folder / ADAPTER_FILE).write_bytes(b"swapped"), "sha256"),
        (lambda folder: (folder / ADAPTER_MANIFEST).write_text("{", encoding="utf-8"), "unreadable adapter manifest"),
    ],
)
def test_a_damaged_adapter_is_refused_with_how_to_restore_it(tmp_path, damage, message):
    _write_adapter(tmp_path)
    damage(tmp_path)
    with pytest.raises(ModelError, match=message):
        merge_adapter(_tiny_model(), tmp_path, "base")


def test_an_adapter_for_other_base_weights_is_refused(tmp_path):
    _write_adapter(tmp_path, base_sha256="a" * 64)
    with pytest.raises(ModelError, match="trained on other base weights"):
        merge_adapter(_tiny_model(), tmp_path, "b" * 64)


def test_which_adapter_is_used(tmp_path):
    assert adapter_folder(Settings()) is None
    with pytest.raises(ModelError, match="holds no adapter.json"):
        adapter_folder(Settings(generative_adapter=str(tmp_path)))
    _write_adapter(tmp_path)
    assert adapter_folder(Settings(generative_adapter=str(tmp_path))) == tmp_path
    # A model with an adapter knows the task: no worked examples in its prompt.
    model = ShortAnswerModel(Settings(generative_adapter=str(tmp_path)), encode=None)
    assert model.shots == 0 and "Question:" in model.prompt("Until what age?", []) and model.prompt("Until what age?", []).count("Question:") == 1


@pytest.mark.slow
def test_training_on_the_packaged_model_is_seeded_and_writes_a_loadable_adapter(tmp_path, corpus):
    from assistant.generator import converted_folder, packaged_gguf
    from assistant.settings import GEMMA_GGUF_SHA256
    from assistant.training.generator import GeneratorTrainingConfig
    from assistant.training.lora import train_generator

    settings = Settings()
    folder = converted_folder(packaged_gguf(settings), settings, GEMMA_GGUF_SHA256)
    examples = worked_examples([AGE_ITEM, {**AGE_ITEM, "id": "t-9", "question": "Until what age must a child be enrolled?"}], corpus, 0.0, 0)
    config = GeneratorTrainingConfig(batch_size=2, seed=3)
    base = file_sha256(folder / "model.safetensors")
    first = train_generator(examples, folder, tmp_path / "a", config, progress=False, base_sha256=base)
    again = train_generator(examples, folder, tmp_path / "b", config, progress=False, base_sha256=base)
    assert first["adapter_sha256"] == again["adapter_sha256"] and first["examples"] == 2
    model = ShortAnswerModel(Settings(short_answer_writer="model", generative_adapter=str(tmp_path / "a")), encode=None).load()
    draft = model("Until what age must a child be enrolled?", [examples[0].quotes[0]])
    assert "short-answer adapter" in model.model_id and isinstance(draft, str) and "\n" not in draft


def test_training_refuses_a_bank_file_it_cannot_read_in_one_line(tmp_path, capsys):
    from assistant.cli import main

    assert main(["generator", "train", "--questions", str(tmp_path / "missing.jsonl")]) == 2
    assert capsys.readouterr().err.startswith("error: cannot read")
