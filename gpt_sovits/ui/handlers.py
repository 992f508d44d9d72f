"""The web UI's event handlers: widget values in, engine requests out, results and messages back.

Nothing here holds per-visitor state: the models a visitor picked are the values of their own dropdowns, sent
with every request, and the engine's pool keeps what is loaded. A synthesis is an async generator: the work runs
in a thread, chunks are played as they come, and when the task is cancelled (the Stop button, a closed tab, a
client that went away) the engine is told to stop between two tokens, so no work outlives its listener.
"""

import re
import shutil
import tempfile
import threading
import uuid
from pathlib import Path

import anyio
import gradio as gr

from gpt_sovits import encoders, validation, weights
from gpt_sovits.engine import ModelInfo, SynthesisRequest
from gpt_sovits.errors import AudioError, GptSovitsError, SynthesisCancelled
from gpt_sovits.messages import Message, joined, render
from gpt_sovits.service import EngineHolder, remove_older_than, resource_errors
from gpt_sovits.settings import InferenceSettings, seed_from_user
from gpt_sovits.text.frontend import prepare_target_segments
from gpt_sovits.ui.labels import language_menu, locale_of
from gpt_sovits.ui.subtitles import subtitle_outputs
from gpt_sovits.voices import ClipUpload, VoiceLibrary

# How long a result stays in our folder (Gradio serves its own cached copy, cleaned on the same schedule: layout.py).
KEEP_RESULTS_SECONDS = 3600
# The widget values of one synthesis, in the order the layout passes them.
SYNTHESIS_INPUTS = (
    "reference_audio", "reference_text", "reference_language", "reference_free", "extra_reference_audio",
    "target_text", "target_language", "cut_method", "streaming", "top_k", "top_p", "temperature",
    "repetition_penalty", "speed", "pause_seconds", "seed", "t2s_model", "sovits_model", "sample_steps",
    "super_resolution", "output_format",
)  # fmt: skip
# What a history entry can put back into the form: everything but the clips themselves and the models.
RESTORABLE = tuple(name for name in SYNTHESIS_INPUTS if name not in ("reference_audio", "extra_reference_audio"))
# The download formats of the page (gpt_sovits.encoders writes them): (label, encoder name, file suffix).
DOWNLOAD_FORMATS = (("WAV", "wav", "wav"), ("FLAC", "flac", "flac"), ("MP3", "mp3", "mp3"), ("OGG/Opus", "opus", "ogg"))
_LIBRARY_LOCKED = Message("Saving and deleting voices is off on this public page (the operator can turn on a login).")
_NO_MODELS_FOR_VISITORS = Message(
    "### No models are installed on this server yet\n\nThe operator installs them; please come back later."
)
HISTORY_LENGTH = 10  # results kept per browser session
V3_V4 = ("v3", "v4")


