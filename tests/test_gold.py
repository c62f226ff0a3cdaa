"""The gold set and the dev questions: well formed, true to the law text, and covering the corpus."""

from __future__ import annotations

import json

import pytest

from assistant.errors import GoldSetError
from assistant.evaluation.gold import (
    GoldItem,
    chapters_covered,
    check_against_corpus,
    check_item,
    load_gold,
)
from assistant.evaluation.metrics import normalise_text
from assistant.settings import PROJECT_ROOT

GOLD = PROJECT_ROOT / "eval" / "gold.jsonl"
DEV = PROJECT_ROOT / "tests" / "data" / "dev_questions.jsonl"
QUESTION_FILES = [pytest.param(GOLD, id="gold"), pytest.param(DEV, id="dev")]


@pytest.fixture(scope="module")
def gold():
    return load_gold(GOLD)


@pytest.mark.parametrize("path", QUESTION_FILES)
def test_every_item_is_true_to_the_law_text(path, corpus):
    """Expected provisions exist, evidence is verbatim from the first one, key facts occur in one of them."""
    problems = check_against_corpus(load_gold(path), corpus)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", QUESTION_FILES)
def test_our_items_declare_kind_and_difficulty(path):
    missing = [item.id for item in load_gold(path).items if "unspecified" in (item.kind, item.difficulty)]
    assert not missing


def test_gold_set_is_large_enough_with_enough_unanswerable_questions(gold):
    assert len(gold.items) >= 150
    assert sum(not item.answerable for item in gold.items) >= 25


def test_gold_set_covers_every_chapter_of_the_act_and_the_schedules(gold, corpus):
    covered, chapters = chapters_covered(gold.items, corpus, "etra-2006")
    assert "Schedules" in chapters and any(c.startswith("Chapter 2A") for c in chapters)
    assert chapters - covered == set()


def test_gold_set_covers_all_five_vet_cluster_functions(gold, corpus):
    covered, functions = chapters_covered(gold.items, corpus, "vet-clusters")
    assert len(functions) == 5
    assert functions - covered == set()


def test_gold_set_has_every_kind_of_question(gold):
    kinds = {item.kind for item in gold.items}
    assert kinds >= {"definition", "numeric", "procedure", "obligation", "multi", "policy", "lookup", "unanswerable"}


def test_dev_questions_are_not_gold_questions(gold):
    """Thresholds are tuned on the dev questions; sharing a question would flatter the gold figures."""
    dev = load_gold(DEV)
    gold_questions = {normalise_text(item.question) for item in gold.items}
    shared = [item.id for item in dev.items if normalise_text(item.question) in gold_questions]
    assert not shared
    assert not {item.id for item in dev.items} & {item.id for item in gold.items}


GOOD = {
    "id": "t1",
    "question": "Until what age must a child go to school?",
    "answerable": True,
    "expected": [{"document": "etra-2006", "provision": "2.1.1"}],
    "key_facts": ["17"],
    "evidence": "of not less than 6 nor more than 17 years of age",
    "kind": "numeric",
    "difficulty": "easy",
}
UNANSWERABLE = {"id": "t2", "question": "How many sick days may a teacher take?", "answerable": False, "expected": [], "key_facts": [], "evidence": "", "kind": "unanswerable", "difficulty": "medium"}


def write_lines(tmp_path, lines: list[str], name: str = "gold.jsonl"):
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_well_formed_file_loads_with_line_numbers(tmp_path):
    path = write_lines(tmp_path, [json.dumps(GOOD), "", json.dumps(UNANSWERABLE)])
    gold = load_gold(path)
    assert [item.id for item in gold.items] == ["t1", "t2"]
    assert gold.where(gold.items[1]) == f"{path}:3"
    assert len(gold.sha256) == 64


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "expected a JSON object"),
        (json.dumps({**GOOD, "kind": "trivia"}), "kind"),
        (json.dumps({**GOOD, "difficulty": "extreme"}), "difficulty"),
        (json.dumps({k: v for k, v in GOOD.items() if k != "question"}), "question"),
        (json.dumps({**GOOD, "question": "   "}), "must not be blank"),
        (json.dumps({**GOOD, "expected": []}), "no expected provisions"),
        (json.dumps({**UNANSWERABLE, "expected": GOOD["expected"]}), "unanswerable item lists expected provisions"),
        (json.dumps({**GOOD, "kind": "unanswerable"}), "contradicts"),
        (json.dumps({**GOOD, "expected": [{"document": "etra-2006"}]}), "expected.0.provision"),
        (json.dumps({**GOOD, "answerable": "maybe"}), "answerable"),
    ],
    ids=["bad-json", "not-object", "unknown-kind", "unknown-difficulty", "missing-question", "blank-question", "answerable-without-expected", "unanswerable-with-expected", "kind-contradicts", "expected-without-provision", "answerable-not-bool"],
)
def test_malformed_lines_are_reported_with_file_and_line(tmp_path, line, message):
    path = write_lines(tmp_path, [json.dumps(UNANSWERABLE), line])
    with pytest.raises(GoldSetError) as raised:
        load_gold(path)
    assert f"{path}:2" in str(raised.value)
    assert message in str(raised.value)


