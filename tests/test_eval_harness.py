"""The evaluation harness: a gold file in, results.jsonl, summary.json and report.md out.

Most tests drive the harness with a scripted assistant whose answers are real
``Answer`` records with checked citations, so the expected figures are known
exactly; one slow test runs the real assistant on a gold file written here.
"""

from __future__ import annotations

import hashlib
import json

import pytest

from assistant.cite import cite
from assistant.cli import eval as eval_commands
from assistant.cli import main
from assistant.errors import EvaluationError, GoldSetError
from assistant.evaluation.run import parse_configs, run_evaluation
from assistant.records import Answer, RetrievedProvision
from assistant.settings import Settings

ITEMS = [
    # Answered correctly, citing a pinpoint inside the expected section.
    {"id": "a-right", "question": "Until what age must children attend school?", "answerable": True, "expected": [{"document": "etra-2006", "provision": "2.1.1"}], "key_facts": ["17"], "evidence": "nor more than 17 years of age", "kind": "numeric", "difficulty": "easy"},
    # Answered citing the wrong section although the right one was retrieved second.
    {"id": "b-wrong", "question": "Who registers teachers?", "answerable": True, "expected": [{"document": "etra-2006", "provision": "2.6.9"}], "key_facts": ["Institute"], "evidence": "The Institute", "kind": "obligation", "difficulty": "medium"},
    # Unanswerable, and the assistant abstains.
    {"id": "c-abstain", "question": "How much annual leave does a teacher get?", "answerable": False, "expected": [], "kind": "unanswerable", "difficulty": "medium"},
    # The assistant raises on this one.
    {"id": "d-raises", "question": "What does the VET cluster do about timetables?", "answerable": True, "expected": [{"document": "vet-clusters", "provision": "4"}], "key_facts": [], "evidence": "x", "kind": "policy", "difficulty": "hard"},
]


def retrieved(*pairs: tuple[str, str]) -> list[RetrievedProvision]:
    return [RetrievedProvision(document_id=d, provision_id=p, label=p, heading="", score=1.0 / (i + 1)) for i, (d, p) in enumerate(pairs)]


class ScriptedAssistant:
    """Answers each gold question the way the test scripts it, recording every call."""

    def __init__(self, corpus):
        self.calls: list[tuple[str, str | None, str | None, int | None]] = []
        self.histories: list[list[tuple[str, str]] | None] = []
        quote = "It is the duty of the parent of a child of not less than 6 nor more than 17 years of age"
        self.answers = {
            ITEMS[0]["question"]: Answer(
                question=ITEMS[0]["question"],
                text="Parents must enrol children of not less than 6 nor more than 17 years of age [1].",
                citations=[cite(corpus, "etra-2006", "2.1.1", quote)],
                retrieved=retrieved(("etra-2006", "2.1.1"), ("etra-2006", "2.1.2")),
            ),
            ITEMS[1]["question"]: Answer(
                question=ITEMS[1]["question"],
                text="The school council does [1].",
                citations=[cite(corpus, "etra-2006", "2.3.2", corpus.get("etra-2006", "2.3.2").text[:40])],
                retrieved=retrieved(("etra-2006", "2.3.2"), ("etra-2006", "2.6.9")),
            ),
            ITEMS[2]["question"]: Answer(question=ITEMS[2]["question"], text="", abstained=True, abstain_reason="no provision supports an answer", retrieved=retrieved(("etra-2006", "2.4.1"))),
        }

    def ask(self, question, k=None, document=None, mode=None, retrieval_mode=None, history=None):
        self.calls.append((question, mode, retrieval_mode, k))
        self.histories.append(history)
        if question not in self.answers:
            raise RuntimeError("index exploded")
        return self.answers[question]


@pytest.fixture()
def gold_file(tmp_path):
    path = tmp_path / "never_seen.jsonl"
    path.write_text("\n".join(json.dumps(item) for item in ITEMS) + "\n", encoding="utf-8")
    return path


@pytest.fixture()
def scripted(corpus):
    return ScriptedAssistant(corpus)


def run_scripted(scripted, gold_file, **kwargs):
    loads = []

    def loader(settings):
        loads.append(settings)
        return scripted

    run = run_evaluation(Settings(), gold_file, progress=False, loader=loader, warn=lambda message: None, **kwargs)
    return run, loads


