"""Chinese text normalization (numbers, dates, times, money, phone numbers, units, math, full-width forms)."""

from .normalizer import normalize_sentence, normalize_sentences, split_sentences

__all__ = ["normalize_sentence", "normalize_sentences", "split_sentences"]
