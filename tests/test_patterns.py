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


@pytest.mark.parametrize("label", ["a", "ab", "ca", "h", "nd", "gaab"])
def test_letter_labels_are_not_roman(label):
    assert not p.is_roman(label)


@pytest.mark.parametrize(
    ("line", "label"),
    [
        ("(1) A parent must enrol the child", "1"),
        ("(1A) The Institute may", "1A"),
        ("(gaa) promote the proper response", "gaa"),
        ("(gaab) exchange information", "gaab"),
        ("(iiia) if subsection (1)(f) applies", "iiia"),
        ("(AB) the person", "AB"),
        ("(abcde) too long for a label", None),
        ("(a)no space after the label", None),
    ],
)
def test_unit_labels(line, label):
    match = p.UNIT_LABEL_RE.match(line)
    assert (match["label"] if match else None) == label


@pytest.mark.parametrize(
    ("line", "item", "clause_item"),
    [
        ("1 Specialist schools.", "1", None),
        ("4.4 The period for which a student may be suspended.", None, "4.4"),
        ("8.1A Fixing a range of remuneration for executives", None, "8.1A"),
        ("8C.1 Requirements that an RTO must comply with", None, "8C.1"),
        ("(a) members of the Principal Class", None, None),
        ("Appointing any person or body to be an approved training agent", None, None),
    ],
)
def test_the_numbered_items_of_a_schedule(line, item, clause_item):
    item_match, clause_match = p.SCHEDULE_ITEM_RE.match(line), p.SCHEDULE_CLAUSE_ITEM_RE.match(line)
    assert (item_match["number"] if item_match else None) == item
    assert (clause_match["number"] if clause_match else None) == clause_item


@pytest.mark.parametrize(
    ("line", "introduces_examples"),
    [
        ("Examples of matters that can be provided for under this paragraph include—", True),
        ("Example", True),
        ("Penalty: 20 penalty units.", False),
        ("the review committee may—", False),
        ("See section 4.6A.6 for complaints by students if no approved scheme applies.", False),
    ],
)
def test_examples_lines(line, introduces_examples):
    assert bool(p.EXAMPLES_LINE_RE.match(line)) is introduces_examples


@pytest.mark.parametrize(
    ("line", "introduces_a_list"),
    [
        ("(h) impose conditions, limitations or restrictions on the registration of the teacher including a condition that the teacher—", True),
        ("(i) maintain a State Register that includes––", True),
        ("(1) In this Act:", True),
        ("(g) the registration of the teacher has been obtained by fraud;", False),
        ("(h) the Minister may determine; and", False),
    ],
)
def test_lines_introducing_a_list(line, introduces_a_list):
    assert bool(p.LIST_INTRODUCED_RE.search(line)) is introduces_a_list


@pytest.mark.parametrize(
    ("text", "references"),
    [
        ("s 2.6.9(1A)(a)", [("section", "2.6.9", "(1A)(a)")]),
        ("section 2.1a.17", [("section", "2.1A.17", "")]),
        ("Sch 2 cl 3(1)", [("schedule clause", "Sch 2 cl 3", "(1)")]),
        ("cl 3 of Schedule 2", [("schedule clause", "Sch 2 cl 3", "")]),
        ("Schedule 6", [("schedule", "Sch 6", "")]),
        ("function 4 of the VET clusters policy", [("function", "4", "")]),
        ("compare s 2.1.1 with Sch 2 cl 2 and s 5.2.1", [("section", "2.1.1", ""), ("schedule clause", "Sch 2 cl 2", ""), ("section", "5.2.1", "")]),
        ("version 1.2 of the form", []),
        ("Who registers teachers?", []),
    ],
    ids=["section-pinpoint", "lower-case-letter", "schedule-clause", "clause-of-schedule", "schedule", "function", "several-in-order", "not-a-section", "none"],
)
def test_provision_references_in_free_text(text, references):
    assert [(r.kind, r.provision_id, r.pinpoint) for r in p.provision_references(text)] == references