def test_writes_results_summary_and_report(scripted, gold_file, tmp_path):
    out = tmp_path / "report"
    run, _ = run_scripted(scripted, gold_file, out=out)
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert [r["id"] for r in rows] == ["a-right", "b-wrong", "c-abstain", "d-raises"]
    first = rows[0]
    assert set(first) >= {"id", "question", "expected", "retrieved", "answer", "citations", "abstained", "latency_ms"}
    assert [r["key"] for r in first["retrieved"]] == ["etra-2006/2.1.1", "etra-2006/2.1.2"]
    assert first["citations"][0]["key"] == "etra-2006/2.1.1" and first["citations"][0]["label"].startswith("s 2.1.1")
    assert rows[3]["error"] == "RuntimeError: index exploded" and rows[3]["abstained"]

    summary = json.loads((out / "summary.json").read_text())
    overall = summary["overall"]
    assert overall["items"] == 4 and overall["errors"] == 1
    assert overall["recall@1"] == pytest.approx(1 / 3)  # a: rank 1, b: rank 2, d: nothing retrieved
    assert overall["mrr@10"] == pytest.approx((1 + 0.5 + 0) / 3)
    assert overall["citation_precision"] == pytest.approx(0.5)  # a right, b wrong; d raised, so not scored
    assert overall["key_fact_recall"] == pytest.approx(0.5)
    assert overall["abstention_recall"] == 1.0
    assert overall["false_abstention_rate"] == pytest.approx(1 / 3)
    assert overall["crag_score"] == pytest.approx((1 - 1 + 1 + 0) / 4)
    assert set(summary["by_kind"]) == {"numeric", "obligation", "unanswerable", "policy"}
    assert set(summary["by_document"]) == {"etra-2006", "vet-clusters", "none"}
    assert summary["by_difficulty"]["medium"]["items"] == 2

    provenance = summary["provenance"]
    assert provenance["gold"]["sha256"] == hashlib.sha256(gold_file.read_bytes()).hexdigest()
    assert len(provenance["git_commit"]) == 40
    assert set(provenance["corpus_sha256"]) and all(len(h) == 64 for h in provenance["corpus_sha256"].values())
    assert provenance["embedding_model"]["id"] and len(provenance["embedding_model"]["weights_sha256"]) == 64
    assert provenance["reranker"]["id"] == "shipped" and len(provenance["reranker"]["weights_sha256"]) == 64
    assert provenance["settings"]["retrieval_mode"] == Settings().retrieval_mode
    assert provenance["date"].startswith("20")


def test_summary_never_records_secrets(scripted, gold_file, tmp_path):
    settings = Settings(ui_password="hunter2-secret", api_tokens=["tok-secret-123"])
    run_evaluation(settings, gold_file, out=tmp_path, progress=False, loader=lambda s: scripted, warn=lambda m: None)
    summary = (tmp_path / "summary.json").read_text()
    assert "hunter2-secret" not in summary and "tok-secret-123" not in summary


def test_report_says_what_fails_and_why(scripted, gold_file, tmp_path):
    out = tmp_path / "report"
    run_scripted(scripted, gold_file, out=out)
    report = (out / "report.md").read_text()
    for heading in ("## Headline", "### By kind", "### By difficulty", "### By document", "## Side by side", "## What fails and why"):
        assert heading in report
    assert "b-wrong" in report and "wrong citation: retrieved but not cited" in report and "rank 2" in report
    assert "d-raises" in report and "index exploded" in report
    assert "c-abstain" not in report.split("## What fails and why")[1]  # a correct abstention is not a failure
    shortfalls = report.split("### Short of the issue's targets")[1]
    assert "1 of 3 answerable items have an expected provision outside the top 5 (1 with none retrieved at all)" in shortfalls
    assert "1 of 2 answers cite a provision that is not expected" in shortfalls and "etra-2006/2.3.2 (1)" in shortfalls
    assert "Abstention recall" not in shortfalls  # met: the one unanswerable question was refused


