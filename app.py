"""Web UI: a thin Gradio layer over one `Engine`.

    python app.py [--weights-dir weights] [--gpt FILE] [--sovits FILE] [--host 0.0.0.0] [--port 7860] [--share]

The engine is built once at start-up and kept in a `VoiceCloningApp` object; every request reads its inputs from
the UI, calls `engine.synthesize` and shows the result. No per-request state is stored anywhere. The same
function is the HTTP API endpoint `/synthesize` (see "Use via API" at the bottom of the page).

With no models in the weights folder the app still starts, says which files go where, and offers to download them.
On Hugging Face ZeroGPU Spaces (where the `spaces` package exists) synthesis runs inside `spaces.GPU`.
"""

import argparse
import os
import threading
from pathlib import Path

import gradio as gr

from gpt_sovits import weights
from gpt_sovits.cli import add_model_arguments, create_engine
from gpt_sovits.engine import SynthesisRequest
from gpt_sovits.errors import AudioError, GptSovitsError
from gpt_sovits.i18n import translations
from gpt_sovits.settings import CUT_METHODS, InferenceSettings, seed_from_user

try:  # only present on Hugging Face Spaces: borrow a ZeroGPU for each synthesis
    import spaces

    run_on_gpu = spaces.GPU(duration=120)
except ImportError:

    def run_on_gpu(function):
        return function


ASSETS_DIR = Path(__file__).resolve().parent / "assets"
LANGUAGES = ("all_zh", "zh", "en", "auto")
EXAMPLE_SEED = 1  # examples are cached, so they use a fixed seed
i18n = gr.I18n(**translations())