class VoiceCloningUI:
    def __init__(
        self, holder: EngineHolder, live_audio: bool = True, voices: VoiceLibrary | None = None,
        voices_editable: bool = True, admin: bool = True,
    ):  # fmt: skip
        self.holder = holder
        self.admin = admin  # False on a public server: no downloads, no reloading of the model lists
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
        pause_seconds, seed, t2s_model, sovits_model, sample_steps=None, super_resolution=False, output_format="wav",
        history=None, request: gr.Request = None, progress=gr.Progress(),
    ):  # fmt: skip
        """Speak `target_text` in the voice of `reference_audio`.

        Yields (live chunk, result file, status, seed used, history, synthesize button, stop button, subtitle files,
        subtitle cues) as the audio is made; the named parameters are also what Gradio's API page shows. `history` is
        this browser session's own list of results (a gr.State: nobody else sees it).
        """
        inputs = {name: value for name, value in locals().items() if name in SYNTHESIS_INPUTS}
        locale = locale_of(request)
        history = list(history or [])
        cancel = threading.Event()
        working = gr.Button(interactive=False), gr.Button(visible=True)
        idle = gr.Button(interactive=True), gr.Button(visible=False)
        # Set once, not with every chunk: a chunk's update still in flight when Stop is pressed would otherwise
        # land after Stop's own and leave Synthesize disabled for good.
        same_buttons = gr.skip(), gr.skip()
        no_subtitles, same_subtitles = (None, None), (gr.skip(), gr.skip())  # the subtitle files and cues
        # The old result and its status go at once: nothing on the page may describe an earlier run.
        yield gr.skip(), None, "⏳ …", gr.skip(), gr.skip(), *working, *no_subtitles
        watch = None
        try:
            synthesis_request = self._request(inputs)
            engine = self.holder.require()

            def report(fraction, message):
                progress(fraction, desc=render(message, locale))

            # A running slot shared with the HTTP API, and the server's time budget for one synthesis.
            async with self.holder.gate.slot():
                watch = self.holder.time_budget.start(cancel)
                with resource_errors():
                    stream = await anyio.to_thread.run_sync(
                        lambda: engine.stream(synthesis_request, report, cancel), abandon_on_cancel=True
                    )
                    for warning in stream.warnings:
                        gr.Warning(render(warning, locale))
                    chunks = iter(stream)
                    while (chunk := await anyio.to_thread.run_sync(next, chunks, None, abandon_on_cancel=True)) is not None:
                        live = (chunk.sample_rate, chunk.int16()) if self.live_audio else gr.skip()
                        yield live, gr.skip(), render(live_status(stream, chunk), locale), gr.skip(), gr.skip(), *same_buttons, *same_subtitles
                    result = stream.result()
                    path = self._write_result(result, inputs)
            history = [history_entry(path, inputs, result), *history][:HISTORY_LENGTH]
            yield gr.skip(), path, render(status_line(result), locale), result.seed, history, *idle, *subtitle_outputs(result, path)
        except SynthesisCancelled:
            if watch is None or not watch.expired:
                yield gr.skip(), gr.skip(), render(Message("Stopped."), locale), gr.skip(), gr.skip(), *idle, *same_subtitles
                return
            message = render(watch.too_long(), locale)
            yield gr.skip(), None, f"❌ {_markdown_text(message)}", gr.skip(), gr.skip(), *idle, *no_subtitles
            raise gr.Error(message, print_exception=False) from None
        except GptSovitsError as error:
            message = render(self.holder.for_visitors(error), locale)  # no server folders in what a visitor reads
            yield gr.skip(), None, f"❌ {_markdown_text(message)}", gr.skip(), gr.skip(), *idle, *no_subtitles
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
            raise AudioError(Message("Please upload or record a reference clip (3-10 s of clear speech) first."))
        v3_v4 = self._model_version(inputs["t2s_model"], inputs["sovits_model"]) in V3_V4
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
            # The v3/v4 controls are hidden for other models; their values then mean nothing.
            sample_steps=int(inputs["sample_steps"]) if v3_v4 and inputs["sample_steps"] else None,
            super_resolution=bool(inputs["super_resolution"]) if v3_v4 else False,
        )
        encoders.output_format(_encoder_name(inputs["output_format"]))
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

    def _model_version(self, t2s_name, sovits_name) -> str | None:
        engine = self.holder.engine
        if engine is None:
            return None
        return engine.model_info(self.holder.catalog.choice(t2s_name, sovits_name)).model_version

    def _write_result(self, result, inputs: dict) -> str:
        """The result in the chosen format, named for what it is: voice, start of the text, seed."""
        remove_older_than(self.output_dir, KEEP_RESULTS_SECONDS)
        format_name = _encoder_name(inputs["output_format"])
        suffix = dict((name, suffix) for _, name, suffix in DOWNLOAD_FORMATS).get(format_name, format_name)
        folder = self.output_dir / uuid.uuid4().hex  # one folder per result: the readable name may repeat
        folder.mkdir()
        path = folder / f"{result_name(inputs, result.seed)}.{suffix}"
        path.write_bytes(encoders.encode(result.audio, result.sample_rate, format_name))
        return str(path)

    # ----- helpers beside the form ---------------------------------------------------------------------------

    def count_characters(self, target_text, request: gr.Request = None) -> str:
        """The live counter under the text box, with the limit the engine enforces."""
        length, limit = len(target_text or ""), validation.MAX_TARGET_CHARACTERS
        message = Message("{length} / {limit} characters", length=length, limit=limit)
        if length > limit:
            message = Message("{length} / {limit} characters: too long, shorten the text", length=length, limit=limit)
        return render(message, locale_of(request))

    def preview_cut(self, target_text, target_language, cut_method, request: gr.Request = None) -> str:
        """The segments the chosen cut method makes of the text, as they will be spoken one after another."""
        locale = locale_of(request)
        try:
            validation.check_target_text(target_text or "")
            segments = prepare_target_segments(target_text, cut_method, target_language)
        except GptSovitsError as error:
            return f"⚠️ {_markdown_text(render(error, locale))}"
        if segments and segments[0][:1] != target_text.lstrip()[:1]:  # the mark the front end puts before a short start
            segments[0] = segments[0][1:]
        heading = render(Message("The text is spoken in {count} segment(s):", count=len(segments)), locale)
        return heading + "\n\n" + "\n".join(f"{index}. {_markdown_text(segment)}" for index, segment in enumerate(segments, 1))

    @staticmethod
    def reuse_seed(seed_used):
        return seed_used if seed_used is not None else gr.skip()

    @staticmethod
    def restore(entry: dict) -> list:
        """A history entry's settings back into the form, in RESTORABLE order."""
        return [entry["inputs"][name] for name in RESTORABLE]

    # ----- saved voices -------------------------------------------------------------------------------------

    def voice_dropdown(self, value=None):
        choices = [(voice.name, voice.id) for voice in self.voices.all()]
        return gr.Dropdown(choices=choices, value=value if value in [id for _, id in choices] else None)

    def pick_voice(self, voice_id, request: gr.Request = None):
        """Fill the reference inputs from a saved voice: (clip, text, language, extra clips, name)."""
        if not voice_id:
            return (gr.skip(),) * 5
        try:
            voice = self.voices.get(voice_id)
        except GptSovitsError as error:
            raise gr.Error(render(error, locale_of(request)), print_exception=False) from None
        # Copies in our own temporary folder: the players may serve those (not the library folder itself).
        folder = self.output_dir / voice.id
        folder.mkdir(exist_ok=True)
        clips = [shutil.copy(path, folder / path.name) for path in (voice.reference_audio, *voice.extra_reference_audio)]
        return clips[0], voice.reference_text, voice.reference_language, clips[1:] or None, voice.name

    def save_voice(self, name, reference_audio, reference_text, reference_language, extra_reference_audio,
                   request: gr.Request = None):  # fmt: skip
        locale = locale_of(request)
        if not self.voices_editable:
            raise gr.Error(render(_LIBRARY_LOCKED, locale), print_exception=False)
        if not reference_audio:
            message = Message("Upload or record a reference clip first, then save it as a voice.")
            raise gr.Error(render(message, locale), print_exception=False)
        try:
            voice, created = self.voices.create(
                name, _clip(reference_audio), reference_text, reference_language,
                tuple(_clip(path) for path in extra_reference_audio or ()),
            )  # fmt: skip
        except GptSovitsError as error:
            raise gr.Error(render(error, locale), print_exception=False) from None
        saved = Message("Saved as '{name}'.", name=voice.name)
        gr.Info(render(saved if created else Message("This voice is already saved as '{name}'.", name=voice.name), locale))
        return self.voice_dropdown(voice.id)

    def delete_voice(self, voice_id, request: gr.Request = None):
        locale = locale_of(request)
        if not self.voices_editable:
            raise gr.Error(render(_LIBRARY_LOCKED, locale), print_exception=False)
        if not voice_id:
            raise gr.Error(render(Message("Pick the saved voice to delete first."), locale), print_exception=False)
        try:
            gr.Info(render(Message("Deleted '{name}'.", name=self.voices.delete(voice_id).name), locale))
        except GptSovitsError as error:
            raise gr.Error(render(error, locale), print_exception=False) from None
        return self.voice_dropdown(None)

    # ----- models -------------------------------------------------------------------------------------------

    def choose_models(self, t2s_name, sovits_name, reference_language=None, target_language=None, request: gr.Request = None):
        """A visitor picked models: load them (for this visitor only), say what they are, and offer the languages
        their phone table speaks (v1 models speak fewer) and the settings only v3/v4 have. Returns (summary,
        reference and target language menus, sample steps, super-resolution)."""
        locale = locale_of(request)
        try:
            engine = self.holder.require()
            info = engine.model_info(self.holder.catalog.choice(t2s_name, sovits_name))
        except GptSovitsError as error:  # shown once, in the summary (no toast beside it)
            hint = matching_pair_hint(t2s_name, sovits_name, self.holder.catalog)
            return f"⚠️ {_markdown_text(render(error, locale))}{_markdown_text(render(hint, locale))}", *(gr.skip(),) * 4
        menu = language_menu(info.symbol_version)
        modes = [mode for _, mode in menu]
        default_steps = {"v3": 32, "v4": 8}.get(info.model_version)  # the official web UI's defaults
        return (
            render(model_summary(info), locale),
            gr.Dropdown(choices=menu, value=reference_language if reference_language in modes else "all_zh"),
            gr.Dropdown(choices=menu, value=target_language if target_language in modes else "all_zh"),
            gr.Slider(visible=default_steps is not None, value=default_steps or 32),
            gr.Checkbox(visible=info.model_version == "v3", value=False),
        )

    def refresh(self, t2s_name, sovits_name, request: gr.Request = None):
        """Rescan the weights folder; make the engine if the models have just appeared."""
        self.holder.try_create()
        return self._model_panel(t2s_name, sovits_name, request)

    def download(self, version, t2s_name, sovits_name, request: gr.Request = None, progress=gr.Progress()):
        locale = locale_of(request)
        try:
            self.holder.download(version, progress=lambda fraction, message: progress(fraction, desc=render(message, locale)))
        except GptSovitsError as error:
            raise gr.Error(render(error, locale), print_exception=False) from None
        return self._model_panel(t2s_name, sovits_name, request)

    def initial_model_panel(self, request: gr.Request = None):
        return self._model_panel(None, None, request)

    def _model_panel(self, t2s_name, sovits_name, request):
        """New values for: GPT dropdown, SoVITS dropdown, model summary, set-up panel, its help, v3/v4 settings."""
        catalog = self.holder.catalog
        t2s_choices, sovits_choices = catalog.t2s_choices(), catalog.sovits_choices()
        engine = self.holder.engine
        locale = locale_of(request)
        shown = lambda choices: [(render(label, locale), name) for label, name in choices]  # noqa: E731
        model_updates = render(self.no_models_summary(), locale), gr.skip(), gr.skip()
        if engine is not None:
            defaults = engine.models.default_paths
            t2s_name = t2s_name if t2s_name in dict(map(reversed, t2s_choices)) else catalog.name(defaults.t2s)
            sovits_name = sovits_name if sovits_name in dict(map(reversed, sovits_choices)) else catalog.name(defaults.sovits)
            summary, _, _, steps, super_resolution = self.choose_models(t2s_name, sovits_name, request=request)
            model_updates = summary, steps, super_resolution
        return (
            gr.Dropdown(choices=shown(t2s_choices), value=t2s_name),
            gr.Dropdown(choices=shown(sovits_choices), value=sovits_name),
            model_updates[0],
            gr.Column(visible=engine is None),
            render(setup_help(self.holder.weights_dir) if self.admin else _NO_MODELS_FOR_VISITORS, locale),
            *model_updates[1:],
        )

    def no_models_summary(self) -> Message:
        error = self.holder.startup_error
        if error and not isinstance(error, weights.MissingWeightsError):
            return Message("**No model loaded.** {error}", error=error)
        return Message("**No model loaded**: the model files are missing (see below).")


