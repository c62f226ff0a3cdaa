"""The staff UI without a browser: what the HTML shows, provision lookup, streaming, errors and feedback.

The handlers run against ``QuotingAssistant``, a deterministic stand-in for the
real pipeline (which loads an embedding model): its answers cite real provisions
through ``assistant.cite``, so every citation here is a checked one. The real
Assistant drives the app in test_ui_browser.py and test_ui_client.py.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator

import gradio as gr
import pytest

from assistant.cite import cite
from assistant.errors import IndexNotBuiltError, ProvisionNotFoundError
from assistant.records import Answer, RetrievedProvision
from assistant.web.browse import hierarchy, open_reference, resolve_reference
from assistant.web.feedback import FeedbackStore
from assistant.web.render import (
    Turn,
    plain_text,
    ref_for_citation,
    ref_for_provision,
    ref_for_rating,
    render_answer,
    render_conversation,
    render_provision,
)
from assistant.web.ui import GENERIC_ERROR, Handlers, build_ui

HOSTILE = "<script>alert(1)</script> {{constructor}} ${document.cookie}"


class QuotingAssistant:
    """Answers by quoting s 2.1.1 and s 2.6.9; abstains on holidays; fails on 'explode'. Records the history it is given."""

    def __init__(self, corpus, settings) -> None:
        self.corpus = corpus
        self.settings = settings
        self.histories: list[object] = []

    def ask(self, question, k=None, document=None, mode=None, history=None, short_answer=True) -> Answer:
        self.histories.append(history)
        if "explode" in question:
            raise RuntimeError("index file truncated at byte 4096")
        if "not built" in question:
            raise IndexNotBuiltError("no index in index/; run `assistant index build`")
        retrieved = [
            RetrievedProvision(document_id="etra-2006", provision_id=pid, label=f"s {pid}", heading=self.corpus.get("etra-2006", pid).heading, score=score, scores={"dense": score})
            for pid, score in (("2.1.1", 0.81), ("2.6.9", 0.52))
        ]
        if "holiday" in question:
            return Answer(question=question, text="The Act does not say when school holidays are.", abstained=True, abstain_reason="no provision supports an answer", retrieved=retrieved)
        citations = [
            cite(self.corpus, "etra-2006", "2.1.1", "not less than 6 nor more than 17 years of age"),
            cite(self.corpus, "etra-2006", "2.6.9", "the applicant is qualified for registration under section 2.6.8"),
        ]
        rewritten = f"{question} (following: {history[-1][0]})" if history else None
        return Answer(
            question=question,
            text=f"Children from 6 to 17 must attend school [1]. Teachers must be qualified [2]. You asked: {question}",
            citations=citations,
            retrieved=retrieved,
            rewritten_question=rewritten,
        )

    def ask_stream(self, question, k=None, document=None, mode=None, history=None) -> Iterator[str | Answer]:
        answer = self.ask(question, k, document, mode, history)
        for word in answer.text.split(" "):
            yield word + " "
        yield answer


@pytest.fixture()
def assistant(corpus, tmp_settings) -> QuotingAssistant:
    return QuotingAssistant(corpus, tmp_settings)


@pytest.fixture()
def handlers(assistant, tmp_settings) -> Handlers:
    return Handlers(assistant, tmp_settings, FeedbackStore.from_settings(tmp_settings))


def final(handlers: Handlers, question: str, turns: list[Turn] | None = None, document: str = ""):
    *_, last = handlers.respond(question, document, turns or [])
    return last


def chips(html: str) -> list[tuple[str, str]]:
    return re.findall(r'<button type="button" class="chip" data-ref="([^"]+)"[^>]*>([^<]+)</button>', html)


# --- answers --------------------------------------------------------------------------------


def test_each_marker_becomes_a_chip_with_the_citation_label(corpus, assistant):
    answer = assistant.ask("Until what age must a child attend school?")
    html = render_answer(corpus, answer, turn_index=3)
    found = chips(html)
    assert (ref_for_citation(3, 0), "s 2.1.1") in found
    assert (ref_for_citation(3, 1), "s 2.6.9(1)(a)") in found
    assert "[1]" in html and "[2]" in html  # the quotes beneath keep the numbers the text refers to
    assert "not less than 6 nor more than 17 years of age" in html


def test_an_answer_is_stamped_with_the_act_version_it_rests_on(corpus, assistant):
    html = render_answer(corpus, assistant.ask("Until what age?"), 0)
    assert "Rests on: Education and Training Reform Act 2006 (Vic), Version 107, in force from 5 April 2026" in html


def test_sources_list_the_retrieved_provisions_by_rank_without_scores(corpus, assistant):
    html = render_answer(corpus, assistant.ask("Until what age?"), 0)
    assert "Sources searched (2)" in html
    assert (ref_for_provision("etra-2006", "2.6.9"), "s 2.6.9") in chips(html)
    assert "0.81" not in html and "0.52" not in html and "score" not in html


def visible_text(html: str) -> str:
    return re.sub(r"<[^>]+>", " ", re.sub(r'title="[^"]*"', "", html))


def test_the_card_shows_the_plain_answer_first_and_each_quote_once(corpus, assistant):
    answer = assistant.ask("Until what age?").model_copy(update={"short_answer": "Until 17 [1]."})
    html = render_answer(corpus, answer, 0)
    assert html.index('class="short-answer"') < html.index('class="cites"')
    text = visible_text(html)
    for citation in answer.citations:
        assert text.count(" ".join(citation.quote.split())) == 1, citation.label
    assert "You asked" not in text  # the stitched answer text is not shown beside the quotes


def test_without_a_short_answer_the_first_sentence_leads_and_its_quotes_are_not_repeated(corpus, assistant):
    answer = assistant.ask("Until what age?")
    answer = answer.model_copy(update={"text": f"Under s 2.1.1: “{answer.citations[0].quote}” [1].\nUnder s 2.6.9(1)(a): “{answer.citations[1].quote}” [2]."})
    text = visible_text(render_answer(corpus, answer, 0))
    assert text.count(answer.citations[0].quote) == 1 and text.count(answer.citations[1].quote) == 1
    assert "Also quoted" in text


def test_a_lead_in_is_listed_with_the_paragraph_it_introduces(corpus):
    lead = cite(corpus, "etra-2006", "2.1.1", "It is the duty of the parent of a child of not less than 6 nor more than 17 years of age—")
    para = cite(corpus, "etra-2006", "2.1.1", "to enrol the child at a registered school")
    answer = Answer(question="q", text="Under s 2.1.1: “…” [1] … “…” [2].", citations=[lead, para], short_answer="Parents must enrol the child [2].")
    html = render_answer(corpus, answer, 0)
    items = re.findall(r"<li>.*?</li>", html[html.index('class="cites"'):])
    assert len(items) == 1 and "[1, 2]" in items[0] and "17 years of age—”" in items[0] and "to enrol the child" in items[0]


def test_a_paragraph_ending_in_a_dash_is_not_listed_as_the_lead_in_of_another_paragraph(corpus):
    """s 2.5.19(b) ends "—" because the words after its list follow; it does not introduce (e)(i)."""
    quotes = [
        "the review committee may—",
        "(d) amend or cancel the student's grade",
        "If a review committee is satisfied on the balance of probabilities that a student—",
        "(b) has obtained an assessment by the Authority by fraudulent, illegal or unfair means—",
        "(i) amend or cancel the student's grade",
    ]
    citations = [cite(corpus, "etra-2006", "2.5.19", q) for q in quotes]
    assert [c.label for c in citations] == ["s 2.5.19", "s 2.5.19(d)", "s 2.5.19", "s 2.5.19(b)", "s 2.5.19(e)(i)"]
    answer = Answer(question="q", text="Under s 2.5.19: “…” [1] … “…” [2] … [5].", citations=citations, short_answer="The committee may amend the grade [2].")
    html = render_answer(corpus, answer, 0)
    items = re.findall(r"<li>.*?</li>", html[html.index('class="cites"'):], re.DOTALL)
    assert ["[1, 2]" in items[0], "[3, 4]" in items[1], "[5]" in items[2]] == [True, True, True] and len(items) == 3


def test_a_quote_whose_lead_in_the_export_lost_is_shown_with_a_note_saying_so(corpus):
    """s 4.8.1(2)'s opening words ("An application for review must be made within 28 days after …—") are not in the source copy."""
    citation = cite(corpus, "etra-2006", "4.8.1", "(a) the day on which the decision is made")
    answer = Answer(question="q", text="Under s 4.8.1(2)(a) of the Act: … [1].", citations=[citation], short_answer="The day on which the decision is made [1].")
    html = render_answer(corpus, answer, 0)
    cites = html[html.index('class="cites"') :]
    assert citation.label == "s 4.8.1(2)(a)"
    assert cites.index("missing from the source copy: see the authorised version") < cites.index("“(a) the day on which the decision is made”")


