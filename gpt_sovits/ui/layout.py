"""The page: one Gradio Blocks layout wired to `VoiceCloningUI`'s handlers.

    ┌ Model: GPT / SoVITS dropdowns (this visitor's own choice), what is loaded, set-up help ┐
    │ Reference voice: clip, its text, its language   │ What to say: text, language, cutting, │
    │ (or no text), extra timbre clips                │ streaming, advanced settings,         │
    │                                                 │ Synthesize / Stop, live player,       │
    │                                                 │ result (exact WAV), status            │
    └ Examples (fill the form) ───────────────────────────────────────────────────────────────┘
"""

from pathlib import Path

import gradio as gr

from gpt_sovits import weights
from gpt_sovits.i18n import ENGLISH
from gpt_sovits.messages import render
from gpt_sovits.settings import CUT_METHODS, STREAMING_LEVELS, InferenceSettings
from gpt_sovits.ui.handlers import (
    DOWNLOAD_FORMATS, KEEP_RESULTS_SECONDS, RESTORABLE, SYNTHESIS_INPUTS, VoiceCloningUI, history_caption,
)  # fmt: skip
from gpt_sovits.ui.labels import i18n, language_menu, locale_of
from gpt_sovits.ui.subtitles import show_subtitles
from gpt_sovits.ui.transcribe import add_transcribe_button


ASSETS_DIR = Path(__file__).resolve().parent.parent.parent / "assets"

EXAMPLES = [
    [str(ASSETS_DIR / "reference_zh.wav"), "今天天气很好，我们一起去公园散步吧。", "all_zh",
     "欢迎使用声音克隆。这段话是用示例音色合成的。", "all_zh"],
    [str(ASSETS_DIR / "reference_en.wav"),
     "The quick brown fox jumps over the lazy dog. It was a bright and sunny morning.", "en",
     "Hello! This voice was cloned from a short example clip.", "en"],
]  # fmt: skip
# Two changes to Gradio's defaults that a phone-width page needs (tests/test_browser.py checks the layout): a label
# that wraps stays clear of the icon buttons in its block's top-right corner, and an upload area's label sits above
# the area instead of over its icon.
PAGE_CSS = """
.block:has(.icon-button-wrapper.top-panel) > label[data-testid="block-label"] { max-width: calc(100% - 96px); }
.block > label.float[data-testid="block-label"] { position: static; }
"""
# Names of the synthesis outputs on Gradio's API page (they have no label of their own there).
API_OUTPUT_NAMES = ("live audio", "result file", "status", "seed used")