class VoiceCloningApp:
    """Owns the engine (or, before models exist, knows how to make one) and answers the UI's events."""

    def __init__(self, weights_dir: Path, gpt: Path | None = None, sovits: Path | None = None):
        self.weights_dir = Path(weights_dir).resolve()
        self._engine_lock = threading.Lock()  # guards creating the engine, never a request
        self.engine = None
        self.startup_error = None  # why there is no engine yet, shown on the page
        try:
            self.engine = create_engine(self.weights_dir, gpt, sovits)
        except GptSovitsError as error:
            self.startup_error = error

    # ----- synthesis ------------------------------------------------------------------------------------------

    def synthesize(
        self,
        reference_audio,
        reference_text,
        reference_language,
        reference_free,
        extra_reference_audio,
        target_text,
        target_language,
        cut_method,
        top_k,
        top_p,
        temperature,
        repetition_penalty,
        speed,
        pause_seconds,
        seed,
        progress=gr.Progress(),
    ):
        """Speak `target_text` in the voice of `reference_audio`. Returns ((32000, int16 samples), status line)."""
        try:
            self._check_engine_loaded()
            if not reference_audio:
                raise AudioError("Please upload or record a reference clip (3-10 s of clear speech) first.")
            settings = InferenceSettings(
                top_k=int(top_k),
                top_p=float(top_p),
                temperature=float(temperature),
                repetition_penalty=float(repetition_penalty),
                speed=float(speed),
                pause_seconds=float(pause_seconds),
                seed=seed_from_user(seed),
                cut_method=cut_method,
            )
            request = SynthesisRequest(
                reference_audio=reference_audio,
                reference_text=reference_text or "",
                reference_language=reference_language,
                target_text=target_text or "",
                target_language=target_language,
                reference_free=bool(reference_free),
                extra_reference_audio=tuple(extra_reference_audio or ()),
                settings=settings,
            )
            result = self.engine.synthesize(
                request, progress=lambda fraction, message: progress(fraction, desc=message)
            )
        except GptSovitsError as error:
            raise gr.Error(str(error), print_exception=False) from None
        for warning in result.warnings:
            gr.Warning(warning)
        return (result.sample_rate, result.audio_int16()), status_line(result)

    def synthesize_example(self, reference_audio, reference_text, reference_language, target_text, target_language):
        """What an example row produces: default settings and a fixed seed, so the cached result is repeatable."""
        defaults = InferenceSettings()
        return self.synthesize(
            reference_audio, reference_text, reference_language, False, None, target_text, target_language,
            defaults.cut_method, defaults.top_k, defaults.top_p, defaults.temperature, defaults.repetition_penalty,
            defaults.speed, defaults.pause_seconds, EXAMPLE_SEED,
        )  # fmt: skip

    # ----- models ---------------------------------------------------------------------------------------------

    def model_choices(self) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        """(label, name) pairs for the GPT and SoVITS dropdowns; a name is the path inside the weights folder.

        Only listed files can be chosen, so nobody can make the server open an arbitrary path through the API.
        A file loaded from elsewhere (`--gpt /some/file.ckpt`) is listed too, by its full path.
        """
        t2s = [(model.label, self._name(model.path)) for model in weights.list_t2s_models(self.weights_dir)]
        sovits = [(model.label, self._name(model.path)) for model in weights.list_sovits_models(self.weights_dir)]
        if self.engine is not None:
            info = self.engine.model_info
            for choices, path in ((t2s, info.t2s_path), (sovits, info.sovits_path)):
                if self._name(path) not in [name for _, name in choices]:
                    choices.append((str(path), self._name(path)))
        return t2s, sovits

    def loaded_names(self) -> tuple[str | None, str | None]:
        if self.engine is None:
            return None, None
        info = self.engine.model_info
        return self._name(info.t2s_path), self._name(info.sovits_path)

    def model_summary(self) -> str:
        if self.engine is None:
            if self.startup_error and not isinstance(self.startup_error, weights.MissingWeightsError):
                return f"**No model loaded.** {_markdown_text(str(self.startup_error))}"
            return "**No model loaded**: the model files are missing (see below)."
        info = self.engine.model_info
        t2s_name, sovits_name = self.loaded_names()
        return (
            f"Loaded **{info.model_version}** (phone symbols {info.symbol_version}, {info.sample_rate} Hz) · "
            f"GPT `{Path(t2s_name).name}` · SoVITS `{Path(sovits_name).name}`"
        )

    def switch_models(self, t2s_name, sovits_name):
        """Load the chosen files (only the one that changed). A bad file leaves the previous models loaded."""
        try:
            t2s_choices, sovits_choices = self.model_choices()
            t2s, sovits = self._listed_path(t2s_name, t2s_choices), self._listed_path(sovits_name, sovits_choices)
            if self.engine is None:
                self._create_engine(t2s, sovits)
            else:
                self.engine.switch_models(t2s=t2s, sovits=sovits)
        except GptSovitsError as error:
            gr.Warning(str(error))
        return self._model_panel_updates()

    def refresh(self):
        """Rescan the weights folder; if no engine exists yet, try to make one from what is there now."""
        if self.engine is None:
            try:
                self._create_engine(None, None)
            except GptSovitsError as error:
                self.startup_error = error
        return self._model_panel_updates()

    def download(self, version, progress=gr.Progress()):
        """Fetch the official files for `version`, then load them."""
        try:
            resolved = weights.download(
                version, self.weights_dir, progress=lambda fraction, message: progress(fraction, desc=message)
            )
            if self.engine is None:
                self._create_engine(resolved.t2s, resolved.sovits)
            else:
                self.engine.switch_models(t2s=resolved.t2s, sovits=resolved.sovits)
        except GptSovitsError as error:
            raise gr.Error(str(error), print_exception=False) from None
        return self._model_panel_updates()

    def _model_panel_updates(self):
        """New values for: GPT dropdown, SoVITS dropdown, model summary, set-up panel."""
        t2s_choices, sovits_choices = self.model_choices()
        t2s_name, sovits_name = self.loaded_names()
        return (
            gr.Dropdown(choices=t2s_choices, value=t2s_name),
            gr.Dropdown(choices=sovits_choices, value=sovits_name),
            self.model_summary(),
            gr.Column(visible=self.engine is None),
        )

    def _listed_path(self, name: str | None, choices: list[tuple[str, str]]) -> Path | None:
        """The file behind a dropdown name, refusing anything not among `choices`."""
        if not name:
            return None
        if name not in [listed for _, listed in choices]:
            raise weights.WeightsError(f"'{name}' is not a model file in {self.weights_dir}; press Refresh lists.")
        path = Path(name)
        return path if path.is_absolute() else self.weights_dir / path

    def _name(self, path: Path) -> str:
        path = Path(path)
        return path.relative_to(self.weights_dir).as_posix() if path.is_relative_to(self.weights_dir) else str(path)

    def _create_engine(self, t2s, sovits):
        with self._engine_lock:
            if self.engine is None:
                self.engine = create_engine(self.weights_dir, t2s or None, sovits or None)
                self.startup_error = None

    def _check_engine_loaded(self):
        if self.engine is None:
            raise weights.WeightsError(str(self.startup_error))  # set whenever there is no engine


