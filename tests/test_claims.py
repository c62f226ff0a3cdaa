"""Claim checks on short answers: what a staff member must never be shown (a changed number, a wrong body, a flipped duty)."""

import pytest

from assistant.answer.claims import (
    Quoted,
    check_sentences,
    claim_problems,
    stated_numbers,
)

AGE = Quoted("It is the duty of the parent of a child of not less than 6 nor more than 17 years of age to enrol the child", "Duty of parents")
NOTICE = Quoted("the person must be given at least 7 days to make a written submission", "Ongoing orders")
SUSPEND = Quoted("the Secretary must suspend the registered teacher from teaching", "Suspension of registration")
FINE = Quoted("A parent who is a child protection worker is not liable to a penalty under this section", "Offence")
BAN = Quoted("A school community safety order must not be made in respect of a staff member of the school", "Who may be subject to an order")
COUNCIL = Quoted("A school council may enter into contracts", "Powers of councils")
START = Quoted("The order takes effect on 1 January in the year after it is made", "Commencement")


@pytest.mark.parametrize(
    "sentence, markers, quoted, problem",
    [
        ("A child must be enrolled until 17.", (1,), [AGE], None),
        ("A child must be enrolled until seventeen.", (1,), [AGE], None),
        ("A child must be enrolled until 16.", (1,), [AGE], "a number not in the quote: 16"),
        ("They must be given at least seven days to make a written submission.", (1,), [NOTICE], None),
        ("They must be given at least 14 days to make a written submission.", (1,), [NOTICE], "a number not in the quote: 14"),
        ("The principal must suspend the teacher.", (1,), [SUSPEND], "a party the quote does not name: the principal"),
        ("The Secretary must suspend the teacher.", (1,), [SUSPEND], None),
        ("Yes, the school council may enter into contracts.", (1,), [COUNCIL], None),
        ("The school council must not enter into contracts.", (1,), [COUNCIL], "it negates what the quote states positively"),
        ("An order can be made against a staff member.", (1,), [BAN], "it states positively what the quote only states negatively"),
        ("No, an order cannot be made against a staff member.", (1,), [BAN], None),
        ("The parent is not liable to a penalty.", (1,), [FINE], None),
        ("A child must be enrolled until 17.", (), [AGE], "it cites no quote"),
        ("A child must be enrolled until 17.", (2,), [AGE], "it cites a quote that was not given (2)"),
        ("It takes effect on 1 January.", (1,), [START], None),
        ("It takes effect on 1 July.", (1,), [START], "a month not in the quote: july"),
        ("Under s 2.1.1(1) the duty applies until 17.", (1,), [AGE], None),
        ("No one may enrol the child before 6.", (1,), [AGE], None),
        ("Yes.", (1,), [AGE], "it says too little that the quote bears out"),
        ("Teachers must wear uniforms on excursions.", (1,), [AGE], "it says too little that the quote bears out"),
    ],
)
def test_claim_problems(sentence, markers, quoted, problem):
    problems = claim_problems(sentence, markers, quoted)
    assert (problems[0] if problems else None) == problem


@pytest.mark.parametrize(
    "text, values",
    [
        ("between 6 and seventeen", {6.0, 17.0}),
        ("a fine of 1,000 dollars or $250", {1000.0, 250.0}),
        ("see s 2.2.19(5) and Sch 2 cl 3, function 4 [1]", set()),
        ("no one may, one of them", set()),
        ("within one month", {1.0}),
    ],
)
def test_stated_numbers(text, values):
    assert stated_numbers(text) == values


def test_check_sentences_reports_each_sentence_with_its_markers():
    checked = check_sentences("A parent must enrol the child until 17 [1]. The principal decides on enrolment of the child [1].", [AGE])
    assert [(c.markers, bool(c.problems)) for c in checked] == [((1,), False), ((1,), True)]