def test_an_abstention_says_why_in_staff_words_with_no_figures(corpus, assistant):
    answer = assistant.ask("When are the school holidays?").model_copy(
        update={"abstain_kind": "not_in_sources", "abstain_reason": "Neither the Act nor the VET clusters policy page says this.", "abstain_detail": "unanswerable probability 0.71, threshold 0.48"}
    )
    html = render_answer(corpus, answer, 0)
    assert "Not answered by the law text: not in the sources" in html
    assert "Neither the Act nor the VET clusters policy page says this." in html
    assert "0.71" not in html and "threshold" not in html and not re.search(r"\b0\.\d", html)


def test_untrusted_text_is_escaped_everywhere(corpus, assistant):
    turns = [Turn(question=HOSTILE, answer=assistant.ask(HOSTILE))]
    html = render_conversation(corpus, turns)
    assert "<script>" not in html
    assert "{{" not in html and "${" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_rewritten_follow_up_is_shown(corpus, assistant):
    first = assistant.ask("Until what age must a child attend school?")
    follow = assistant.ask("and for teachers?", history=[(first.question, first.text)])
    html = render_conversation(corpus, [Turn(first.question, first), Turn(follow.question, follow)])
    # The follow-up is shown as typed, with the question it was read with (not the joined text searched).
    assert "Read as a follow-up to “Until what age must a child attend school?”" in html
    assert '<div class="q">and for teachers?</div>' in html


