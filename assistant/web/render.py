"""The UI's HTML, built by small pure functions so it can be tested without a browser.

Answers with citation chips, the sources searched, the provision panel with the
quoted words highlighted, and the plain-text copy of an answer; plus the CSS and
the click script that go with that markup. Every piece of question, answer or
law text passes through ``esc`` first: gr.HTML renders it as markup and as a template.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from assistant.answer.abstention import STAFF_REASONS
from assistant.answer.card import delegation_notes, flat, lead_sentence, quote_items
from assistant.cite import MARKER_RE, provision_label
from assistant.corpus import Corpus
from assistant.errors import ProvisionNotFoundError
from assistant.records import ABSTAIN_KIND_LABELS, Answer, Provision

SHOWN_QUESTION_CHARS = 400
# Thumbs drawn as SVG, so they render without an emoji font.
_SVG = '<svg aria-hidden="true" viewBox="0 0 24 24" width="14" height="14" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">{}</svg>'
THUMB_UP_SVG = _SVG.format('<path d="M7 10v11H3V10h4z"/><path d="M7 10l4-8a3 3 0 0 1 3 3v4h6a2 2 0 0 1 2 2.3l-1.4 8A2 2 0 0 1 18.6 21H7"/>')
THUMB_DOWN_SVG = _SVG.format('<path d="M17 14V3h4v11h-4z"/><path d="M17 14l-4 8a3 3 0 0 1-3-3v-4H4a2 2 0 0 1-2-2.3l1.4-8A2 2 0 0 1 5.4 3H17"/>')
# The panel's close control (shown on narrow screens, where the panel is a drawer over the answer).
CLOSE_REF = "close:"
PANEL_HINT = (
    '<div class="panel-hint"><p><strong>Provision text</strong></p>'
    "<p>Click a citation chip such as <span class=\"chip\">s 2.1.1</span> in an answer, a source, or a cross-reference "
    "to read the provision here with the quoted words highlighted.</p>"
    "<p>Or use <em>Browse provisions</em> to open any section by number (2.6.9, Sch 2 cl 2).</p></div>"
)

# Clicks on anything carrying data-ref (citation chips, sources, cross-references) become a
# `select` event whose value is the ref; Python resolves it (see ``assistant.web.browse.open_reference``).
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
.short-answer p { font-size: 1.12em; font-weight: 600; margin-bottom: 10px; }
.a.abstained { border-left-color: #d97706; background: #fffbeb; }
.a.error { border-left-color: #dc2626; background: #fef2f2; }
.a.streaming { border-left-color: #93c5fd; }
.badge { display: inline-block; font-size: 0.75em; font-weight: 600; text-transform: uppercase; letter-spacing: 0.04em;
         padding: 1px 8px; border-radius: 4px; margin-bottom: 6px; }
.badge.abstain { background: #fde68a; color: #78350f; }
.badge.error { background: #fecaca; color: #7f1d1d; }
.words-title { font-size: 0.8em; font-weight: 600; color: #4b5563; margin-top: 6px; }
.note p { margin: 0 0 6px; color: #374151; }
.cites { margin: 4px 0 0; padding-left: 0; list-style: none; }
.cites li { margin: 6px 0; }
.cites .n { color: #6b7280; font-size: 0.85em; font-variant-numeric: tabular-nums; }
.cites .heading { color: #374151; font-size: 0.9em; }
.cites .quote { color: #1f2937; margin: 2px 0 0 4px; padding-left: 8px; border-left: 2px solid #cbd5e1; }
.cites .quote-note { color: #92400e; font-style: italic; }
.stamp { margin-top: 8px; font-size: 0.8em; color: #4b5563; }
details.sources { margin-top: 8px; font-size: 0.85em; }
details.sources summary { cursor: pointer; color: #374151; }
.closest { margin-top: 6px; }
.closest-title { font-weight: 600; font-size: 0.9em; }
.sources ol, .closest ol { margin: 4px 0 0 18px; padding: 0; }
.sources li, .closest li { margin: 3px 0; }
.notice { font-size: 0.8em; color: #92400e; margin-top: 6px; }
.rate { margin-top: 8px; display: flex; gap: 6px; align-items: center; flex-wrap: wrap; }
.thumb { display: inline-flex; gap: 4px; align-items: center; padding: 1px 10px; border-radius: 999px; border: 1px solid #cbd5e1;
         background: #ffffff; color: #1f2937; font-size: 0.85em; cursor: pointer; font-family: inherit; }
.thumb:hover { background: #f1f5f9; }
"""
# The page's layout: the conversation scrolls above a question box that stays put; on a narrow screen the
# provision panel is a drawer over the bottom of the screen when staff opened a provision, hidden otherwise (a
# provision it shows only because it follows the newest answer, ``followed``, would cover that answer).
LAYOUT_CSS = """
#conversation { max-height: 60vh; overflow-y: auto !important; }
#provision-panel .panel-close { display: none !important; }
.secondary-wrap input[role="combobox"] { padding-right: 2em; text-overflow: ellipsis; }
.secondary-wrap .icon-wrap { flex-shrink: 0; }
@media (max-width: 820px) {
  #conversation { max-height: none; }
  #provision-panel:not(:has(.prov:not(.followed))) { display: none; }
  #provision-panel:has(.prov:not(.followed)) { position: fixed; left: 0; right: 0; bottom: 0; max-height: 62vh; overflow-y: auto; z-index: 1000;
    background: #ffffff; box-shadow: 0 -6px 20px rgba(0, 0, 0, 0.25); border-radius: 12px 12px 0 0; }
  #provision-panel .panel-close { display: inline-block !important; float: right; }
}
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


@dataclass(frozen=True)
class Turn:
    """One question and what came back: the answer, the text streamed so far, or a friendly error."""

    question: str
    answer: Answer | None = None
    partial: str = ""
    error: str | None = None


def esc(text: str) -> str:
    """HTML-escape untrusted text; braces and $ too, so gr.HTML's template syntax never runs on it."""
    return html.escape(text, quote=True).replace("{", "&#123;").replace("}", "&#125;").replace("$", "&#36;")


