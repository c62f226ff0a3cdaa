"""Every legal and question pattern in one place, so a change to how the Act or staff write is made once.

In order: the law text (numbers, labels, headings, history notes, cross-references);
provisions named in free text; follow-up cues; question shapes the second stage reads
(a meaning asked for, a period, penalty or age); law sentences turned into training
questions; question shapes and law-text segments the answer stage reads; generated
answers. Built from small named pieces so each can be tested as a table
(tests/test_patterns.py). Three modules by stage (``law``, ``questions``, ``answers``),
all read through this one name: ``from assistant.patterns import X``.
"""

from assistant.patterns.answers import *
from assistant.patterns.law import *
from assistant.patterns.questions import *
