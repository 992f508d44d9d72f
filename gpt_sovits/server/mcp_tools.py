"""Two MCP tools for assistants, served by Gradio's MCP server at /gradio_api/mcp/ (schema: /gradio_api/mcp/schema).

Gradio makes a tool of each named endpoint, with the function's docstring as its description and the "Args:"
lines as the parameters' descriptions, so these docstrings are written for the assistant that reads them.
`speak` is an event of hidden components (so its result is an audio file, which MCP clients receive as a URL);
`list_voices` is a plain `gr.api` endpoint, off the queue so it answers at once.
"""

import tempfile
from pathlib import Path

import gradio as gr
import soundfile

from gpt_sovits.engine import SynthesisRequest
from gpt_sovits.errors import GptSovitsError
from gpt_sovits.service import EngineHolder
from gpt_sovits.settings import InferenceSettings, seed_from_user
from gpt_sovits.text.languages import LANGUAGE_MODES
from gpt_sovits.voices import VoiceLibrary



class McpTools:
    def __init__(self, holder: EngineHolder, voices: VoiceLibrary, output_dir: Path):
        self.holder = holder
        self.voices = voices
        self.output_dir = output_dir

    def speak(self, text: str, voice: str, language: str = "auto", seed: int = -1) -> str:
        """Speak a text aloud in one of the saved voices (voice cloning) and return the recording as a WAV file.

        Args:
            text: What the voice should say, at most 1000 characters.
            voice: The name or id of a saved voice; call list_voices to see which exist.
            language: The language of the text: "auto" (detected), "all_zh" (Chinese), "en" (English), "all_ja" (Japanese), "all_ko" (Korean), "all_yue" (Cantonese), or "zh", "ja", "ko", "yue" for that language mixed with English words.
            seed: A whole number to get exactly the same recording again, or -1 for a new take.
        Returns:
            The speech, as a WAV audio file.
        """
        try:
            saved = self.voices.get(voice)
            request = SynthesisRequest(
                reference_audio=str(saved.reference_audio), reference_text=saved.reference_text,
                reference_language=saved.reference_language, target_text=text, target_language=language,
                extra_reference_audio=tuple(str(path) for path in saved.extra_reference_audio),
                settings=InferenceSettings(seed=seed_from_user(None if seed is None else int(seed))),
            )  # fmt: skip
            result = self.holder.require().synthesize(request)
        except GptSovitsError as error:
            raise gr.Error(str(error), print_exception=False) from None
        descriptor, path = tempfile.mkstemp(suffix=".wav", dir=self.output_dir)
        with open(descriptor, "wb") as file:
            soundfile.write(file, result.audio_int16(), result.sample_rate, format="WAV", subtype="PCM_16")
        return path

    def list_voices(self) -> list[dict]:
        """List the saved voices that speak can use.

        Returns:
            One entry per voice: its name and id (either can be given to speak), what its reference clip says and the clip's language.
        """
        return [
            {key: value for key, value in voice.public().items() if key in ("id", "name", "reference_text", "reference_language")}
            for voice in self.voices.all()
        ]


def add_mcp_tools(demo: gr.Blocks, tools: McpTools) -> None:
    """Add the tools' endpoints to the page (hidden: they are for MCP and API clients only)."""
    with demo:
        with gr.Column(visible=False):
            inputs = [
                gr.Textbox(label="text"), gr.Textbox(label="voice"),
                gr.Dropdown(list(LANGUAGE_MODES), value="auto", label="language"), gr.Number(-1, precision=0, label="seed"),
            ]  # fmt: skip
            speech = gr.Audio(type="filepath", label="speech")
            gr.Button(visible=False).click(tools.speak, inputs, speech, api_name="speak", show_progress="hidden")
        gr.api(tools.list_voices, api_name="list_voices", queue=False)
