"""The question bank (eval/questions): true to the law, split without leaks, and rebuilt exactly from what the writers wrote."""

from __future__ import annotations

import json

import pytest

from assistant.cli.bank import evaluation_questions
from assistant.errors import EvaluationError
from assistant.evaluation.bank import (
    BANK_DIR,
    SPLITS,
    WRITTEN_DIR,
    build_bank,
    in_dev,
    law_words,
    write_bank,
)
from assistant.evaluation.gold import (
    check_against_corpus,
    is_near_copy,
    load_gold,
    question_words,
)
from assistant.index import load_written_questions


@pytest.fixture(scope="module")
def bank():
    return {name: load_gold(BANK_DIR / f"{name}.jsonl") for name in SPLITS}


@pytest.mark.parametrize("name", SPLITS)
def test_every_item_is_true_to_the_law_text(bank, corpus, name):
    """Provisions and pinpoints exist, evidence is verbatim in the first provision, key facts occur in the provisions."""
    problems = check_against_corpus(bank[name], corpus)
    assert problems == [], "\n".join(problems[:10])


@pytest.mark.parametrize("name", SPLITS)
def test_every_item_says_how_it_is_asked_and_what_a_plain_answer_is(bank, name):
    items = bank[name].items
    assert all(item.style in ("scenario", "direct") for item in items)
    assert all(item.short_answer.strip() for item in items)
    assert all(item.unanswerable_kind is not None for item in items if not item.answerable)


def test_splits_are_disjoint_and_hold_no_near_copies_of_each_other(bank):
    ids = [item.id for name in SPLITS for item in bank[name].items]
    assert len(ids) == len(set(ids))
    test_words = [question_words(item.question) for item in bank["test"].items]
    leaks = [item.id for name in ("train", "dev") for item in bank[name].items if any(is_near_copy(question_words(item.question), w) for w in test_words)]
    assert leaks == []


def test_no_training_or_tuning_item_copies_an_evaluation_question(bank):
    evaluation = [question_words(q) for q in evaluation_questions()]
    copies = [item.id for name in ("train", "dev") for item in bank[name].items if any(is_near_copy(question_words(item.question), w) for w in evaluation)]
    assert copies == []


def test_the_test_split_is_large_mostly_scenarios_and_has_every_unanswerable_kind(bank):
    test = bank["test"].items
    assert len(test) >= 400
    assert sum(item.style == "scenario" for item in test) >= len(test) / 2
    assert {item.unanswerable_kind for item in test if not item.answerable} == {"outside_sources", "delegated", "advice_or_opinion", "near_topic"}


def test_the_bank_is_large_with_many_unanswerable_items(bank):
    items = [item for name in SPLITS for item in bank[name].items]
    assert len(items) >= 1500
    assert sum(not item.answerable for item in items) >= 400


def test_follow_ups_stay_in_the_split_of_the_question_they_follow(bank):
    for name in SPLITS:
        ids = {item.id for item in bank[name].items}
        assert all(item.follow_up_of in ids for item in bank[name].items if item.follow_up_of)


def test_the_splits_are_exactly_what_the_build_makes_from_the_writers_files(corpus, tmp_path):
    build = build_bank(corpus, WRITTEN_DIR, evaluation_questions(), [q.question for q in load_written_questions()])
    write_bank(build, tmp_path)
    for name in SPLITS:
        assert (tmp_path / f"{name}.jsonl").read_text(encoding="utf-8") == (BANK_DIR / f"{name}.jsonl").read_text(encoding="utf-8"), name


# --- the build's pieces, on small invented items -----------------------------------------------


@pytest.mark.parametrize(
    ("fragment", "found"),
    [
        ("the child's instruction", "the child's instruction"),
        ("THE CHILD'S  INSTRUCTION", "the child's instruction"),
        ("not in the text at all", None),
    ],
)
def test_a_writers_copy_is_aligned_to_the_laws_own_characters(fragment, found):
    law = "to ensure the child attends the school at all times when the school is open for the child's instruction"
    assert law_words(fragment, law) == found


def test_curly_quotes_in_the_law_are_found_from_a_straight_quote():
    assert law_words("the child's school", "enrol at the child’s school") == "the child’s school"


def test_dev_assignment_is_stable_and_about_a_quarter():
    ids = [f"x-{n:04d}" for n in range(2000)]
    share = sum(map(in_dev, ids)) / len(ids)
    assert 0.2 < share < 0.3
    assert [in_dev(i) for i in ids[:50]] == [in_dev(i) for i in ids[:50]]


def _write(folder, name, items):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text("".join(json.dumps(item) + "\n" for item in items), encoding="utf-8")


def _answerable(item_id, question, **more):
    return {
        "id": item_id,
        "question": question,
        "style": "scenario",
        "answerable": True,
        "expected": [{"document": "etra-2006", "provision": "2.1.1(a)"}],
        "evidence": "It is the duty of the parent of a child of not less than 6 nor more than 17 years of age",
        "key_facts": ["17 years of age"],
        "short_answer": "Until 17.",
        "kind": "numeric",
        "difficulty": "easy",
        **more,
    }


def test_build_drops_bad_items_copies_and_leaks_and_keeps_follow_ups_with_their_question(corpus, tmp_path):
    written = tmp_path / "written"
    _write(
        written / "test",
        "t.jsonl",
        [_answerable("t-1", "Our year 10 wants to leave school to work at the bakery full time, can he?")],
    )
    _write(
        written / "pool",
        "p.jsonl",
        [
            _answerable("p-1", "Our year 10 wants to leave school to work at the bakery full time, can he?"),
            _answerable("p-2", "Mum says her 15 year old can stay home and help on the farm; is she right?"),
            _answerable("p-3", "And what if he is sixteen?", follow_up_of="p-2"),
            _answerable("p-4", "Misquoted evidence about attendance duties", evidence="parents must always send children"),
            _answerable("p-5", "A training question copy: until what age must a child attend?"),
        ],
    )
    build = build_bank(corpus, written, [], ["Until what age must a child attend school?"])
    kept = {name: [item.id for item in items] for name, items in build.splits.items()}
    assert kept["test"] == ["t-1"]
    pool = kept["train"] + kept["dev"]
    assert sorted(pool) == ["p-2", "p-3", "p-5"]
    assert ("p-2" in kept["dev"]) == ("p-3" in kept["dev"])
    assert any(line.startswith("p-1:") and "near copy" in line for line in build.left_out)
    assert any("(p-4)" in line and "evidence" in line for line in build.left_out)


@pytest.mark.parametrize(("line", "message"), [("{not json", "not valid JSON"), ("[1, 2]", "expected a JSON object")], ids=["not-json", "not-object"])
def test_a_damaged_writers_file_stops_the_build_at_its_line(corpus, tmp_path, line, message):
    written = tmp_path / "written"
    _write(written / "pool", "p.jsonl", [_answerable("p-1", "Can a 15 year old leave school to work full time?")])
    with (written / "pool" / "p.jsonl").open("a", encoding="utf-8") as handle:
        handle.write(line + "\n")
    (written / "test").mkdir()
    with pytest.raises(EvaluationError, match=rf"p\.jsonl:2: {message}"):
        build_bank(corpus, written, [], [])


def test_a_missing_written_folder_is_named(corpus, tmp_path):
    with pytest.raises(EvaluationError, match="no such folder of written questions"):
        build_bank(corpus, tmp_path / "nowhere", [], [])
