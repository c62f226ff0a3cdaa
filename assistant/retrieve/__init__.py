"""Retrieve stage: question → ranked provisions (``Hit``).

In pipeline order: ``expansion`` (the Act's words for staff words), ``first_stage``
(BM25 + dense, fused per provision by ``fusion``), ``second_stage`` (rules and the
``cross_encoder``), with ``candidates`` the records the stages pass between them.
This package only re-exports.
"""

from assistant.retrieve.candidates import Candidate, PassageTable
from assistant.retrieve.first_stage import MODES, Retriever, named_provisions

__all__ = ["MODES", "Candidate", "PassageTable", "Retriever", "named_provisions"]