def setup_help(weights_dir: Path) -> str:
    """Markdown for a first start without models: what to download, or which files to put where."""
    names = weights.files_for_version(weights.DEFAULT_VERSION)
    files = "\n".join(str(weights_dir / name) + ("/" if name.endswith("/") else "") for name in names)
    return (
        f"### No models in `{weights_dir}` yet\n\n"
        f"Press **Download** (over 1 GB from https://huggingface.co/{weights.REPO_ID}), or run "
        f"`python -m gpt_sovits download`. Without network, copy the files there by hand so that these exist "
        f"(see weights/README.md for the other versions), then press **Refresh lists**:\n\n```\n{files}\n```"
    )


def _markdown_text(text: str) -> str:
    """A plain message shown in Markdown: keep `*.ckpt` and the like from turning into emphasis."""
    return text.replace("*", "\\*").replace("_", "\\_")


def status_line(result) -> str:
    """What was done, the seed, and how long each stage took."""
    stages = " · ".join(f"{stage} {seconds:.2f} s" for stage, seconds in result.timings.items())
    total = sum(result.timings.values())
    reference = "reused from cache" if result.reference_cache_hit else "computed"
    notes = "".join(f"\n\n⚠️ {warning}" for warning in result.warnings)
    return (
        f"Spoke {len(result.segments)} segment(s), {result.duration_seconds:.1f} s of audio · seed {result.seed} · "
        f"reference {reference}\n\nTime: {stages} · total {total:.2f} s{notes}"
    )


