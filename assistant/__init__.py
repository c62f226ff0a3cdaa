"""An assistant that answers questions about Victorian education law with pinpoint citations.

Usage::

    from assistant import Assistant
    assistant = Assistant.load()
    answer = assistant.ask("Until what age must a child attend school?")
    print(answer.text, [c.label for c in answer.citations])
"""

from typing import TYPE_CHECKING

__version__ = "0.1.0"

if TYPE_CHECKING:
    from assistant.pipeline import Assistant


def __getattr__(name: str):
    # Imported lazily so `assistant corpus stats` does not pay for torch.
    if name == "Assistant":
        from assistant.pipeline import Assistant

        return Assistant
    raise AttributeError(name)


__all__ = ["Assistant", "__version__"]
