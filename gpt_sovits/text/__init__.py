"""Text front end: text -> language runs -> phones, phone ids and word2ph; cutting long text into segments.

    phonemize(text, language_mode, symbol_version) -> PhonemizedText   (frontend.py)
    cut_text(text, method) -> list[str]                                 (cutting.py, the six official methods)
    prepare_target_segments(text, method, language_mode) -> list[str]   (cut + official clean-up rules)
    prepare_reference_text(text, language_mode) -> str                  (official final-mark rule)
    LANGUAGE_MODES, LANGUAGES, language_choices, uses_bert              (languages.py, the registry)

Modules: languages.py (the languages and language modes), symbols.py (phone tables v1/v2), language.py (mixed
text -> runs of one language), one front end per language (chinese.py, english.py, japanese/, korean/,
cantonese/: normalization and G2P), cutting.py, frontend.py, command.py (`python -m gpt_sovits phonemize`).
"""

from gpt_sovits.text.cutting import cut_text
from gpt_sovits.text.frontend import PhonemizedText, phonemize, prepare_reference_text, prepare_target_segments
from gpt_sovits.text.languages import LANGUAGE_MODES, LANGUAGES, language_choices, uses_bert
from gpt_sovits.text.types import TextRun

__all__ = [
    "LANGUAGES",
    "LANGUAGE_MODES",
    "PhonemizedText",
    "TextRun",
    "cut_text",
    "language_choices",
    "phonemize",
    "prepare_reference_text",
    "prepare_target_segments",
    "uses_bert",
]
