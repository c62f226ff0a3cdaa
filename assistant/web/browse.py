"""Finding provisions for the side panel: a typed reference, a clicked chip or link, the browser's groups.

Pure functions of the corpus (and the conversation, for citation chips), so the
panel's behaviour is tested without Gradio.
"""

from __future__ import annotations

from assistant.corpus import Corpus
from assistant.errors import ProvisionNotFoundError
from assistant.patterns import provision_references
from assistant.records import Provision
from assistant.web.render import (
    CLOSE_REF,
    PANEL_HINT,
    Turn,
    panel_message,
    render_provision,
)

REFERENCE_PREFERENCE = ("schedule clause", "function", "section", "schedule")


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


def open_reference(corpus: Corpus, turns: list[Turn], ref: str, followed: bool = False) -> str:
    """The panel HTML for a clicked ref: a citation (highlight its quote) or a provision (no highlight).

    ``followed``: opened because it belongs to the newest answer, not by a click (a narrow screen does not pop it up).
    """
    if ref.startswith("cite:"):
        try:
            _, turn_index, citation_index = ref.split(":")
            citation = turns[int(turn_index)].answer.citations[int(citation_index)]  # type: ignore[union-attr]
        except (ValueError, IndexError, AttributeError):
            return panel_message("That citation belongs to an earlier conversation; ask again to open it.")
        provision = corpus.find(citation.document_id, citation.provision_id)
        if provision is None:
            return panel_message(f"{citation.label} is not in the loaded corpus.")
        start, end = citation.quote_start, citation.quote_start + len(citation.quote)
        if provision.text[start:end] != citation.quote:
            found = provision.text.find(citation.quote)
            if found < 0:
                return render_provision(corpus, provision, None, citation.label, note="The quoted words were not found in this version of the provision.", followed=followed)
            start, end = found, found + len(citation.quote)
        return render_provision(corpus, provision, (start, end), citation.label, followed=followed)
    if ref == CLOSE_REF:
        return PANEL_HINT
    if ref.startswith("prov:") and "/" in ref:
        document_id, provision_id = ref[len("prov:") :].split("/", 1)
        provision = corpus.find(document_id, provision_id)
        if provision is None:
            return panel_message(f"No provision {provision_id} in {document_id}.")
        return render_provision(corpus, provision)
    return panel_message("Nothing to open there.")