def ref_for_citation(turn_index: int, citation_index: int) -> str:
    return f"cite:{turn_index}:{citation_index}"


def ref_for_provision(document_id: str, provision_id: str) -> str:
    return f"prov:{document_id}/{provision_id}"


def ref_for_rating(turn_index: int, rating: str) -> str:
    """A thumb under an answer: 'rate:3:up' (the UI saves it as that answer's feedback)."""
    return f"rate:{turn_index}:{rating}"


def _chip(text: str, ref: str, title: str = "") -> str:
    title_attr = f' title="{esc(title)}"' if title else ""
    return f'<button type="button" class="chip" data-ref="{esc(ref)}"{title_attr}>{esc(text)}</button>'


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


def render_answer_text(answer: Answer, turn_index: int, text: str | None = None) -> str:
    """The answer's paragraphs (or ``text``, e.g. its short answer), escaped, with each marker [n] replaced by the chip of citation n."""

    def chips(match: re.Match[str]) -> str:
        out = []
        for number in re.split(r"\s*,\s*", match.group(1)):
            i = int(number) - 1
            if 0 <= i < len(answer.citations):
                c = answer.citations[i]
                out.append(_chip(c.label, ref_for_citation(turn_index, i), f"{c.heading}: “{c.quote[:200]}”"))
            else:
                out.append(esc(f"[{number}]"))
        return "".join(out)

    paragraphs = [p for p in re.split(r"\n\s*\n", (answer.text if text is None else text).strip()) if p.strip()]
    rendered = []
    for paragraph in paragraphs:
        # Markers are digits and commas only, so escaping first leaves them intact for the substitution.
        escaped = MARKER_RE.sub(chips, esc(paragraph)).replace("\n", "<br>")
        rendered.append(f"<p>{escaped}</p>")
    return "".join(rendered)


def render_sources(corpus: Corpus, answer: Answer, heading: str) -> str:
    """The retrieved provisions by rank (no scores: staff read the order, administrators the record): folded under an answer, open under an abstention."""
    if not answer.retrieved:
        return ""
    items = []
    for r in answer.retrieved:
        label = r.label or _label_for(corpus, r.document_id, r.provision_id)
        items.append(f"<li>{_chip(label, ref_for_provision(r.document_id, r.provision_id), r.heading)} {esc(r.heading)}</li>")
    if answer.abstained:
        return f'<div class="closest"><div class="closest-title">{esc(heading)}</div><ol>{"".join(items)}</ol></div>'
    return f'<details class="sources"><summary>{esc(heading)} ({len(items)})</summary><ol>{"".join(items)}</ol></details>'


