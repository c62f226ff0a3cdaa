"""The staff chat UI: a Gradio Blocks app over the same ``Assistant`` the CLI and HTTP API call.

What staff see: the answer streaming in, each citation a chip that opens the
provision beside it with the quoted words highlighted, what the answer rests on
(Act version and date), a clearly different look when the law does not answer
the question, a provision browser, and feedback that lands in SQLite for curators.

The HTML comes from ``assistant.web.render`` and the panel's lookups from
``assistant.web.browse``; here are the event handlers (plain methods of
component values, so tests call them directly) and the layout that wires them.

Example::

    blocks = build_ui(Assistant.load(settings), settings)
    app = gr.mount_gradio_app(fastapi_app, blocks, path="/")   # as assistant/web/server.py does
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import replace
from typing import Any, Protocol

import gradio as gr

from assistant.answer.card import quote_groups
from assistant.cite import provision_label
from assistant.corpus import Corpus
from assistant.errors import (
    AssistantError,
    InvalidQuestionError,
    ProvisionNotFoundError,
)
from assistant.question import clean_question
from assistant.records import Answer
from assistant.settings import Settings
from assistant.web.browse import hierarchy, open_reference, resolve_reference
from assistant.web.feedback import (
    MAX_COMMENT_CHARS,
    FeedbackError,
    FeedbackStore,
)
from assistant.web.rating import Rating
from assistant.web.render import (
    CLICK_JS,
    CONVERSATION_CSS,
    PANEL_CSS,
    PANEL_HINT,
    PANEL_JS,
    Turn,
    esc,
    panel_message,
    plain_text,
    ref_for_citation,
    render_conversation,
    render_provision,
)

log = logging.getLogger(__name__)

TITLE = "Victorian education law assistant"
EXAMPLE_QUESTIONS = (
    "Until what age does a child have to attend school in Victoria?",
    "Who can give a child an exemption from having to go to school?",
    "Can the principal ban a parent from coming onto the school grounds?",
    "What are the operational functions of VET clusters?",
    "What are the Victorian school holiday dates for 2027?",
)
ALL_DOCUMENTS = ""
# Type that renders without a web font: nothing is fetched from another host.
SYSTEM_FONTS = ("system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica Neue", "Arial", "Noto Sans", "Liberation Sans", "sans-serif")
SYSTEM_MONO_FONTS = ("ui-monospace", "SFMono-Regular", "Consolas", "Liberation Mono", "monospace")
BLANK_QUESTION = "Type a question first, for example: Until what age does a child have to attend school?"
GENERIC_ERROR = "Sorry, something went wrong while answering. The problem has been logged; please try again, or rephrase the question."


class AssistantLike(Protocol):
    """What the UI needs from ``assistant.pipeline.Assistant``."""

    corpus: Corpus
    settings: Settings

    def ask(self, question: str, k: int | None = None, document: str | None = None, mode: str | None = None, history: Any = None, short_answer: bool = True) -> Answer: ...

    def ask_stream(self, question: str, k: int | None = None, document: str | None = None, mode: str | None = None, history: Any = None) -> Iterator[str | Answer]: ...


def friendly_error(exc: BaseException) -> str:
    """What staff see instead of a stack trace."""
    if isinstance(exc, (InvalidQuestionError, ProvisionNotFoundError, FeedbackError)):
        return str(exc)
    if isinstance(exc, AssistantError):
        return f"The assistant is not ready: {exc}"
    return GENERIC_ERROR


def history_of(turns: list[Turn]) -> list[tuple[str, str]]:
    """The earlier answered turns as (question, answer text), oldest first, for rewriting follow-up questions."""
    return [(t.question, t.answer.text) for t in turns if t.answer is not None]


# --------------------------------------------------------------------------------------
# Event handlers (plain functions of component values, so tests can call them directly)
# --------------------------------------------------------------------------------------


class Handlers:
    """The UI's behaviour, bound to one assistant and one feedback store."""

    def __init__(self, assistant: AssistantLike, settings: Settings, store: FeedbackStore | None = None) -> None:
        self.assistant = assistant
        self.settings = settings
        self.corpus = assistant.corpus
        self.rating = Rating(settings, store, friendly_error)

    def respond(self, question: str, document: str, turns: list[Turn]) -> Iterator[tuple[str, list[Turn], str, Any, Any, Any]]:
        """Stream one answer: yields what ``view`` returns (the panel following the answer once it is complete)."""
        typed = (question or "").strip()
        turns = list(turns or [])
        try:
            question = clean_question(typed, self.settings.max_question_chars)
        except InvalidQuestionError as exc:
            # An empty box adds no turn, only a hint under the conversation; any other refusal shows in the chat.
            if not typed:
                yield self.view(turns, notice=BLANK_QUESTION)
                return
            turns.append(Turn(question=typed, error=friendly_error(exc)))
            yield self.view(turns)
            return
        turn = Turn(question=question)
        history = history_of(turns)
        turns.append(turn)
        yield self.view(turns)
        try:
            answer = None
            for item in self.assistant.ask_stream(question, document=document or None, history=history or None):
                if isinstance(item, Answer):
                    answer = item
                else:
                    turn = replace(turn, partial=turn.partial + str(item))
                    turns[-1] = turn
                    yield self.view(turns)
            if answer is None:
                raise RuntimeError("ask_stream ended without an Answer")
            turns[-1] = replace(turn, answer=answer)
        except Exception as exc:
            if not isinstance(exc, AssistantError):
                log.exception("answering %r failed", question[:200])
            turns[-1] = replace(turn, error=friendly_error(exc))
            yield self.view(turns, panel=PANEL_HINT)
            return
        yield self.view(turns, panel=self.newest_panel(turns))

    def newest_panel(self, turns: list[Turn]) -> str:
        """The panel follows the newest answer: its first quote's provision, highlighted (the hint when it quotes nothing)."""
        answer = turns[-1].answer
        if answer is None or not answer.citations:
            return PANEL_HINT
        first = quote_groups(answer)[0][-1]
        return open_reference(self.corpus, turns, ref_for_citation(len(turns) - 1, first), followed=True)

    def view(self, turns: list[Turn], notice: str = "", panel: Any = None) -> tuple[str, list[Turn], str, Any, Any, Any]:
        """Everything an answer changes: the conversation (with a passing ``notice`` under it), the state, the question box (cleared),
        the copy text, the feedback form (closed until a thumb is clicked), and the provision panel (``None`` leaves it as it is)."""
        answered = [t for t in turns if t.answer is not None]
        copy = plain_text(self.corpus, answered[-1].answer) if answered else ""  # type: ignore[arg-type]
        return (
            render_conversation(self.corpus, turns) + (f'<div class="notice input-notice">{esc(notice)}</div>' if notice else ""),
            turns,
            "",
            copy,
            gr.update(visible=False),
            gr.update() if panel is None else panel,
        )

    def open_ref(self, turns: list[Turn], evt: gr.SelectData) -> str:
        """The panel for a clicked chip, source or cross-reference."""
        try:
            return open_reference(self.corpus, turns or [], str(evt.value))
        except Exception:
            log.exception("opening %r failed", evt.value)
            return panel_message(GENERIC_ERROR)

    def click(self, turns: list[Turn], rated: dict | None, document: str, evt: gr.SelectData) -> tuple[Any, ...]:
        """A click in the conversation: a thumb under an answer saves feedback and opens the optional comment form;
        anything else opens the panel (and clears the browse tab's status, where a stale warning would stay).

        Returns (panel, browse status, feedback form, feedback status, which-citation box, feedback state, comment box, wrong box).
        """
        ref = str(evt.value)
        if not ref.startswith("rate:"):
            return (self.open_ref(turns, evt), "", *([gr.update()] * 6))
        return (gr.update(), gr.update(), *self.rating.rate(turns, rated, document, ref))

    def add_to_feedback(self, turns: list[Turn], rated: dict | None, wrong: bool, citation_label: str | None, comment: str, document: str) -> tuple[str, dict | None]:
        """The form's button: the comment and the flagged citation join the thumb's record (``assistant.web.rating``)."""
        return self.rating.add_to(turns, rated, wrong, citation_label, comment, document)

    def open_typed(self, text: str, document: str) -> tuple[str, str]:
        """The provision browser's text box: panel HTML and a status line."""
        try:
            provision, highlight = resolve_reference(self.corpus, text or "", document or None)
        except ProvisionNotFoundError as exc:
            return gr.update(), f"Not found: {exc}"
        return render_provision(self.corpus, provision, highlight), f"Showing {provision_label(provision)} {provision.heading}"

    def groups_for(self, document: str) -> tuple[Any, Any]:
        groups = list(hierarchy(self.corpus, document)) if document else []
        return gr.update(choices=groups, value=None), gr.update(choices=[], value=None)

    def provisions_in(self, document: str, group: str | None) -> Any:
        provisions = hierarchy(self.corpus, document).get(group or "", []) if document else []
        choices = [(f"{provision_label(p)} {p.heading}" + (" (repealed)" if p.repealed else ""), p.provision_id) for p in provisions]
        return gr.update(choices=choices, value=None)

    def open_picked(self, document: str, provision_id: str | None) -> Any:
        provision = self.corpus.find(document, provision_id) if document and provision_id else None
        return render_provision(self.corpus, provision) if provision else gr.update()

    def ask_api(self, question: str, document: str = "", mode: str = "") -> dict[str, Any]:
        """The ``/ask`` API endpoint: the same ``Answer`` JSON as ``Assistant.ask``; failures reach the client as a plain message."""
        try:
            return self.assistant.ask(question, document=document or None, mode=mode or None).model_dump(mode="json")
        except Exception as exc:
            if not isinstance(exc, AssistantError):
                log.exception("API question %r failed", str(question)[:200])
            raise gr.Error(friendly_error(exc), print_exception=False) from None