# --- answer stage: question shapes ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "wants"),
    [
        ("Until what age must a child attend school?", True),
        ("How many days does a parent have to respond?", True),
        ("What is the penalty for obstructing an officer?", True),
        ("How long is a school council member's term of office?", True),
        ("What is the minimum number of members?", True),
        ("Who appoints school attendance officers?", False),
        ("Can a principal expel a student?", False),
        # A year level is a class, not a period asked for.
        ("Can we keep her Year 8 son out of maths?", False),
        ("Which subjects are compulsory in years 7 to 10?", False),
        ("How many years can a school plan run?", True),
    ],
)
def test_questions_asking_for_a_number(question, wants):
    assert bool(p.NUMBER_QUESTION_RE.search(question)) is wants


@pytest.mark.parametrize(
    ("text", "quantity"),
    [
        ("not less than 6 nor more than 17 years of age", "17 years"),
        ("is 0⋅5 penalty units", "5 penalty units"),
        ("within fourteen clear days", "fourteen clear days"),
        ("absent for 3 consecutive meetings", "3 consecutive meetings"),
        ("2.3 Age requirements for persons", None),
        ("under section 2.6.14A", None),
        ("Part 2.4 applies", None),
    ],
)
def test_quantities_are_numbers_but_section_labels_are_not(text, quantity):
    m = p.HAS_NUMBER_RE.search(text)
    assert (m.group(0) if m else None) == quantity


@pytest.mark.parametrize(
    ("question", "definitional"),
    [
        ("What does 'parent' mean?", True),
        ("Who counts as an overseas student?", True),
        ("What is an authorised officer?", True),
        ("Does a school include a kindergarten?", True),
        ("Who appoints school attendance officers?", False),
        ("Can a principal expel a student?", False),
    ],
)
def test_questions_asking_what_a_term_covers(question, definitional):
    assert bool(p.DEFINITIONAL_RE.search(question)) is definitional


@pytest.mark.parametrize(
    ("question", "second_part_starts"),
    [
        ("Who has to sign off on the placement, and does the student get paid?", "and does"),
        ("Is it the principal or must the council decide?", "or must"),
        ("What is a TAFE and how should VET clusters work with TAFEs?", "and how"),
        ("Can the school and the attendance officer do anything about it?", None),
        ("Before an ongoing safety order is made, how long do they get?", None),
    ],
)
def test_where_the_second_part_of_a_question_starts(question, second_part_starts):
    m = p.MULTI_PART_RE.search(question)
    assert (m.group(0) if m else None) == second_part_starts


@pytest.mark.parametrize(
    ("part", "without_joiner"),
    [("and does the student get paid?", "does the student get paid?"), ("But can they?", "can they?"), ("Android tablets?", "Android tablets?")],
)
def test_the_joining_word_of_a_second_part(part, without_joiner):
    assert p.LEADING_CONJUNCTION_RE.sub("", part) == without_joiner


@pytest.mark.parametrize(
    ("question", "quoted"),
    [
        ("Who counts as an 'overseas student' under the Act?", ["overseas student"]),
        ("What does “parent” mean?", ["parent"]),
        ('Is a "school council" a "body corporate"?', ["school council", "body corporate"]),
        ("Who appoints school attendance officers?", []),
    ],
)
def test_quoted_terms(question, quoted):
    assert [m.group(1) for m in p.QUOTED_TERM_RE.finditer(question)] == quoted


@pytest.mark.parametrize(
    ("question", "asked"),
    [
        ("What is a category A offence?", ["category A offence"]),
        ("What's the meaning of school council, under the Act?", ["meaning of school council"]),
        ("Who counts as a parent; a carer?", ["parent"]),
        ("Who appoints school attendance officers?", []),
    ],
)
def test_the_words_a_definitional_question_asks_about(question, asked):
    assert [m.group(1).strip() for m in p.ASKED_TERM_RE.finditer(question)] == asked


