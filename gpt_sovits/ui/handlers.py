"""The web UI's event handlers: widget values in, engine requests out, results and messages back.

Nothing here holds per-visitor state: the models a visitor picked are the values of their own dropdowns, sent
with every request, and the engine's pool keeps what is loaded. A synthesis is an async generator: the work runs
in a thread, chunks are played as they come, and when the task is cancelled (the Stop button, a closed tab, a
client that went away) the engine is told to stop between two tokens, so no work outlives its listener.
"""

import os
import shutil
import tempfile
import threading
from pathlib import Path

import anyio
import gradio as gr
import soundfile

from gpt_sovits import weights
from gpt_sovits.engine import ModelInfo, SynthesisRequest
from gpt_sovits.errors import AudioError, GptSovitsError, SynthesisCancelled
from gpt_sovits.service import EngineHolder, remove_older_than, resource_errors
from gpt_sovits.settings import InferenceSettings, seed_from_user
from gpt_sovits.ui.labels import language_menu
from gpt_sovits.voices import ClipUpload, VoiceLibrary

# The widget values of one synthesis, in the order the layout passes them.
# How long a result stays in our folder (Gradio serves its own cached copy, cleaned on the same schedule: layout.py).
KEEP_RESULTS_SECONDS = 3600

SYNTHESIS_INPUTS = (
    "reference_audio", "reference_text", "reference_language", "reference_free", "extra_reference_audio",
    "target_text", "target_language", "cut_method", "streaming", "top_k", "top_p", "temperature",
    "repetition_penalty", "speed", "pause_seconds", "seed", "t2s_model", "sovits_model",
)  # fmt: skip


