"""Errors that carry a message meant for the person using the app, the CLI or the HTTP API.

Every problem a user can cause (a bad file, an empty text, an unsupported model) is raised as one of
these, with a message that says what is wrong and what to do. The message is a `gpt_sovits.messages.Message`:
`str(error)` is its English text, and `render(error, locale)` gives it in the visitor's language, which is what
the UI, the CLI and the API show. Anything else that escapes is a bug.
"""


class GptSovitsError(Exception):
    """Base class: its first argument is a Message, a complete, actionable sentence for the user."""


class CheckpointError(GptSovitsError):
    """A model file cannot be used: not a checkpoint, truncated, the wrong kind, or missing tensors."""


class UnsupportedModelError(CheckpointError):
    """A real GPT-SoVITS file of a kind we do not run yet (v3, v4, LoRA)."""


class DeviceError(GptSovitsError):
    """The device or precision asked for cannot be used on this machine (no GPU, float16 on a CPU, a typo)."""


class AudioError(GptSovitsError):
    """Reference audio that cannot be read or used (unreadable, too short, silent, ...)."""


class TextError(GptSovitsError):
    """Text that cannot be spoken: empty, unpronounceable, too long, or in an unsupported language."""


class SynthesisError(GptSovitsError):
    """Synthesis failed even though the inputs were valid (for example, the model kept stopping at once)."""


class SynthesisCancelled(GptSovitsError):
    """The request was stopped (Stop button, closed page, dropped connection) before it finished."""
