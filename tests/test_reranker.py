"""The second stage's cross-encoder: its training questions, the shipped weights, loading, scoring and training."""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from assistant.cli.bank import evaluation_questions
from assistant.errors import ModelError
from assistant.evaluation.bank import BANK_DIR
from assistant.evaluation.gold import is_near_copy, load_gold, question_words
from assistant.index import load_written_questions
from assistant.retrieve.cross_encoder import SHIPPED_RERANKER, CrossEncoder
from assistant.settings import MINILM_SHA256, PROJECT_ROOT, Settings
from assistant.training.mining import QuestionMiner

ROOT = Path(__file__).resolve().parent.parent


# --- the written training questions -------------------------------------------------------------


def test_written_questions_cite_existing_unrepealed_provisions_across_the_act_and_policy(corpus):
    questions = load_written_questions()
    assert len(questions) >= 1500
    chapters = set()
    for item in questions:
        provision = corpus.find(item.document, item.provision)
        assert provision is not None, item
        assert not provision.repealed, item
        chapters.add(provision.path[0].split("—")[0] if provision.path else item.document)
    assert {"Chapter 1", "Chapter 2", "Chapter 2A", "Chapter 3", "Chapter 4", "Chapter 5", "Schedules"} <= chapters
    assert "Vocational Education and Training Clusters" in chapters or any(q.document == "vet-clusters" for q in questions)


def test_no_written_question_is_a_near_copy_of_an_evaluation_question():
    """Training on, or remembering, a near copy of a dev, gold, answer-case or bank test question would make those figures flattering."""
    bank_test = [item.question for item in load_gold(BANK_DIR / "test.jsonl").items]
    evaluation = [question_words(q) for q in evaluation_questions() + bank_test]
    copies = [item.question for item in load_written_questions() if any(is_near_copy(question_words(item.question), other) for other in evaluation)]
    assert copies == []


# --- questions mined from the law ----------------------------------------------------------------


def test_miner_turns_duties_and_powers_into_questions_and_drops_fragments():
    miner = QuestionMiner(frozenset({"the", "a", "of", "to", "in", "by", "under"}), seed=1)
    duty = miner.question_from("The principal must notify the parent of the decision within 7 days")
    assert duty.endswith("?") and "notify the parent" in duty
    power = miner.question_from("The Minister may appoint a person as a school attendance officer")
    assert power.endswith("?") and "appoint a person" in power
    assert not miner.informative("by the in Council under the")
    assert miner.informative("Who appoints school attendance officers?")


def test_mined_groups_pair_a_question_with_its_provision_and_other_provisions_as_negatives(built_index_settings, corpus):
    from assistant.embed import Embedder
    from assistant.index import load_index
    from assistant.records import TrainingQuestion
    from assistant.retrieve import Retriever
    from assistant.training.mining import mine_groups

    settings = built_index_settings
    embedder = Embedder(settings)
    retriever = Retriever(corpus, load_index(settings, corpus, embedder), embedder, settings)
    written = [TrainingQuestion(question="Who decides who can be a school attendance officer?", document="etra-2006", provision="2.1.7")]
    bank = [TrainingQuestion(question="Who appoints attendance officers and what powers do they have?", document="etra-2006", provision="2.1.7", also_answering=["etra-2006/2.1.8"])]
    groups = mine_groups(retriever, written, provisions=[corpus.get("etra-2006", "2.1.7")], bank=bank)
    assert {g.source for g in groups} >= {"written", "bank", "heading"}
    for group in groups:
        assert group.positive.startswith("etra-2006/2.1.7#")
        assert group.negatives and not any(n.startswith("etra-2006/2.1.7#") for n in group.negatives)
    # A provision that also answers a bank question is never its negative.
    assert not any(n.startswith("etra-2006/2.1.8#") for g in groups if g.source == "bank" for n in g.negatives)