def test_every_problem_is_reported_at_once(tmp_path):
    path = write_lines(tmp_path, ["{", json.dumps(GOOD), json.dumps(GOOD), json.dumps({**GOOD, "id": "t3", "kind": "x"})])
    with pytest.raises(GoldSetError) as raised:
        load_gold(path)
    text = str(raised.value)
    assert f"{path}:1" in text and f"{path}:3: duplicate id 't1' (first on line 2)" in text and f"{path}:4" in text


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "no gold items"), (b"\n\n", "no gold items"), (b"\xff\xfe{}", "not UTF-8")],
    ids=["empty", "blank-lines", "not-utf8"],
)
def test_unusable_files_get_a_clear_message(tmp_path, content, message):
    path = tmp_path / "gold.jsonl"
    path.write_bytes(content)
    with pytest.raises(GoldSetError, match=message):
        load_gold(path)


def test_missing_file_says_which(tmp_path):
    with pytest.raises(GoldSetError, match="gold file not found"):
        load_gold(tmp_path / "nope.jsonl")


def test_extra_fields_are_ignored_and_kind_may_be_left_out(tmp_path):
    minimal = {"id": "x", "question": "What does s 2.1.1 say?", "answerable": True, "expected": [{"document": "etra-2006", "provision": "2.1.1"}], "notes": "annotator's remark"}
    item = load_gold(write_lines(tmp_path, [json.dumps(minimal)])).items[0]
    assert (item.kind, item.difficulty, item.key_facts) == ("unspecified", "unspecified", [])


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({}, None),
        ({"expected": [{"document": "etra-2006", "provision": "2.1.1(1)"}]}, None),
        ({"evidence": "of not less than 6\n   nor more than 17 years of age"}, None),
        ({"key_facts": ["NOT LESS THAN 6"]}, None),
        ({"expected": [{"document": "etra-2006", "provision": "9.9.9"}]}, "is not in the corpus"),
        ({"expected": [{"document": "no-such-act", "provision": "2.1.1"}]}, "is not in the corpus"),
        ({"evidence": "of not less than 5 nor more than 17 years of age"}, "evidence is not verbatim"),
        ({"evidence": ""}, "has no evidence"),
        ({"key_facts": ["18"]}, "key fact '18' is in none"),
    ],
    ids=["good", "pinpointed-expected", "evidence-whitespace", "key-fact-case", "unknown-provision", "unknown-document", "misquoted-evidence", "no-evidence", "absent-key-fact"],
)
def test_check_item_against_the_corpus(corpus, changes, problem):
    problems = check_item(GoldItem.model_validate({**GOOD, **changes}), corpus)
    if problem is None:
        assert problems == []
    else:
        assert any(problem in p for p in problems), problems


def _item(**changes) -> dict:
    base = {"id": "x1", "question": "How long can a suspension last?", "answerable": False, "expected": [], "kind": "unanswerable", "difficulty": "medium"}
    return {**base, **changes}


@pytest.mark.parametrize(
    ("item", "message"),
    [
        (_item(unanswerable_kind="delegated"), "delegated_by"),
        (_item(unanswerable_kind="near_topic", delegated_by={"document": "etra-2006", "provision": "2.2.19"}), "delegated_by"),
        (_item(unanswerable_kind="gossip"), "unanswerable_kind"),
        (
            _item(answerable=True, expected=[{"document": "etra-2006", "provision": "2.1.1"}], kind="numeric", unanswerable_kind="near_topic"),
            "answerable item has no unanswerable_kind",
        ),
    ],
    ids=["delegated-without-provision", "provision-without-delegation", "unknown-kind", "answerable-with-kind"],
)
def test_question_bank_fields_are_checked(item, message):
    with pytest.raises(ValueError, match=message):
        GoldItem.model_validate(item)


def test_a_follow_up_must_follow_an_earlier_item(tmp_path):
    path = tmp_path / "bank.jsonl"
    first = _item(id="a", unanswerable_kind="outside_sources")
    follow = _item(id="b", question="And for TAFEs?", unanswerable_kind="outside_sources", follow_up_of="c")
    path.write_text(json.dumps(first) + "\n" + json.dumps(follow) + "\n", encoding="utf-8")
    with pytest.raises(GoldSetError, match="follow_up_of 'c' is not an earlier item"):
        load_gold(path)


def test_delegated_evidence_must_be_the_delegating_words(corpus):
    delegating = corpus.get("etra-2006", "2.1.1")
    words = "to register the child for home schooling in accordance with the regulations"
    assert words in delegating.text
    good = GoldItem.model_validate(_item(unanswerable_kind="delegated", delegated_by={"document": "etra-2006", "provision": "2.1.1(b)"}, evidence=words))
    assert check_item(good, corpus) == []
    wrong = good.model_copy(update={"evidence": "the regulations say so"})
    assert any("not verbatim in the delegating provision" in problem for problem in check_item(wrong, corpus))
