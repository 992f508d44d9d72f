"""The "Transcribe" button beside the reference text: fills it in from the clip with the weights folder's speech
recognition model (gpt_sovits/asr.py). Without a model the button is hidden; it appears once one is downloaded
(on the next page load). The result is a suggestion the visitor checks: the reference text must be exact."""

import anyio
import gradio as gr

from gpt_sovits.asr import AsrModels
from gpt_sovits.errors import AudioError, GptSovitsError
from gpt_sovits.messages import Message, render
from gpt_sovits.text.languages import LANGUAGE_MODES
from gpt_sovits.ui.labels import i18n, locale_of


def add_transcribe_button(demo: gr.Blocks, weights_dir, gate, reference_audio, reference_text, reference_language):
    """Place the button (call it where it should appear in the layout) and wire it to the reference inputs.
    gate: the server's SynthesisGate; a transcription takes one of its slots, as a synthesis does."""
    models = AsrModels(weights_dir)
    button = gr.Button(i18n("transcribe"), size="sm", visible=models.available, elem_id="transcribe")
    reference = [reference_text, reference_language]
    button.click(transcribe_handler(models, gate), [reference_audio, reference_language], reference, api_visibility="private")
    demo.load(lambda: gr.Button(visible=models.available), None, button, api_visibility="private")
    return button


def transcribe_handler(models: AsrModels, gate):
    """The button's handler: (clip, language menu value) -> (reference text, language menu value)."""

    async def transcribe(clip, language, request: gr.Request):
        """The clip's transcript for the reference text, and the language menu set to what was heard."""
        locale = locale_of(request)
        try:
            if not clip:
                raise AudioError(Message("There is no audio to transcribe. Upload or record the reference clip first."))
            async with gate.slot():
                transcriber = await anyio.to_thread.run_sync(models.get)
                transcript = await anyio.to_thread.run_sync(transcriber.transcribe_reference, clip, language)
        except GptSovitsError as error:
            raise gr.Error(render(error, locale), print_exception=False) from None
        if not transcript.text:
            gr.Warning(render(Message("No speech was recognised in the clip; please type the reference text."), locale))
            return gr.skip(), gr.skip()
        kept = language in LANGUAGE_MODES and LANGUAGE_MODES[language].language == transcript.language
        new_language = language if kept or transcript.language_mode is None else transcript.language_mode
        return transcript.text, new_language

    return transcribe
