"""The learned abstention decision: its features, the shipped model's integrity, the decision and reasons, and the fit."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from assistant.answer.abstention import (
    FEATURES,
    SHIPPED_ABSTENTION_MODEL,
    STAFF_REASONS,
    AbstentionDecision,
    AbstentionModel,
    abstention_features,
    kind_of,
)
from assistant.answer.evidence import Evidence, Scored
from assistant.answer.segments import segments_of
from assistant.errors import ModelError
from assistant.records import Hit
from assistant.settings import Settings
from assistant.training.abstention import (
    Labelled,
    calibrate,
    fit_abstention,
    fit_logistic,
    rates,
)


def hit(provision_id: str, **scores: float) -> Hit:
    return Hit(document_id="etra-2006", provision_id=provision_id, label=f"s {provision_id}", heading="", path=[], score=0.0, rank=1, scores=scores, best_passage_id="", best_passage_text="")


@pytest.fixture()
def evidence(act):
    segment = segments_of(act["2.1.1"])[0]
    ranked = [Scored(segment, semantic=s, lexical=0.0, prior=0.0, score=s + 0.1, has_number=False) for s in (0.6, 0.5)]
    hits = [
        hit("2.1.1", fused=1.5, dense=0.6, bm25=9.0, rerank=1.8, cross_encoder=4.0),
        hit("2.1.4", fused=1.2, dense=0.5, bm25=6.0, rerank=1.1, cross_encoder=1.5),
        hit("2.1.3", fused=0.9, dense=0.7, bm25=3.0, rerank=0.7),
    ]
    return Evidence("Should we sue the parent who keeps her son at home?", hits, ranked, False, key_terms=0.5, unknown_names=["Geelong"])


def test_features_read_the_evidence_and_the_retrieval_scores(evidence):
    features = abstention_features(evidence)
    assert set(features) == set(FEATURES)
    assert features["cross_encoder_ran"] == 1.0 and features["cross_encoder_top"] == 4.0
    assert features["cross_encoder_margin"] == pytest.approx(2.5)
    assert features["rerank_margin"] == pytest.approx(0.7)
    assert features["dense_top"] == pytest.approx(0.7) and features["bm25_top"] == pytest.approx(math.log1p(9.0))
    assert features["advice_cue"] == 1.0 and features["elsewhere_cue"] == 0.0 and features["unknown_name"] == 1.0


def model(**weights: float) -> AbstentionModel:
    return AbstentionModel(
        weights={name: weights.get(name, 0.0) for name in FEATURES},
        bias=0.0,
        means={name: 0.0 for name in FEATURES},
        scales={name: 1.0 for name in FEATURES},
        threshold=0.5,
        trained_on={},
    )


def decision_with(tmp_path, abstention_model: AbstentionModel, **settings) -> AbstentionDecision:
    path = tmp_path / "abstention.json"
    path.write_text(abstention_model.to_json(), encoding="utf-8")
    return AbstentionDecision(Settings(abstention_model=str(path), **settings))


def test_the_decision_refuses_when_the_model_says_so_and_names_the_strongest_signal_for_administrators(tmp_path, evidence):
    decision = decision_with(tmp_path, model(advice_cue=5.0, cross_encoder_top=-0.1))
    refused = decision.decide(evidence)
    assert refused is not None and refused.kind == "advice_or_opinion"
    assert "do not appear to answer" in refused.detail and "strongest signal: advice_cue" in refused.detail
    assert decision_with(tmp_path, model(support=-5.0)).decide(Evidence("When are the school holidays?", evidence.hits, evidence.ranked, False)) is None


def test_a_named_provision_is_always_answered_and_nothing_retrieved_always_refused(tmp_path, evidence):
    decision = decision_with(tmp_path, model(advice_cue=5.0))
    named = Evidence(evidence.question, evidence.hits, evidence.ranked, False, named=True)
    assert decision.decide(named) is None
    nothing = decision.decide(Evidence("q", [], [], False))
    assert nothing is not None and nothing.kind == "not_in_sources" and nothing.detail == "nothing was retrieved"


def test_a_term_the_act_defines_is_never_refused_by_the_model_but_the_rules_still_apply(tmp_path, evidence):
    refusing = decision_with(tmp_path, model(support=5.0))
    meaning = "What does 'school attendance officer' mean?"
    assert refusing.decide(Evidence(meaning, evidence.hits, evidence.ranked, False)) is not None
    assert refusing.decide(Evidence(meaning, evidence.hits, evidence.ranked, False, defined=True)) is None
    advice = Evidence("Should I sue the school attendance officer?", evidence.hits, evidence.ranked, False, defined=True)
    assert refusing.decide(advice).kind == "advice_or_opinion"


def test_the_threshold_setting_overrides_the_calibrated_one_and_above_1_turns_every_rule_off(tmp_path, evidence):
    assert decision_with(tmp_path, model(advice_cue=5.0), abstain_threshold=2.0).decide(evidence) is None
    asks_a_fee = Evidence("How much is the fee?", evidence.hits, evidence.ranked, False)
    assert decision_with(tmp_path, model(), abstain_threshold=2.0).decide(asks_a_fee, "'a Ministerial Order' in s 2A.2.2(2)") is None


@pytest.mark.parametrize(
    ("question", "delegated", "kind"),
    [
        ("Should I sue my school council?", False, "advice_or_opinion"),
        ("Would you recommend we run our own kinder?", True, "advice_or_opinion"),
        ("Can a teacher registered in NSW start teaching here?", False, "out_of_jurisdiction"),
        ("How much Commonwealth funding does each school get?", True, "out_of_jurisdiction"),
        ("How much is the daily fee at a government early learning centre?", True, "delegated"),
        ("When are the 2027 school holidays?", False, "not_in_sources"),
    ],
)
def test_the_kind_of_an_abstention(question, delegated, kind):
    assert kind_of(question, delegated) == kind


@pytest.mark.parametrize(
    ("question", "delegation", "kind"),
    [
        ("Should I sue my school council?", None, "advice_or_opinion"),
        ("Do you think the dad's posts justify an order?", None, "advice_or_opinion"),
        ("What are South Australia's rules on searching student bags?", None, "out_of_jurisdiction"),
        ("What does the NSW Education Act say about home schooling?", None, "out_of_jurisdiction"),
        ("How long can a student be suspended for?", "'any Ministerial Order' in s 2.2.19(1)", "delegated"),
        ("What would the fee protection scheme look like?", "'any Ministerial Order' in s 4.3.8E(3)(b)", "delegated"),
    ],
)
def test_advice_another_jurisdictions_law_and_a_delegated_detail_are_refused_even_when_the_model_would_answer(tmp_path, evidence, question, delegation, kind):
    decision = decision_with(tmp_path, model(cross_encoder_top=5.0))  # top logit 4.0: probability 1.0 ... against
    answering = decision_with(tmp_path, model(cross_encoder_top=-5.0))  # ... and 0.0: the model answers
    asked = Evidence(question, evidence.hits, evidence.ranked, False)
    assert decision.decide(asked, delegation).kind == kind
    refused = answering.decide(asked, delegation)
    assert refused is not None and refused.kind == kind and "unanswerable probability 0.00" in refused.detail
    if delegation:
        assert refused.detail.endswith(f"delegating words: {delegation}")


@pytest.mark.parametrize(
    ("question", "delegation"),
    [
        ("Who can suspend a student?", "'any Ministerial Order' in s 2.2.19(1)"),  # asks who, not for a detail the Order holds
        ("How long can a student be suspended for?", None),  # nothing delegates it
        ("Can a teacher registered in NSW start teaching here?", None),  # another state named: the model decides
    ],
)
def test_otherwise_the_model_decides(tmp_path, evidence, question, delegation):
    answering = decision_with(tmp_path, model(cross_encoder_top=-5.0))
    assert answering.decide(Evidence(question, evidence.hits, evidence.ranked, False), delegation) is None


def test_staff_reasons_are_plain_words_without_figures_or_signal_names():
    assert set(STAFF_REASONS) == {"not_in_sources", "delegated", "advice_or_opinion", "out_of_jurisdiction"}
    for reason in STAFF_REASONS.values():
        sentence = reason.format(what="a Ministerial Order")
        assert sentence.endswith(".") and sentence.count(". ") == 0
        assert not any(ch.isdigit() for ch in sentence)
        assert not any(word in sentence for word in ("probability", "threshold", "signal", "_"))


def test_the_shipped_model_is_verified_and_weighs_this_versions_features():
    shipped = AbstentionDecision(Settings()).model
    assert set(shipped.weights) == set(FEATURES) and 0 < shipped.threshold < 1
    assert shipped.trained_on["train"]["file"] == "eval/questions/train.jsonl"


@pytest.mark.parametrize(
    ("content", "message"),
    [("not json", "unreadable abstention model"), (json.dumps({"weights": {"support": 1.0}, "bias": 0, "means": {}, "scales": {}, "threshold": 0.5}), "not this version's features")],
    ids=["corrupt", "other-features"],
)
def test_a_broken_model_file_is_refused_with_its_fix(tmp_path, content, message):
    path = tmp_path / "abstention.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ModelError, match=message):
        AbstentionDecision(Settings(abstention_model=str(path))).model


def test_a_tampered_shipped_model_is_refused(tmp_path, monkeypatch):
    import assistant.answer.abstention as abstention

    copy = tmp_path / "abstention.json"
    copy.write_text(SHIPPED_ABSTENTION_MODEL.read_text(encoding="utf-8").replace('"bias": ', '"bias": 1'), encoding="utf-8")
    monkeypatch.setattr(abstention, "SHIPPED_ABSTENTION_MODEL", copy)
    with pytest.raises(ModelError, match="does not match the shipped model"):
        AbstentionDecision(Settings()).model


def test_logistic_fit_separates_a_separable_signal():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 2))
    y = (x[:, 0] > 0).astype(float)
    weights, _ = fit_logistic(x, y)
    assert weights[0] > 2 and abs(weights[1]) < abs(weights[0]) / 3


def test_calibration_keeps_false_abstention_within_the_bound():
    probabilities = np.array([0.9, 0.8, 0.7, 0.6, 0.1, 0.2, 0.95, 0.3])
    unanswerable = np.array([True, True, False, False, False, False, True, False])
    threshold = calibrate(probabilities, unanswerable, max_false_abstention=0.2)
    refused_answerable = ((probabilities >= threshold) & ~unanswerable).sum()
    assert refused_answerable <= 0.2 * (~unanswerable).sum()
    assert (probabilities >= threshold)[unanswerable].all()


def test_fit_learns_from_train_and_calibrates_on_dev():
    def labelled(i: int, unanswerable: bool, advice: float) -> Labelled:
        features = {name: 0.0 for name in FEATURES} | {"advice_cue": advice, "support": float(i % 7) / 10}
        return Labelled(f"x{i}", features, unanswerable, named=False)

    train = [labelled(i, i % 3 == 0, float(i % 3 == 0)) for i in range(90)]
    dev = [labelled(i, i % 3 == 0, float(i % 3 == 0)) for i in range(30)]
    fitted = fit_abstention(train, dev, 0.03, {"train": {"file": "t"}})
    assert fitted.weights["advice_cue"] > 0
    assert rates(fitted, dev) == (1.0, 0.0)


@pytest.mark.parametrize("value", ["5", "-0.1", "lots"])
def test_the_fit_command_refuses_a_false_abstention_bound_that_is_not_a_share(value, capsys):
    from assistant.cli import main

    with pytest.raises(SystemExit) as exited:
        main(["abstention", "fit", "--max-false-abstention", value])
    assert exited.value.code == 2 and "--max-false-abstention" in capsys.readouterr().err


def test_a_refusal_is_called_delegated_only_when_a_detail_left_elsewhere_is_asked_for(tmp_path, evidence):
    """Delegating words in the quoted segment do not make "what can we do?" a matter the Act leaves to the regulations."""
    refusing = decision_with(tmp_path, model(cross_encoder_top=5.0))
    words = "'in accordance with the regulations' in s 2.1.1(b)"
    scenario = Evidence("A parent keeps her son home to work on the farm. What can we do?", evidence.hits, evidence.ranked, False)
    assert refusing.decide(scenario, words).kind == "not_in_sources"
    detail = Evidence("What are the requirements for registering a child for home schooling?", evidence.hits, evidence.ranked, False)
    assert refusing.decide(detail, words).kind == "delegated"