# --------------------------------------------------------------------------------------
# The Blocks app
# --------------------------------------------------------------------------------------


def _document_choices(corpus: Corpus) -> list[tuple[str, str]]:
    return [(d.info.title, d.info.id) for d in corpus.documents]


def ui_theme() -> gr.themes.Base:
    """Gradio's default look in system fonts: its bundled web font lacked bold capitals (bold "A" rendered as a small capital)."""
    return gr.themes.Default(font=list(SYSTEM_FONTS), font_mono=list(SYSTEM_MONO_FONTS))


def build_ui(assistant: AssistantLike, settings: Settings, store: FeedbackStore | None = None) -> gr.Blocks:
    """The staff UI as a ``gr.Blocks`` with its queue set to ``settings.ui_concurrency``; assistant/web/server.py mounts it at '/'."""
    h = Handlers(assistant, settings, store)
    corpus = h.corpus
    documents = _document_choices(corpus)
    stamps = " · ".join(esc(d.info.stamp) for d in corpus.documents)
    first_document = documents[0][1] if documents else ""

    with gr.Blocks(title=TITLE, fill_width=True) as demo:
        turns = gr.State([])
        rated = gr.State(None)
        gr.HTML(
            f'<div class="top"><h1>{esc(TITLE)}</h1><p class="muted">Answers quote the law and cite it to the subsection. Current to: {stamps}. Help-desk tools: the JSON API, reference at <a href="/docs">/docs</a>.</p></div>',
            css_template=".top h1 { margin: 0 0 4px; font-size: 1.5em; } .muted { color: #6b7280; font-size: 0.85em; margin: 0; }",
            js_on_load=None,
        )
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=420):
                with gr.Tabs():
                    with gr.Tab("Ask", id="ask"):
                        conversation = gr.HTML(
                            render_conversation(corpus, []),
                            elem_id="conversation",
                            css_template=CONVERSATION_CSS,
                            js_on_load=CLICK_JS,
                            min_height=260,
                            autoscroll=True,
                        )
                        with gr.Group(visible=False, elem_id="feedback") as feedback_form:
                            feedback_status = gr.Markdown(elem_id="feedback-status")
                            with gr.Row():
                                wrong = gr.Checkbox(label="A citation is wrong", elem_id="feedback-wrong")
                                wrong_label = gr.Dropdown([], value=None, label="Which citation (optional)", elem_id="feedback-citation")
                            comment = gr.Textbox(label="Comment (optional)", lines=2, max_length=MAX_COMMENT_CHARS, elem_id="feedback-comment")
                            send = gr.Button("Add to my feedback", elem_id="feedback-send", size="sm")
                        with gr.Row():
                            question = gr.Textbox(
                                label="Your question",
                                placeholder="e.g. Until what age does a child have to attend school?",
                                lines=2,
                                max_lines=6,
                                scale=5,
                                elem_id="question",
                            )
                            with gr.Column(scale=1, min_width=120):
                                ask = gr.Button("Ask", variant="primary", elem_id="ask-button")
                                new = gr.Button("New conversation", size="sm", elem_id="new-conversation")
                        document = gr.Dropdown(
                            [("All documents", ALL_DOCUMENTS), *documents], value=ALL_DOCUMENTS, label="Search in", elem_id="document-filter"
                        )
                        gr.Examples([[q] for q in EXAMPLE_QUESTIONS], inputs=[question], label="Example questions")
                        with gr.Accordion("Copy the answer with its citations", open=False):
                            copy_text = gr.Textbox(label="Plain text", lines=8, buttons=["copy"], interactive=False, elem_id="copy-text")
                    with gr.Tab("Browse provisions", id="browse"):
                        with gr.Row():
                            browse_document = gr.Dropdown(documents, value=first_document, label="Document", elem_id="browse-document", scale=2)
                            reference = gr.Textbox(label="Go to", placeholder="2.6.9, s 2.1.1(1), Sch 2 cl 2, function 4", elem_id="provision-ref", scale=2)
                            go = gr.Button("Open", elem_id="provision-open", scale=1)
                        browse_status = gr.Markdown(elem_id="browse-status")
                        group = gr.Dropdown(
                            list(hierarchy(corpus, first_document)) if first_document else [], value=None, label="Chapter › Part › Division", elem_id="browse-group"
                        )
                        picked = gr.Dropdown([], value=None, label="Provision", elem_id="browse-provision")
            with gr.Column(scale=2, min_width=360):
                panel = gr.HTML(PANEL_HINT, elem_id="provision-panel", css_template=PANEL_CSS, js_on_load=PANEL_JS, max_height="85vh", container=True, padding=True)

        answer_outputs = [conversation, turns, question, copy_text, feedback_form, panel]
        private: dict[str, Any] = {"api_visibility": "private"}
        ask.click(h.respond, [question, document, turns], answer_outputs, **private)
        question.submit(h.respond, [question, document, turns], answer_outputs, **private)
        new.click(lambda: h.view([], panel=PANEL_HINT), None, answer_outputs, **private)
        click_outputs = [panel, browse_status, feedback_form, feedback_status, wrong_label, rated, comment, wrong]
        conversation.select(h.click, [turns, rated, document], click_outputs, **private)
        panel.select(h.open_ref, [turns], [panel], **private)
        send.click(h.add_to_feedback, [turns, rated, wrong, wrong_label, comment, document], [feedback_status, rated], **private)
        go.click(h.open_typed, [reference, browse_document], [panel, browse_status], **private)
        reference.submit(h.open_typed, [reference, browse_document], [panel, browse_status], **private)
        browse_document.change(h.groups_for, [browse_document], [group, picked], **private)
        group.change(h.provisions_in, [browse_document, group], [picked], **private)
        picked.change(h.open_picked, [browse_document, picked], [panel], **private)

        def ask_endpoint(question: str, document: str = "", mode: str = "") -> dict:
            """Answer a question with checked pinpoint citations; returns the Answer record as JSON, exactly as Assistant.ask does.

            Args:
                question: the question, e.g. "Until what age must a child attend school?"
                document: limit the search to one document id ("etra-2006" or "vet-clusters"); empty searches all
                mode: "extractive" or "generative", or a retrieval mode; empty uses the configured default
            """
            return h.ask_api(question, document, mode)

        gr.api(ask_endpoint, api_name="ask")

    demo.queue(default_concurrency_limit=max(1, settings.ui_concurrency), max_size=max(1, settings.api_queue_limit))
    return demo