def test_plain_text_copy_carries_citations_quotes_and_version(corpus, assistant):
    text = plain_text(corpus, assistant.ask("Until what age?"))
    assert "[1] s 2.1.1 (Attendance at school): “not less than 6 nor more than 17 years of age”" in text
    assert "[2] s 2.6.9(1)(a)" in text
    assert "Rests on: Education and Training Reform Act 2006 (Vic), Version 107" in text
    assert "<" not in text


# --- the provision panel ----------------------------------------------------------------------


def test_a_citation_opens_its_provision_with_exactly_the_quote_highlighted(corpus, assistant):
    answer = assistant.ask("Until what age?")
    html = open_reference(corpus, [Turn(answer.question, answer)], ref_for_citation(0, 1))
    marked = re.findall(r'<mark class="quote">(.*?)</mark>', html)
    assert "".join(re.sub(r"<[^>]+>", "", m) for m in marked) == answer.citations[1].quote
    assert "Registration as a teacher" in html
    assert "Chapter 2—School education" in html and "Division 3—Registration of teachers" in html


def test_cross_references_link_to_the_provisions_they_name(corpus):
    provision = corpus.get("etra-2006", "2.6.9")
    html = render_provision(corpus, provision)
    links = dict(re.findall(r'<a class="xref" data-ref="([^"]+)"[^>]*>([^<]+)</a>', html))
    assert links[ref_for_provision("etra-2006", "2.6.8")] == "section 2.6.8"
    assert "subsection (1A)" not in links.values()  # no target provision, so not a link
    opened = open_reference(corpus, [], ref_for_provision("etra-2006", "2.6.8"))
    assert "Qualification for registration as a teacher" in opened


def test_amendment_history_is_collapsed_under_the_law_text(corpus):
    provision = corpus.get("etra-2006", "2.6.9")
    html = render_provision(corpus, provision)
    assert f"<details class=\"history\"><summary>Amendment history ({len(provision.notes)} notes)</summary>" in html
    assert html.index("Amendment history") > html.index("The Institute may register")


def test_a_stale_or_unknown_ref_gives_a_message_not_an_error(corpus):
    assert "earlier conversation" in open_reference(corpus, [], ref_for_citation(5, 0))
    assert "No provision 9.9.9" in open_reference(corpus, [], ref_for_provision("etra-2006", "9.9.9"))
    assert "Nothing to open" in open_reference(corpus, [], "javascript:alert(1)")


# --- the provision browser --------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed, document, expected_uid, highlighted",
    [
        ("2.6.9", None, "etra-2006/2.6.9", None),
        ("s 2.6.9(1A)", None, "etra-2006/2.6.9", "(1A)"),
        ("section 2.1.1", None, "etra-2006/2.1.1", None),
        ("Sch 2 cl 2", None, "etra-2006/Sch 2 cl 2", None),
        ("schedule 2 clause 2(3)", None, "etra-2006/Sch 2 cl 2", "(3)"),
        ("cl 2 of Sch 2", None, "etra-2006/Sch 2 cl 2", None),
        ("Schedule 3", None, "etra-2006/Sch 3", None),
        ("function 4", None, "vet-clusters/4", None),
        ("4", "vet-clusters", "vet-clusters/4", None),
        ("Registration as a teacher", None, "etra-2006/2.6.9", None),
    ],
)
def test_typed_references_open_the_right_provision(corpus, typed, document, expected_uid, highlighted):
    provision, span = resolve_reference(corpus, typed, document)
    assert provision.uid == expected_uid
    if highlighted:
        unit = provision.unit(highlighted)
        assert span == (unit.start, unit.end)
    else:
        assert span is None