def render_quotes(answer: Answer, turn_index: int, skip: set[int] = frozenset()) -> str:
    """The law's own words beneath the plain answer: one item per quote (a lead-in with its paragraph), its chip opening the panel."""
    items = []
    for item in quote_items(answer, skip):
        shown = answer.citations[item.index]
        quotes = (f'<span class="quote-note">{esc(item.note)}</span> … ' if item.note else "") + " … ".join(f"“{esc(text)}”" for text in item.texts)
        items.append(
            f'<li><span class="n">[{item.numbers}]</span> {_chip(shown.label, ref_for_citation(turn_index, item.index), shown.heading)} '
            f'<span class="heading">{esc(shown.heading)}</span><div class="quote">{quotes}</div></li>'
        )
    return f'<ul class="cites">{"".join(items)}</ul>' if items else ""


def render_answer(corpus: Corpus, answer: Answer, turn_index: int) -> str:
    """One answer card: the plain answer first, the law's words beneath it (each quote once), what it rests on, and the sources searched folded.

    An abstention says why in one plain sentence, with its kind; a delegated one quotes the words that hand the matter elsewhere.
    """
    parts: list[str] = []
    if answer.abstained:
        kind = ABSTAIN_KIND_LABELS.get(answer.abstain_kind or "")
        parts.append(f'<div class="badge abstain">Not answered by the law text{esc(": " + kind) if kind else ""}</div>')
        # Staff see the plain sentence; the technical detail is kept in the record for administrators.
        parts.append(f'<div class="short-answer"><p>{esc(answer.abstain_reason or STAFF_REASONS["not_in_sources"])}</p></div>')
        if answer.citations:
            parts.append(render_answer_text(answer, turn_index))
    else:
        lead, shown = lead_sentence(answer)
        parts.append(f'<div class="short-answer">{render_answer_text(answer, turn_index, lead)}</div>')
        for note in delegation_notes(answer):
            parts.append(f'<div class="note">{render_answer_text(answer, turn_index, note)}</div>')
        if len(shown) < len(answer.citations):
            parts.append(f'<div class="words-title">{"In the law’s words" if not shown else "Also quoted"}</div>')
            parts.append(render_quotes(answer, turn_index, shown))
    if answer.fallback:
        parts.append(f'<div class="notice">Shown as extracted quotes: {esc(answer.fallback)}</div>')
    stamps = document_stamps(corpus, answer)
    if stamps:
        lead_word = "Searched" if answer.abstained else "Rests on"
        parts.append(f'<div class="stamp">{lead_word}: {"; ".join(esc(s) for s in stamps)}</div>')
    heading = "Closest provisions to read" if answer.abstained else "Sources searched"
    parts.append(render_sources(corpus, answer, heading))
    parts.append(
        f'<div class="rate"><span class="muted">Was this answer helpful?</span> '
        f'<button type="button" class="thumb" data-ref="{ref_for_rating(turn_index, "up")}" title="Helpful">{THUMB_UP_SVG} Yes</button> '
        f'<button type="button" class="thumb" data-ref="{ref_for_rating(turn_index, "down")}" title="Not helpful">{THUMB_DOWN_SVG} No</button></div>'
    )
    css = "a abstained" if answer.abstained else "a"
    return f'<div class="{css}">{"".join(parts)}</div>'


def trimmed(text: str, limit: int = SHOWN_QUESTION_CHARS) -> str:
    """A long question shown as its opening words; the full text stays in the record and the copy."""
    text = flat(text)
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + " …"


def render_turn(corpus: Corpus, turn: Turn, turn_index: int, previous: str | None = None) -> str:
    """One question and its answer; a follow-up says which earlier question it was read with (the record keeps the text searched)."""
    parts = [f'<div class="turn" data-turn="{turn_index}"><div class="q">{esc(trimmed(turn.question))}</div>']
    answer = turn.answer
    if answer and answer.rewritten_question and answer.rewritten_question.strip() != turn.question.strip():
        context = f"Read as a follow-up to “{esc(trimmed(previous))}”" if previous else f"Searched as: “{esc(answer.rewritten_question)}”"
        parts.append(f'<div class="rewritten muted">{context}</div>')
    if turn.error:
        parts.append(f'<div class="a error"><div class="badge error">Could not answer</div><p>{esc(turn.error)}</p></div>')
    elif answer is not None:
        parts.append(render_answer(corpus, answer, turn_index))
    else:
        text = esc(turn.partial) if turn.partial else "Searching the Act…"
        parts.append(f'<div class="a streaming"><p>{text}</p></div>')
    parts.append("</div>")
    return "".join(parts)