def build_ui(ui: VoiceCloningUI, run_on_gpu=lambda function: function) -> gr.Blocks:
    """The page. Without `ui.admin` (a public server): no Download and Refresh controls, nor API endpoints for them."""
    defaults = InferenceSettings()
    limits = InferenceSettings.LIMITS
    languages = language_menu(None)

    # Gradio's cache (uploads, results) is swept every 10 minutes of files older than an hour.
    with gr.Blocks(title="GPT-SoVITS voice cloning", delete_cache=(600, KEEP_RESULTS_SECONDS)) as demo:
        gr.Markdown(i18n("title"))
        gr.Markdown(i18n("intro"))

        with gr.Accordion(i18n("model"), open=True):
            # Choices are refreshed when the page loads; custom values are allowed because the handlers check every
            # name against the weights folder themselves (and say so clearly), whatever the page was built with.
            catalog = ui.holder.catalog
            with gr.Row():
                t2s_model = gr.Dropdown(catalog.t2s_choices(), label=i18n("gpt_model"), allow_custom_value=True)
                sovits_model = gr.Dropdown(catalog.sovits_choices(), label=i18n("sovits_model"), allow_custom_value=True)
            with gr.Row(equal_height=True):
                model_summary = gr.Markdown(elem_id="model-summary")
                if ui.admin:
                    refresh = gr.Button(i18n("refresh"), size="sm", scale=0, min_width=140)
            with gr.Column(visible=False) as setup_panel:
                setup_text = gr.Markdown()  # filled on load, in the visitor's language
                with gr.Row(equal_height=True, visible=ui.admin):
                    download_version = gr.Dropdown(
                        list(weights.DOWNLOADABLE_VERSIONS), value=weights.DEFAULT_VERSION, label=i18n("download_version")
                    )
                    download = gr.Button(i18n("download"), variant="primary", scale=0, min_width=240)

        with gr.Row():
            with gr.Column():
                gr.Markdown(i18n("reference"))
                with gr.Row(equal_height=True, visible=ui.voices is not None):
                    saved_voice = gr.Dropdown([], value=None, label=i18n("saved_voice"), scale=3)
                    delete_voice = gr.Button(
                        i18n("delete_voice"), size="sm", scale=0, min_width=100, visible=ui.voices_editable
                    )
                reference_audio = gr.Audio(
                    sources=["upload", "microphone"], type="filepath", label=i18n("reference_audio")
                )
                reference_text = gr.Textbox(label=i18n("reference_text"), lines=2)
                reference_language = gr.Dropdown(languages, value="all_zh", label=i18n("reference_language"))
                add_transcribe_button(demo, ui.holder.weights_dir, ui.holder.gate, reference_audio, reference_text, reference_language)
                reference_free = gr.Checkbox(False, label=i18n("reference_free"), info=i18n("reference_free_info"))
                extra_reference_audio = gr.File(
                    file_count="multiple", file_types=["audio"], label=i18n("extra_reference_audio"), height=140
                )
                with gr.Row(equal_height=True, visible=ui.voices is not None and ui.voices_editable):
                    voice_name = gr.Textbox(label=i18n("voice_name"), scale=3)
                    save_voice = gr.Button(i18n("save_voice"), size="sm", scale=0, min_width=140)
            with gr.Column():
                gr.Markdown(i18n("target"))
                target_text = gr.Textbox(label=i18n("target_text"), lines=6, elem_id="target-text")
                with gr.Row(equal_height=True):
                    character_count = gr.Markdown(elem_id="character-count")
                    preview = gr.Button(i18n("preview_cut"), size="sm", scale=0, min_width=160, elem_id="preview-cut")
                cut_preview = gr.Markdown(elem_id="cut-preview")
                with gr.Row():
                    target_language = gr.Dropdown(languages, value="all_zh", label=i18n("target_language"))
                    cut_method = gr.Dropdown(
                        [(i18n(method), method) for method in CUT_METHODS], value=defaults.cut_method,
                        label=i18n("cut_method"),
                    )  # fmt: skip
                streaming = gr.Radio(
                    [(i18n(f"streaming_{level}"), level) for level in STREAMING_LEVELS],
                    value=defaults.streaming,
                    label=i18n("streaming"),
                )
                with gr.Accordion(i18n("advanced"), open=False):
                    with gr.Row():
                        top_k = gr.Slider(*limits["top_k"], value=defaults.top_k, step=1, label=i18n("top_k"), info=i18n("top_k_info"))
                        top_p = gr.Slider(*limits["top_p"], value=defaults.top_p, step=0.05, label=i18n("top_p"), info=i18n("top_p_info"))
                        temperature = gr.Slider(
                            *limits["temperature"], value=defaults.temperature, step=0.05, label=i18n("temperature"), info=i18n("temperature_info")
                        )
                    with gr.Row():
                        repetition_penalty = gr.Slider(
                            *limits["repetition_penalty"], value=defaults.repetition_penalty, step=0.05,
                            label=i18n("repetition_penalty"), info=i18n("repetition_penalty_info"),
                        )  # fmt: skip
                        speed = gr.Slider(*limits["speed"], value=defaults.speed, step=0.05, label=i18n("speed"), info=i18n("speed_info"))
                        pause_seconds = gr.Slider(
                            *limits["pause_seconds"], value=defaults.pause_seconds, step=0.01,
                            label=i18n("pause_seconds"), info=i18n("pause_seconds_info"),
                        )  # fmt: skip
                    with gr.Row():
                        sample_steps = gr.Slider(
                            *limits["sample_steps"], value=32, step=1, label=i18n("sample_steps"),
                            info=i18n("sample_steps_info"), visible=False,
                        )  # fmt: skip
                        super_resolution = gr.Checkbox(
                            False, label=i18n("super_resolution"), info=i18n("super_resolution_info"), visible=False
                        )
                    seed = gr.Number(-1, precision=0, label=i18n("seed"), info=i18n("seed_info"), elem_id="seed")
                output_format = gr.Radio(
                    [(label, name) for label, name, _ in DOWNLOAD_FORMATS], value="wav", label=i18n("output_format")
                )
                with gr.Row():
                    synthesize = gr.Button(i18n("synthesize"), variant="primary", elem_id="synthesize")
                    stop = gr.Button(i18n("stop"), variant="stop", visible=False, elem_id="stop")
                live_player = gr.Audio(
                    streaming=True, autoplay=True, interactive=False, label=i18n("live"), elem_id="live-audio",
                    visible=ui.live_audio,
                )  # fmt: skip
                result_audio = gr.Audio(
                    type="filepath", interactive=False, label=i18n("result"), buttons=["download"],
                    elem_id="result-audio",
                )  # fmt: skip
                subtitle_files = gr.File(label=i18n("subtitle_files"), file_count="multiple", interactive=False,
                                         elem_id="subtitle-files")  # fmt: skip
                subtitle_cues = gr.JSON(visible=False)  # for the player (show_subtitles)
                status = gr.Markdown(elem_id="status")
                with gr.Row(equal_height=True):
                    seed_used = gr.Number(None, precision=0, label=i18n("seed_used"), interactive=False, elem_id="seed-used")
                    reuse_seed = gr.Button(i18n("reuse_seed"), size="sm", scale=0, min_width=160, elem_id="reuse-seed")
                history = gr.State([])  # this browser session's results: per visitor, never shared
                # Under the player; the names it uses (widgets, quiet) are bound below, before any render runs.
                @gr.render(inputs=history)
                def show_history(entries, request: gr.Request):
                    if not entries:
                        return
                    gr.Markdown(i18n("history"))
                    for entry in entries:
                        with gr.Group(elem_classes="history-entry"):
                            gr.Markdown(render(history_caption(entry), locale_of(request)))
                            with gr.Row(equal_height=True):
                                gr.Audio(entry["path"], interactive=False, show_label=False, buttons=["download"], scale=4)
                                restore = gr.Button(i18n("restore"), size="sm", scale=1, min_width=120)
                            restore.click(lambda entry=entry: ui.restore(entry), None, [widgets[name] for name in RESTORABLE], **quiet)

        gr.Examples(
            EXAMPLES,
            inputs=[reference_audio, reference_text, reference_language, target_text, target_language],
            label=i18n("examples"),
            example_labels=["中文", "English"],  # each example's language in its own words, as language menus do
        )

        v3_v4_settings = [sample_steps, super_resolution]
        model_panel = [t2s_model, sovits_model, model_summary, setup_panel, setup_text, *v3_v4_settings]
        demo.load(ui.initial_model_panel, None, model_panel, api_visibility="private")
        for dropdown in (t2s_model, sovits_model):
            dropdown.input(
                ui.choose_models, [t2s_model, sovits_model, reference_language, target_language],
                [model_summary, reference_language, target_language, *v3_v4_settings], api_visibility="private",
            )  # fmt: skip
        if ui.admin:  # operator actions: on a public server neither the buttons nor their API endpoints exist
            refresh.click(ui.refresh, [t2s_model, sovits_model], model_panel, api_name="refresh_models")
            download.click(ui.download, [download_version, t2s_model, sovits_model], model_panel, api_name="download_models")

        widgets = dict(
            reference_audio=reference_audio, reference_text=reference_text, reference_language=reference_language,
            reference_free=reference_free, extra_reference_audio=extra_reference_audio, target_text=target_text,
            target_language=target_language, cut_method=cut_method, streaming=streaming, top_k=top_k, top_p=top_p,
            temperature=temperature, repetition_penalty=repetition_penalty, speed=speed, pause_seconds=pause_seconds,
            seed=seed, t2s_model=t2s_model, sovits_model=sovits_model, sample_steps=sample_steps,
            super_resolution=super_resolution, output_format=output_format,
        )  # fmt: skip
        run = synthesize.click(
            run_on_gpu(ui.synthesize),  # the handler itself, so ZeroGPU sees it and forwards the user's quota
            inputs=[*(widgets[name] for name in SYNTHESIS_INPUTS), history],
            outputs=[live_player, result_audio, status, seed_used, history, synthesize, stop, subtitle_files,
                     subtitle_cues],
            api_name="synthesize",
        )
        run.then(show_subtitles, subtitle_cues, result_audio, api_visibility="private")
        quiet = dict(queue=False, show_progress="hidden", api_visibility="private")
        target_text.change(ui.count_characters, target_text, character_count, trigger_mode="always_last", **quiet)
        demo.load(ui.count_characters, target_text, character_count, **quiet)
        preview.click(ui.preview_cut, [target_text, target_language, cut_method], cut_preview, **quiet)
        reuse_seed.click(ui.reuse_seed, seed_used, seed, **quiet)

        stop.click(ui.stop, None, [synthesize, stop], cancels=[run], queue=False, api_visibility="private")

        if ui.voices is not None:
            reference = [reference_audio, reference_text, reference_language, extra_reference_audio]
            demo.load(ui.voice_dropdown, None, saved_voice, api_visibility="private")
            saved_voice.input(ui.pick_voice, saved_voice, [*reference, voice_name], api_visibility="private")
            save_voice.click(ui.save_voice, [voice_name, *reference], saved_voice, api_visibility="private")
            delete_voice.click(ui.delete_voice, saved_voice, saved_voice, api_visibility="private")
    _plain_api_labels(demo)
    return demo


def _plain_api_labels(demo: gr.Blocks) -> None:
    """Gradio's API page shows a translated label as "[object Object]" and an unlabelled output as "value_48":
    give it the English labels and names instead."""
    original = demo.get_api_info

    def get_api_info(*args, **kwargs):
        info = original(*args, **kwargs)
        for endpoint in info["named_endpoints"].values():
            for parameter in endpoint["parameters"]:
                parameter["label"] = _plain(parameter["label"], parameter["parameter_name"])
            for index, returned in enumerate(endpoint["returns"]):
                fallback = API_OUTPUT_NAMES[index] if index < len(API_OUTPUT_NAMES) else f"output {index + 1}"
                returned["label"] = _plain(returned["label"], fallback)
        return info

    demo.get_api_info = get_api_info


def _plain(label, fallback: str) -> str:
    if isinstance(label, dict) and "key" in label:  # a gr.I18n label as the config carries it
        return ENGLISH.get(label["key"], fallback).lstrip("# ")
    if isinstance(label, str) and not label.startswith(("value_", "parameter_")):
        return label
    return fallback
