"""What goes into the engine and what comes out of it.

A `SynthesisRequest` names everything one synthesis needs: the reference (clip, its text and language), the target
(text and language), the settings, and optionally the models to use. `Engine.stream` turns it into `AudioChunk`s;
`Engine.synthesize` joins them into one `SynthesisResult`. Reference and target are separate fields everywhere, so
nothing about one can be mistaken for the other.
"""

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from gpt_sovits.settings import InferenceSettings


@dataclass(frozen=True)
class ModelPaths:
    """Every file one engine needs. The T2S / SoVITS pair is the default; requests may name another pair."""

    t2s: Path
    sovits: Path
    hubert_dir: Path
    bert_dir: Path
    speaker_encoder: Path | None = None  # only v2Pro / v2ProPlus need it
    weights_dir: Path | None = None  # where v3/v4 models find their LoRA base, vocoder and AP-BWE


@dataclass(frozen=True)
class ModelChoice:
    """The T2S and SoVITS files one request wants; a field left None means the engine's default file."""

    t2s: Path | None = None
    sovits: Path | None = None


@dataclass(frozen=True)
class ModelInfo:
    model_version: str  # v1, v2, v2Pro, v2ProPlus
    symbol_version: str  # the phone table: v1 or v2
    t2s_path: Path
    sovits_path: Path
    sample_rate: int  # of the audio this model set produces

    @property
    def label(self) -> str:
        """How a person recognises the models: 'v2ProPlus (GPT s1v3.ckpt, SoVITS s2Gv2ProPlus.pth)'."""
        return f"{self.model_version} (GPT {Path(self.t2s_path).name}, SoVITS {Path(self.sovits_path).name})"


@dataclass(frozen=True)
class SynthesisRequest:
    reference_audio: str | Path | tuple  # a file, or (sample_rate, samples) as Gradio gives it
    reference_text: str
    reference_language: str
    target_text: str
    target_language: str
    reference_free: bool = False  # also implied by an empty reference text
    extra_reference_audio: tuple = ()  # more clips of the same voice; they set the timbre, averaged
    settings: InferenceSettings = field(default_factory=InferenceSettings)
    models: ModelChoice | None = None  # None: the engine's default models


@dataclass(frozen=True)
class AudioChunk:
    """A piece of the output, in order. Sentence streaming gives one chunk per sentence (its pause included);
    token streaming gives several per sentence, the last one with `sentence_end` set."""

    audio: np.ndarray  # float32 mono in [-1, 1]
    sample_rate: int
    sentence_index: int  # 0-based index into SynthesisStream.sentences
    sentence_text: str
    start_seconds: float  # where the chunk starts in the whole output
    sentence_end: bool  # the last chunk of its sentence

    @property
    def duration_seconds(self) -> float:
        return len(self.audio) / self.sample_rate

    def int16(self) -> np.ndarray:
        return to_int16(self.audio)


@dataclass
class SentenceReport:
    """What happened to one target sentence, filled in as it is spoken."""

    index: int
    text: str
    seed: int  # the sentence's own seed (T2S draws from it, the SoVITS noise from seed + 1)
    start_seconds: float = 0.0
    end_seconds: float = 0.0  # where its speech ends (its pause follows)
    tokens: torch.Tensor | None = None  # the semantic tokens that were decoded
    stop_reason: str = ""
    attempts: int = 0


@dataclass
class SynthesisResult:
    audio: np.ndarray  # float32 mono in [-1, 1]
    sample_rate: int
    seed: int
    warnings: list[str]  # Messages: str in English, `gpt_sovits.messages.render(warning, locale)` in others
    timings: dict[str, float]  # stage -> seconds
    reference_cache_hit: bool
    sentences: list[SentenceReport]
    model: ModelInfo

    @property
    def segments(self) -> list[str]:
        return [sentence.text for sentence in self.sentences]

    @property
    def duration_seconds(self) -> float:
        return len(self.audio) / self.sample_rate

    def audio_int16(self) -> np.ndarray:
        return to_int16(self.audio)


def to_int16(audio: np.ndarray) -> np.ndarray:
    """16-bit PCM as the official web UI writes it (x 32767, truncated toward zero)."""
    return (audio * 32767).astype(np.int16)