def _clip(path) -> ClipUpload:
    return ClipUpload(Path(path).read_bytes(), Path(path).name)


def model_summary(info: ModelInfo) -> Message:
    return Message(
        "Using **{version}** (phone symbols {symbols}, {rate} Hz) · GPT `{gpt}` · SoVITS `{sovits}`",
        version=info.model_version, symbols=info.symbol_version, rate=info.sample_rate,
        gpt=Path(info.t2s_path).name, sovits=Path(info.sovits_path).name,
    )  # fmt: skip


def setup_help(weights_dir: Path) -> Message:
    """Markdown for a first start without models: what to download, or which files to put where."""
    names = weights.files_for_version(weights.DEFAULT_VERSION)
    return Message(
        "### No models in the weights folder '{folder}' yet\n\nPress **Download official models** (over 1 GB from "
        "https://huggingface.co/{repo}), or run `python -m gpt_sovits download`. Without network, copy the files "
        "into that folder by hand so that these exist (weights/README.md lists the other versions), then press "
        "**Refresh lists**:\n\n```\n{files}\n```",
        folder=Path(weights_dir).name, repo=weights.REPO_ID, files="\n".join(names),
    )  # fmt: skip


def matching_pair_hint(t2s_name, sovits_name, catalog) -> Message | str:
    """When an official GPT was picked with the wrong SoVITS (or the reverse): which listed file goes with it."""
    listed = {name for _, name in catalog.t2s_choices() + catalog.sovits_choices()}
    for model in weights.OFFICIAL_MODELS:
        if t2s_name == model.t2s and sovits_name != model.sovits and model.sovits in listed:
            return Message(" Pick the SoVITS model '{name}', made for this GPT model.", name=model.sovits)
        if sovits_name == model.sovits and t2s_name != model.t2s and model.t2s in listed:
            return Message(" Pick the GPT model '{name}', made for this SoVITS model.", name=model.t2s)
    return ""