@pytest.mark.parametrize(
    ("question", "names"),
    [
        ("Is Geelong in the NAPLAN zone?", ["Geelong", "NAPLAN"]),  # two-letter words are not names
        ("Can a VET cluster use Facebook?", ["Can", "VET", "Facebook"]),
        ("Can a school close?", ["Can"]),
        ("what about an X?", []),
    ],
)
def test_words_that_may_name_something(question, names):
    assert p.PROPER_NAME_RE.findall(question) == names


@pytest.mark.parametrize(
    ("before", "starts_a_sentence"),
    [("", True), ("Who is it? ", True), ('He said "', True), ("(", True), ("Who is the ", False), ("in the VET ", False)],
)
def test_text_before_a_word_that_opens_a_sentence(before, starts_a_sentence):
    assert bool(p.SENTENCE_START_BEFORE_RE.search(before)) is starts_a_sentence


@pytest.mark.parametrize(
    ("text", "runs"),
    [
        ("the Victorian Curriculum and Assessment Authority may", ["Victorian Curriculum and Assessment Authority"]),
        ("the Department of Education and Training said", ["Department of Education and Training"]),
        ("the Minister may", []),
        ("a school council", []),
    ],
)
def test_runs_of_capitalised_words(text, runs):
    assert p.CAPITALISED_RUN_RE.findall(text) == runs


@pytest.mark.parametrize(
    ("term", "text", "found"),
    [("parent", "the parents of a child", True), ("parent", "parenting orders", False), ("tafe", "other tafes", True), ("s.1", "s11", False)],
)
def test_a_term_or_its_plural(term, text, found):
    assert bool(p.term_or_plural_re(term).search(text)) is found


@pytest.mark.parametrize(
    ("question", "kinds"),
    [
        ("How much does a graduate teacher earn?", ["a sum of money"]),
        ("What's the annual registration fee?", ["a sum of money"]),
        ("When are the tests held this year?", ["a date"]),
        ("How many days of leave do staff get?", ["a count"]),
        ("What is the staff to student ratio?", ["a ratio"]),
        ("How must a parent enrol a child?", []),
    ],
)
def test_kinds_of_fact_a_question_asks_for(question, kinds):
    assert [kind for kind, asked in p.FACT_ASKED.items() if asked.search(question)] == kinds


def test_a_count_question_names_its_unit():
    assert p.FACT_ASKED["a count"].search("What is the maximum number of council members?")["unit"] == "members"


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("a fee of $250", ["a sum of money"]),
        ("Penalty: 10 penalty units.", ["a sum of money"]),
        ("from 1 January", ["a date"]),
        ("in March 2024", ["a date"]),
        ("one teacher to 15 students, a ratio of 1:15", ["a ratio"]),
        ("a fee fixed by the Minister", []),
    ],
)
def test_facts_stated_in_law_text(text, kinds):
    assert [kind for kind, present in p.FACT_PRESENT.items() if present.search(text)] == kinds


@pytest.mark.parametrize(
    ("unit", "text", "found"),
    [
        ("day", "within 14 days after the notice", True),
        ("day", "within fourteen clear days", True),
        ("member", "a member of the council", True),
        ("day", "within 14 weeks", False),
        ("day", "on the day of the meeting", False),
    ],
)
def test_a_count_in_the_unit_asked_for(unit, text, found):
    assert bool(p.count_in_unit_re(unit).search(text)) is found


# --- answer stage: law-text segments -------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "sentences"),
    [
        ("The Institute must act. The Secretary may.", ["The Institute must act.", "The Secretary may."]),
        ("The following apply: (a) one", ["The following apply:", "(a) one"]),
        ("See s. 2.1.1 and s. 2.1.2.", ["See s. 2.1.1 and s. 2.1.2."]),
        ("the child; and the parent", ["the child; and the parent"]),
    ],
)
def test_sentences_inside_a_long_line(line, sentences):
    assert p.SENTENCE_BREAK_IN_LINE_RE.split(line) == sentences


@pytest.mark.parametrize(
    ("line", "joiner"),
    [("to enrol the child; or", "; or"), ("the child, and", ", and"), ("the parent or", " or"), ("the parent;", ";"), ("the child.", None)],
)
def test_list_joiners_closing_a_line(line, joiner):
    m = p.TRAILING_JOINER_RE.search(line)
    assert (m.group(0) if m else None) == joiner