@pytest.mark.parametrize("typed", ["", "   ", "9.9.9", "x" * 500, "<img src=x onerror=alert(1)>"])
def test_unknown_references_say_what_to_type(corpus, typed):
    with pytest.raises(ProvisionNotFoundError, match="2.6.9"):
        resolve_reference(corpus, typed)


def test_hierarchy_groups_every_provision_once_in_document_order(corpus):
    groups = hierarchy(corpus, "etra-2006")
    division = "Chapter 2—School education › Part 2.6—Victorian Institute of Teaching › Division 3—Registration of teachers"
    assert "2.6.9" in [p.provision_id for p in groups[division]]
    flat = [p for members in groups.values() for p in members]
    assert sorted(p.uid for p in flat) == sorted(p.uid for p in corpus.document("etra-2006").provisions)
    firsts = [members[0].order for members in groups.values()]
    assert firsts == sorted(firsts)


def test_browser_handlers_fill_the_dropdowns_and_the_panel(handlers):
    group_update, _ = handlers.groups_for("vet-clusters")
    [group] = group_update["choices"]
    choices = handlers.provisions_in("vet-clusters", group[0] if isinstance(group, (list, tuple)) else group)["choices"]
    assert [value for _, value in choices] == ["1", "2", "3", "4", "5"]
    assert "VET clusters, function 4" in choices[3][0]
    assert "Facilitate shared provision of VET" in handlers.open_picked("vet-clusters", "3")
    panel, status = handlers.open_typed("Sch 2 cl 2", "etra-2006")
    assert "Sch 2 cl 2" in status and "Sch 2 cl 2" in panel
    _, status = handlers.open_typed("nonsense words that match nothing", "etra-2006")
    assert status.startswith("Not found: no provision matches")


# --- asking, streaming, errors ------------------------------------------------------------------


def test_the_answer_streams_in_then_shows_its_chips(handlers):
    views = list(handlers.respond("Until what age must a child attend school?", "", []))
    assert len(views) > 3
    assert "Searching the Act" in views[0][0]
    partial = [v[0] for v in views[1:-1]]
    assert any("Children from 6" in html and "chip" not in html for html in partial)
    html, turns, question_box, copy, _, panel = views[-1]
    assert ("cite:0:0", "s 2.1.1") in chips(html)
    assert question_box == "" and "[1] s 2.1.1" in copy
    assert turns[0].answer is not None
    assert '<mark class="quote">' in panel and "Attendance at school" in panel  # the panel follows the newest answer


def test_a_follow_up_sends_the_conversation_so_far(handlers, assistant):
    _, turns, *_ = final(handlers, "Until what age must a child attend school?")
    html, turns, *_ = final(handlers, "and for teachers?", turns)
    assert [q for q, _ in assistant.histories[-1]] == ["Until what age must a child attend school?"]
    assert "Read as a follow-up to “Until what age must a child attend school?”" in html and len(turns) == 2


def test_the_feedback_form_stays_closed_until_a_thumb_is_clicked(handlers):
    *_, form, _ = final(handlers, "Until what age?")
    assert form["visible"] is False


@pytest.mark.parametrize(
    "question, shown",
    [
        ("please explode", GENERIC_ERROR),
        ("index not built", "The assistant is not ready: no index in index/; run `assistant index build`"),
        ("x" * 5000, "the question is 5,000 characters long; the limit is 2,000"),
        ("\x00\x1b", "the question is empty"),
    ],
)
def test_failures_become_a_friendly_message_in_the_chat(handlers, question, shown):
    html, turns, *_ = final(handlers, question)
    assert shown in html
    assert "Traceback" not in html and "truncated at byte" not in html
    assert turns[-1].error and turns[-1].answer is None


def test_an_empty_question_adds_no_turn_but_says_what_to_do(handlers):
    html, turns, *_ = final(handlers, "   ")
    assert turns == [] and "Ask a question" in html
    assert "Type a question first" in html
    html, *_ = final(handlers, "Until what age?")
    assert "Type a question first" not in html  # the hint passes with the next question


def test_a_long_question_is_shown_trimmed_and_kept_whole(handlers):
    long_question = "A parent rang about her son. " * 60 + "Until what age must he attend school?"
    html, turns, *_ = final(handlers, long_question)
    shown = re.search(r'<div class="q">(.*?)</div>', html).group(1)
    assert len(shown) < 420 and shown.endswith("…")
    assert turns[-1].question == long_question.strip()


