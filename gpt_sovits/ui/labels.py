"""The page's labels in the visitor's language (`gr.I18n` over gpt_sovits.i18n's tables), menus built from them, and
the visitor's language for messages (`locale_of`)."""

import gradio as gr

from gpt_sovits.i18n import translations
from gpt_sovits.messages import locale_from_accept_language
from gpt_sovits.text.languages import language_choices

i18n = gr.I18n(**translations())


def language_menu(symbol_version: str | None) -> list[tuple]:
    """(label, mode) for the language dropdowns: every mode, or those a model's phone table can speak."""
    return [(i18n(key), mode) for key, mode in language_choices(symbol_version)]


def locale_of(request: gr.Request | None) -> str:
    """The visitor's language for messages, from their browser's Accept-Language header."""
    return locale_from_accept_language(request.headers.get("accept-language") if request is not None else None)