def test_side_by_side_shares_one_assistant_and_plots(scripted, gold_file, tmp_path):
    out = tmp_path / "report"
    run, loads = run_scripted(scripted, gold_file, out=out, configs="bm25,dense,hybrid,full,generative")
    default = Settings()
    assert [r.config.name for r in run.runs][0] == f"{default.retrieval_mode}/{default.answer_mode}"
    assert {r.config.retrieval for r in run.runs} == {"bm25", "dense", "hybrid", "full"}
    assert len(loads) == 1  # modes switch per call: one model, one index
    assert "generative" in next(iter(run.skipped))  # no generative model is configured
    assert {(mode, retrieval) for _, mode, retrieval, _ in scripted.calls} == {("extractive", m) for m in ("bm25", "dense", "hybrid", "full")}
    assert (out / "side_by_side.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = (out / "report.md").read_text()
    assert "![Side-by-side comparison](side_by_side.png)" in report and "`bm25/extractive`" in report
    assert (out / "configs" / "bm25-extractive" / "results.jsonl").is_file()


def test_generative_configuration_runs_when_a_model_is_configured(scripted, gold_file):
    settings = Settings(generative_model="/models/some-llm", answer_mode="extractive", retrieval_mode="full")
    run = run_evaluation(settings, gold_file, configs="generative", progress=False, loader=lambda s: scripted, warn=lambda m: None)
    assert not run.skipped and [r.config.name for r in run.runs] == ["full/extractive", "full/generative"]
    assert {(mode, retrieval) for _, mode, retrieval, _ in scripted.calls} == {("extractive", "full"), ("generative", "full")}


@pytest.mark.parametrize(
    ("spec", "names"),
    [
        ("", ["full/extractive"]),
        ("bm25, dense", ["full/extractive", "bm25/extractive", "dense/extractive"]),
        ("full,default,full/extractive", ["full/extractive"]),
        ("generative", ["full/extractive", "full/generative"]),
        ("bm25/generative", ["full/extractive", "bm25/generative"]),
    ],
)
def test_parse_configs(spec, names):
    assert [c.name for c in parse_configs(spec, Settings(retrieval_mode="full", answer_mode="extractive"))] == names


@pytest.mark.parametrize("spec", ["bm2", "full/abstractive", "sparse/extractive"])
def test_unknown_configuration_names_the_choices(spec):
    with pytest.raises(EvaluationError, match="unknown configuration .* use a retrieval mode"):
        parse_configs(spec, Settings())


def test_k_and_limit_reach_the_assistant(scripted, gold_file):
    run, _ = run_scripted(scripted, gold_file, k=12, limit=2)
    assert len(run.headline.results) == 2
    assert {k for *_, k in scripted.calls} == {12}


def test_cli_gate_fails_with_the_shortfall(scripted, gold_file, tmp_path, monkeypatch, capsys):
    thresholds = tmp_path / "thresholds.json"
    thresholds.write_text(json.dumps({"min": {"recall@1": 0.9, "abstention_recall": 1.0}, "max": {"false_abstention_rate": 0.5}}))
    monkeypatch.setattr(eval_commands, "run_evaluation", lambda *a, **kw: run_evaluation(*a, **{**kw, "loader": lambda s: scripted}))
    code = main(["eval", "--gold", str(gold_file), "--gate", str(thresholds), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 1
    assert "recall@1 = 0.3333 is below the minimum 0.9 by 0.5667" in err
    assert "1 item(s) raised an error" in err
    assert "abstention_recall" not in err and "false_abstention_rate" not in err


def test_cli_reports_a_malformed_gold_file(tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x"}\n', encoding="utf-8")
    assert main(["eval", "--gold", str(bad), "--no-progress"]) == 2
    assert f"{bad}:1" in capsys.readouterr().err


def test_cli_check_lists_corpus_problems(tmp_path, capsys):
    path = tmp_path / "gold.jsonl"
    path.write_text(json.dumps({**ITEMS[0], "expected": [{"document": "etra-2006", "provision": "9.9.9"}]}) + "\n", encoding="utf-8")
    assert main(["eval", "--check", "--gold", str(path)]) == 1
    assert "'etra-2006/9.9.9' is not in the corpus" in capsys.readouterr().out


def test_gold_loader_error_is_an_assistant_error(tmp_path):
    with pytest.raises(GoldSetError):
        run_evaluation(Settings(), tmp_path / "missing.jsonl", loader=lambda s: None, progress=False)


@pytest.mark.slow
def test_real_assistant_on_a_gold_file_never_seen_before(gold_file, tmp_path):
    """The shipped assistant, through the CLI, on a file written here: every item gets a result and the report is written."""
    out = tmp_path / "report"
    assert main(["eval", "--gold", str(gold_file), "--out", str(out), "--configs", "bm25", "--no-progress"]) == 0
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert [r["id"] for r in rows] == [item["id"] for item in ITEMS]
    assert all(r["error"] is None for r in rows)
    assert all(r["retrieved"] for r in rows)
    assert (out / "side_by_side.png").is_file() and "## What fails and why" in (out / "report.md").read_text()


def answer_for(question, *, cited=(), retrieved_ids=(), abstained=False, text="", corpus=None):
    citations = [cite(corpus, "etra-2006", pid, corpus.get("etra-2006", pid).text[:30]) for pid in cited]
    return Answer(question=question, text=text, citations=citations, abstained=abstained, retrieved=retrieved(*(("etra-2006", p) for p in retrieved_ids)))


@pytest.mark.parametrize(
    ("answerable", "answer", "cause"),
    [
        (True, dict(cited=["2.1.1"], retrieved_ids=["2.1.1"], text="aged 17"), None),
        (False, dict(abstained=True, retrieved_ids=["2.1.1"]), None),
        (False, dict(cited=["2.1.1"], retrieved_ids=["2.1.1"], text="x"), "answered an unanswerable question"),
        (True, dict(abstained=True, retrieved_ids=["2.1.2", "2.1.1"]), "false abstention"),
        (True, dict(cited=["2.1.2"], retrieved_ids=["2.1.2"], text="aged 17"), "wrong citation: retrieval miss"),
        (True, dict(cited=["2.1.2"], retrieved_ids=["2.1.2", "2.1.1"], text="aged 17"), "wrong citation: retrieved but not cited"),
        (True, dict(cited=["2.1.1"], retrieved_ids=["2.1.1"], text="aged 16"), "key fact missing"),
        (True, dict(cited=["2.1.1", "2.1.2"], retrieved_ids=["2.1.1"], text="aged 17"), "extra citation"),
        (True, dict(cited=["2.1.1"], retrieved_ids=["2.1.2", "2.1.1"], text="aged 17"), "expected provision ranked low"),
    ],
    ids=["right", "right-abstention", "answered-unanswerable", "false-abstention", "retrieval-miss", "not-cited", "key-fact", "extra-citation", "ranked-low"],
)
def test_diagnose_names_the_main_cause(corpus, answerable, answer, cause):
    from assistant.evaluation.gold import GoldItem
    from assistant.evaluation.report import diagnose
    from assistant.evaluation.run import result_for

    fields = ITEMS[0] if answerable else ITEMS[2]
    item = GoldItem.model_validate(fields)
    result = result_for(item, answer_for(item.question, corpus=corpus, **answer), 5.0)
    why = diagnose(result)
    assert (why[0] if why else None) == cause


def test_worst_items_take_turns_across_kinds(corpus):
    """Three wrong numeric answers and one definition missing a key fact: the worst two show both kinds."""
    from assistant.evaluation.gold import GoldItem
    from assistant.evaluation.report import worst_items
    from assistant.evaluation.run import result_for

    results = []
    for n in range(3):
        item = GoldItem.model_validate({**ITEMS[0], "id": f"n{n}"})
        results.append(result_for(item, answer_for(item.question, cited=["2.1.2"], retrieved_ids=["2.1.2"], text="x", corpus=corpus), 5.0))
    definition = GoldItem.model_validate({**ITEMS[0], "id": "d0", "kind": "definition"})
    results.append(result_for(definition, answer_for(definition.question, cited=["2.1.1"], retrieved_ids=["2.1.1"], text="no age", corpus=corpus), 5.0))
    assert [r.id for r, _ in worst_items(results, n=2)] == ["n0", "d0"]
    assert len(worst_items(results, n=10)) == 4


def test_a_follow_up_is_asked_after_the_question_and_answer_it_follows(scripted, tmp_path):
    follow = {**ITEMS[1], "id": "b-follow", "follow_up_of": "a-right"}
    path = tmp_path / "pairs.jsonl"
    path.write_text("\n".join(json.dumps(item) for item in (ITEMS[0], follow)) + "\n", encoding="utf-8")
    run, _ = run_scripted(scripted, path)
    first_answer = scripted.answers[ITEMS[0]["question"]].text
    assert scripted.histories == [None, [(ITEMS[0]["question"], first_answer)]]
    assert run.headline.summary["by_style"] == {"unspecified": run.headline.summary["by_style"]["unspecified"]}
    # Follow-ups are scored apart, so a change to how they are resolved shows on its own.
    assert {name: group["items"] for name, group in run.headline.summary["by_turn"].items()} == {"first": 1, "follow-up": 1}
