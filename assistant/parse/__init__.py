"""Parse stage: source documents → ``Provision`` records, one parser per format."""

from assistant.parse.legislation import ActParse, parse_act
from assistant.parse.policy import parse_policy_page

__all__ = ["ActParse", "parse_act", "parse_policy_page"]
