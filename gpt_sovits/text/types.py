"""The value the text front end hands to the engine: text in one language, as phones."""

from dataclasses import dataclass


@dataclass(frozen=True)
class TextRun:
    """A stretch of text in one language, turned into phones.

    `word2ph[i]` is how many phones character i of `normalized_text` became; only Chinese runs have it, because
    only Chinese runs get real BERT features (one BERT row per character, repeated word2ph[i] times).
    """

    language: str  # "zh" or "en"
    normalized_text: str
    phones: tuple[str, ...]
    phone_ids: tuple[int, ...]  # ids in the symbol table of the model's symbol version
    word2ph: tuple[int, ...] | None = None

    def __post_init__(self):
        if len(self.phones) != len(self.phone_ids):
            raise ValueError("phones and phone_ids differ in length")
        if self.word2ph is not None and sum(self.word2ph) != len(self.phones):
            raise ValueError("word2ph does not add up to the number of phones")
