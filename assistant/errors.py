"""The error hierarchy: each message says what went wrong and what to run next."""


class AssistantError(Exception):
    """Base of every error the assistant raises on purpose."""


class CorpusError(AssistantError):
    """A source document or the corpus manifest cannot be read or parsed."""


class IndexNotBuiltError(AssistantError):
    """No index at the configured location."""


class IndexMismatchError(AssistantError):
    """The index on disk was built from another corpus, model or chunker."""


class IndexCorruptError(AssistantError):
    """An index file is missing or unreadable."""


class ModelError(AssistantError):
    """A model cannot be found, verified or loaded."""


class InvalidQuestionError(AssistantError, ValueError):
    """The question cannot be answered as given (empty, too long, ...)."""


class ProvisionNotFoundError(AssistantError, KeyError):
    """No provision with that id."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "provision not found"


class AnswerNotServedError(AssistantError, KeyError):
    """Feedback names an answer id this server never served (or no longer remembers)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "answer not served"


class GoldSetError(AssistantError):
    """A gold (evaluation) file cannot be read, or an item in it is malformed."""


class EvaluationError(AssistantError):
    """An evaluation cannot run as asked: unknown configuration, malformed thresholds file."""
