"""The Act parsed into provisions: table-driven checks on real provisions and the traps in this export."""

from __future__ import annotations

import json

import pytest

from assistant import patterns as p
from assistant.corpus import load_corpus, stats
from assistant.errors import CorpusError
from assistant.parse.legislation import load_act, parse_act
from assistant.parse.lost_lead_ins import restore_lost_lead_ins
from assistant.settings import Settings

ACT_FILE = Settings().corpus_manifest.parent / "education-and-training-reform-act-2006.json"


def test_every_section_in_the_table_of_contents_is_in_the_body_with_its_heading(corpus):
    act = load_act(ACT_FILE, "etra-2006")
    listed = [e for e in act.toc if e.kind == "section"]
    assert len(listed) == 1033
    assert [e for e in act.missing_from_body if e.kind == "section"] == []
    parsed = [(pr.number, p.normalise_heading(pr.heading)) for pr in act.provisions if pr.kind == "section" and not pr.repealed]
    assert parsed == [(e.number, p.normalise_heading(e.title)) for e in listed]


@pytest.mark.parametrize(
    ("schedule", "clauses"),
    [
        ("2", ["1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "13A", "14"]),
        ("3", ["1", "2", "3", "4"]),
        ("4", ["1", "2", "3", "4", "5", "6"]),
        ("5", ["1", "2", "3", "4", "4A", "5", "5A", "7", "8", "8A", "8B", "8C", "9", "10"]),
        ("6", ["1", "2", "3", "4", "5", "6", "7", "8", "8A", "9", "10", "11", "12", "13", "14"]),
        ("7", ["1", "2", "3", "4", "5"]),
        ("8", [f"1.{n}" for n in range(1, 14)]),
    ],
)
def test_every_schedule_clause_is_parsed(act, schedule, clauses):
    found = [pid.split(" cl ")[1] for pid in act if pid.startswith(f"Sch {schedule} cl ")]
    assert found == clauses


@pytest.mark.parametrize(("schedule", "starts"), [("1", "English"), ("9", "Department of Education."), ("10", "1 Specialist schools.")])
def test_schedules_without_clauses_are_one_provision(act, schedule, starts):
    provision = act[f"Sch {schedule}"]
    assert provision.kind == "schedule"
    assert starts in provision.text


def test_heading_printed_without_a_tab_starts_its_own_section(act):
    section = act["2.4.59G"]
    assert section.heading == "Notice of determination"
    assert section.text.startswith("The Secretary must give notice in writing to an employee")
    assert "Notice of determination" not in act["2.4.59F"].text
    assert [u.pinpoint for u in section.units] == ["(a)", "(b)"]


def test_subsections_and_paragraphs_of_2_6_9_carry_labels_and_offsets(act):
    section = act["2.6.9"]
    pinpoints = [u.pinpoint for u in section.units]
    for expected in ["(1)", "(1)(a)", "(1A)", "(1A)(a)", "(2)", "(2)(c)(i)", "(2)(ca)"]:
        assert expected in pinpoints
    unit = section.unit("(1A)(a)")
    assert section.unit_text(unit).startswith("(a) the applicant is currently charged with")
    assert section.unit_text(section.unit("(1A)")).startswith("(1A) The Institute must refuse to grant registration")


def test_history_notes_are_kept_apart_from_the_law_text(act):
    section = act["2.6.9"]
    assert "S. 2.6.9(1)(b) substituted by No. 31/2018 s. 7(2)." in section.notes
    assert "substituted by No." not in section.text
    offenders = [(pr.provision_id, line) for pr in act.values() for line in pr.text.split("\n") if p.is_history_note(line)]
    assert offenders == []


def test_a_note_printed_above_a_heading_belongs_to_the_next_section(act):
    assert "S. 2.4.59H inserted by No. 70/2008 s. 12." in act["2.4.59H"].notes
    assert not any("2.4.59H" in n for n in act["2.4.59G"].notes)


def test_each_definition_of_1_1_3_is_addressable(act):
    definitions = act["1.1.3"]
    accredited = definitions.definition("accredited")
    assert accredited is not None and accredited.pinpoint == '(1) "accredited"'
    text = definitions.unit_text(accredited)
    assert text.startswith("accredited means—")
    assert "registered on the State Register and National Register" in text
    assert "accommodation services" not in text
    assert definitions.unit_text(definitions.definition("compulsory school age")) == "compulsory school age means not less than 6 nor more than 17 years of age;"
    assert sum(u.kind == "definition" for u in definitions.units) > 90


def test_schedule_definition_clauses_are_addressable(act):
    clause = act["Sch 2 cl 1"]
    assert clause.unit_text(clause.definition("member")) == "member means a member of an authority."


def test_both_sections_numbered_6_1_43_survive(act):
    first, second = act["6.1.43"], act["6.1.43-2"]
    assert first.heading.startswith("Transitional provisions—COVID-19 Omnibus")
    assert "section 5A.4.1(3) continues to have effect" in first.text
    assert second.heading.startswith("Transitional provisions—Education Legislation Amendment (Victorian Institute of Teaching")
    assert "Section 2.6.21A as amended by section 15" in second.text


def test_schedule_2_clause_2(act):
    clause = act["Sch 2 cl 2"]
    assert clause.heading == "Terms and conditions of appointment of members"
    assert clause.path == ["Schedules", "Schedule 2—General provisions for authorities"]
    assert "not exceeding 3 years" in clause.unit_text(clause.unit("(1)"))
    assert clause.unit_text(clause.unit("(3)(c)")).startswith("(c) the member is absent from 3 consecutive meetings")


@pytest.mark.parametrize(
    ("provision", "path"),
    [
        ("1.1.3", ["Chapter 1—General", "Part 1.1—Preliminary"]),
        ("2.1.1", ["Chapter 2—School education", "Part 2.1—Compulsory education", "Division 1—Attendance at school"]),
        ("2.1A.3", ["Chapter 2—School education", "Part 2.1A—Protection of school communities", "Division 2—Immediate school community safety orders"]),
        ("2.4.1", ["Chapter 2—School education", "Part 2.4—Government teaching service", "Division 1—Preliminary"]),
        ("2A.1.4", ["Chapter 2A—Early childhood education and care", "Part 2A.1—Government ELC workforce", "Division 2—Employment in government ELC workforce"]),
        ("3.1.1", ["Chapter 3—Post school education and training", "Part 3.1—Vocational education and training", "Division 1—Government funded vocational education and training"]),
        ("4.3.1", ["Chapter 4—Victorian Registration and Qualifications Authority", "Part 4.3—Registration of students and providers", "Division 1—Schools"]),
        # A Division heading printed in bold in the body but left out of the contents.
        ("2.7.9", ["Chapter 2—School education", "Part 2.7—State funding for non‑Government schools", "Division 3—School Policy and Funding Advisory Council"]),
        ("5.2.1", ["Chapter 5—General", "Part 5.2—Minister's powers"]),
        ("6.1.43", ["Chapter 6—Repeals, amendments, savings and transitionals", "Part 6.1—Repeals, amendments, savings and transitionals"]),
    ],
)
def test_hierarchy_paths(act, provision, path):
    assert act[provision].path == path


def test_a_schedule_clause_heading_printed_in_bold_starts_its_own_clause(act):
    clause = act["Sch 6 cl 9"]
    assert clause.heading == "TAFE teaching staff"
    assert clause.text.startswith("Declaring a position or class of positions on the staff of a TAFE institute")
    assert "TAFE teaching staff" not in act["Sch 6 cl 8A"].text
    assert any("Sch. 6 cl. 9 substituted" in note for note in clause.notes)


def test_a_group_heading_missing_from_the_contents_is_not_law_text_of_the_section_before_it(act):
    assert "Division 3" not in act["2.7.8"].text
    assert act["2.7.8"].text.rstrip().endswith("School Policy and Funding Advisory Council.")


def test_roman_i_after_h_is_a_paragraph(act):
    pinpoints = [u.pinpoint for u in act["1.1.1"].units]
    assert "(2)(i)" in pinpoints and "(2)(h)(i)" not in pinpoints


def _unit_holding(provision, words: str) -> str:
    """The pinpoint of the most specific unit whose span holds ``words``, "" for the provision itself."""
    at = provision.text.index(words)
    holding = [u for u in provision.units if u.start <= at and at + len(words) <= u.end]
    return max(holding, key=lambda u: u.start).pinpoint if holding else ""


@pytest.mark.parametrize(
    ("provision", "words", "pinpoint"),
    [
        # Words after a list that close it belong to the list's parent, not to its last item.
        ("2.5.19", "the review committee may—", ""),
        ("2.5.19", "by fraudulent, illegal or unfair means—", "(b)"),
        ("2.4.17", "in accordance with a Ministerial Order.", ""),
        ("2.3.11", "any buildings or grounds of any school", "(1)"),
        ("5.8.3I", "a thing, document or device of a particular kind named", "(2)(b)"),
        ("4.7.10", "Penalty: 20 penalty units", "(1)"),
        # A list that goes on after such words keeps its kind: (iii) after "in the following circumstances—" is (e)(iii).
        ("1.2.2", "in the following circumstances—", "(2)(e)"),
        ("1.2.2", "the course of study is available", "(2)(e)(iii)"),
        ("4.3.16", "(ii) is a school that is registered under this Act", "(3)(bb)(ii)"),
        # A line introducing examples stays with the item it gives examples of.
        ("2.1A.37", "Examples of matters that can be provided for under this paragraph", "(1)(a)"),
        # (i) right after a paragraph introducing a list starts that list, not the paragraph after (h);
        # a subparagraph after a repealed one ((vi), then (viii)) stays in its list.
        ("2.6.46", "(i) undergo counselling", "(2)(h)(i)"),
        ("2.6.46", "(ii) undertake and complete specified further education", "(2)(h)(ii)"),
        ("4.2.2", "(i) accredited courses and qualifications", "(1)(i)(i)"),
        ("4.2.2", "(viii) institutions approved to operate as Universities", "(1)(i)(viii)"),
        ("5.2.1", "(iv) approved training agents", "(2)(d)(iv)"),
        # Four-letter paragraph labels inserted by amendment.
        ("4.2.2", "(gaab) exchange information and collaborate", "(1)(gaab)"),
        ("4.2.2", "(gaac) work collaboratively with the Social Services Regulator", "(1)(gaac)"),
        # A paragraph inserted after one inserted itself: (ib) after (ia) is the next paragraph, not inside (ia).
        ("2.5.3", "(ib) develop and maintain standards for measuring and reporting on early childhood", "(2)(ib)"),
        ("2.5.3", "(ic) arrange for other persons, bodies or agencies to conduct assessments", "(2)(ic)"),
        # A list whose opening words the export lost is not read into the subsection above it: its
        # subsection is the one the history notes name ("S. 2.6.7(2)(b) amended"), or the gap leaves.
        ("2.6.7", "(a) made in the form approved by the Institute", "(2)(a)"),
        ("2.6.7", "(vi) the fee fixed by the Minister for the national criminal history check", "(2)(b)(vi)"),
        ("4.7.7", "(c) the University of Divinity", "(2)(c)"),
        ("2.2.13", "(a) a special school or other school providing solely for students with disabilities", "(2)(a)"),
        ("4.8.1", "(a) the day on which the decision is made", "(2)(a)"),
        ("3.1.11", "(a) create a TAFE institute", "(1)(a)"),
        ("3.3.28", "(a) change the name of AMES Australia", "(1)(a)"),
        ("6.1.31", "(a) all rights, assets, liabilities and obligations", "(3)(a)"),
        ("5.8.28", "(a) maintain a register of undertakings", "(a)"),
        # The Schedules of matters for regulations and Ministerial Orders number their items within each clause.
        ("Sch 6 cl 4", "4.4 The period for which a student may be suspended.", "4.4"),
        ("Sch 6 cl 8", "8.1A Fixing a range of remuneration for executives", "8.1A"),
        ("Sch 6 cl 8", "(b) members of the Executive Class or a class of members of the Executive Class", "8.1(b)"),
        ("Sch 5 cl 8C", "(i) fees, including the policy for payment and refunding of fees", "8C.1(a)(i)"),
        ("Sch 10", "2 English language Government schools or centres.", "item 2"),
    ],
)
def test_words_are_held_by_the_unit_a_lawyer_would_cite(act, provision, words, pinpoint):
    assert _unit_holding(act[provision], words) == pinpoint


def test_markup_never_leaks_into_ids_headings_labels_or_text(act):
    for provision in act.values():
        assert "*" not in provision.provision_id + provision.heading + provision.text
        assert "![" not in provision.text and "](" not in provision.text
        assert all("*" not in u.label for u in provision.units)
    assert act["1.1.3A"].heading == "Meaning of category A offence"


def test_an_image_the_export_lost_is_named_where_it_stood(act):
    assert f"the formula—\n{p.IMAGE_PLACEHOLDER}\nwhere—" in act["2.7.4"].text
    assert f"the following formula—\n{p.IMAGE_PLACEHOLDER} where—" in act["5.7A.21"].text


@pytest.mark.parametrize(
    ("lines", "notes", "inserted"),
    [
        # The one number the gap between subsections leaves.
        (["(1) A.", "(1A) B.", "(a) c;", "(b) d.", "(2A) E."], [], "(2)"),
        (["(a) c;", "(b) d.", "(2) E."], [], "(1)"),
        (["(1) A.", "(2) B.", "(a) c;", "(4) E."], [], "(3)"),
        # After the last subsection, the next number.
        (["(1) A.", "(a) c;", "(b) d."], [], "(2)"),
        # The history notes name the list's subsection where the gap leaves two.
        (["(1) A.", "(a) c;", "(b) d.", "(4) E."], ["S. 9.9.9(3)(b) amended by No. 1/2020 s. 2."], "(3)"),
        # A subsection the notes say was repealed is not the list's.
        (["(a) c;", "(b) d.", "(3) E."], ["S. 9.9.9(2) repealed by No. 1/2020 s. 2."], "(1)"),
        # Notes about another section say nothing here.
        (["(a) c;", "(b) d.", "(3) E."], ["S. 9.9.8(2) repealed by No. 1/2020 s. 2."], ""),
        # No subsections at all: the lead-in without a number.
        (["(a) c;", "(b) d."], [], ""),
        # A list its lead-in introduces is left alone.
        (["(1) A.", "(2) The Minister may—", "(a) c;", "(b) d."], [], None),
        (["(1) The following apply:", "(a) c;"], [], None),
    ],
)
def test_a_list_whose_lead_in_was_lost_gets_a_placeholder_and_the_subsection_the_act_allows(lines, notes, inserted):
    restored = [clean for _, clean in restore_lost_lead_ins([(line, line) for line in lines], notes, "9.9.9")]
    added = [line for line in restored if p.LOST_LEAD_IN_PLACEHOLDER in line]
    if inserted is None:
        assert restored == lines
    else:
        assert added == [f"{inserted} {p.LOST_LEAD_IN_PLACEHOLDER}".strip()]
        assert restored[restored.index(added[0]) + 1] == "(a) c;"


def test_a_lost_lead_in_is_a_placeholder_the_act_never_has_and_corpus_stats_lists_each(corpus, act):
    text = act["2.6.7"].text
    assert f"(2) {p.LOST_LEAD_IN_PLACEHOLDER}\n(a) made in the form approved by the Institute" in text
    assert sum(p.LOST_LEAD_IN_PLACEHOLDER in provision.text for provision in act.values()) == 23
    report = stats(corpus)
    assert "lists whose opening words the export lost (a placeholder stands there): 23" in report
    assert "    - s 2.6.7(2) Application for registration" in report and "    - s 5.8.28 Register of undertakings" in report


def test_repealed_sections_are_marked(act):
    assert act["2.6.63"].repealed and act["2.6.63"].text == ""
    assert act["2.6.63"].notes == ["S. 2.6.63 repealed by No. 19/2014 s. 31."]
    assert not act["2.6.64"].repealed


def test_cross_references_are_found_and_resolved(act):
    refs = {(r.text, r.target) for r in act["2.6.9"].cross_refs}
    assert ("section 2.6.8", "2.6.8") in refs
    assert ("subsection (1A)", None) in refs
    assert any(r.target == "Sch 2" for pr in act.values() for r in pr.cross_refs)
    provision = act["2.6.9"]
    assert all(provision.text[r.start : r.end] == r.text for r in provision.cross_refs)


def test_penalty_lines_stay_in_the_law_text(act):
    assert "Penalty: 1 penalty unit for each day on which the duty is not complied with." in act["2.1.2A"].text


def test_version_facts_come_from_the_file(corpus):
    info = corpus.document("etra-2006").info
    assert (info.version, info.in_force_from) == ("Version 107", "2026-04-05")
    assert info.stamp == "Education and Training Reform Act 2006 (Vic), Version 107, in force from 5 April 2026"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("this is not json", "not valid JSON"),
        (json.dumps({"name": "x"}), "no 'sections' list"),
        (json.dumps({"sections": [{"content": "   ", "sortOrder": "0"}]}), "rebuilt text is empty"),
        (json.dumps({"sections": [{"content": "Some text", "sortOrder": "0"}]}), "The Parliament of Victoria enacts"),
        (json.dumps({"sections": [{"heading": "x"}]}), "needs 'content'"),
    ],
)
def test_bad_act_files_get_a_clear_error_naming_the_file(tmp_path, content, message):
    path = tmp_path / "act.json"
    path.write_text(content)
    with pytest.raises(CorpusError, match=message) as info:
        load_act(path, "test-act")
    assert str(path) in str(info.value)


