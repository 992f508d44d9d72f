"""Command line: `python -m gpt_sovits <command>`.

    python -m gpt_sovits synthesize --reference-audio ref.wav --reference-text "..." --reference-language all_zh \\
        --target-text "..." --target-language all_zh --output out.wav
    python -m gpt_sovits download --version v2ProPlus
    python -m gpt_sovits download --asr whisper-small      # optional: transcribes reference clips
    python -m gpt_sovits transcribe ref.wav --language all_zh   # prints what the clip says
    python -m gpt_sovits phonemize ...

Every command turns a `GptSovitsError` into a one-line message on stderr and exit status 2; it never shows a
traceback for bad input. Messages are in the language of the terminal's locale (LC_ALL, LC_MESSAGES or LANG:
zh_CN.UTF-8 gives Chinese), English otherwise; the help texts are English. The model options (`--weights-dir`, `--gpt`, `--sovits`, `--device`, `--dtype`) default to the
environment variables GPT_SOVITS_WEIGHTS_DIR, GPT_SOVITS_GPT, GPT_SOVITS_SOVITS, GPT_SOVITS_DEVICE and
GPT_SOVITS_DTYPE, and are shared with the web UI (`app.py`).
"""

import argparse
import os
import sys
from pathlib import Path

from gpt_sovits import validation
from gpt_sovits.errors import GptSovitsError
from gpt_sovits.messages import Message, joined, say, terminal_text
from gpt_sovits.settings import CUT_METHODS, STREAMING_LEVELS, InferenceSettings, seed_from_user
from gpt_sovits.text.languages import LANGUAGE_MODES, describe_modes

