"""Feedback store: what staff send is kept, survives concurrent sessions and schema upgrades, and exports for curators."""

from __future__ import annotations

import json
import sqlite3
import threading

import pytest
from pydantic import ValidationError

from assistant.cli import main as cli_main
from assistant.evaluation.gold import load_gold
from assistant.records import Answer, Citation
from assistant.settings import Settings
from assistant.web.feedback import (
    MIGRATIONS,
    SCHEMA_VERSION,
    FeedbackError,
    FeedbackRecord,
    FeedbackStore,
    settings_snapshot,
)


def cited_answer(corpus, question: str, refs: list[tuple[str, str, str]]) -> Answer:
    """An answer citing real provisions, each quote taken from the provision's own law text."""
    citations = []
    for document_id, provision_id, quote in refs:
        provision = corpus.get(document_id, provision_id)
        info = corpus.document(document_id).info
        start = provision.text.index(quote)
        label = f"s {provision_id}" if provision.kind == "section" else provision_id
        citations.append(
            Citation(
                document_id=document_id, provision_id=provision_id, label=label, heading=provision.heading, path=provision.path,
                quote=quote, quote_start=start, document_title=info.title, version=info.version, as_at=info.as_at,
            )
        )
    text = " ".join(f"{c.quote} [{i}]" for i, c in enumerate(citations, 1))
    return Answer(question=question, text=text, citations=citations)


@pytest.fixture()
def store(tmp_path) -> FeedbackStore:
    return FeedbackStore(tmp_path / "data" / "feedback.sqlite3")


@pytest.fixture()
def answer(corpus) -> Answer:
    return cited_answer(
        corpus,
        "Until what age must a child attend school?",
        [("etra-2006", "2.1.1", "not less than 6 nor more than 17 years of age"), ("etra-2006", "2.6.9", "The Institute may register an applicant as a teacher")],
    )


def test_a_thumbs_down_with_a_flagged_citation_is_stored_with_everything_a_curator_needs(store, answer, tmp_settings):
    record = FeedbackRecord(
        question=answer.question, answer=answer, rating="down", comment="s 2.6.9 is about teacher registration",
        wrong_citation=True, citation_label="s 2.6.9", settings=settings_snapshot(tmp_settings),
    )
    row_id = store.add(record)

    [entry] = store.list()
    assert entry.id == row_id
    assert entry.question == answer.question
    assert entry.answer == answer
    assert (entry.rating, entry.wrong_citation, entry.citation_label) == ("down", True, "s 2.6.9")
    assert entry.comment == "s 2.6.9 is about teacher registration"
    assert entry.settings["top_k"] == tmp_settings.top_k
    assert entry.created_at == record.created_at


def test_settings_snapshot_leaves_out_credentials(tmp_path):
    settings = Settings(data_dir=tmp_path, ui_username="staff", ui_password="hunter2", api_tokens=["sekret-token"])
    snapshot = json.dumps(settings_snapshot(settings))
    assert "hunter2" not in snapshot and "sekret-token" not in snapshot and "staff" not in snapshot
    assert "answer_mode" in snapshot


def test_the_database_is_in_wal_mode_with_the_current_schema_version(store):
    with sqlite3.connect(store.path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.schema_version() == SCHEMA_VERSION


def test_an_old_database_is_upgraded_and_keeps_its_rows(tmp_path):
    path = tmp_path / "feedback.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.executescript(MIGRATIONS[0])
        conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        conn.execute("INSERT INTO schema_version VALUES (1)")
        conn.execute("INSERT INTO feedback (created_at, question, rating) VALUES ('2026-01-05T10:00:00+00:00', 'Who enrols a child?', 'up')")

    store = FeedbackStore(path)

    assert store.schema_version() == SCHEMA_VERSION
    [old] = store.list()
    assert (old.question, old.rating, old.source) == ("Who enrols a child?", "up", "ui")
    store.add(FeedbackRecord(question="Another", rating="down", source="api"))
    assert [e.source for e in store.list()] == ["ui", "api"]


def test_a_database_from_newer_code_is_refused_with_what_to_do(tmp_path):
    path = tmp_path / "feedback.sqlite3"
    FeedbackStore(path)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION + 1,))
    with pytest.raises(FeedbackError, match="newer than this code knows"):
        FeedbackStore(path)


def test_a_file_that_is_not_a_database_gets_a_clear_error(tmp_path):
    path = tmp_path / "feedback.sqlite3"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(FeedbackError, match="not a usable feedback database"):
        FeedbackStore(path)


def test_concurrent_sessions_lose_no_writes(tmp_path, answer):
    path = tmp_path / "feedback.sqlite3"
    threads, per_thread = 8, 25
    errors: list[BaseException] = []
    ids: list[int] = []
    lock = threading.Lock()

    def session(n: int) -> None:
        # Each session opens its own store on the same file, as separate UI/API workers do.
        try:
            own = FeedbackStore(path)
            for i in range(per_thread):
                row_id = own.add(FeedbackRecord(question=f"session {n} question {i}", answer=answer, rating="up" if i % 2 else "down"))
                with lock:
                    ids.append(row_id)
        except BaseException as exc:  # collected and re-raised in the main thread
            errors.append(exc)

    workers = [threading.Thread(target=session, args=(n,)) for n in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()

    assert errors == []
    store = FeedbackStore(path)
    assert store.count() == threads * per_thread
    assert sorted(ids) == [e.id for e in store.list()]
    assert {e.question for e in store.list()} == {f"session {n} question {i}" for n in range(threads) for i in range(per_thread)}


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"question": "", "rating": "up"}, "at least 1 character"),
        ({"question": "   ", "rating": "up"}, "question is empty"),
        ({"question": "q"}, "needs a rating"),
        ({"question": "q", "rating": "sideways"}, "'up' or 'down'"),
        ({"question": "q", "rating": "up", "comment": "x" * 5000}, "at most 4000"),
        ({"question": "q", "rating": "up", "mood": "grumpy"}, "Extra inputs"),
    ],
)
def test_bad_feedback_is_refused_with_a_reason(fields, message):
    with pytest.raises(ValidationError, match=message):
        FeedbackRecord(**fields)