@pytest.mark.parametrize(
    ("line", "label"),
    [("(1) In this Act—", "(1) "), ("(2A) The", "(2A) "), ("(a) to enrol", "(a) "), ("(iv) a", "(iv) "), ("(AB) x", "(AB) "), ("(2.1) x", None), ("Penalty: 1 unit", None)],
)
def test_unit_labels_opening_a_line(line, label):
    m = p.LEADING_LABEL_RE.match(line)
    assert (m.group(0) if m else None) == label


@pytest.mark.parametrize(
    ("line", "label"),
    [
        ("4.3 The procedures to be followed", "4.3 "),
        ("1.9.1 On the commencement of section 6.1.1(l)", "1.9.1 "),
        ("8C.1 Requirements that an RTO must comply with", "8C.1 "),
        ("4 The deaf facilities attached to the following schools", "4 "),
        ("20 penalty units", None),
        ("1 January 2007 is the day", None),
        ("2.3 per cent", None),
    ],
)
def test_schedule_item_numbers_opening_a_line(line, label):
    m = p.SCHEDULE_ITEM_LABEL_RE.match(line)
    assert (m.group(0) if m else None) == label


@pytest.mark.parametrize(
    ("text", "what"),
    [
        ("to register the child in accordance with the regulations", "in accordance with the regulations"),
        ("the regulations may prescribe the fee", "the regulations may"),
        ("as specified in a Ministerial Order made under", "a Ministerial Order"),
        ("comply with any guidelines issued by the Secretary", "any guidelines issued"),
        ("the Minister may approve", None),
    ],
)
def test_words_that_hand_the_matter_to_another_instrument(text, what):
    m = p.DELEGATION_RE.search(text)
    assert (m["what"] if m else None) == what


@pytest.mark.parametrize(
    ("text", "words", "instrument"),
    [
        ("may, in accordance with any Ministerial Order, suspend or expel a student", "any Ministerial Order", "order"),
        ("must establish a process in accordance with the regulations for the handling", "in accordance with the regulations", "regulations"),
        ("an age specified in the regulations in relation to", "specified in the regulations", "regulations"),
        ("be kept for the time prescribed in the regulations.", "prescribed in the regulations", "regulations"),
        ("must be exercised in accordance with any Regulations.", "in accordance with any Regulations", "regulations"),
        ("(e) any other prescribed matter.", "any other prescribed matter", "regulations"),
        ("must be accompanied by any fee fixed by the Minister.", "fixed by the Minister", "minister"),
        ("a qualification determined by the Minister by Order to be so equivalent", "determined by the Minister by Order", "order"),
        ("the rate that is fixed by Order of the Governor in Council", "Order of the Governor in Council", "council"),
        ("fixed by the Order in Council or Ministerial Order made under section 3.1.11", "Order in Council", "council"),
        ("comply with any guidelines issued by the Secretary", "any guidelines issued", "guidelines"),
        ("The principal may make a school community safety order", None, None),
        ("the Minister may approve the application", None, None),
    ],
)
def test_words_that_leave_a_matter_to_another_instrument_and_which(text, words, instrument):
    m = p.DELEGATED_TO_RE.search(text)
    assert (m.group(0) if m else None) == words
    assert (m.lastgroup if m else None) == instrument


@pytest.mark.parametrize(
    ("heading", "instrument"),
    [
        ("Schedule 6—Ministerial orders", "order"),
        ("Schedule 5—Regulations", "regulations"),
        ("Schedule 5 - Regulations", "regulations"),
        ("Schedule 2—General provisions for authorities", None),
        ("Schedule 7—Dispute resolution and student welfare scheme", None),
        ("Part 5.10—Regulations and Ministerial Orders", None),  # the enabling Part is not a list of matters
    ],
)
def test_the_schedules_that_list_matters_for_another_instrument(heading, instrument):
    m = p.INSTRUMENT_SCHEDULE_RE.match(heading)
    assert (m.lastgroup if m else None) == instrument