# The `weights/` folder beside `app.py` in a checkout, unless GPT_SOVITS_WEIGHTS_DIR says otherwise.
DEFAULT_WEIGHTS_DIR = Path(os.environ.get("GPT_SOVITS_WEIGHTS_DIR", Path(__file__).resolve().parent.parent / "weights"))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m gpt_sovits", description="GPT-SoVITS-compatible voice cloning.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    synthesize = commands.add_parser("synthesize", help="speak a text in the voice of a reference clip (WAV out)")
    add_synthesize_arguments(synthesize)
    synthesize.set_defaults(run=run_synthesize)

    download = commands.add_parser("download", help="download the official pretrained models into the weights folder")
    add_download_arguments(download)
    download.set_defaults(run=run_download)

    transcribe = commands.add_parser(
        "transcribe", help="print what a reference clip says (needs a speech recognition model: download --asr)"
    )
    add_transcribe_arguments(transcribe)
    transcribe.set_defaults(run=run_transcribe)

    from gpt_sovits.text import command as phonemize_command

    phonemize = commands.add_parser("phonemize", help="turn text into phones (JSON)")
    phonemize_command.add_arguments(phonemize)
    phonemize.set_defaults(run=phonemize_command.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except GptSovitsError as error:
        say(Message("error: {error}", error=error), file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # Ctrl-C: the synthesis has stopped with it (its threads are waited for at exit)
        say(Message("Stopped."), file=sys.stderr)
        return 130


# ----- options shared with the web UI -----------------------------------------------------------------------


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    environment = os.environ.get
    group = parser.add_argument_group("models")
    group.add_argument(
        "--weights-dir",
        type=Path,
        default=DEFAULT_WEIGHTS_DIR,
        help="folder with the model files, laid out as in weights/README.md (env GPT_SOVITS_WEIGHTS_DIR)",
    )
    group.add_argument(
        "--gpt", type=Path, default=environment("GPT_SOVITS_GPT"),
        help="GPT (T2S) .ckpt to load; default: the newest official one found (env GPT_SOVITS_GPT)",
    )  # fmt: skip
    group.add_argument(
        "--sovits", type=Path, default=environment("GPT_SOVITS_SOVITS"),
        help="SoVITS .pth to load; default: the newest official one found (env GPT_SOVITS_SOVITS)",
    )  # fmt: skip
    group.add_argument(
        "--device", default=environment("GPT_SOVITS_DEVICE", "auto"),
        help="where the models run: auto (a CUDA GPU if PyTorch can use one, else the CPU), cpu, cuda or cuda:N "
             "(env GPT_SOVITS_DEVICE)",
    )  # fmt: skip
    group.add_argument(
        "--dtype", default=environment("GPT_SOVITS_DTYPE", "auto"),
        help="precision: auto (float16 on a GPU, as the official code; float32 on a CPU, exact), float32, float16 "
             "(GPU) or bfloat16 (faster on CPUs with bfloat16 instructions; not exact) (env GPT_SOVITS_DTYPE)",
    )  # fmt: skip


def engine_options(args: argparse.Namespace) -> dict:
    """The Engine's device and dtype from --device / --dtype, checked on this machine (a DeviceError if unusable);
    a note for the operator when the result is not exact mode."""
    from gpt_sovits.engine.model_set import choose_placement, placement_note

    placement = choose_placement(args.device, args.dtype)
    note = placement_note(placement)
    if note is not None:
        say(note, file=sys.stderr)
    return {"device": placement.device, "dtype": placement.dtype}


# ----- synthesize -----------------------------------------------------------------------------------------


class OutputError(GptSovitsError):
    """The result could not be written where the user asked."""



def add_synthesize_arguments(parser: argparse.ArgumentParser) -> None:
    # Not argparse choices: a wrong mode gets the validation message, which also says which modes need v2.
    languages = describe_modes(LANGUAGE_MODES) + "; Korean and Cantonese need a v2 or later model"
    parser.add_argument("--reference-audio", required=True, type=Path, help="3-10 s clip of the voice to clone")
    parser.add_argument("--reference-text", default="", help="what the clip says; empty = reference-free mode")
    parser.add_argument("--reference-language", default="all_zh", help=f"language of the clip: {languages}")
    parser.add_argument(
        "--extra-reference-audio", type=Path, nargs="*", default=[], help="more clips of the same voice (timbre)"
    )
    parser.add_argument("--target-text", required=True, help="the text to speak")
    parser.add_argument("--target-language", default="all_zh", help=f"language of the text: {languages}")
    parser.add_argument("--output", "-o", type=Path, default=Path("out.wav"), help="WAV file to write (at the model's rate: 32 kHz for v1-v2ProPlus, 24 or 48 kHz for v3, 48 kHz for v4)")
    parser.add_argument("--srt", type=Path, help="also write subtitles of the result to this SubRip (.srt) file")
    parser.add_argument("--vtt", type=Path, help="also write subtitles of the result to this WebVTT (.vtt) file")

    defaults = InferenceSettings()
    knobs = parser.add_argument_group("settings (defaults as in the official web UI)")
    knobs.add_argument("--top-k", type=int, default=defaults.top_k)
    knobs.add_argument("--top-p", type=float, default=defaults.top_p)
    knobs.add_argument("--temperature", type=float, default=defaults.temperature)
    knobs.add_argument("--repetition-penalty", type=float, default=defaults.repetition_penalty)
    knobs.add_argument("--speed", type=float, default=defaults.speed)
    knobs.add_argument("--pause", type=float, default=defaults.pause_seconds, help="seconds of silence per sentence")
    knobs.add_argument("--seed", type=int, default=None, help="fixed seed for a repeatable result; default random")
    knobs.add_argument(
        "--sample-steps", type=int, default=None,
        help="v3/v4 models: flow-matching steps (more = slower, finer); default the model's (v3 32, v4 8)",
    )  # fmt: skip
    knobs.add_argument(
        "--super-resolution", action="store_true",
        help="v3 models: make 48 kHz audio with AP-BWE (its model must be in the weights folder)",
    )  # fmt: skip
    knobs.add_argument(
        "--stream", choices=STREAMING_LEVELS, default=None,
        help="write the file as the audio is made: 'sentence' (exact) or 'token' (sooner, not bit-exact); "
        "default: write the complete file at the end",
    )  # fmt: skip
    knobs.add_argument(
        "--cut-method", choices=CUT_METHODS, default=defaults.cut_method,
        help="how to cut the text: cut0 not at all, cut1 every 4 sentences, cut2 every 50 characters, "
        "cut3 at Chinese full stops, cut4 at English full stops, cut5 at every punctuation mark",
    )  # fmt: skip
    add_model_arguments(parser)


def run_synthesize(args: argparse.Namespace) -> int:
    import soundfile

    from gpt_sovits.engine import SynthesisRequest

    settings = InferenceSettings(
        top_k=args.top_k,
        top_p=args.top_p,
        temperature=args.temperature,
        repetition_penalty=args.repetition_penalty,
        speed=args.speed,
        pause_seconds=args.pause,
        seed=seed_from_user(args.seed),
        cut_method=args.cut_method,
        streaming=args.stream or "sentence",
        sample_steps=args.sample_steps,
        super_resolution=args.super_resolution,
    )
    request = SynthesisRequest(
        reference_audio=args.reference_audio,
        reference_text=args.reference_text,
        reference_language=args.reference_language,
        target_text=args.target_text,
        target_language=args.target_language,
        extra_reference_audio=tuple(args.extra_reference_audio),
        settings=settings,
    )
    check_before_loading(request)
    check_output(args.output)
    subtitle_files = {"srt": args.srt, "vtt": args.vtt}
    for path in filter(None, subtitle_files.values()):
        check_subtitle_output(path)
    from gpt_sovits.engine import Engine

    engine = Engine.from_weights_dir(args.weights_dir, args.gpt, args.sovits, **engine_options(args))
    stream = engine.stream(request)
    for warning in stream.warnings:
        say(Message("warning: {warning}", warning=warning), file=sys.stderr)
    try:
        if args.stream:  # each chunk goes to disk as it comes, so the file can be played while it grows
            with soundfile.SoundFile(args.output, "w", stream.sample_rate, 1, subtype="PCM_16") as file:
                for chunk in stream:
                    file.write(chunk.int16())
                    file.flush()
            result = stream.result()
        else:
            result = stream.result()
            soundfile.write(args.output, result.audio_int16(), result.sample_rate, subtype="PCM_16")
    except (OSError, soundfile.LibsndfileError) as error:
        raise OutputError(Message("Cannot write {path}: {error}", path=args.output, error=error)) from None
    stages = joined(
        Message("{stage} {seconds:.2f} s", stage=stage, seconds=seconds) for stage, seconds in result.timings.items()
    )
    say(Message(
        "Wrote {path} ({duration:.1f} s at {rate} Hz, {segments} segment(s), seed {seed}; {stages})",
        path=args.output, duration=result.duration_seconds, rate=result.sample_rate, segments=len(result.segments),
        seed=result.seed, stages=stages,
    ))  # fmt: skip
    write_subtitle_files(result, subtitle_files)
    return 0


def check_before_loading(request) -> None:
    """The checks that need no model, so a typo fails in a second instead of after loading the models.

    The engine runs them again (with the model's language table); they are cheap.
    """
    from gpt_sovits.audio import load_audio

    validation.check_target_text(request.target_text)
    validation.check_language_mode(request.target_language)
    if request.reference_text.strip() and not request.reference_free:
        validation.check_language_mode(request.reference_language)
    clip = load_audio(request.reference_audio)
    validation.check_reference_audio(clip.mono(), clip.sample_rate)
    for extra in request.extra_reference_audio:
        load_audio(extra)


def check_output(output: Path) -> None:
    """Refuse an output path that cannot take the result now, not after minutes of synthesis."""
    import soundfile

    check_writable(output, Message("Cannot write {path}: it is a folder. Give a file name ending in .wav.", path=output))
    file_format = output.suffix.lstrip(".").upper()
    if file_format not in soundfile.available_formats() or not soundfile.check_format(file_format, "PCM_16"):
        raise OutputError(Message(
            "Cannot write {path}: the result is 16-bit PCM audio; give a file name ending in .wav.", path=output
        ))


def check_subtitle_output(path: Path) -> None:
    check_writable(path, Message("Cannot write {path}: it is a folder. Give a file name for the subtitles.", path=path))


def check_writable(path: Path, is_a_folder: Message) -> None:
    """A file can be made at `path`: it is not a folder (`is_a_folder` says so) and its folder exists."""
    if path.is_dir():
        raise OutputError(is_a_folder)
    if not path.parent.is_dir():
        raise OutputError(Message(
            "Cannot write {path}: the folder {folder} does not exist. Create it first.", path=path, folder=path.parent
        ))


def write_subtitle_files(result, paths: dict) -> None:
    """The result's subtitles in each format asked for ({"srt": path or None, "vtt": ...})."""
    from gpt_sovits.subtitles import subtitle_cues, subtitles_text

    cues = subtitle_cues(result.sentences)
    for subtitle_format, path in paths.items():
        if path is None:
            continue
        try:
            path.write_text(subtitles_text(cues, subtitle_format), encoding="utf-8")
        except OSError as error:
            raise OutputError(Message("Cannot write {path}: {error}", path=path, error=error)) from None
        say(Message("Wrote {path} ({count} subtitle(s))", path=path, count=len(cues)))


# ----- download -------------------------------------------------------------------------------------------


def add_download_arguments(parser: argparse.ArgumentParser) -> None:
    from gpt_sovits.weights import DEFAULT_VERSION, DOWNLOADABLE_VERSIONS

    from gpt_sovits.weights import ASR_MODELS

    parser.add_argument("--version", choices=DOWNLOADABLE_VERSIONS, default=DEFAULT_VERSION)
    parser.add_argument(
        "--asr", choices=ASR_MODELS, default=None,
        help="download only this speech recognition model (for transcribing reference clips), not a version",
    )  # fmt: skip
    parser.add_argument(
        "--weights-dir", type=Path, default=DEFAULT_WEIGHTS_DIR, help="where to put them (env GPT_SOVITS_WEIGHTS_DIR)"
    )


def run_download(args: argparse.Namespace) -> int:
    from gpt_sovits.weights import download, download_asr

    # huggingface_hub draws a byte-level progress bar per file; we name each step above it.
    def progress(fraction, message):
        print(f"[{fraction:4.0%}] {terminal_text(message)}")

    if args.asr:
        download_asr(args.asr, args.weights_dir, progress=progress)
        return 0
    download(args.version, args.weights_dir, progress=progress)
    say(Message("Ready: python -m gpt_sovits synthesize ... --weights-dir {weights_dir}", weights_dir=args.weights_dir))
    return 0


# ----- transcribe ---------------------------------------------------------------------------------------------


def add_transcribe_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("reference_audio", type=Path, help="the clip (as for synthesize: 3-10 s, longer ones trimmed)")
    parser.add_argument("--language", default="auto", help="the clip's language mode (all_zh, en, ...) or auto")
    parser.add_argument("--weights-dir", type=Path, default=DEFAULT_WEIGHTS_DIR, help="its asr/ holds the model")


def run_transcribe(args: argparse.Namespace) -> int:
    """The transcript on stdout (for --reference-text "$(...)"), its language mode on stderr."""
    from gpt_sovits.asr import AsrModels

    validation.check_language_mode(args.language)
    models = AsrModels(args.weights_dir)
    transcript = models.get().transcribe_reference(args.reference_audio, args.language)
    print(transcript.text)
    say(Message("language: {language}", language=transcript.language_mode or "auto"), file=sys.stderr)
    return 0
