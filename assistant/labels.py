"""Provision labels as staff write them: 's 2.6.9(1A)(a)', 'Sch 2 cl 2(3)', 'Sch 1', 'VET clusters, function 4'.

One formatter shared by the index headers, the retriever's hits and the citations,
so the same provision is never labelled two ways.
"""

from __future__ import annotations

from assistant.records import Provision

# Policy documents cite their functions by the page's short name.
POLICY_NAMES = {"vet-clusters": "VET clusters"}


def format_pinpoint(pinpoint: str) -> str:
    """'(1A)(a)' stays as is; a definition '(1) "accredited"' reads '(1) (definition of "accredited")'."""
    pinpoint = pinpoint.strip()
    if not pinpoint:
        return ""
    if '"' in pinpoint:
        head, _, rest = pinpoint.partition('"')
        term, _, tail = rest.partition('"')
        return f'{head.strip()} (definition of "{term}"){tail}'.strip()
    return pinpoint


def provision_label(provision: Provision, pinpoint: str = "", document_name: str | None = None) -> str:
    """The label of a provision, optionally down to a pinpoint inside it."""
    pin = format_pinpoint(pinpoint)
    if provision.kind == "function":
        name = document_name or POLICY_NAMES.get(provision.document_id, provision.document_id)
        base = f"{name}, function {provision.number}"
        return f"{base}, {pin}" if pin else base
    base = f"s {provision.provision_id}" if provision.kind == "section" else provision.provision_id
    if not pin:
        return base
    if provision.kind == "schedule_clause" and pin.startswith(f"{provision.number}."):
        return base + pin[len(provision.number) :]  # an item the Act numbers within its clause: Sch 6 cl 4.4
    return f"{base}{pin}" if pin.startswith("(") else f"{base}, {pin}"