@pytest.mark.parametrize(
    ("question", "asks"),
    [
        ("How much is the daily fee at a government early learning centre?", True),
        ("How long can a student be suspended for?", True),
        ("What rate per hour are TAFE students on placement paid?", True),
        ("What are the English language requirements for an overseas-trained teacher?", True),
        ("If the VRQA made us set up a fee protection scheme, what would it look like?", True),
        ("Apart from the name and dates, what else goes in our complaints register?", True),
        ("Who can suspend a student?", False),
        ("Can the ACFE Board charge fees for its own courses?", False),
        ("What must the VRQA consider before approving an exchange organisation?", False),
    ],
)
def test_a_question_asking_for_the_detail_an_instrument_would_hold(question, asks):
    assert bool(p.DETAIL_ASKED_RE.search(question)) is asks


@pytest.mark.parametrize(
    ("question", "feature", "kind"),
    [
        ("Should I sue my school council?", True, True),
        ("Is it worth our family appealing the expulsion?", True, True),
        ("Do you think the dad's posts are bad enough to justify an order?", False, True),
        ("Would you recommend we run our own kinder or partner with the council?", False, True),
        ("Should our school leave the cluster? Which is better for our kids?", False, True),
        ("Can you write me a letter to the parent explaining the order?", False, True),
        ("The boss says TAFE days don't count as work days for pay. Is that right?", False, False),
        ("Should the principal be told before the search?", False, False),
        ("Is that bullying and should I complain?", True, True),
        ("Our council got two quotes for the toilets — should we go with the cheaper builder?", True, True),
        ("When should we apply to renew our approval?", False, False),
        ("What should I be trying to show in my submission?", False, False),
        ("How much rent should we be deducting?", False, False),
        ("Should I have been given a receipt for the laptop they took?", False, False),
        ("Should we be expecting the Department to send us the number?", False, False),
        ("Should our council have got the Minister's approval before signing?", False, False),
        ("Should our VET cluster be talking to the local employers?", False, False),
        ("Honestly I think she should have lost the subject - should we push for a harsher penalty?", True, True),
        ("If the parent goes to VCAT, how likely is it they'd overturn our order?", False, True),
        ("Would a court find the school negligent if a student broke his arm at lunch?", False, True),
        ("Would the Minister be likely to object to our candidate?", False, True),
        ("Is moving every council meeting online a good idea?", False, True),
        ("Is the principal likely to be asked to explain the decision?", False, False),
        ("Which VET course should we add next year — Music Industry or Sport and Recreation?", False, True),
        ("Are there guidelines on what schools should do to improve attendance or encourage enrolment?", False, False),
        ("Would the Secretary be able to transfer her without her consent?", False, False),
    ],
)
def test_advice_asked_for_the_models_feature_and_the_wider_words_naming_the_kind(question, feature, kind):
    assert bool(p.advice_cue(question)) is feature
    assert bool(p.advice_asked(question)) is kind


@pytest.mark.parametrize(
    ("question", "elsewhere", "names_its_law"),
    [
        ("Can a VIT-registered teacher also work in NSW on the same registration?", True, False),
        ("What are South Australia's rules on teachers searching student bags?", True, True),
        ("How much Commonwealth funding does the Australian Education Act give?", True, True),
        ("Does the Commonwealth Privacy Act let us tell police a student's address?", True, True),
        ("How do other states' regulators handle RTO inspections?", False, True),
        ("Does the Fair Work Commission's process apply to apprentices?", True, True),
        ("Can the State still chase us for a Commonwealth funding debt?", True, False),
        ("Our RTO is moving its HQ to Queensland. Can the VRQA cancel our registration?", True, False),
        ("Does the ACT have to approve it?", True, False),
        ("Does the Act bind the State government itself?", False, False),
        ("What does the NSW Education Act say about home schooling?", True, True),
        ("Under Queensland law can a Year 10 student leave school?", True, True),
        ("A teacher from NSW Catholic Education Office schools wants to work here. Does the Act let her?", True, False),
        ("We have a student moving from NSW. What does the Act say about transferring?", True, False),
    ],
)
def test_a_question_about_another_jurisdictions_law(question, elsewhere, names_its_law):
    assert bool(p.ELSEWHERE_CUE_RE.search(question)) is elsewhere
    assert bool(p.ELSEWHERE_LAW_RE.search(question)) is names_its_law