class VoiceCloningUI:
    def __init__(
        self, holder: EngineHolder, live_audio: bool = True, voices: VoiceLibrary | None = None,
        voices_editable: bool = True,
    ):  # fmt: skip
        self.holder = holder
        self.live_audio = live_audio  # False without ffmpeg (Gradio needs it to stream): results play when done
        self.voices = voices  # None: no saved-voice library (the row is hidden)
        self.voices_editable = voices_editable  # False on a public page without login: pick only
        # Results are written here for the player's download button; Gradio serves them from its own cache copy.
        # Removed when the server closes (or the process exits); results older than KEEP_RESULTS_SECONDS go sooner.
        self._outputs = tempfile.TemporaryDirectory(prefix="gpt_sovits_results_")
        self.output_dir = Path(self._outputs.name)

    def close(self) -> None:
        self._outputs.cleanup()

    # ----- synthesis ------------------------------------------------------------------------------------------

    async def synthesize(
        self, reference_audio, reference_text, reference_language, reference_free, extra_reference_audio,
        target_text, target_language, cut_method, streaming, top_k, top_p, temperature, repetition_penalty, speed,
        pause_seconds, seed, t2s_model, sovits_model, progress=gr.Progress(),
    ):  # fmt: skip
        """Speak `target_text` in the voice of `reference_audio`.

        Yields (live chunk, result file, status, synthesize button, stop button) as the audio is made; the named
        parameters are also what Gradio's API page shows.
        """
        inputs = {name: value for name, value in locals().items() if name in SYNTHESIS_INPUTS}
        cancel = threading.Event()
        working = gr.Button(interactive=False), gr.Button(visible=True)
        idle = gr.Button(interactive=True), gr.Button(visible=False)
        yield gr.skip(), None, "⏳ …", *working
        watch = None
        try:
            request = self._request(inputs)
            engine = self.holder.require()

            def report(fraction, message):
                progress(fraction, desc=message)

            # A running slot shared with the HTTP API, and the server's time budget for one synthesis.
            async with self.holder.gate.slot():
                watch = self.holder.time_budget.start(cancel)
                with resource_errors():
                    stream = await anyio.to_thread.run_sync(lambda: engine.stream(request, report, cancel), abandon_on_cancel=True)
                    for warning in stream.warnings:
                        gr.Warning(warning)
                    chunks = iter(stream)
                    while (chunk := await anyio.to_thread.run_sync(next, chunks, None, abandon_on_cancel=True)) is not None:
                        live = (chunk.sample_rate, chunk.int16()) if self.live_audio else gr.skip()
                        yield live, gr.skip(), live_status(stream, chunk), *working
                    result = stream.result()
                    path = self._write_result(result)
            yield gr.skip(), path, status_line(result), *idle
        except SynthesisCancelled:
            if watch is None or not watch.expired:
                yield gr.skip(), gr.skip(), "Stopped.", *idle
                return
            message = str(watch.too_long())
            yield gr.skip(), None, f"❌ {message}", *idle
            raise gr.Error(message, print_exception=False) from None
        except GptSovitsError as error:
            message = str(self.holder.for_visitors(error))
            yield gr.skip(), None, f"❌ {message}", *idle
            raise gr.Error(message, print_exception=False) from None
        finally:
            cancel.set()  # a cancelled task lands here too: the engine stops before its next token
            if watch is not None:
                watch.stop()

    def stop(self):
        """The Stop button: its `cancels=` ends the running event; this puts the buttons back."""
        return gr.Button(interactive=True), gr.Button(visible=False)

    def _request(self, inputs: dict) -> SynthesisRequest:
        if not inputs["reference_audio"]:
            raise AudioError("Please upload or record a reference clip (3-10 s of clear speech) first.")
        settings = InferenceSettings(
            top_k=int(inputs["top_k"]),
            top_p=float(inputs["top_p"]),
            temperature=float(inputs["temperature"]),
            repetition_penalty=float(inputs["repetition_penalty"]),
            speed=float(inputs["speed"]),
            pause_seconds=float(inputs["pause_seconds"]),
            seed=seed_from_user(inputs["seed"]),
            cut_method=inputs["cut_method"],
            streaming=inputs["streaming"],
        )
        return SynthesisRequest(
            reference_audio=inputs["reference_audio"],
            reference_text=inputs["reference_text"] or "",
            reference_language=inputs["reference_language"],
            target_text=inputs["target_text"] or "",
            target_language=inputs["target_language"],
            reference_free=bool(inputs["reference_free"]),
            extra_reference_audio=tuple(inputs["extra_reference_audio"] or ()),
            settings=settings,
            models=self.holder.catalog.choice(inputs["t2s_model"], inputs["sovits_model"]),
        )

    def _write_result(self, result) -> str:
        remove_older_than(self.output_dir, KEEP_RESULTS_SECONDS)
        descriptor, name = tempfile.mkstemp(suffix=".wav", dir=self.output_dir)
        os.close(descriptor)
        path = Path(name)
        soundfile.write(path, result.audio_int16(), result.sample_rate, subtype="PCM_16")
        return str(path)

    # ----- saved voices -------------------------------------------------------------------------------------

    def voice_dropdown(self, value=None):
        choices = [(voice.name, voice.id) for voice in self.voices.all()]
        return gr.Dropdown(choices=choices, value=value if value in [id for _, id in choices] else None)

    def pick_voice(self, voice_id):
        """Fill the reference inputs from a saved voice: (clip, text, language, extra clips, name)."""
        if not voice_id:
            return (gr.skip(),) * 5
        try:
            voice = self.voices.get(voice_id)
        except GptSovitsError as error:
            raise gr.Error(str(error), print_exception=False) from None
        # Copies in our own temporary folder: the players may serve those (not the library folder itself).
        folder = self.output_dir / voice.id
        folder.mkdir(exist_ok=True)
        clips = [shutil.copy(path, folder / path.name) for path in (voice.reference_audio, *voice.extra_reference_audio)]
        return clips[0], voice.reference_text, voice.reference_language, clips[1:] or None, voice.name

    def save_voice(self, name, reference_audio, reference_text, reference_language, extra_reference_audio):
        if not self.voices_editable:
            raise gr.Error("Saving voices is off on this public page (the operator can turn on a login).")
        if not reference_audio:
            raise gr.Error("Upload or record a reference clip first, then save it as a voice.", print_exception=False)
        try:
            voice, created = self.voices.create(
                name, _clip(reference_audio), reference_text, reference_language,
                tuple(_clip(path) for path in extra_reference_audio or ()),
            )  # fmt: skip
        except GptSovitsError as error:
            raise gr.Error(str(error), print_exception=False) from None
        gr.Info(f"Saved as '{voice.name}'." if created else f"This voice is already saved as '{voice.name}'.")
        return self.voice_dropdown(voice.id)

    def delete_voice(self, voice_id):
        if not self.voices_editable:
            raise gr.Error("Deleting voices is off on this public page (the operator can turn on a login).")
        if not voice_id:
            raise gr.Error("Pick the saved voice to delete first.", print_exception=False)
        try:
            gr.Info(f"Deleted '{self.voices.delete(voice_id).name}'.")
        except GptSovitsError as error:
            raise gr.Error(str(error), print_exception=False) from None
        return self.voice_dropdown(None)

    # ----- models -------------------------------------------------------------------------------------------

    def choose_models(self, t2s_name, sovits_name, reference_language=None, target_language=None):
        """A visitor picked models: load them (for this visitor only), say what they are, and offer the languages
        their phone table speaks (v1 models speak fewer). Returns (summary, reference and target language menus)."""
        try:
            engine = self.holder.require()
            info = engine.model_info(self.holder.catalog.choice(t2s_name, sovits_name))
        except GptSovitsError as error:
            gr.Warning(str(error))
            return f"⚠️ {_markdown_text(str(error))}", gr.skip(), gr.skip()
        menu = language_menu(info.symbol_version)
        modes = [mode for _, mode in menu]
        return (
            model_summary(info),
            gr.Dropdown(choices=menu, value=reference_language if reference_language in modes else "all_zh"),
            gr.Dropdown(choices=menu, value=target_language if target_language in modes else "all_zh"),
        )

    def refresh(self, t2s_name, sovits_name):
        """Rescan the weights folder; make the engine if the models have just appeared."""
        self.holder.try_create()
        return self._model_panel(t2s_name, sovits_name)

    def download(self, version, t2s_name, sovits_name, progress=gr.Progress()):
        try:
            self.holder.download(version, progress=lambda fraction, message: progress(fraction, desc=message))
        except GptSovitsError as error:
            raise gr.Error(str(error), print_exception=False) from None
        return self._model_panel(t2s_name, sovits_name)

    def initial_model_panel(self):
        return self._model_panel(None, None)

    def _model_panel(self, t2s_name, sovits_name):
        """New values for: GPT dropdown, SoVITS dropdown, model summary, set-up panel."""
        catalog = self.holder.catalog
        t2s_choices, sovits_choices = catalog.t2s_choices(), catalog.sovits_choices()
        engine = self.holder.engine
        summary = self.no_models_summary()
        if engine is not None:
            defaults = engine.models.default_paths
            t2s_name = t2s_name if t2s_name in dict(map(reversed, t2s_choices)) else catalog.name(defaults.t2s)
            sovits_name = sovits_name if sovits_name in dict(map(reversed, sovits_choices)) else catalog.name(defaults.sovits)
            summary = self.choose_models(t2s_name, sovits_name)[0]
        return (
            gr.Dropdown(choices=t2s_choices, value=t2s_name),
            gr.Dropdown(choices=sovits_choices, value=sovits_name),
            summary,
            gr.Column(visible=engine is None),
        )

    def no_models_summary(self) -> str:
        error = self.holder.startup_error
        if error and not isinstance(error, weights.MissingWeightsError):
            return f"**No model loaded.** {_markdown_text(str(error))}"
        return "**No model loaded**: the model files are missing (see below)."