def result_name(inputs: dict, seed: int) -> str:
    """A download's file name: the voice (the reference clip's name), the first words of the text, the seed."""
    voice = Path(str(inputs["reference_audio"])).stem if isinstance(inputs["reference_audio"], (str, Path)) else ""
    return f"{_name_part(voice, 'voice')}_{_name_part((inputs['target_text'] or '').strip(), 'speech')}_seed{seed}"


def _name_part(text: str, fallback: str) -> str:
    """Up to 24 characters of `text` fit for a file name (runs of anything but letters and digits become "_")."""
    return re.sub(r"[^\w]+", "_", text)[:24].strip("_") or fallback


def history_entry(path: str, inputs: dict, result) -> dict:
    restorable = {name: inputs[name] for name in RESTORABLE}
    restorable["seed"] = result.seed  # restoring gives the same audio again
    return {"path": path, "inputs": restorable, "seed": result.seed, "voice": Path(str(inputs["reference_audio"])).stem,
            "model": result.model.model_version, "seconds": result.duration_seconds}  # fmt: skip


def history_caption(entry: dict) -> Message:
    inputs = entry["inputs"]
    text = inputs["target_text"].strip()
    return Message(
        "**{text}** · voice {voice} · seed {seed} · {model} · {seconds:.1f} s · top_k {top_k}, top_p {top_p}, "
        "temperature {temperature}, speed {speed}",
        text=text[:60] + ("…" if len(text) > 60 else ""), voice=entry["voice"], seed=entry["seed"],
        model=entry["model"], seconds=entry["seconds"], top_k=inputs["top_k"], top_p=inputs["top_p"],
        temperature=inputs["temperature"], speed=inputs["speed"],
    )  # fmt: skip