# --- answer stage: generated answers -------------------------------------------------------------


@pytest.mark.parametrize(
    ("sentence", "declines"),
    [("The sources do not say.", True), ("The source does not address this.", True), ("The sources say a parent must enrol the child [1].", False)],
)
def test_a_model_declining_to_answer(sentence, declines):
    assert bool(p.NOT_ANSWERED_RE.search(sentence)) is declines


@pytest.mark.parametrize(
    ("text", "labels"),
    [
        ("A parent must enrol the child [s 2.1.1].", ["s 2.1.1"]),
        ("See [section 2.6.9(1A)] and [Sch 2 cl 2(3)].", ["section 2.6.9(1A)", "Sch 2 cl 2(3)"]),
        ("Clusters negotiate [VET clusters, function 4].", ["VET clusters, function 4"]),
        ("A parent must enrol the child [1].", []),
    ],
)
def test_bracketed_provision_labels_in_generated_text(text, labels):
    assert [m.group(1) for m in p.LABEL_REF_RE.finditer(text)] == labels


def test_words_and_whitespace_runs():
    assert p.WORD_RE.findall("isn't s 2.1.1") == ["isn", "t", "s", "2", "1", "1"]
    assert p.WHITESPACE_RUN_RE.sub(" ", "Sch 2\n cl\t3") == "Sch 2 cl 3"


@pytest.mark.parametrize(
    ("question", "term", "asked"),
    [
        ("What's a 'category A offence'?", "category A offence", True),
        ("Who counts as an overseas student under the Act?", "overseas student", True),
        ("What does 'parent' actually mean?", "parent", True),
        ("definition of registered school", "registered school", True),
        ("Does a teacher aide count as a 'teacher' who needs VIT registration?", "teacher", False),
        ("Can a parent be fined if their child misses school?", "parent", False),
        ("What is a parent's duty to enrol their child?", "parent", False),
    ],
)
def test_meaning_asked_at_reads_only_questions_about_the_term_itself(question, term, asked):
    start = question.lower().index(term.lower())
    assert p.meaning_asked_at(question, start, start + len(term)) is asked


@pytest.mark.parametrize(
    ("line", "closed"),
    [
        ("(a) to enrol the child at a registered school;", True),
        ("(a) to enrol the child at a registered school; or", True),
        ("the person is liable to a penalty.", True),
        ("a full time employee must not—", False),
        ("any of the following", False),
    ],
)
def test_a_line_closes_its_thought_or_leads_in_to_the_next(line, closed):
    assert bool(p.LINE_CLOSED_RE.search(line)) is closed


def test_a_sentence_splits_into_clauses_at_semicolons():
    assert p.CLAUSE_BREAK_RE.split("to enrol the child; and to ensure attendance") == ["to enrol the child", "and to ensure attendance"]


@pytest.mark.parametrize(
    "text, designated",
    [
        ("charged with a category A offence", [("category", "A")]),
        ("a Category B conviction", [("Category", "B")]),
        ("under Schedule 2 and Part 2.6", [("Schedule", "2"), ("Part", "2")]),
        ("a Year 10 student", [("Year", "10")]),
        ("a type of school", []),
        ("no class at all", []),
    ],
)
def test_designated_classes(text, designated):
    found = [(m.group(1), m.group(2)) for m in p.DESIGNATED_RE.finditer(text)]
    assert found == designated