def render_conversation(corpus: Corpus, turns: list[Turn]) -> str:
    if not turns:
        return '<div class="empty">Ask a question about the Education and Training Reform Act 2006 or the VET clusters policy. Answers quote the law and cite it to the subsection.</div>'
    return "".join(render_turn(corpus, turn, i, turns[i - 1].question if i else None) for i, turn in enumerate(turns))


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
            piece = esc(text[s:e])
            target = next((t for ls, le, t in links if ls <= s and e <= le), None)
            if target:
                piece = f'<a class="xref" data-ref="{esc(ref_for_provision(provision.document_id, target))}" href="#" title="Open {esc(target)}">{piece}</a>'
            if highlight and highlight[0] <= s and e <= highlight[1]:
                piece = f'<mark class="quote">{piece}</mark>'
            pieces.append(piece)
        kind = unit_kind.get(line_start, "text")
        out.append(f'<div class="line k-{kind}">{"".join(pieces) or "&nbsp;"}</div>')
    return f'<div class="prov-text">{"".join(out)}</div>'


def render_provision(corpus: Corpus, provision: Provision, highlight: tuple[int, int] | None = None, label: str | None = None, note: str = "", followed: bool = False) -> str:
    """The side panel: document and version, hierarchy path, heading, law text, collapsed history notes."""
    info = corpus.document(provision.document_id).info
    crumbs = "".join(f"<span>{esc(p)}</span>" for p in provision.path)
    shown_label = label or provision_label(provision)
    parts = [
        f'<div class="prov{" followed" if followed else ""}" data-uid="{esc(provision.uid)}">',
        f'<button type="button" class="chip panel-close" data-ref="{CLOSE_REF}">Close</button>',
        f'<div class="doc">{esc(info.stamp)}</div>',
        f'<div class="crumbs">{crumbs}</div>' if crumbs else "",
        f"<h3>{esc(shown_label)}{': ' if provision.kind == 'function' else ' '}{esc(provision.heading)}</h3>",
        '<p class="repealed">This provision has been repealed.</p>' if provision.repealed else "",
        f'<p class="quote-missing">{esc(note)}</p>' if note else "",
        render_law_text(corpus, provision, highlight),
    ]
    if provision.notes:
        notes = "".join(f"<li>{esc(n)}</li>" for n in provision.notes)
        parts.append(f'<details class="history"><summary>Amendment history ({len(provision.notes)} {"note" if len(provision.notes) == 1 else "notes"})</summary><ul>{notes}</ul></details>')
    if info.source_url:
        parts.append(f'<p class="muted">Source: {esc(info.source_url)}</p>')
    parts.append("</div>")
    return "".join(parts)


def panel_message(text: str) -> str:
    return f'<div class="panel-hint"><p>{esc(text)}</p></div>'


def plain_text(corpus: Corpus, answer: Answer) -> str:
    """The answer with its citations as plain text, for pasting into an email or a case note."""
    lines = [f"Q: {answer.question}", ""] + ([answer.short_answer, ""] if answer.short_answer else []) + [answer.text.strip()]
    if answer.citations:
        lines += ["", "Citations:"]
        lines += [f"[{i}] {c.label} ({c.heading}): “{c.quote}”" for i, c in enumerate(answer.citations, 1)]
    if answer.abstained and answer.abstain_reason:
        lines += ["", f"Why: {answer.abstain_reason}"]
    if answer.abstained and answer.retrieved:
        lines += ["", "Closest provisions:"]
        lines += [f"- {r.label} {r.heading}" for r in answer.retrieved[:5]]
    stamps = document_stamps(corpus, answer)
    if stamps:
        lines += ["", ("Searched: " if answer.abstained else "Rests on: ") + "; ".join(stamps)]
    return "\n".join(lines)