STAGE_NAMES = {
    "text": Message("preparing the text"),
    "reference": Message("reading the reference"),
    "bert": Message("text features"),
    "t2s": Message("speech tokens"),
    "sovits": Message("making the audio"),
}


def live_status(stream, chunk) -> Message:
    return Message(
        "▶ Playing sentence {number} of {count} while the rest is made · models {models} · seed {seed}{notes}",
        number=chunk.sentence_index + 1, count=len(stream.sentences), models=stream.model.label, seed=stream.seed,
        notes=_notes(stream.warnings),
    )  # fmt: skip


def status_line(result) -> Message:
    """What was done, with which models and seed, and how long each stage took."""
    stages = joined(
        Message("{stage} {seconds:.2f} s", stage=STAGE_NAMES.get(stage, stage), seconds=seconds)
        for stage, seconds in result.timings.items()
    )
    reference = Message("reused from cache") if result.reference_cache_hit else Message("computed")
    return Message(
        "Spoke {segments} segment(s), {seconds:.1f} s of audio · seed {seed} · models {models} · reference "
        "{reference}\n\nTime: {stages} · total {total:.2f} s{notes}",
        segments=len(result.sentences), seconds=result.duration_seconds, seed=result.seed, models=result.model.label,
        reference=reference, stages=stages, total=sum(result.timings.values()), notes=_notes(result.warnings),
    )  # fmt: skip


def _notes(warnings: list) -> Message | str:
    """Each warning on its own line after the status."""
    notes = ""
    for warning in warnings:
        notes = Message("{earlier}\n\n⚠️ {warning}", earlier=notes, warning=warning)
    return notes


def _encoder_name(value) -> str:
    return value or "wav"


def _markdown_text(text: str) -> str:
    """A plain message shown in Markdown: keep `*.ckpt` and the like from turning into emphasis."""
    return text.replace("*", "\\*").replace("_", "\\_")