@pytest.mark.parametrize(
    ("question", "variant", "named"),
    [
        ("Who appoints the principal?", 0, "In Victoria, who appoints the principal?"),
        ("Who appoints the principal?", 1, "Under Victorian law, who appoints the principal?"),
        ("Who appoints the principal?", 3, "Who appoints the principal here in Victoria?"),
        ("Who appoints the principal?", 4, "Who appoints the principal in Vic?"),
        ("Tell me who appoints the principal.", 5, "Tell me who appoints the principal at our Victorian school."),
        ("who appoints the principal", 6, "who appoints the principal under Victorian law?"),
        ("Who appoints the principal?", 14, "In Victoria, who appoints the principal?"),
    ],
)
def test_questions_name_the_state_for_training(question, variant, named):
    assert p.with_state_named(question, variant) == named
    assert p.STATE_NAMED_RE.search(named)


@pytest.mark.parametrize(("text", "names"), [("in Victoria", True), ("a Victorian school", True), ("in Vic", True), ("VIT registration", False), ("a victim", False)])
def test_state_named(text, names):
    assert bool(p.STATE_NAMED_RE.search(text)) is names


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("***compulsory school age*** means", "compulsory school age means"),
        ("the formula—", "the formula—"),
        ("![]()", p.IMAGE_PLACEHOLDER),
        ("![]() where—", f"{p.IMAGE_PLACEHOLDER} where—"),
        ("![formula](media/image1.png)", p.IMAGE_PLACEHOLDER),
        ("A  is   the amount", "A is the amount"),
    ],
)
def test_strip_markup(raw, clean):
    assert p.strip_markup(raw) == clean


@pytest.mark.parametrize(
    ("note", "parts"),
    [
        ("S. 2.6.7(2)(b) amended by No. 19/2014 s. 45(1).", ("2.6.7", "2", "b", None)),
        ("S. 3.3.28(2) repealed by No. 32/2022 s. 24(2).", ("3.3.28", "2", None, " repealed")),
        ("S. 3.3.28(1) substituted by No. 32/2022 s. 24(2).", ("3.3.28", "1", None, None)),
        ("S. 4.2.2(1)(gaab) inserted by No. 1/2024 s. 3.", ("4.2.2", "1", "gaab", None)),
        ("S. 2.6.7(b)(iii) substituted by No. 19/2014 s. 5(1).", None),  # no subsection named
        ("S. 2.4.59H inserted by No. 70/2008 s. 12.", None),
    ],
)
def test_history_notes_naming_a_subsection(note, parts):
    m = p.NOTE_SUBSECTION_RE.match(note)
    assert (m and (m["number"], m["subsection"], m["paragraph"], m["repealed"])) == parts if parts else m is None


@pytest.mark.parametrize(
    ("text", "law_words"),
    [
        (f"(2) {p.LOST_LEAD_IN_PLACEHOLDER}\n(a) made in the form", "(a) made in the form"),
        (f"{p.LOST_LEAD_IN_PLACEHOLDER}\n(a) maintain a register", "(a) maintain a register"),
        (f"the formula—\n{p.IMAGE_PLACEHOLDER}\nwhere—", "the formula—\n\nwhere—"),
        ("(2) An application must be—", "(2) An application must be—"),
    ],
)
def test_placeholders_are_not_the_laws_words(text, law_words):
    assert p.without_placeholders(text) == law_words


@pytest.mark.parametrize(
    ("lead_in", "names_its_list"),
    [
        ("(3) A school council does not have the power to do any of the following—", True),
        ("(3) The following principles apply in relation to financial contributions—", True),
        ("The Institute must refuse to grant registration to an applicant on any one or more of the following grounds—", True),
        ("It is the duty of the parent of a child of not less than 6 nor more than 17 years of age—", False),
        ("(6) The Authority must not register a school unless the Authority is satisfied that—", False),
    ],
)
def test_a_lead_in_that_names_its_list(lead_in, names_its_list):
    assert bool(p.NAMES_ITS_LIST_RE.search(lead_in)) is names_its_list


@pytest.mark.parametrize(
    ("text", "only"),
    [
        (f"(2) {p.LOST_LEAD_IN_PLACEHOLDER}", True),
        (p.IMAGE_PLACEHOLDER, True),
        (f"{p.IMAGE_PLACEHOLDER} where—", False),
        ("(2) An application must be—", False),
    ],
)
def test_text_that_is_only_a_placeholder(text, only):
    assert p.only_placeholder(text) is only