def build_ui(app: VoiceCloningApp) -> gr.Blocks:
    defaults = InferenceSettings()
    limits = InferenceSettings.LIMITS
    language_choices = [(i18n(f"language_{mode}"), mode) for mode in LANGUAGES]
    t2s_choices, sovits_choices = app.model_choices()
    t2s_name, sovits_name = app.loaded_names()

    with gr.Blocks(title="GPT-SoVITS voice cloning") as demo:
        gr.Markdown(i18n("title"))
        gr.Markdown(i18n("intro"))

        with gr.Accordion(i18n("model"), open=True):
            with gr.Row():
                t2s_model = gr.Dropdown(t2s_choices, value=t2s_name, label=i18n("gpt_model"))
                sovits_model = gr.Dropdown(sovits_choices, value=sovits_name, label=i18n("sovits_model"))
            with gr.Row(equal_height=True):
                model_summary = gr.Markdown(app.model_summary())
                refresh = gr.Button(i18n("refresh"), size="sm", scale=0, min_width=140)
            with gr.Column(visible=app.engine is None) as setup_panel:
                gr.Markdown(setup_help(app.weights_dir))
                with gr.Row(equal_height=True):
                    download_version = gr.Dropdown(
                        list(weights.DOWNLOADABLE_VERSIONS),
                        value=weights.DEFAULT_VERSION,
                        label=i18n("download_version"),
                    )
                    download = gr.Button(i18n("download"), variant="primary", scale=0, min_width=240)

        with gr.Row():
            with gr.Column():
                gr.Markdown(i18n("reference"))
                reference_audio = gr.Audio(
                    sources=["upload", "microphone"], type="filepath", label=i18n("reference_audio")
                )
                reference_text = gr.Textbox(label=i18n("reference_text"), lines=2)
                reference_language = gr.Dropdown(language_choices, value="all_zh", label=i18n("reference_language"))
                reference_free = gr.Checkbox(False, label=i18n("reference_free"), info=i18n("reference_free_info"))
                extra_reference_audio = gr.File(
                    file_count="multiple", file_types=["audio"], label=i18n("extra_reference_audio"), height=140
                )
            with gr.Column():
                gr.Markdown(i18n("target"))
                target_text = gr.Textbox(label=i18n("target_text"), lines=6)
                with gr.Row():
                    target_language = gr.Dropdown(language_choices, value="all_zh", label=i18n("target_language"))
                    cut_method = gr.Dropdown(
                        [(i18n(method), method) for method in CUT_METHODS],
                        value=defaults.cut_method,
                        label=i18n("cut_method"),
                    )
                with gr.Accordion(i18n("advanced"), open=False):
                    with gr.Row():
                        top_k = gr.Slider(*limits["top_k"], value=defaults.top_k, step=1, label=i18n("top_k"))
                        top_p = gr.Slider(*limits["top_p"], value=defaults.top_p, step=0.05, label=i18n("top_p"))
                        temperature = gr.Slider(
                            *limits["temperature"], value=defaults.temperature, step=0.05, label=i18n("temperature")
                        )
                    with gr.Row():
                        repetition_penalty = gr.Slider(
                            *limits["repetition_penalty"],
                            value=defaults.repetition_penalty,
                            step=0.05,
                            label=i18n("repetition_penalty"),
                        )
                        speed = gr.Slider(*limits["speed"], value=defaults.speed, step=0.05, label=i18n("speed"))
                        pause_seconds = gr.Slider(
                            *limits["pause_seconds"],
                            value=defaults.pause_seconds,
                            step=0.01,
                            label=i18n("pause_seconds"),
                        )
                    seed = gr.Number(-1, precision=0, label=i18n("seed"))
                synthesize = gr.Button(i18n("synthesize"), variant="primary")
                result_audio = gr.Audio(
                    type="numpy", format="wav", label=i18n("result"), interactive=False, buttons=["download"]
                )
                status = gr.Markdown(elem_id="status")

        example_rows = [
            [str(ASSETS_DIR / "reference_zh.wav"), "今天天气很好，我们一起去公园散步吧。", "all_zh",
             "欢迎使用声音克隆。这段话是用示例音色合成的。", "all_zh"],
            [str(ASSETS_DIR / "reference_en.wav"),
             "The quick brown fox jumps over the lazy dog. It was a bright and sunny morning.", "en",
             "Hello! This voice was cloned from a short example clip.", "en"],
        ]  # fmt: skip
        gr.Examples(
            example_rows,
            inputs=[reference_audio, reference_text, reference_language, target_text, target_language],
            outputs=[result_audio, status],
            fn=run_on_gpu(app.synthesize_example),
            cache_examples=True,
            cache_mode="lazy",
            label=i18n("examples"),
            example_labels=["中文 · Chinese voice → Chinese text", "English voice → English text"],
        )

        model_panel = [t2s_model, sovits_model, model_summary, setup_panel]
        t2s_model.input(app.switch_models, [t2s_model, sovits_model], model_panel, api_name="switch_models")
        sovits_model.input(app.switch_models, [t2s_model, sovits_model], model_panel, api_visibility="private")
        refresh.click(app.refresh, None, model_panel, api_name="refresh_models")
        download.click(app.download, download_version, model_panel, api_name="download_models")
        synthesize.click(
            run_on_gpu(app.synthesize),  # the handler itself, so ZeroGPU sees it and forwards the user's quota
            inputs=[
                reference_audio, reference_text, reference_language, reference_free, extra_reference_audio,
                target_text, target_language, cut_method, top_k, top_p, temperature, repetition_penalty, speed,
                pause_seconds, seed,
            ],
            outputs=[result_audio, status],
            api_name="synthesize",
        )  # fmt: skip
    return demo


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="GPT-SoVITS voice cloning web UI.")
    add_model_arguments(parser)
    environment = os.environ.get
    parser.add_argument(
        "--host", default=environment("GPT_SOVITS_HOST"), help="default 127.0.0.1 (env GPT_SOVITS_HOST)"
    )
    parser.add_argument(
        "--port", type=int, default=environment("GPT_SOVITS_PORT"), help="default 7860 (env GPT_SOVITS_PORT)"
    )
    parser.add_argument("--share", action="store_true", help="also serve on a temporary public gradio.live link")
    parser.add_argument(
        "--concurrency", type=int, default=int(environment("GPT_SOVITS_CONCURRENCY", 2)),
        help="requests synthesized at the same time; more wait in a queue (env GPT_SOVITS_CONCURRENCY)",
    )  # fmt: skip
    return parser.parse_args(argv)


def create(args: argparse.Namespace) -> tuple[VoiceCloningApp, gr.Blocks]:
    """Build the engine and the page (queue configured, not yet serving)."""
    app = VoiceCloningApp(args.weights_dir, args.gpt, args.sovits)
    if app.startup_error:
        print(f"Starting without models: {app.startup_error}")
    demo = build_ui(app)
    demo.queue(max_size=64, default_concurrency_limit=args.concurrency)
    return app, demo


def main(argv=None) -> None:
    args = parse_args(argv)
    _, demo = create(args)
    demo.launch(server_name=args.host, server_port=args.port, share=args.share, i18n=i18n)


if __name__ == "__main__":
    main()
