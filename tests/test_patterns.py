"""Legal text patterns as tables: history notes and labels."""

from __future__ import annotations

import pytest

from assistant import patterns as p


@pytest.mark.parametrize(
    ("line", "is_note"),
    [
        ("S. 2.6.9(1)(b) substituted by No. 31/2018 s. 7(2).", True),
        ("Sch. 2 cl. 2(2) repealed by No. 19/2014 s. 33, new Sch. 2 cl. 2(2) inserted by No. 69/2015 s. 9.", True),
        ("*dual sector university* inserted by No. 76/2013 s. 3(d).", True),
        ("(2)(b) repealed by No. 31/2018 s. 9(3)(a).", True),
        ("Note to s. 2.1.10 inserted by No. 47/2013 s. 10.", True),
        ("(1) A parent of a child of compulsory school age must enrol the child at a registered school", False),
        ("Penalty: 10 penalty units.", False),
        ("(a) the Education and Care Services National Law (Victoria); and", False),
    ],
)
def test_history_notes(line, is_note):
    assert p.is_history_note(line) is is_note


@pytest.mark.parametrize(
    ("note", "subject"),
    [
        ("S. 2.4.59H inserted by No. 70/2008 s. 12.", "2.4.59H"),
        ("Note to s. 2.6.9(2) inserted by No. 31/2018 s. 7(5).", "2.6.9"),
        ("Sch. 2 cl. 3(1) amended by Nos 58/2007 s. 46(1)(a).", "Sch 2 cl 3"),
        ("Sch. 2 amended by No. 76/2013 s. 18(2)(a).", "Sch 2"),
        ("Pt 2.4 Div. 10 (Heading) amended by No. 70/2008 s. 13.", None),
    ],
)
def test_note_subjects(note, subject):
    from assistant.parse.legislation import _note_subject

    assert _note_subject(note) == subject


@pytest.mark.parametrize("label", ["i", "ii", "iii", "iv", "v", "vi", "ix", "x", "xi", "iia"])
def test_roman_labels(label):
    assert p.is_roman(label)


@pytest.mark.parametrize("label", ["a", "ab", "ca", "h", "nd"])
def test_letter_labels_are_not_roman(label):
    assert not p.is_roman(label)