def test_bank_questions_for_training_are_the_standalone_answerable_train_items_at_provision_level():
    from assistant.training.mining import load_bank_questions

    questions = load_bank_questions()
    train = [json.loads(line) for line in (PROJECT_ROOT / "eval" / "questions" / "train.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(questions) == sum(1 for item in train if item["answerable"] and not item.get("follow_up_of"))
    assert all("(" not in q.provision and all("(" not in other for other in q.also_answering) for q in questions)
    assert any(q.also_answering for q in questions)


# --- the shipped reranker -----------------------------------------------------------------------


def test_shipped_reranker_verifies_and_records_how_it_was_trained():
    manifest = json.loads((SHIPPED_RERANKER / "reranker.json").read_text(encoding="utf-8"))
    assert manifest["base_sha256"] == MINILM_SHA256
    assert manifest["training"]["layers"] == json.loads((SHIPPED_RERANKER / "config.json").read_text())["num_hidden_layers"]
    assert CrossEncoder(Settings()).weights_sha256 == manifest["weights_sha256"]


@pytest.mark.slow
def test_shipped_reranker_prefers_the_answering_provision(corpus):
    scorer = CrossEncoder(Settings()).load()
    cases = [
        ("Until what age does a kid legally have to go to school?", "2.1.1", "5.6.3"),
        ("Can a volunteer get paid back if their car is damaged while helping the school?", "5.6.3", "2.1.1"),
        ("Who is allowed to appoint school attendance officers?", "2.1.7", "2.6.9"),
        ("What's the fine for getting in the way of an authorised officer?", "5.8.4", "2.2.1"),
    ]
    for question, answer, other in cases:
        texts = [corpus.get("etra-2006", pid).heading + "\n" + corpus.get("etra-2006", pid).text for pid in (answer, other)]
        right, wrong = scorer.score(question, texts)
        assert right > wrong, question


def test_scores_come_back_in_the_order_of_the_texts_whatever_their_lengths():
    scorer = CrossEncoder(Settings())
    texts = ["A parent must enrol a child of compulsory school age at a registered school. " * k for k in (4, 1, 3, 2, 5)]
    together = scorer.score("Must a parent enrol their child?", texts)
    alone = [scorer.score("Must a parent enrol their child?", [t])[0] for t in texts]
    assert together == pytest.approx(alone, abs=0.05)
    assert scorer.score("anything", []) == []


def test_a_question_longer_than_the_window_is_still_scored():
    scorer = CrossEncoder(Settings())
    assert len(scorer.score("Can a principal suspend a student? " * 200, ["A principal may suspend a student."])) == 1


# --- loading what is not the shipped reranker ---------------------------------------------------


def test_corrupt_shipped_weights_are_refused_with_the_fix(tmp_path):
    copy = tmp_path / "reranker"
    shutil.copytree(SHIPPED_RERANKER, copy)
    with (copy / "reranker.safetensors").open("r+b") as handle:
        handle.seek(1000)
        handle.write(b"\x00" * 64)
    with pytest.raises(ModelError, match="does not match reranker.json"):
        CrossEncoder(Settings(reranker_model=str(copy))).load()


def test_a_missing_reranker_folder_names_the_settings_that_fix_it(tmp_path):
    with pytest.raises(ModelError, match="ASSISTANT_RERANKER_WEIGHT=0"):
        CrossEncoder(Settings(reranker_model=str(tmp_path / "nowhere")))


def _tiny_bert_folder(folder: Path, labels: int) -> Path:
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    from assistant.models import default_model_path

    config = BertConfig(vocab_size=30522, hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64, num_labels=labels)
    BertForSequenceClassification(config).save_pretrained(folder)
    AutoTokenizer.from_pretrained(str(default_model_path())).save_pretrained(folder)
    return folder


def test_any_local_sequence_classification_model_works_through_settings(tmp_path):
    folder = _tiny_bert_folder(tmp_path / "tiny", labels=1)
    scores = CrossEncoder(Settings(reranker_model=str(folder))).score("Who appoints attendance officers?", ["The Minister may appoint.", "Penalty: 10 penalty units."])
    assert len(scores) == 2 and all(isinstance(s, float) for s in scores)


def test_a_classifier_with_several_labels_is_refused(tmp_path):
    folder = _tiny_bert_folder(tmp_path / "two", labels=2)
    with pytest.raises(ModelError, match="one score per pair"):
        CrossEncoder(Settings(reranker_model=str(folder))).load()


# --- in the retriever ------------------------------------------------------------------------------


@pytest.mark.slow
def test_full_mode_reports_the_cross_encoder_and_weight_zero_turns_it_off(built_index_settings, corpus):
    from assistant.embed import Embedder
    from assistant.index import load_index
    from assistant.retrieve import Retriever

    embedder = Embedder(built_index_settings)
    index = load_index(built_index_settings, corpus, embedder)
    question = "A teacher wants a weekend tutoring job on top of her full-time position. Is that allowed?"
    on = Retriever(corpus, index, embedder, built_index_settings).retrieve(question, mode="full")
    off = Retriever(corpus, index, embedder, built_index_settings.model_copy(update={"reranker_weight": 0.0})).retrieve(question, mode="full")
    assert any("cross_encoder" in hit.scores for hit in on)
    assert not any("cross_encoder" in hit.scores for hit in off)


# --- training -------------------------------------------------------------------------------------


def test_state_variants_name_the_state_in_about_the_share_asked_and_leave_the_rest_alone():
    from assistant.training.train import state_variants

    groups = [{"query": f"Who appoints principal number {i}?", "source": "written"} for i in range(400)]
    groups.append({"query": "Until what age must a child attend school in Victoria?", "source": "written"})
    out = state_variants(groups, 0.3, seed=0)
    assert out == state_variants(groups, 0.3, seed=0) and state_variants(groups, 0.0, seed=0) == groups
    changed = [new["query"] for old, new in zip(groups, out, strict=True) if old != new]
    assert 90 <= len(changed) <= 150
    assert all(re.search(r"Vic", q) for q in changed) and out[-1] == groups[-1]
    assert any(q.startswith("In Victoria, who appoints") for q in changed) and any(q.endswith(" here in Victoria?") for q in changed)


def test_the_train_command_names_its_objectives_before_anything_loads(capsys):
    from assistant.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(["reranker", "train", "--objective", "pairwise"])
    assert exit_.value.code == 2 and "choose from 'listwise', 'pointwise'" in capsys.readouterr().err


@pytest.mark.slow
def test_training_is_seeded_and_its_output_loads_as_a_reranker(tmp_path):
    import torch
    from safetensors.torch import load_file

    from assistant.models import default_model_path
    from assistant.training.train import TrainingConfig, train

    passages = {f"etra-2006/x#{i}": f"Passage {i}: a parent must enrol the child at school number {i}." for i in range(12)}
    groups = tmp_path / "groups.jsonl"
    rows = [
        {"query": f"enrol at school {i}?", "positive": f"etra-2006/x#{i}", "positive_text": None, "negatives": [f"etra-2006/x#{(i + 1) % 12}"], "source": "written", "first_rank": 2}
        for i in range(8)
    ]
    groups.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    groups.with_name("groups.jsonl.passages.json").write_text(json.dumps(passages), encoding="utf-8")
    config = TrainingConfig(layers=1, epochs=1, batch_groups=4, group_size=3, max_tokens=48)
    first = train(groups, default_model_path(), tmp_path / "a", config, device="cpu", progress=False, base_sha256=MINILM_SHA256)
    second = train(groups, default_model_path(), tmp_path / "b", config, device="cpu", progress=False, base_sha256=MINILM_SHA256)
    assert first["weights_sha256"] == second["weights_sha256"]
    assert first["groups_by_source"] == {"written": 8}
    scorer = CrossEncoder(Settings(reranker_model=str(tmp_path / "a"), reranker_max_tokens=48))
    assert len(scorer.score("enrol at school 3?", [passages["etra-2006/x#3"], passages["etra-2006/x#4"]])) == 2

    # Continuing from "a" starts from its tensors (a zero-rate step leaves them as they were) and records which weights it began from.
    onward = train(
        groups, default_model_path(), tmp_path / "c", replace(config, init_from=str(tmp_path / "a"), learning_rate=0.0), device="cpu", progress=False, base_sha256=MINILM_SHA256
    )
    assert onward["init_sha256"] == first["weights_sha256"]
    started, continued = load_file(str(tmp_path / "a" / "reranker.safetensors")), load_file(str(tmp_path / "c" / "reranker.safetensors"))
    assert started.keys() == continued.keys() and all(torch.equal(started[k], continued[k]) for k in started)
    # The pointwise objective is seeded too, trains only the sources asked for, and is a different model.
    pointwise = replace(config, objective="pointwise", sources="written", state_variants=0.5)
    rows.append({**rows[0], "source": "heading"})
    groups.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    p1 = train(groups, default_model_path(), tmp_path / "p1", pointwise, device="cpu", progress=False, base_sha256=MINILM_SHA256)
    p2 = train(groups, default_model_path(), tmp_path / "p2", pointwise, device="cpu", progress=False, base_sha256=MINILM_SHA256)
    assert p1["weights_sha256"] == p2["weights_sha256"] != first["weights_sha256"]
    assert p1["groups_by_source"] == {"written": 8} and p1["training"]["objective"] == "pointwise"
    with pytest.raises(ValueError, match="objective"):
        train(groups, default_model_path(), tmp_path / "p3", replace(config, objective="pairwise"), device="cpu", progress=False)
    with pytest.raises(ValueError, match="no groups from the sources"):
        train(groups, default_model_path(), tmp_path / "p4", replace(pointwise, sources="nowhere"), device="cpu", progress=False)
    tampered = tmp_path / "tampered"
    shutil.copytree(tmp_path / "a", tampered)
    (tampered / "reranker.json").write_text(json.dumps(first | {"weights_sha256": "0" * 64}), encoding="utf-8")
    with pytest.raises(ValueError, match="sha256"):
        train(groups, default_model_path(), tmp_path / "d", replace(config, init_from=str(tampered)), device="cpu", progress=False)


@pytest.mark.slow
def test_the_assistant_refuses_to_start_with_a_corrupt_reranker(built_index_settings, tmp_path):
    from assistant.pipeline import Assistant

    copy = tmp_path / "reranker"
    shutil.copytree(SHIPPED_RERANKER, copy)
    (copy / "reranker.safetensors").write_bytes(b"not weights")
    with pytest.raises(ModelError, match="reranker"):
        Assistant.load(built_index_settings.model_copy(update={"reranker_model": str(copy)}), build_if_missing=False)


def test_a_model_whose_tokenizer_pairs_texts_differently_is_scored_through_its_tokenizer(tmp_path):
    """DistilBERT takes no segment ids: the fast BERT-style pairing must not be used for it."""
    from transformers import (
        DistilBertConfig,
        DistilBertForSequenceClassification,
        DistilBertTokenizer,
    )

    from assistant.models import default_model_path

    folder = tmp_path / "distil"
    config = DistilBertConfig(vocab_size=30522, dim=32, n_layers=1, n_heads=2, hidden_dim=64, num_labels=1)
    DistilBertForSequenceClassification(config).save_pretrained(folder)
    DistilBertTokenizer(vocab_file=str(default_model_path() / "vocab.txt")).save_pretrained(folder)
    scorer = CrossEncoder(Settings(reranker_model=str(folder)))
    assert len(scorer.score("Who appoints attendance officers?", ["The Minister may appoint.", "Penalty: 10 penalty units."])) == 2