def test_a_flagged_label_must_be_one_of_the_answers_citations(answer):
    with pytest.raises(ValidationError, match="not one of the answer's citations"):
        FeedbackRecord(question=answer.question, answer=answer, wrong_citation=True, citation_label="s 9.9.9")


def test_hostile_text_is_stored_verbatim_not_executed(store):
    nasty = "'); DROP TABLE feedback; -- <script>alert(1)</script>"
    store.add(FeedbackRecord(question=nasty, comment=nasty, rating="down"))
    assert [e.question for e in store.list()] == [nasty]
    assert store.list()[0].comment == nasty


def test_export_groups_by_question_and_drops_the_citation_flagged_wrong(store, answer, corpus, tmp_path):
    store.add(FeedbackRecord(question=answer.question, answer=answer, rating="up"))
    store.add(FeedbackRecord(question="  until what age must a child ATTEND school? ", answer=answer, wrong_citation=True, citation_label="s 2.6.9"))
    abstained = Answer(question="When are the 2027 school holidays?", text="The Act does not say.", abstained=True, abstain_reason="no provision supports an answer")
    store.add(FeedbackRecord(question=abstained.question, answer=abstained, rating="down", comment="fair enough"))

    candidates = store.export_candidates()

    assert len(candidates) == 2
    first, second = candidates
    assert set(first) >= {"id", "question", "answerable", "expected", "key_facts", "evidence", "kind", "difficulty"}
    assert first["answerable"] is True
    assert first["expected"] == [{"document": "etra-2006", "provision": "2.1.1"}]
    assert [f["rating"] for f in first["feedback"]] == ["up", None]
    assert first["feedback"][1]["citation_label"] == "s 2.6.9"
    assert second["answerable"] is False and second["expected"] == [] and second["kind"] == "unanswerable"
    assert second["feedback"][0]["comment"] == "fair enough"
    for candidate in candidates:
        for ref in candidate["expected"]:
            assert corpus.find(ref["document"], ref["provision"]) is not None
    # The export is a gold file as it stands: curators fill in key facts and a kind, not the format.
    gold = tmp_path / "candidates.jsonl"
    gold.write_text("".join(json.dumps(c) + "\n" for c in candidates), encoding="utf-8")
    assert [item.question for item in load_gold(gold).items] == [c["question"] for c in candidates]


def test_a_delegated_abstention_exports_as_a_delegated_candidate_naming_the_delegating_provision(store, corpus):
    from assistant.evaluation.gold import GoldItem

    delegated = cited_answer(corpus, "How long can a student be suspended for?", [("etra-2006", "2.2.19", "in accordance with any Ministerial Order")])
    delegated = delegated.model_copy(update={"abstained": True, "abstain_kind": "delegated"})
    store.add(FeedbackRecord(question=delegated.question, answer=delegated, rating="up"))
    [candidate] = store.export_candidates()
    assert candidate["answerable"] is False and candidate["expected"] == []
    assert candidate["unanswerable_kind"] == "delegated" and candidate["delegated_by"] == {"document": "etra-2006", "provision": "2.2.19"}
    GoldItem.model_validate({**candidate, "difficulty": "medium"})  # once a curator rates its difficulty, it is a gold item


def test_cli_export_writes_jsonl_candidates(tmp_path, monkeypatch, answer, capsys):
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path / "data"))
    FeedbackStore.from_settings(Settings()).add(FeedbackRecord(question=answer.question, answer=answer, rating="down", wrong_citation=True))
    out = tmp_path / "out" / "candidates.jsonl"

    assert cli_main(["feedback", "export", "--out", str(out)]) == 0

    [line] = out.read_text(encoding="utf-8").splitlines()
    candidate = json.loads(line)
    assert candidate["question"] == answer.question
    assert candidate["expected"] == []  # the whole answer's citations were flagged wrong
    assert candidate["feedback"][0]["wrong_citation"] is True
    assert "wrote 1 gold-set candidates" in capsys.readouterr().out


def test_cli_list_shows_the_feedback(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path / "data"))
    assert cli_main(["feedback", "list"]) == 0
    assert "no feedback yet" in capsys.readouterr().out
    FeedbackStore.from_settings(Settings()).add(FeedbackRecord(question="Who registers teachers?", rating="up", comment="clear"))
    assert cli_main(["feedback", "list"]) == 0
    out = capsys.readouterr().out
    assert "Who registers teachers?" in out and "comment: clear" in out


def test_amending_changes_the_one_row_and_refuses_a_row_of_another_question(store, answer):
    row_id = store.add(FeedbackRecord(question=answer.question, answer=answer, rating="up"))
    store.amend(row_id, FeedbackRecord(question=answer.question, answer=answer, rating="down", comment="wrong section", wrong_citation=True, citation_label="s 2.6.9"))
    [entry] = store.list()
    assert (entry.id, entry.rating, entry.comment, entry.wrong_citation, entry.citation_label) == (row_id, "down", "wrong section", True, "s 2.6.9")
    with pytest.raises(FeedbackError, match=f"feedback #{row_id} for this question"):
        store.amend(row_id, FeedbackRecord(question="Another question?", rating="up"))
    with pytest.raises(FeedbackError):
        store.amend(row_id + 1, FeedbackRecord(question=answer.question, rating="up"))
    assert store.count() == 1