def test_a_manifest_entry_pointing_at_a_missing_file_is_named(tmp_path):
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"documents": [{"id": "x", "title": "X", "short_name": "X", "format": "policy-page", "file": "gone.txt"}]}))
    with pytest.raises(CorpusError, match=r"gone\.txt: file not found \(manifest entry 'x'\)"):
        load_corpus(Settings(corpus_manifest=manifest))


def test_a_second_act_needs_only_a_manifest_entry(tmp_path):
    """A tiny invented Act in the same export format parses through the manifest alone."""
    text = (
        "Part 1—Preliminary 1\n\n1 Purpose 1\n\n2 Definitions 1\n\n"
        "The Parliament of Victoria enacts as follows:\n\nPart 1—Preliminary\n\n\t1 Purpose\n\n"
        "(1) The purpose of this Act is to test.\n\nS. 2 inserted by No. 1/2020 s. 2.\n\n\t2 Definitions\n\n"
        "In this Act—\n\n***widget*** means a small thing;\n\nEndnotes\n"
    )
    (tmp_path / "tiny.json").write_text(json.dumps({"sections": [{"content": text[:40], "sortOrder": "0"}, {"content": text[40:], "sortOrder": "1"}]}))
    manifest = tmp_path / "manifest.json"
    entry = {"id": "tiny-act", "title": "Tiny Act", "short_name": "Tiny", "format": "legislation-json", "file": "tiny.json"}
    manifest.write_text(json.dumps({"documents": [entry]}))
    corpus = load_corpus(Settings(corpus_manifest=manifest))
    assert corpus.get("tiny-act", "1").text == "(1) The purpose of this Act is to test."
    definitions = corpus.get("tiny-act", "2")
    assert definitions.notes == ["S. 2 inserted by No. 1/2020 s. 2."]
    assert definitions.unit_text(definitions.definition("widget")) == "widget means a small thing;"


def test_parse_act_rejects_a_non_object():
    with pytest.raises(CorpusError, match="expected a JSON object"):
        parse_act([], "x", "list.json")  # type: ignore[arg-type]
