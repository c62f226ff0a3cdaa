"""Parse stage for a policy page saved as plain text: numbered functions with bulleted activities.

Page chrome (site name, "External Link", the repeated summary line, "Was this
page helpful?") is dropped; what remains is one provision per numbered function
with each key-activity bullet as a unit, nested bullets kept nested.
"""

from __future__ import annotations

import re
from pathlib import Path

from assistant.errors import CorpusError
from assistant.records import Provision, Unit

_FUNCTION_RE = re.compile(r"^(?P<number>\d+)\.\s+(?P<title>\S.*)$")
_BULLET_RE = re.compile(r"^(?P<indent>\s*)[•\-*]\s+(?P<text>\S.*)$")
_CHROME_RE = re.compile(r"External Link|Was this page helpful\?|^Reviewed \d+ \w+ \d{4}$|^Includes information on")


def parse_policy_page(text: str, document_id: str, source: str = "<page>") -> list[Provision]:
    """Parse the page into one ``Provision`` per numbered function."""
    lines = [_CHROME_RE.sub("", line).rstrip() if "External Link" in line else line.rstrip() for line in text.splitlines()]
    first = next((i for i, line in enumerate(lines) if _FUNCTION_RE.match(line.strip())), None)
    if first is None:
        raise CorpusError(f"{source}: no numbered functions ('1. ...') found on the page")
    title_lines = [line.strip() for line in lines[:first] if line.strip() and "|" not in line]
    path = title_lines[1:3] if len(title_lines) >= 3 else title_lines[:2]
    provisions: list[Provision] = []
    current: tuple[str, str, list[tuple[int, str]]] | None = None

    def close() -> None:
        if current is not None:
            provisions.append(_function(document_id, *current, path=path, order=len(provisions)))

    for line in lines[first:]:
        if not line.strip() or _CHROME_RE.search(line):
            continue
        if m := _FUNCTION_RE.match(line.strip()):
            close()
            current = (m["number"], m["title"].strip(), [])
        elif (b := _BULLET_RE.match(line)) and current is not None:
            current[2].append((len(b["indent"].expandtabs(4)), b["text"].strip()))
    close()
    return provisions


def _function(document_id: str, number: str, title: str, bullets: list[tuple[int, str]], path: list[str], order: int) -> Provision:
    parts = [title]
    pos = len(title) + 1
    units: list[Unit] = []
    base_indent = min((i for i, _ in bullets), default=0)
    top = 0
    sub = 0
    for indent, bullet in bullets:
        nested = indent > base_indent
        if nested:
            sub += 1
            pinpoint, line = f"activity {top}.{sub}", f"  - {bullet}"
        else:
            top, sub = top + 1, 0
            pinpoint, line = f"activity {top}", f"- {bullet}"
        label = pinpoint.removeprefix("activity ")
        units.append(Unit(label=label, kind="item", pinpoint=pinpoint, start=pos, end=pos + len(line)))
        parts.append(line)
        pos += len(line) + 1
    text = "\n".join(parts)
    # A top-level bullet's span runs over its nested bullets.
    units = [
        u.model_copy(update={"end": max(v.end for v in units if v.pinpoint == u.pinpoint or v.pinpoint.startswith(u.pinpoint + "."))})
        for u in units
    ]
    return Provision(
        document_id=document_id,
        provision_id=number,
        number=number,
        kind="function",
        heading=title,
        path=path,
        text=text,
        units=units,
        order=order,
    )


def load_policy_page(path: Path, document_id: str) -> list[Provision]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise CorpusError(f"{path}: file not found") from exc
    except UnicodeDecodeError as exc:
        raise CorpusError(f"{path}: not UTF-8 text ({exc})") from exc
    if not text.strip():
        raise CorpusError(f"{path}: the file is empty")
    return parse_policy_page(text, document_id, str(path))