def _clip(path) -> ClipUpload:
    return ClipUpload(Path(path).read_bytes(), Path(path).name)


def model_summary(info: ModelInfo) -> str:
    return (
        f"Using **{info.model_version}** (phone symbols {info.symbol_version}, {info.sample_rate} Hz) · "
        f"GPT `{Path(info.t2s_path).name}` · SoVITS `{Path(info.sovits_path).name}`"
    )


STAGE_NAMES = {
    "text": "text",
    "reference": "reference",
    "bert": "BERT features",
    "t2s": "semantic tokens (GPT)",
    "sovits": "audio (SoVITS)",
}


def live_status(stream, chunk) -> str:
    return (
        f"▶ Playing sentence {chunk.sentence_index + 1} of {len(stream.sentences)} while the rest is made · "
        f"models {stream.model.label} · seed {stream.seed}{_notes(stream.warnings)}"
    )


def status_line(result) -> str:
    """What was done, with which models and seed, and how long each stage took."""
    stages = " · ".join(f"{STAGE_NAMES.get(stage, stage)} {seconds:.2f} s" for stage, seconds in result.timings.items())
    reference = "reused from cache" if result.reference_cache_hit else "computed"
    return (
        f"Spoke {len(result.sentences)} segment(s), {result.duration_seconds:.1f} s of audio · seed {result.seed} · "
        f"models {result.model.label} · reference {reference}\n\nTime: {stages} · "
        f"total {sum(result.timings.values()):.2f} s{_notes(result.warnings)}"
    )


def _notes(warnings: list[str]) -> str:
    return "".join(f"\n\n⚠️ {warning}" for warning in warnings)


def _markdown_text(text: str) -> str:
    """A plain message shown in Markdown: keep `*.ckpt` and the like from turning into emphasis."""
    return text.replace("*", "\\*").replace("_", "\\_")


