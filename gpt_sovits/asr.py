"""Transcribing a reference clip: what it says and in which language, with a Whisper model (optional).

    transcriber = Transcriber.from_dir(Path("weights/asr/whisper-small"))
    transcript = transcriber.transcribe(samples, sample_rate, language_hint="all_zh")   # or None: detect
    transcript.text, transcript.language, transcript.language_mode        # "今天天气很好。", "zh", "all_zh"
    transcriber.transcribe_reference("ref.wav", None)     # the part of a clip synthesis uses (long clips trimmed)

The reference text must be exactly what the clip says, so the transcript is a suggestion the user checks, asked
for with a button (UI) or the `transcribe` command; nothing is transcribed unasked. The model is any Whisper
checkpoint in the transformers layout under weights/asr/ (`python -m gpt_sovits download --asr whisper-small`);
without one the feature is hidden. `AsrModels` loads it on first use and keeps it for the process.
"""

import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from gpt_sovits import audio, weights
from gpt_sovits.errors import AudioError, GptSovitsError
from gpt_sovits.messages import Message
from gpt_sovits.text.languages import LANGUAGE_MODES, LANGUAGES

WHISPER_RATE = 16000
# Whisper hears 30 s at a time; reference clips are 3-10 s (longer ones are trimmed before they get here).
MAX_TRANSCRIBE_SECONDS = 30.0
MAX_TRANSCRIPT_TOKENS = 200  # more than a 30 s clip holds; bounds the work on a model that never stops


class AsrError(GptSovitsError):
    """The speech recognition model is missing or cannot be used."""


@dataclass(frozen=True)
class Transcript:
    text: str
    language: str | None  # ours (zh, en, ja, ko, yue), detected or as hinted; None for a language we do not speak
    language_mode: str | None  # the language menu's choice for it (all_zh, en, all_ja, all_ko, all_yue)


class Transcriber:
    """A Whisper model and its processor (feature extractor + tokenizer); safe to share between requests."""

    def __init__(self, model, processor):
        self.model = model.eval()
        self.processor = processor
        self._language_tokens = dict(getattr(model.generation_config, "lang_to_id", None) or {})  # "<|zh|>" -> id

    @classmethod
    def from_dir(cls, path: Path) -> "Transcriber":
        """Load a Whisper model saved in the transformers layout (config.json, model.safetensors, tokenizer and
        preprocessor files); offline, from that folder only."""
        from transformers import WhisperForConditionalGeneration, WhisperProcessor

        try:
            processor = WhisperProcessor.from_pretrained(path, local_files_only=True)
            model = WhisperForConditionalGeneration.from_pretrained(path, local_files_only=True)
        except (OSError, ValueError) as error:
            raise AsrError(Message(
                "The speech recognition model in {folder} cannot be loaded ({error}). Download it again with "
                "`python -m gpt_sovits download --asr {name}`.",
                folder=f"{weights.ASR_DIR}/{Path(path).name}", error=type(error).__name__, name=weights.DEFAULT_ASR_MODEL,
            )) from error  # fmt: skip
        return cls(model, processor)

    def transcribe(self, samples: np.ndarray, sample_rate: int, language_hint: str | None = None) -> Transcript:
        """What mono float32 `samples` say. `language_hint`: a language mode or code (all_zh, zh, en, ...) the
        speech is known to be in; None or "auto": detected."""
        samples = np.asarray(samples, dtype=np.float32)
        duration = len(samples) / sample_rate
        if samples.ndim != 1 or not len(samples):
            raise AudioError(Message("There is no audio to transcribe. Upload or record the reference clip first."))
        if duration > MAX_TRANSCRIBE_SECONDS:
            raise AudioError(Message(
                "The clip is {duration:.1f} s long; transcription takes at most {limit:g} s. Use a 3-10 s clip.",
                duration=duration, limit=MAX_TRANSCRIBE_SECONDS,
            ))  # fmt: skip
        features = self.processor(
            audio.resample_soxr(samples, sample_rate, WHISPER_RATE), sampling_rate=WHISPER_RATE, return_tensors="pt"
        ).input_features.to(self.model.dtype)
        # An English-only model (whisper-*.en) has no language tokens and takes no language or task.
        multilingual = bool(self._language_tokens)
        with torch.inference_mode():
            language = (self._whisper_language(language_hint) or self._detect(features)) if multilingual else "en"
            tokens = self.model.generate(
                features, **({"language": language, "task": "transcribe"} if multilingual else {}),
                max_new_tokens=min(MAX_TRANSCRIPT_TOKENS, self.model.config.max_target_positions // 2),
            )  # fmt: skip
        text = " ".join(self.processor.batch_decode(tokens, skip_special_tokens=True)[0].split())
        ours = language if language in LANGUAGES else None
        return Transcript(text, ours, _menu_mode(ours))

    def transcribe_reference(self, reference_audio, language_hint: str | None = None) -> Transcript:
        """The transcript of the part of a reference clip that synthesis uses: the same checks and trimming
        (a file, or (sample_rate, samples) as Gradio gives it)."""
        from gpt_sovits.engine.reference import load_reference_clips

        clip = load_reference_clips(reference_audio, ()).main
        return self.transcribe(clip.mono(), clip.sample_rate, language_hint)

    def _whisper_language(self, hint: str | None) -> str | None:
        """Whisper's code for the hint (ours are Whisper's too), if this model knows it; None: detect."""
        language = LANGUAGE_MODES[hint].language if hint in LANGUAGE_MODES else hint
        return language if f"<|{language}|>" in self._language_tokens else None

    def _detect(self, features: torch.Tensor) -> str:
        token = int(self.model.detect_language(features)[0])
        code = next(name for name, id in self._language_tokens.items() if id == token)
        return code.strip("<|>")


def _menu_mode(language: str | None) -> str | None:
    """The language menu's plain mode for a language: its all_* mode (en for English)."""
    for code, mode in LANGUAGE_MODES.items():
        if language is not None and mode.language == language and mode.splitting in ("single", "whole"):
            return code
    return None


class AsrModels:
    """The speech recognition model of a weights folder, loaded on first use and kept (one per process)."""

    def __init__(self, weights_dir: Path):
        self.weights_dir = Path(weights_dir)
        self._loaded: tuple[Path, Transcriber] | None = None
        self._lock = threading.Lock()

    def folder(self) -> Path | None:
        return weights.asr_model_dir(self.weights_dir)

    @property
    def available(self) -> bool:
        return self.folder() is not None

    def get(self) -> Transcriber:
        folder = self.folder()
        if folder is None:
            raise AsrError(Message(
                "No speech recognition model is installed. Download one with `python -m gpt_sovits download --asr "
                "{name}`, or type the reference text yourself.", name=weights.DEFAULT_ASR_MODEL,
            ))  # fmt: skip
        with self._lock:
            if self._loaded is None or self._loaded[0] != folder:
                self._loaded = (folder, Transcriber.from_dir(folder))
            return self._loaded[1]
