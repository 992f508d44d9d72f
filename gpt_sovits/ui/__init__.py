"""The Gradio web UI: `layout.build_ui` (the page) over `handlers.VoiceCloningUI` (what its events do)."""

from gpt_sovits.ui.handlers import VoiceCloningUI
from gpt_sovits.ui.labels import i18n
from gpt_sovits.ui.layout import PAGE_CSS, build_ui

__all__ = ["PAGE_CSS", "VoiceCloningUI", "build_ui", "i18n"]
