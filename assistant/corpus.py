"""The document manifest and loading: which documents the assistant answers from.

Adding another Act exported in the same JSON format needs only a manifest entry.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import ValidationError

from assistant.errors import CorpusError, ProvisionNotFoundError
from assistant.labels import provision_label
from assistant.parse.legislation import TocEntry, load_act
from assistant.parse.lost_lead_ins import lost_lead_ins
from assistant.parse.policy import load_policy_page
from assistant.records import Provision, Record
from assistant.settings import Settings


class DocumentInfo(Record):
    """One manifest entry: what a document is and which version of it we hold."""

    id: str
    title: str
    short_name: str
    format: Literal["legislation-json", "policy-page"]
    file: str
    version: str = ""
    in_force_from: str = ""
    as_at: str = ""
    source_url: str = ""

    @property
    def stamp(self) -> str:
        """What an answer rests on, e.g. 'Education and Training Reform Act 2006 (Vic), Version 107, in force from 5 April 2026'."""
        parts = [self.title, self.version]
        if self.as_at and self.as_at.lower() != self.version.lower():
            parts.append(self.as_at)
        return ", ".join(part for part in parts if part)


@dataclass
class Document:
    info: DocumentInfo
    path: Path
    provisions: list[Provision]
    sha256: str
    missing_from_body: list[TocEntry] = field(default_factory=list)


@dataclass
class Corpus:
    """All documents with their provisions, addressable by ``(document_id, provision_id)``."""

    documents: list[Document]

    @cached_property
    def _by_uid(self) -> dict[str, Provision]:
        return {p.uid: p for d in self.documents for p in d.provisions}

    @property
    def provisions(self) -> list[Provision]:
        return [p for d in self.documents for p in d.provisions]

    def document(self, document_id: str) -> Document:
        for d in self.documents:
            if d.info.id == document_id:
                return d
        raise ProvisionNotFoundError(f"unknown document '{document_id}'; choose one of {[d.info.id for d in self.documents]}")

    def get(self, document_id: str, provision_id: str) -> Provision:
        provision = self._by_uid.get(f"{document_id}/{provision_id}")
        if provision is None:
            self.document(document_id)
            raise ProvisionNotFoundError(f"no provision '{provision_id}' in '{document_id}'")
        return provision

    def find(self, document_id: str, provision_id: str) -> Provision | None:
        return self._by_uid.get(f"{document_id}/{provision_id}")

    def hashes(self) -> dict[str, str]:
        return {d.info.file: d.sha256 for d in self.documents}


def _read_manifest(manifest: Path) -> list[DocumentInfo]:
    try:
        raw = json.loads(manifest.read_text(encoding="utf-8"))
        return [DocumentInfo(**entry) for entry in raw["documents"]]
    except FileNotFoundError as exc:
        raise CorpusError(f"{manifest}: corpus manifest not found") from exc
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise CorpusError(f"{manifest}: not a corpus manifest with a 'documents' list ({exc})") from exc
    except ValidationError as exc:
        raise CorpusError(f"{manifest}: invalid document entry: {exc}") from exc


def _long_date(iso: str) -> str:
    try:
        d = date.fromisoformat(iso)
    except ValueError:
        return iso
    return f"{d.day} {d:%B %Y}"


def load_document(info: DocumentInfo, base: Path) -> Document:
    path = base / info.file
    if not path.is_file():
        raise CorpusError(f"{path}: file not found (manifest entry '{info.id}')")
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    if info.format == "legislation-json":
        act = load_act(path, info.id)
        # Version facts come from the file itself unless the manifest overrides them.
        info = info.model_copy(
            update={
                "version": info.version or act.version,
                "in_force_from": info.in_force_from or act.in_force_from,
                "as_at": info.as_at or (f"in force from {_long_date(act.in_force_from)}" if act.in_force_from else ""),
            }
        )
        return Document(info, path, act.provisions, sha, act.missing_from_body)
    return Document(info, path, load_policy_page(path, info.id), sha)


def load_corpus(settings: Settings | None = None) -> Corpus:
    """Load every document in the manifest; errors name the file and the problem."""
    settings = settings or Settings()
    manifest = settings.corpus_manifest
    infos = _read_manifest(manifest)
    ids = Counter(i.id for i in infos)
    if dup := [k for k, n in ids.items() if n > 1]:
        raise CorpusError(f"{manifest}: duplicate document ids {dup}")
    return Corpus([load_document(info, manifest.parent) for info in infos])


def stats(corpus: Corpus) -> str:
    """Counts by kind per document, any table-of-contents entry not found in the body, and lists whose lead-in the export lost."""
    lines: list[str] = []
    for doc in corpus.documents:
        kinds = Counter(p.kind for p in doc.provisions if not p.repealed)
        units = Counter(u.kind for p in doc.provisions for u in p.units)
        lines.append(f"{doc.info.id}: {doc.info.title} ({doc.info.stamp})")
        lines.append(f"  provisions: {len(doc.provisions)} ({', '.join(f'{k} {n}' for k, n in sorted(kinds.items()))}; repealed {sum(p.repealed for p in doc.provisions)})")
        lines.append(f"  units: {', '.join(f'{k} {n}' for k, n in sorted(units.items()))}")
        lines.append(f"  history notes: {sum(len(p.notes) for p in doc.provisions)}; cross-references: {sum(len(p.cross_refs) for p in doc.provisions)}")
        if doc.info.format == "legislation-json":
            missing = doc.missing_from_body
            lines.append(f"  table-of-contents entries not found in the body: {len(missing)}")
            lines.extend(f"    - {e.text}" for e in missing)
            lost = [(p, pinpoint) for p in doc.provisions for pinpoint in lost_lead_ins(p)]
            lines.append(f"  lists whose opening words the export lost (a placeholder stands there): {len(lost)}")
            lines.extend(f"    - {provision_label(p, pinpoint)} {p.heading}" for p, pinpoint in lost)
    return "\n".join(lines)
