"""CLI command for answering: ``assistant ask "..."``, printed as staff read the answer card."""

from __future__ import annotations

import argparse

from assistant.answer.card import delegation_notes, lead_sentence, quote_items
from assistant.question import clean_question
from assistant.records import ABSTAIN_KIND_LABELS, Answer
from assistant.settings import Settings


def add_commands(sub: argparse._SubParsersAction) -> None:
    ask = sub.add_parser("ask", help='answer a question with pinpoint citations, e.g. `assistant ask "Until what age must a child attend school?"`')
    ask.add_argument("question")
    ask.add_argument("--json", action="store_true", help="print the Answer record as JSON")
    ask.add_argument("--mode", choices=["extractive", "generative"], help="answerer (default: ASSISTANT_ANSWER_MODE, extractive)")
    ask.add_argument("--k", type=int, help="provisions to retrieve (default: ASSISTANT_TOP_K)")
    ask.add_argument("--document", help="answer from one document only: etra-2006 or vet-clusters")
    ask.set_defaults(handler=_ask)


def format_answer(answer: Answer, verbose: bool = False) -> str:
    """The answer as staff read it: the plain answer first, then the law's words (each quote once) with labels, what it rests on.

    ``verbose`` adds what administrators read: an abstention's technical detail, removed sentences, the answerer and timing.
    """
    lines: list[str] = []
    if answer.rewritten_question:
        lines += [f"(understood as: {answer.rewritten_question})", ""]
    if answer.abstained:
        kind = ABSTAIN_KIND_LABELS.get(answer.abstain_kind or "", "not answered")
        lines += [f"Not answered by the law text ({kind}): {answer.abstain_reason or answer.text}"]
        lines += [answer.text] if answer.citations else []
        shown: set[int] = set(range(len(answer.citations)))
    else:
        lead, shown = lead_sentence(answer)
        lines.append(lead)
        lines += delegation_notes(answer)
    items = quote_items(answer, shown)
    if items:
        lines.append("")
    for item in items:
        citation = answer.citations[item.index]
        lines.append(f"[{item.numbers}] {citation.label} — {citation.heading}")
        lines.append("    " + (f"{item.note} … " if item.note else "") + " … ".join(f"“{text}”" for text in item.texts))
    if answer.abstained and answer.retrieved:
        lines += ["", "Closest provisions to read: " + "; ".join(f"{r.label} ({r.heading})" for r in answer.retrieved[:3])]
    stamps = dict.fromkeys(f"{c.document_title}, {c.version}" + (f", {c.as_at}" if c.as_at else "") for c in answer.citations)
    if stamps:
        lines += ["", "Rests on: " + "; ".join(stamps)]
    if answer.fallback:
        lines.append(f"(generative answer replaced by the extractive one: {answer.fallback})")
    if verbose:
        if answer.abstain_detail:
            lines.append(f"(detail: {answer.abstain_detail})")
        if answer.short_answer:
            lines.append(f"(short answer {'by the model, checked' if answer.short_answer_by == 'model' else 'from the quoted law'})")
        if answer.removed_sentences:
            lines.append(f"({answer.removed_sentences} generated sentence(s) removed for lacking a valid citation)")
        total = answer.timings_ms.get("total")
        lines.append(f"({answer.mode}{', ' + answer.model_id if answer.model_id else ''}" + (f"; {total:.0f} ms" if total is not None else "") + ")")
    return "\n".join(lines).rstrip()


def _ask(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.pipeline import Assistant

    # A question that cannot be asked is refused before seconds of model loading.
    clean_question(args.question, settings.max_question_chars)
    assistant = Assistant.load(settings)
    answer = assistant.ask(args.question, k=args.k, document=args.document, mode=args.mode)
    print(answer.model_dump_json(indent=2) if args.json else format_answer(answer, verbose=args.verbose))
    return 0