# --- feedback -------------------------------------------------------------------------------------


def rate(handlers, turns, ref, rated=None, document=""):
    return handlers.click(turns, rated, document, gr.SelectData(None, {"index": 0, "value": ref}))


def test_a_thumb_and_then_a_comment_on_the_same_answer_are_one_record(handlers, tmp_settings):
    html, turns, *_ = final(handlers, "Until what age must a child attend school?", document="etra-2006")
    assert f'data-ref="{ref_for_rating(0, "down")}"' in html  # the thumbs are on the answer itself
    _, _, form, status, which, rated, comment_box, wrong_box = rate(handlers, turns, ref_for_rating(0, "down"), document="etra-2006")
    assert form["visible"] is True and status.startswith("Thank you: feedback #1 saved (not helpful)")
    assert which["choices"] == ["s 2.1.1", "s 2.6.9(1)(a)"]
    status, rated = handlers.add_to_feedback(turns, rated, True, "s 2.6.9(1)(a)", "  wrong section  ", "etra-2006")
    assert status.startswith("Thank you: feedback #1 saved (not helpful, with your comment or flag)")
    _, _, _, status, *_ = rate(handlers, turns, ref_for_rating(0, "up"), rated, "etra-2006")  # changed their mind
    with sqlite3.connect(tmp_settings.data_dir / "feedback.sqlite3") as conn:
        rows = conn.execute("SELECT question, rating, comment, wrong_citation, citation_label, source, settings_json FROM feedback").fetchall()
    assert len(rows) == 1
    assert rows[0][:6] == ("Until what age must a child attend school?", "up", "wrong section", 1, "s 2.6.9(1)(a)", "ui")
    assert '"document_filter": "etra-2006"' in rows[0][6]


def test_each_answer_rated_is_its_own_record(handlers, tmp_settings):
    _, turns, *_ = final(handlers, "Until what age must a child attend school?")
    _, turns, *_ = final(handlers, "and for teachers?", turns)
    *_, rated, _, _ = rate(handlers, turns, ref_for_rating(0, "up"))
    *_, rated, _, _ = rate(handlers, turns, ref_for_rating(1, "down"), rated)
    assert rated["turn"] == 1 and FeedbackStore.from_settings(tmp_settings).count() == 2


def test_feedback_without_an_answer_or_content_is_explained_not_saved(handlers, tmp_settings):
    status, rated = handlers.add_to_feedback([], None, False, None, "a comment", "")
    assert status.startswith("Click Yes or No under an answer first") and rated is None
    _, turns, *_ = final(handlers, "Until what age?")
    _, _, _, status, *_ = rate(handlers, turns, ref_for_rating(5, "up"))
    assert "earlier conversation" in status
    _, _, _, status, *_ = rate(handlers, turns, "rate:zero:up")
    assert status == "Nothing to rate there."
    status, _ = handlers.add_to_feedback(turns, {"turn": 0, "rating": None}, False, None, "", "")
    assert status == "Not saved: feedback needs a rating ('up' or 'down'), a comment, or wrong_citation"
    assert FeedbackStore.from_settings(tmp_settings).count() == 0


# --- the Blocks app ----------------------------------------------------------------------------


def test_the_app_exposes_only_the_ask_endpoint_to_api_clients(assistant, tmp_settings):
    demo = build_ui(assistant, tmp_settings)
    assert isinstance(demo, gr.Blocks)
    public = {name for name, info in demo.get_api_info()["named_endpoints"].items()}
    assert public == {"/ask"}
    assert demo._queue.default_concurrency_limit == tmp_settings.ui_concurrency


@pytest.mark.parametrize(
    "question, shown",
    [("please explode", GENERIC_ERROR), ("index not built", "The assistant is not ready: no index in index/; run `assistant index build`")],
)
def test_the_api_endpoint_reports_failures_as_plain_messages(handlers, question, shown):
    with pytest.raises(gr.Error) as caught:
        handlers.ask_api(question)
    assert caught.value.message == shown


def test_the_api_endpoint_returns_the_answer_json(handlers, assistant):
    result = handlers.ask_api("Until what age?", "etra-2006")
    assert Answer.model_validate(result) == assistant.ask("Until what age?")


def test_the_panel_closes_and_a_chip_clears_a_stale_browse_warning(handlers, corpus):
    _, turns, *_ = final(handlers, "Until what age?")
    panel, status, *_ = rate(handlers, turns, ref_for_citation(0, 0))
    assert 'data-ref="close:"' in panel and status == ""
    closed, *_ = rate(handlers, turns, "close:")
    assert "Click a citation chip" in closed
