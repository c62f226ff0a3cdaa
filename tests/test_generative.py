"""The generative answerer driven through a tiny randomly initialised model built here (no downloads).

The model's words are noise, so these tests check the machinery a real model
goes through: loading, the chat prompt with numbered sources, streaming, and the
checks that throw out sentences whose citations do not hold, with the extractive
answer as the fallback.
"""

from __future__ import annotations

import json

import pytest
from fakes import FakeEncoder

from assistant.answer import ExtractiveAnswerer, GenerativeAnswerer
from assistant.cite import verify
from assistant.labels import provision_label
from assistant.records import Answer, Hit
from assistant.settings import Settings

QUESTION = "Until what age must a child attend school?"
WORDS = "the a child parent school must enrol attend age of to and 6 17 years [1] [2] . , sources do not say".split()


TEMPLATE = "{% for m in messages %}<|{{ m['role'] }}|> {{ m['content'] }} {% endfor %}{% if add_generation_prompt %}<|assistant|> {% endif %}"
NO_SYSTEM_TEMPLATE = "{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}" + TEMPLATE


def build_tiny_model(folder, chat_template: str | None = TEMPLATE) -> None:
    """A one-layer Llama with a word-level tokenizer and a chat template, saved like any local model folder."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    specials = ["<unk>", "<pad>", "<s>", "</s>", "<|system|>", "<|user|>", "<|assistant|>"]
    vocab = {token: i for i, token in enumerate(specials + WORDS)}
    backend = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    backend.decoder = decoders.WordPiece(prefix="##")
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, unk_token="<unk>", pad_token="<pad>", bos_token="<s>", eos_token="</s>")
    if chat_template:
        tokenizer.chat_template = chat_template
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(vocab), hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2,
        num_key_value_heads=2, max_position_embeddings=4096, pad_token_id=1, bos_token_id=2, eos_token_id=3,
    )
    tokenizer.save_pretrained(folder)
    LlamaForCausalLM(config).save_pretrained(folder)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny-llm")
    build_tiny_model(folder)
    return folder


def make_hits(corpus, *ids: tuple[str, str]) -> list[Hit]:
    hits = []
    for rank, (document, provision_id) in enumerate(ids, start=1):
        p = corpus.get(document, provision_id)
        hits.append(
            Hit(document_id=document, provision_id=provision_id, label=provision_label(p), heading=p.heading, path=p.path,
                score=1.0 / rank, rank=rank, best_passage_id=f"{p.uid}#0", best_passage_text=p.text[:200])
        )
    return hits


@pytest.fixture()
def hits(corpus):
    return make_hits(corpus, ("etra-2006", "2.1.1"), ("etra-2006", "2.1.2"), ("etra-2006", "1.1.3"))


def answerer_for(corpus, model: str, **overrides) -> GenerativeAnswerer:
    # Abstention is the extractive answerer's job and is tested there; here every question is answered.
    settings = Settings(generative_model=model, generative_max_new_tokens=12, abstain_threshold=2.0, **overrides)
    return GenerativeAnswerer(corpus, settings, ExtractiveAnswerer(corpus, FakeEncoder(), settings))


def forced(answerer: GenerativeAnswerer, monkeypatch, text: str) -> None:
    """Make the model 'write' ``text``, in two streamed chunks."""
    half = len(text) // 2
    monkeypatch.setattr(answerer, "generate_stream", lambda question, sources: iter([text[:half], text[half:]]))


def test_tiny_model_loads_streams_and_its_noise_falls_back_to_extractive(corpus, tiny_model, hits):
    answerer = answerer_for(corpus, str(tiny_model))
    items = list(answerer.answer_stream(QUESTION, hits))
    chunks, final = items[:-1], items[-1]
    assert chunks and all(isinstance(c, str) for c in chunks)
    assert "".join(chunks).strip()
    assert isinstance(final, Answer)
    assert final.fallback and "no sentence with a valid citation" in final.fallback
    assert final.mode == "extractive" and not final.abstained
    assert final.citations and all(verify(corpus, c) for c in final.citations)


def test_prompt_uses_the_chat_template_and_numbers_the_retrieved_sources(corpus, tiny_model, hits):
    answerer = answerer_for(corpus, str(tiny_model)).load()
    messages = answerer.messages(QUESTION, answerer.sources(hits))
    user = messages[-1]["content"]
    assert messages[0]["role"] == "system" and "[1]" in messages[0]["content"]
    assert "[1] s 2.1.1 — Attendance at school" in user
    assert "[3] s 1.1.3 — Definitions" in user
    assert "not less than 6 nor more than 17 years of age" in user
    assert user.rstrip().endswith("after every sentence.") and QUESTION in user
    ids = answerer._prompt_ids(QUESTION, answerer.sources(hits))["input_ids"][0].tolist()
    assert answerer._tokenizer.convert_tokens_to_ids("<|assistant|>") == ids[-1]


def test_a_template_without_a_system_turn_gets_the_rules_in_the_user_turn(corpus, hits, tmp_path):
    folder = tmp_path / "no-system"
    build_tiny_model(folder, chat_template=NO_SYSTEM_TEMPLATE)
    answerer = answerer_for(corpus, str(folder)).load()
    prompt = answerer._render(answerer.messages(QUESTION, answerer.sources(hits)))
    assert "<|system|>" not in prompt and "<|user|> You answer questions" in prompt and QUESTION in prompt
    answer = answerer.answer(QUESTION, hits)
    assert answer.fallback and "no sentence with a valid citation" in answer.fallback


def test_citation_of_an_unretrieved_provision_and_an_invented_quote_are_both_caught(corpus, tiny_model, hits, monkeypatch):
    answerer = answerer_for(corpus, str(tiny_model))
    forced(
        answerer,
        monkeypatch,
        "Children must attend school until they turn 18 [7]. "
        'The Act says "every child must wear a school uniform" [1]. '
        "Parents may be fined under s 9.9.9 [s 9.9.9].",
    )
    answer = answerer.answer(QUESTION, hits)
    assert answer.removed_sentences == 3
    assert answer.fallback and "3 removed" in answer.fallback
    assert answer.mode == "extractive"
    assert "uniform" not in answer.text and "18" not in answer.text
    assert {c.provision_id for c in answer.citations} <= {h.provision_id for h in hits}
    assert all(verify(corpus, c) for c in answer.citations)


def test_valid_sentences_are_kept_recited_and_the_invalid_one_counted(corpus, tiny_model, hits, monkeypatch):
    answerer = answerer_for(corpus, str(tiny_model))
    forced(
        answerer,
        monkeypatch,
        "A parent must enrol a child of not less than 6 nor more than 17 years of age [1]. "
        "The duty is “to enrol the child at a registered school” [s 2.1.1]. "
        "Children must wear uniforms on excursions [1].",
    )
    answer = answerer.answer(QUESTION, hits)
    assert answer.mode == "generative" and answer.fallback is None
    assert answer.removed_sentences == 1
    assert "uniforms" not in answer.text
    lines = answer.text.split("\n")
    assert len(lines) == 2 and all(line.rstrip(".").endswith("]") for line in lines)
    unquoted, quoted = answer.citations
    assert unquoted.provision_id == "2.1.1" and "6 nor more than 17 years" in unquoted.quote
    assert quoted.label == "s 2.1.1(a)"
    assert answer.citations[1].quote == "to enrol the child at a registered school"
    assert all(verify(corpus, c) for c in answer.citations)


def test_the_model_saying_the_sources_do_not_say_is_an_abstention(corpus, tiny_model, hits, monkeypatch):
    answerer = answerer_for(corpus, str(tiny_model))
    forced(answerer, monkeypatch, "The sources do not say.")
    answer = answerer.answer("When is the GAT held?", hits)
    assert answer.abstained and answer.mode == "generative" and not answer.citations
    assert "do not answer" in answer.text


@pytest.mark.parametrize("model", ["", "/no/such/model/folder"])
def test_a_missing_model_is_recorded_as_a_fallback_not_a_crash(corpus, hits, model):
    answer = answerer_for(corpus, model).answer(QUESTION, hits)
    assert answer.fallback and ("no generative model configured" in answer.fallback or "cannot load" in answer.fallback)
    assert answer.mode == "extractive" and answer.citations


def test_a_broken_model_folder_and_a_model_without_chat_template_fall_back(corpus, hits, tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text(json.dumps({"model_type": "llama", "vocab_size": "many"}))
    answer = answerer_for(corpus, str(broken)).answer(QUESTION, hits)
    assert answer.fallback and "cannot load" in answer.fallback

    plain = tmp_path / "plain"
    build_tiny_model(plain, chat_template=None)
    answer = answerer_for(corpus, str(plain)).answer(QUESTION, hits)
    assert answer.fallback and "no chat template" in answer.fallback
    assert answer.citations and all(verify(corpus, c) for c in answer.citations)


def test_a_generation_failure_falls_back(corpus, tiny_model, hits, monkeypatch):
    answerer = answerer_for(corpus, str(tiny_model)).load()

    def explode(**kwargs):
        raise RuntimeError("out of memory")

    monkeypatch.setattr(answerer._model, "generate", explode)
    answer = answerer.answer(QUESTION, hits)
    assert answer.fallback and "out of memory" in answer.fallback
    assert answer.citations
