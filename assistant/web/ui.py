"""The staff chat UI: a Gradio Blocks app over the same ``Assistant`` the CLI and HTTP API call.

What staff see: the answer streaming in, each citation a chip that opens the
provision beside it with the quoted words highlighted, what the answer rests on
(Act version and date), a clearly different look when the law does not answer
the question, a provision browser, and feedback that lands in SQLite for curators.

The HTML is built here by small pure functions (``render_answer``,
``render_provision``, ...) so it can be tested without a browser; every piece of
question, answer or law text passes through ``_esc`` first.

Example::

    blocks = build_ui(Assistant.load(settings), settings)
    app = gr.mount_gradio_app(fastapi_app, blocks, path="/")   # as assistant/web/server.py does
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any, Protocol

import gradio as gr

from assistant.cite import MARKER_RE, provision_label
from assistant.corpus import Corpus
from assistant.errors import (
    AssistantError,
    InvalidQuestionError,
    ProvisionNotFoundError,
)
from assistant.patterns import provision_references
from assistant.records import Answer, Provision
from assistant.settings import Settings
from assistant.web.feedback import (
    MAX_COMMENT_CHARS,
    FeedbackError,
    FeedbackRecord,
    FeedbackStore,
    settings_snapshot,
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
REFERENCE_PREFERENCE = ("schedule clause", "function", "section", "schedule")
PANEL_HINT = (
    '<div class="panel-hint"><p><strong>Provision text</strong></p>'
    "<p>Click a citation chip such as <span class=\"chip\">s 2.1.1</span> in an answer, a source, or a cross-reference "
    "to read the provision here with the quoted words highlighted.</p>"
    "<p>Or use <em>Browse provisions</em> to open any section by number (2.6.9, Sch 2 cl 2).</p></div>"
)
GENERIC_ERROR = "Sorry, something went wrong while answering. The problem has been logged; please try again, or rephrase the question."

# Clicks on anything carrying data-ref (citation chips, sources, cross-references) become a
# `select` event whose value is the ref; Python resolves it (see ``open_reference``).
CLICK_JS = """
element.addEventListener('click', (event) => {
  const target = event.target.closest('[data-ref]');
  if (!target || !element.contains(target)) return;
  event.preventDefault();
  trigger('select', {index: 0, value: target.dataset.ref});
});
"""
# Bring the highlighted quote into view whenever the panel shows a new provision.
PANEL_JS = CLICK_JS + """
watch('value', () => {
  const mark = element.querySelector('mark.quote');
  if (mark) mark.scrollIntoView({block: 'nearest'});
});
"""

_SHARED_CSS = """
.chip { display: inline-block; padding: 0 8px; margin: 0 2px; border-radius: 999px; border: 1px solid #93c5fd;
        background: #dbeafe; color: #1e3a8a; font-size: 0.85em; line-height: 1.6; cursor: pointer; font-family: inherit; white-space: nowrap; }
.chip:hover { background: #bfdbfe; }
.muted { color: #6b7280; font-size: 0.85em; }
"""
CONVERSATION_CSS = _SHARED_CSS + """
.empty { color: #6b7280; padding: 24px 8px; }
.turn { margin: 0 0 18px 0; }
.q { font-weight: 600; background: #f3f4f6; color: #111827; padding: 8px 12px; border-radius: 10px; }
.rewritten { margin: 4px 12px 0; }
.a { margin-top: 8px; padding: 10px 14px; border-left: 4px solid #2563eb; background: #f8fafc; color: #111827; border-radius: 0 10px 10px 0; }
.a p { margin: 0 0 8px 0; }
.a.abstained { border-left-color: #d97706; background: #fffbeb; }
.a.error { border-left-color: #dc2626; background: #fef2f2; }
.a.streaming { border-left-color: #93c5fd; }
.badge { display: inline-block; font-size: 0.75em; font-weight: 600; text-transform: uppercase; letter-spacing: 0.04em;
         padding: 1px 8px; border-radius: 4px; margin-bottom: 6px; }
.badge.abstain { background: #fde68a; color: #78350f; }
.badge.error { background: #fecaca; color: #7f1d1d; }
.cites { margin: 8px 0 0; padding-left: 0; list-style: none; }
.cites li { margin: 4px 0; }
.cites q { color: #374151; }
.stamp { margin-top: 8px; font-size: 0.8em; color: #4b5563; }
details.sources { margin-top: 8px; font-size: 0.85em; }
details.sources summary { cursor: pointer; color: #374151; }
.closest { margin-top: 6px; }
.closest-title { font-weight: 600; font-size: 0.9em; }
.sources ol, .closest ol { margin: 4px 0 0 18px; padding: 0; }
.sources li, .closest li { margin: 3px 0; }
.score { font-variant-numeric: tabular-nums; color: #6b7280; }
.notice { font-size: 0.8em; color: #92400e; margin-top: 6px; }
"""
PANEL_CSS = _SHARED_CSS + """
.panel-hint { color: #4b5563; padding: 8px; }
.prov { color: #111827; }
.doc { font-size: 0.8em; color: #4b5563; }
.crumbs { font-size: 0.85em; color: #374151; margin: 6px 0; }
.crumbs span + span::before { content: " › "; color: #9ca3af; }
.prov h3 { margin: 6px 0 10px; font-size: 1.1em; }
.repealed { color: #b91c1c; font-weight: 600; }
.prov-text { line-height: 1.55; }
.line { white-space: pre-wrap; margin: 2px 0; }
.k-paragraph { padding-left: 1.6em; }
.k-subparagraph { padding-left: 3.2em; }
.k-subsubparagraph { padding-left: 4.8em; }
.k-item { padding-left: 1.2em; }
mark.quote { background: #fde047; color: #111827; padding: 0 1px; border-radius: 2px; }
a.xref { color: #1d4ed8; text-decoration: underline; cursor: pointer; padding: 0; margin: 0; }
details.history { margin-top: 12px; font-size: 0.85em; }
details.history summary { cursor: pointer; }
details.history li { margin: 2px 0; }
.quote-missing { color: #b91c1c; font-size: 0.85em; }
"""


class AssistantLike(Protocol):
    """What the UI needs from ``assistant.pipeline.Assistant``."""

    corpus: Corpus
    settings: Settings

    def ask(self, question: str, k: int | None = None, document: str | None = None, mode: str | None = None, history: Any = None) -> Answer: ...

    def ask_stream(self, question: str, k: int | None = None, document: str | None = None, mode: str | None = None, history: Any = None) -> Iterator[str | Answer]: ...


@dataclass(frozen=True)
class Turn:
    """One question and what came back: the answer, the text streamed so far, or a friendly error."""

    question: str
    answer: Answer | None = None
    partial: str = ""
    error: str | None = None


# --------------------------------------------------------------------------------------
# Pure rendering and lookup
# --------------------------------------------------------------------------------------


def _esc(text: str) -> str:
    """HTML-escape untrusted text; braces and $ too, so gr.HTML's template syntax never runs on it."""
    return html.escape(text, quote=True).replace("{", "&#123;").replace("}", "&#125;").replace("$", "&#36;")


def ref_for_citation(turn_index: int, citation_index: int) -> str:
    return f"cite:{turn_index}:{citation_index}"


def ref_for_provision(document_id: str, provision_id: str) -> str:
    return f"prov:{document_id}/{provision_id}"


def _chip(text: str, ref: str, title: str = "") -> str:
    title_attr = f' title="{_esc(title)}"' if title else ""
    return f'<button type="button" class="chip" data-ref="{_esc(ref)}"{title_attr}>{_esc(text)}</button>'


def _label_for(corpus: Corpus, document_id: str, provision_id: str) -> str:
    provision = corpus.find(document_id, provision_id)
    return provision_label(provision) if provision else provision_id


def document_stamps(corpus: Corpus, answer: Answer) -> list[str]:
    """What the answer rests on: one stamp per document it cites (or searched, when it cites none)."""
    ids = [c.document_id for c in answer.citations] or [r.document_id for r in answer.retrieved[:3]]
    stamps: list[str] = []
    for document_id in dict.fromkeys(ids):
        try:
            stamps.append(corpus.document(document_id).info.stamp)
        except ProvisionNotFoundError:
            continue
    return stamps


def render_answer_text(answer: Answer, turn_index: int) -> str:
    """The answer's paragraphs, escaped, with each marker [n] replaced by the chip of citation n."""

    def chips(match: re.Match[str]) -> str:
        out = []
        for number in re.split(r"\s*,\s*", match.group(1)):
            i = int(number) - 1
            if 0 <= i < len(answer.citations):
                c = answer.citations[i]
                out.append(_chip(c.label, ref_for_citation(turn_index, i), f"{c.heading}: “{c.quote[:200]}”"))
            else:
                out.append(_esc(f"[{number}]"))
        return "".join(out)

    paragraphs = [p for p in re.split(r"\n\s*\n", answer.text.strip()) if p.strip()]
    rendered = []
    for paragraph in paragraphs:
        # Markers are digits and commas only, so escaping first leaves them intact for the substitution.
        escaped = MARKER_RE.sub(chips, _esc(paragraph)).replace("\n", "<br>")
        rendered.append(f"<p>{escaped}</p>")
    return "".join(rendered)


def render_sources(corpus: Corpus, answer: Answer, heading: str) -> str:
    """The retrieved provisions with their scores: a collapsed list under an answer, an open one under an abstention."""
    if not answer.retrieved:
        return ""
    items = []
    for r in answer.retrieved:
        signals = ", ".join(f"{name} {value:.3f}" for name, value in r.scores.items())
        label = r.label or _label_for(corpus, r.document_id, r.provision_id)
        items.append(
            f"<li>{_chip(label, ref_for_provision(r.document_id, r.provision_id), signals)} {_esc(r.heading)} "
            f'<span class="score" title="{_esc(signals)}">score {r.score:.4f}</span></li>'
        )
    if answer.abstained:
        return f'<div class="closest"><div class="closest-title">{_esc(heading)}</div><ol>{"".join(items)}</ol></div>'
    return f'<details class="sources"><summary>{_esc(heading)} ({len(items)})</summary><ol>{"".join(items)}</ol></details>'


def _clip(text: str, limit: int = 220) -> str:
    """A long quote shortened for the citation list; the panel shows it in full."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


def render_answer(corpus: Corpus, answer: Answer, turn_index: int) -> str:
    """One answer: text with citation chips, the cited quotes, what it rests on, and the sources searched."""
    parts: list[str] = []
    if answer.abstained:
        parts.append('<div class="badge abstain">Not answered by the law text</div>')
    parts.append(render_answer_text(answer, turn_index))
    if answer.abstained and answer.abstain_reason:
        parts.append(f'<p class="muted">Why: {_esc(answer.abstain_reason)}</p>')
    if answer.citations:
        items = [
            f"<li>[{i + 1}] {_chip(c.label, ref_for_citation(turn_index, i), c.heading)} {_esc(c.heading)}: <q>{_esc(_clip(c.quote))}</q></li>"
            for i, c in enumerate(answer.citations)
        ]
        parts.append(f'<ul class="cites">{"".join(items)}</ul>')
    if answer.fallback:
        parts.append(f'<div class="notice">Shown as extracted quotes: {_esc(answer.fallback)}</div>')
    stamps = document_stamps(corpus, answer)
    if stamps:
        lead = "Searched" if answer.abstained else "Rests on"
        parts.append(f'<div class="stamp">{lead}: {"; ".join(_esc(s) for s in stamps)}</div>')
    heading = "Closest provisions" if answer.abstained else "Sources searched"
    parts.append(render_sources(corpus, answer, heading))
    css = "a abstained" if answer.abstained else "a"
    return f'<div class="{css}">{"".join(parts)}</div>'


def render_turn(corpus: Corpus, turn: Turn, turn_index: int) -> str:
    parts = [f'<div class="turn" data-turn="{turn_index}"><div class="q">{_esc(turn.question)}</div>']
    answer = turn.answer
    if answer and answer.rewritten_question and answer.rewritten_question.strip() != turn.question.strip():
        parts.append(f'<div class="rewritten muted">Searched as: “{_esc(answer.rewritten_question)}”</div>')
    if turn.error:
        parts.append(f'<div class="a error"><div class="badge error">Could not answer</div><p>{_esc(turn.error)}</p></div>')
    elif answer is not None:
        parts.append(render_answer(corpus, answer, turn_index))
    else:
        text = _esc(turn.partial) if turn.partial else "Searching the Act…"
        parts.append(f'<div class="a streaming"><p>{text}</p></div>')
    parts.append("</div>")
    return "".join(parts)


def render_conversation(corpus: Corpus, turns: list[Turn]) -> str:
    if not turns:
        return '<div class="empty">Ask a question about the Education and Training Reform Act 2006 or the VET clusters policy. Answers quote the law and cite it to the subsection.</div>'
    return "".join(render_turn(corpus, turn, i) for i, turn in enumerate(turns))


def _lines(text: str) -> list[tuple[int, int]]:
    """(start, end) of each line of ``text``, without the newline."""
    spans, start = [], 0
    for line in text.split("\n"):
        spans.append((start, start + len(line)))
        start += len(line) + 1
    return spans


def render_law_text(corpus: Corpus, provision: Provision, highlight: tuple[int, int] | None) -> str:
    """The provision's text line by line, indented by unit kind, with the highlight and cross-reference links."""
    text = provision.text
    links = [(x.start, x.end, x.target) for x in provision.cross_refs if x.target and corpus.find(provision.document_id, x.target)]
    unit_kind = {u.start: u.kind for u in provision.units}
    out = []
    for line_start, line_end in _lines(text):
        cuts = {line_start, line_end}
        for s, e, _ in links:
            cuts.update(p for p in (s, e) if line_start < p < line_end)
        if highlight:
            cuts.update(p for p in highlight if line_start < p < line_end)
        bounds = sorted(cuts)
        pieces = []
        for s, e in zip(bounds, bounds[1:]):
            piece = _esc(text[s:e])
            target = next((t for ls, le, t in links if ls <= s and e <= le), None)
            if target:
                piece = f'<a class="xref" data-ref="{_esc(ref_for_provision(provision.document_id, target))}" href="#" title="Open {_esc(target)}">{piece}</a>'
            if highlight and highlight[0] <= s and e <= highlight[1]:
                piece = f'<mark class="quote">{piece}</mark>'
            pieces.append(piece)
        kind = unit_kind.get(line_start, "text")
        out.append(f'<div class="line k-{kind}">{"".join(pieces) or "&nbsp;"}</div>')
    return f'<div class="prov-text">{"".join(out)}</div>'


def render_provision(corpus: Corpus, provision: Provision, highlight: tuple[int, int] | None = None, label: str | None = None, note: str = "") -> str:
    """The side panel: document and version, hierarchy path, heading, law text, collapsed history notes."""
    info = corpus.document(provision.document_id).info
    crumbs = "".join(f"<span>{_esc(p)}</span>" for p in provision.path)
    shown_label = label or provision_label(provision)
    parts = [
        f'<div class="prov" data-uid="{_esc(provision.uid)}">',
        f'<div class="doc">{_esc(info.stamp)}</div>',
        f'<div class="crumbs">{crumbs}</div>' if crumbs else "",
        f"<h3>{_esc(shown_label)}{': ' if provision.kind == 'function' else ' '}{_esc(provision.heading)}</h3>",
        '<p class="repealed">This provision has been repealed.</p>' if provision.repealed else "",
        f'<p class="quote-missing">{_esc(note)}</p>' if note else "",
        render_law_text(corpus, provision, highlight),
    ]
    if provision.notes:
        notes = "".join(f"<li>{_esc(n)}</li>" for n in provision.notes)
        parts.append(f'<details class="history"><summary>Amendment history ({len(provision.notes)} notes)</summary><ul>{notes}</ul></details>')
    if info.source_url:
        parts.append(f'<p class="muted">Source: {_esc(info.source_url)}</p>')
    parts.append("</div>")
    return "".join(parts)


def resolve_reference(corpus: Corpus, text: str, document_id: str | None = None) -> tuple[Provision, tuple[int, int] | None]:
    """The provision a person typed ('2.6.9', 's 2.6.9(1A)', 'Sch 2 cl 2', 'function 4', or words of a heading).

    Returns the provision and, when the reference pins a subsection or paragraph
    ('2.6.9(1A)(a)'), that unit's span to highlight.
    """
    query = " ".join(text.split())
    if not query:
        raise ProvisionNotFoundError("type a provision, e.g. 2.6.9, s 2.1.1(1), Sch 2 cl 2 or function 4")
    if len(query) > 200:
        raise ProvisionNotFoundError("that is too long for a provision reference; type a number such as 2.6.9 or Sch 2 cl 2")
    documents = [corpus.document(document_id)] if document_id else corpus.documents
    # A schedule clause is the most specific reference, then a function, a section, a schedule, a bare number.
    references = provision_references(query)
    candidates = [(r.provision_id, r.pinpoint) for kind in REFERENCE_PREFERENCE for r in references if r.kind == kind][:1]
    if not candidates and query.isascii() and query.isdigit():
        candidates.append((query, ""))
    for provision_id, pin in candidates:
        for document in documents:
            provision = corpus.find(document.info.id, provision_id)
            if provision is None:
                continue
            unit = provision.unit(pin) if pin else None
            return provision, ((unit.start, unit.end) if unit else None)
    wanted = query.lower()
    by_heading = [p for d in documents for p in d.provisions if wanted in p.heading.lower()]
    if by_heading:
        # An exact heading beats one that merely contains the words.
        return min(by_heading, key=lambda p: p.heading.lower() != wanted), None
    where = f" in {document_id}" if document_id else ""
    raise ProvisionNotFoundError(f"no provision matches '{query}'{where}; try a number such as 2.6.9, Sch 2 cl 2, or function 4 in the VET clusters policy")


def hierarchy(corpus: Corpus, document_id: str) -> dict[str, list[Provision]]:
    """The document's provisions grouped by hierarchy path (Chapter › Part › Division), in document order."""
    groups: dict[str, list[Provision]] = {}
    for provision in sorted(corpus.document(document_id).provisions, key=lambda p: p.order):
        groups.setdefault(" › ".join(provision.path) or "(top level)", []).append(provision)
    return groups


def open_reference(corpus: Corpus, turns: list[Turn], ref: str) -> str:
    """The panel HTML for a clicked ref: a citation (highlight its quote) or a provision (no highlight)."""
    if ref.startswith("cite:"):
        try:
            _, turn_index, citation_index = ref.split(":")
            citation = turns[int(turn_index)].answer.citations[int(citation_index)]  # type: ignore[union-attr]
        except (ValueError, IndexError, AttributeError):
            return _panel_message("That citation belongs to an earlier conversation; ask again to open it.")
        provision = corpus.find(citation.document_id, citation.provision_id)
        if provision is None:
            return _panel_message(f"{citation.label} is not in the loaded corpus.")
        start, end = citation.quote_start, citation.quote_start + len(citation.quote)
        if provision.text[start:end] != citation.quote:
            found = provision.text.find(citation.quote)
            if found < 0:
                return render_provision(corpus, provision, None, citation.label, note="The quoted words were not found in this version of the provision.")
            start, end = found, found + len(citation.quote)
        return render_provision(corpus, provision, (start, end), citation.label)
    if ref.startswith("prov:") and "/" in ref:
        document_id, provision_id = ref[len("prov:") :].split("/", 1)
        provision = corpus.find(document_id, provision_id)
        if provision is None:
            return _panel_message(f"No provision {provision_id} in {document_id}.")
        return render_provision(corpus, provision)
    return _panel_message("Nothing to open there.")


def _panel_message(text: str) -> str:
    return f'<div class="panel-hint"><p>{_esc(text)}</p></div>'


def plain_text(corpus: Corpus, answer: Answer) -> str:
    """The answer with its citations as plain text, for pasting into an email or a case note."""
    lines = [f"Q: {answer.question}", "", answer.text.strip()]
    if answer.citations:
        lines += ["", "Citations:"]
        lines += [f"[{i}] {c.label} ({c.heading}): “{c.quote}”" for i, c in enumerate(answer.citations, 1)]
    if answer.abstained and answer.retrieved:
        lines += ["", "Closest provisions:"]
        lines += [f"- {r.label} {r.heading}" for r in answer.retrieved[:5]]
    stamps = document_stamps(corpus, answer)
    if stamps:
        lines += ["", ("Searched: " if answer.abstained else "Rests on: ") + "; ".join(stamps)]
    return "\n".join(lines)


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
        self._store = store

    @property
    def store(self) -> FeedbackStore:
        # Opened on first feedback, so a read-only data folder does not stop the UI from answering.
        if self._store is None:
            self._store = FeedbackStore.from_settings(self.settings)
        return self._store

    def respond(self, question: str, document: str, turns: list[Turn]) -> Iterator[tuple[str, list[Turn], str, Any, Any]]:
        """Stream one answer: yields (conversation HTML, turns, question box, copy text, feedback answer choices)."""
        question = (question or "").strip()
        turns = list(turns or [])
        if not question:
            yield self.view(turns, keep_question="")
            return
        turn = Turn(question=question)
        history = history_of(turns)
        turns.append(turn)
        yield self.view(turns)
        try:
            if len(question) > self.settings.max_question_chars:
                raise InvalidQuestionError(
                    f"That question is {len(question):,} characters long; please keep it under {self.settings.max_question_chars:,} characters."
                )
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
        yield self.view(turns)

    def view(self, turns: list[Turn], keep_question: str = "") -> tuple[str, list[Turn], str, Any, Any]:
        """Everything an answer changes: the conversation, the state, the question box, the copy text, the feedback target."""
        answered = [(i, t) for i, t in enumerate(turns) if t.answer is not None]
        latest = answered[-1] if answered else None
        copy = plain_text(self.corpus, latest[1].answer) if latest else ""  # type: ignore[arg-type]
        choices = [(f"#{i + 1}: {t.question[:70]}", i) for i, t in answered]
        return (
            render_conversation(self.corpus, turns),
            turns,
            keep_question,
            copy,
            gr.update(choices=choices, value=latest[0] if latest else None),
        )

    def citation_choices(self, turns: list[Turn], turn_index: int | None) -> Any:
        answer = _answer_at(turns, turn_index)
        labels = [c.label for c in answer.citations] if answer else []
        return gr.update(choices=labels, value=None)

    def open_ref(self, turns: list[Turn], evt: gr.SelectData) -> str:
        try:
            return open_reference(self.corpus, turns or [], str(evt.value))
        except Exception:
            log.exception("opening %r failed", evt.value)
            return _panel_message(GENERIC_ERROR)

    def open_typed(self, text: str, document: str) -> tuple[str, str]:
        """The provision browser's text box: panel HTML and a status line."""
        try:
            provision, highlight = resolve_reference(self.corpus, text or "", document or None)
        except ProvisionNotFoundError as exc:
            return gr.update(), f"⚠️ {exc}"
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

    def send_feedback(
        self, rating: str | None, turns: list[Turn], turn_index: int | None, wrong: bool, citation_label: str | None, comment: str, document: str
    ) -> tuple[str, Any, Any, Any]:
        """Save one feedback row; returns (status, comment box, wrong-citation box, which-citation box)."""
        answer = _answer_at(turns, turn_index)
        if answer is None:
            return "Ask a question first: feedback is saved against an answer.", gr.update(), gr.update(), gr.update()
        try:
            record = FeedbackRecord(
                question=answer.question,
                answer=answer,
                rating=rating,  # type: ignore[arg-type]
                comment=(comment or "").strip(),
                wrong_citation=bool(wrong or citation_label),
                citation_label=citation_label or None,
                settings={**settings_snapshot(self.settings), "document_filter": document or None},
                source="ui",
            )
            row_id = self.store.add(record)
        except ValueError as exc:  # pydantic's ValidationError is a ValueError
            return f"⚠️ Not saved: {_validation_message(exc)}", gr.update(), gr.update(), gr.update()
        except Exception as exc:
            log.exception("saving feedback failed")
            return f"⚠️ Not saved: {friendly_error(exc)}", gr.update(), gr.update(), gr.update()
        return f"Thank you: feedback #{row_id} saved for curators to review.", "", False, gr.update(value=None)

    def ask_api(self, question: str, document: str = "", mode: str = "") -> dict[str, Any]:
        """The ``/ask`` API endpoint: the same ``Answer`` JSON as ``Assistant.ask``; failures reach the client as a plain message."""
        try:
            return self.assistant.ask(question, document=document or None, mode=mode or None).model_dump(mode="json")
        except Exception as exc:
            if not isinstance(exc, AssistantError):
                log.exception("API question %r failed", str(question)[:200])
            raise gr.Error(friendly_error(exc), print_exception=False) from None


def _answer_at(turns: list[Turn], turn_index: int | None) -> Answer | None:
    if turn_index is None or not turns:
        return None
    try:
        return turns[int(turn_index)].answer
    except (IndexError, ValueError, TypeError):
        return None


def _validation_message(exc: ValueError) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        return "; ".join(str(e.get("msg", "")).removeprefix("Value error, ") for e in errors())
    return str(exc)


# --------------------------------------------------------------------------------------
# The Blocks app
# --------------------------------------------------------------------------------------


def _document_choices(corpus: Corpus) -> list[tuple[str, str]]:
    return [(d.info.title, d.info.id) for d in corpus.documents]


def build_ui(assistant: AssistantLike, settings: Settings, store: FeedbackStore | None = None) -> gr.Blocks:
    """The staff UI as a ``gr.Blocks`` with its queue set to ``settings.ui_concurrency``; assistant/web/server.py mounts it at '/'."""
    h = Handlers(assistant, settings, store)
    corpus = h.corpus
    documents = _document_choices(corpus)
    stamps = " · ".join(_esc(d.info.stamp) for d in corpus.documents)
    first_document = documents[0][1] if documents else ""

    with gr.Blocks(title=TITLE, fill_width=True) as demo:
        turns = gr.State([])
        gr.HTML(
            f'<div class="top"><h1>{_esc(TITLE)}</h1><p class="muted">Answers quote the law and cite it to the subsection. Current to: {stamps}</p></div>',
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
                        with gr.Accordion("Feedback on an answer", open=True, elem_id="feedback"):
                            feedback_turn = gr.Dropdown([], value=None, label="Answer", elem_id="feedback-answer")
                            with gr.Row():
                                wrong = gr.Checkbox(label="A citation is wrong", elem_id="feedback-wrong")
                                wrong_label = gr.Dropdown([], value=None, label="Which citation (optional)", elem_id="feedback-citation")
                            comment = gr.Textbox(label="Comment (optional)", lines=2, max_length=MAX_COMMENT_CHARS, elem_id="feedback-comment")
                            with gr.Row():
                                up = gr.Button("👍 Helpful", elem_id="feedback-up", size="sm")
                                down = gr.Button("👎 Not helpful", elem_id="feedback-down", size="sm")
                                send = gr.Button("Send comment or flag", elem_id="feedback-send", size="sm")
                            feedback_status = gr.Markdown(elem_id="feedback-status")
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

        answer_outputs = [conversation, turns, question, copy_text, feedback_turn]
        private: dict[str, Any] = {"api_visibility": "private"}
        ask.click(h.respond, [question, document, turns], answer_outputs, **private)
        question.submit(h.respond, [question, document, turns], answer_outputs, **private)
        new.click(lambda: h.view([]), None, answer_outputs, **private)
        conversation.select(h.open_ref, [turns], [panel], **private)
        panel.select(h.open_ref, [turns], [panel], **private)
        feedback_turn.change(h.citation_choices, [turns, feedback_turn], [wrong_label], **private)
        feedback_inputs = [turns, feedback_turn, wrong, wrong_label, comment, document]
        feedback_outputs = [feedback_status, comment, wrong, wrong_label]
        up.click(lambda *a: h.send_feedback("up", *a), feedback_inputs, feedback_outputs, **private)
        down.click(lambda *a: h.send_feedback("down", *a), feedback_inputs, feedback_outputs, **private)
        send.click(lambda *a: h.send_feedback(None, *a), feedback_inputs, feedback_outputs, **private)
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

    demo.queue(default_concurrency_limit=max(1, settings.ui_concurrency))
    return demo
