"""The inference engine: loads the models once and turns (reference clip, texts, settings) into speech.

The pipeline, for every target sentence:

    reference clip --HuBERT--> features --SoVITS quantizer--> prompt tokens  ┐ (cached per reference)
    reference clip --spectrogram (+ speaker encoder)--> timbre embedding      │
    reference text --front end--> phones + BERT features                     ┘
    target sentence --front end--> phones + BERT features
    [reference phones ‖ target phones], prompt tokens --T2S--> target tokens --SoVITS decode--> 32 kHz audio

Reference and target are kept apart everywhere: the reference work lives in a `PreparedReference`, cached under a
key made of the audio *content*, the reference text and language, and the model identity; the target is never
cached. The decoder receives only the tokens that T2S generated for the target, taken straight from the
decoding loop (see `T2SOutput.decoder_tokens`), and an output implausibly short for its text is re-rolled, then refused:
the engine never hands back the reference instead of the target.
"""

import hashlib
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from gpt_sovits import audio, validation
from gpt_sovits.checkpoints import check_compatible, load_sovits_checkpoint, load_t2s_checkpoint
from gpt_sovits.errors import CheckpointError, SynthesisError, TextError
from gpt_sovits.models.features import BertEncoder, HubertEncoder
from gpt_sovits.models.sovits import SoVITS
from gpt_sovits.models.speaker import SpeakerEncoder
from gpt_sovits.models.t2s import SamplingParams, T2SInput, Text2Semantic
from gpt_sovits.settings import InferenceSettings
from gpt_sovits.text import symbols
from gpt_sovits.text.frontend import phonemize, prepare_reference_text, prepare_target_segments
from gpt_sovits.text.types import TextRun

HUBERT_RATE = 16000
SPECTROGRAM_RATE = 32000
# Zeros appended to the 16 kHz reference before HuBERT: int(32000 * 0.3) samples, i.e. 0.6 s. Upstream computes
# the count at the 32 kHz model rate and applies it at 16 kHz; the models were used this way, so we keep it.
HUBERT_PADDING_SAMPLES = 9600
BERT_DIM = 1024
# Re-roll a target whose tokens are implausibly few this many times with new seeds before giving up.
MAX_ATTEMPTS = 4
# Speech runs at 25 semantic tokens per second and rarely faster than ~16 phones per second (>= 1.5 tokens per
# phone). Fewer than 0.25 tokens per spoken phone means the model stopped early, not that the speaker was fast.
MIN_TOKENS_PER_PHONE = 0.25


@dataclass(frozen=True)
class ModelPaths:
    t2s: Path
    sovits: Path
    hubert_dir: Path
    bert_dir: Path
    speaker_encoder: Path | None = None  # only v2Pro / v2ProPlus need it


@dataclass(frozen=True)
class ModelInfo:
    model_version: str
    symbol_version: str
    t2s_path: Path
    sovits_path: Path
    sample_rate: int


@dataclass(frozen=True)
class SynthesisRequest:
    reference_audio: str | Path | tuple  # a file, or (sample_rate, samples) as Gradio gives it
    reference_text: str
    reference_language: str
    target_text: str
    target_language: str
    reference_free: bool = False  # also implied by an empty reference text
    extra_reference_audio: tuple = ()  # more clips of the same voice; their timbre is averaged
    settings: InferenceSettings = field(default_factory=InferenceSettings)


@dataclass
class SynthesisResult:
    audio: np.ndarray  # float32 mono in [-1, 1]
    sample_rate: int
    seed: int
    warnings: list[str]
    timings: dict[str, float]  # stage -> seconds
    reference_cache_hit: bool
    segments: list[str]

    @property
    def duration_seconds(self) -> float:
        return len(self.audio) / self.sample_rate

    def audio_int16(self) -> np.ndarray:
        """16-bit PCM as the official web UI writes it (x 32767, truncated toward zero)."""
        return (self.audio * 32767).astype(np.int16)


@dataclass(frozen=True)
class PreparedReference:
    """Everything the target sentences need from the reference; computed once per (audio, text, model)."""

    prompt_tokens: torch.Tensor | None  # LongTensor[P]; None in reference-free mode
    runs: tuple[TextRun, ...]  # the reference text as phones; empty in reference-free mode
    bert_features: torch.Tensor  # [1024, reference phones]
    timbre: tuple[torch.Tensor, ...]  # one SoVITS reference embedding per timbre clip, averaged in decode
    warnings: tuple[str, ...]

    @property
    def phone_ids(self) -> list[int]:
        return [phone_id for run in self.runs for phone_id in run.phone_ids]


class _LoadedModels:
    """One consistent set of models. Never mutated: a model switch builds a new set and swaps the reference."""

    def __init__(self, paths: ModelPaths, shared: "_LoadedModels | None" = None):
        self.paths = paths
        sovits_checkpoint = load_sovits_checkpoint(paths.sovits)
        t2s_checkpoint = load_t2s_checkpoint(paths.t2s)
        check_compatible(t2s_checkpoint, sovits_checkpoint)
        self.sovits = SoVITS.from_checkpoint(sovits_checkpoint)
        self.t2s = Text2Semantic.from_checkpoint(t2s_checkpoint)
        self.model_version = sovits_checkpoint.model_version
        self.symbol_version = sovits_checkpoint.symbol_version
        # The feature models never change with a switch: reuse them when we can.
        if shared is not None and shared.paths.hubert_dir == paths.hubert_dir and shared.paths.bert_dir == paths.bert_dir:
            self.hubert, self.bert = shared.hubert, shared.bert
        else:
            self.hubert = HubertEncoder(paths.hubert_dir)
            self.bert = BertEncoder(paths.bert_dir)
        self.speaker = None
        if self.model_version in ("v2Pro", "v2ProPlus"):
            if shared is not None and shared.speaker is not None and shared.paths.speaker_encoder == paths.speaker_encoder:
                self.speaker = shared.speaker
            else:
                self.speaker = SpeakerEncoder.from_file(_require_speaker_path(paths, self.model_version))
        self.identity = "|".join(
            [_file_identity(paths.sovits), str(paths.hubert_dir), str(paths.bert_dir), str(paths.speaker_encoder)]
        )

    @property
    def info(self) -> ModelInfo:
        return ModelInfo(self.model_version, self.symbol_version, self.paths.t2s, self.paths.sovits, SPECTROGRAM_RATE)


class Engine:
    """Owns the loaded models and the reference cache. Safe to share between concurrent requests.

    Runs on the CPU in float32, the precision the parity tests pin down.
    """

    def __init__(self, paths: ModelPaths, reference_cache_size: int = 8):
        self._lock = threading.Lock()
        self._models = _LoadedModels(paths)
        self._reference_cache: OrderedDict[tuple, PreparedReference] = OrderedDict()
        self._reference_cache_size = reference_cache_size

    # ----- models -------------------------------------------------------------------------------------------

    @property
    def model_info(self) -> ModelInfo:
        return self._models.info

    def switch_models(self, t2s: Path | None = None, sovits: Path | None = None) -> ModelInfo:
        """Load another T2S and/or SoVITS file; requests already running finish on the models they started with."""
        current = self._models
        paths = ModelPaths(
            t2s=Path(t2s) if t2s else current.paths.t2s,
            sovits=Path(sovits) if sovits else current.paths.sovits,
            hubert_dir=current.paths.hubert_dir,
            bert_dir=current.paths.bert_dir,
            speaker_encoder=current.paths.speaker_encoder,
        )
        if paths == current.paths:
            return current.info
        new_models = _LoadedModels(paths, shared=current)
        with self._lock:
            self._models = new_models
        return new_models.info

    # ----- high level: text in, speech out ------------------------------------------------------------------

    def synthesize(
        self, request: SynthesisRequest, progress: Callable[[float, str], None] | None = None
    ) -> SynthesisResult:
        report = progress or (lambda fraction, message: None)
        models = self._models  # one consistent set for the whole request, even if a switch happens meanwhile
        settings = request.settings
        timings: dict[str, float] = {}
        warnings: list[str] = []

        target_text = validation.check_target_text(request.target_text)
        validation.check_language(request.target_language, models.symbol_version)
        reference_free = request.reference_free or not request.reference_text.strip()
        if reference_free and not request.reference_free:
            warnings.append("No reference text was given, so the reference text was not used (reference-free mode).")
        if not reference_free:
            validation.check_language(request.reference_language, models.symbol_version)

        report(0.0, "Preparing the reference")
        started = time.perf_counter()
        reference, cache_hit = self._prepare_reference(
            models,
            request.reference_audio,
            None if reference_free else request.reference_text,
            request.reference_language,
            tuple(request.extra_reference_audio),
        )
        timings["reference"] = time.perf_counter() - started
        warnings.extend(reference.warnings)

        started = time.perf_counter()
        sentences = prepare_target_segments(target_text, settings.cut_method, request.target_language)
        sentence_runs = [
            phonemize(sentence, request.target_language, models.symbol_version).require_speech(sentence).runs
            for sentence in sentences
        ]
        timings["text"] = time.perf_counter() - started

        seed = _resolve_seed(settings)
        pieces = []
        for index, runs in enumerate(sentence_runs):
            report((index + 0.1) / len(sentence_runs), f"Speaking sentence {index + 1} of {len(sentence_runs)}")
            waveform = self._speak(models, reference, runs, settings, seed + 2 * index, timings, trace=None)
            pieces.append(_with_pause(waveform, settings.pause_seconds))
        report(1.0, "Done")
        return SynthesisResult(
            audio=np.concatenate(pieces),
            sample_rate=SPECTROGRAM_RATE,
            seed=seed,
            warnings=warnings,
            timings=timings,
            reference_cache_hit=cache_hit,
            segments=sentences,
        )

    # ----- low level: already-phonemized text (what the parity tests drive) -----------------------------------

    def synthesize_runs(
        self,
        reference_audio,
        reference_runs: list[TextRun] | None,
        target_runs: list[TextRun],
        settings: InferenceSettings = InferenceSettings(),
        trace: dict | None = None,
    ) -> SynthesisResult:
        """Speak one already-phonemized target sentence. `reference_runs=None` is reference-free mode.

        No caching and no text processing: the caller gives phones, as the official pipeline has them after its
        front end. `trace`, when a dict, receives every intermediate array under the parity vectors' names.
        """
        models = self._models
        timings: dict[str, float] = {}
        clip, warnings = _load_reference_clip(reference_audio)
        reference = self._compute_reference(models, clip, reference_runs, (clip,), warnings, trace)
        seed = _resolve_seed(settings)
        waveform = self._speak(models, reference, list(target_runs), settings, seed, timings, trace)
        audio_out = _with_pause(waveform, settings.pause_seconds)
        if trace is not None:
            trace["output_wav_float"] = audio_out
        return SynthesisResult(audio_out, SPECTROGRAM_RATE, seed, list(reference.warnings), timings, False, [])

    # ----- the reference ------------------------------------------------------------------------------------

    def _prepare_reference(self, models, reference_audio, reference_text, reference_language, extra_audio):
        clip, warnings = _load_reference_clip(reference_audio)
        extra_clips = [_load_timbre_clip(source) for source in extra_audio]
        key = (
            _content_hash(clip),
            tuple(_content_hash(extra) for extra in extra_clips),
            reference_text,
            reference_language if reference_text is not None else None,
            models.identity,
        )
        with self._lock:
            cached = self._reference_cache.get(key)
            if cached is not None:
                self._reference_cache.move_to_end(key)
                return cached, True

        runs = None
        # Text errors here (nothing to pronounce, a sentence too long for BERT) are about the reference text: say so,
        # or the user edits the target text instead.
        try:
            if reference_text is not None:
                warnings.extend(validation.check_reference_text(reference_text, clip.duration_seconds))
                spoken_text = prepare_reference_text(reference_text, reference_language)
                phonemized = phonemize(spoken_text, reference_language, models.symbol_version)
                runs = phonemized.require_speech(spoken_text).runs
            # Upstream: when extra clips are given, they alone set the timbre; the main clip still gives the prompt.
            timbre_clips = tuple(extra_clips) if extra_clips else (clip,)
            reference = self._compute_reference(models, clip, runs, timbre_clips, warnings, trace=None)
        except TextError as error:
            raise TextError(f"Reference text: {error} (Or leave the reference text empty.)") from None

        with self._lock:
            self._reference_cache[key] = reference
            self._reference_cache.move_to_end(key)
            while len(self._reference_cache) > self._reference_cache_size:
                self._reference_cache.popitem(last=False)
        return reference, False

    @torch.inference_mode()
    def _compute_reference(self, models, clip, runs, timbre_clips, warnings, trace) -> PreparedReference:
        prompt_tokens = None
        bert_features = torch.zeros(BERT_DIM, 0)
        if runs is not None:
            wav16k = audio.hubert_input(clip)
            hubert_input = np.concatenate([wav16k, np.zeros(HUBERT_PADDING_SAMPLES, dtype=np.float32)])
            hubert_features = models.hubert(torch.from_numpy(hubert_input))  # [F, 768]
            prompt_tokens = models.sovits.extract_prompt_codes(hubert_features.T.unsqueeze(0))  # [P]
            bert_features = _bert_features(models, runs, trace)
            _record(
                trace,
                hubert_input_wav16k_padded=hubert_input,
                hubert_last_hidden_state=hubert_features,
                extract_latent_codes=prompt_tokens.view(1, 1, -1),
            )
        timbre = tuple(self._timbre(models, timbre_clip, trace) for timbre_clip in timbre_clips)
        return PreparedReference(prompt_tokens, tuple(runs or ()), bert_features, timbre, tuple(warnings))

    @staticmethod
    def _timbre(models, clip, trace) -> torch.Tensor:
        """SoVITS reference embedding of one clip: spectrogram (+ speaker embedding for v2Pro*)."""
        inputs = audio.reference_spectrogram_inputs(clip, with_speaker_audio=models.speaker is not None)
        _record(trace, refer_spec=inputs.spectrogram[0])
        speaker_embedding = None
        if models.speaker is not None:
            speaker_embedding = models.speaker(inputs.audio_16k)  # [20480]
            _record(trace, spepc_audio=inputs.audio_16k, sv_emb=speaker_embedding)
        return models.sovits.reference_embedding(inputs.spectrogram, speaker_embedding, trace=trace)

    # ----- the target ---------------------------------------------------------------------------------------

    @torch.inference_mode()
    def _speak(self, models, reference: PreparedReference, target_runs, settings, seed, timings, trace) -> np.ndarray:
        """One target sentence -> float32 waveform at 32 kHz (peak-normalised like upstream, no pause).

        Random draws: T2S sampling from a generator seeded with `seed`, the SoVITS noise from one seeded with
        `seed + 1`. That is the official pipeline's draw order under `torch.manual_seed(seed)` with the noise
        re-seeded to `seed + 1` before decoding, which is how the reference vectors were made.
        """
        started = time.perf_counter()
        target_ids = [phone_id for run in target_runs for phone_id in run.phone_ids]
        target_bert = _bert_features(models, target_runs, trace, first_index=_bert_call_count(reference.runs))
        all_ids = torch.tensor(reference.phone_ids + target_ids, dtype=torch.long)
        all_bert = torch.cat([reference.bert_features, target_bert], dim=1)
        _add_time(timings, "bert", time.perf_counter() - started)
        _record(
            trace,
            t2s_all_phoneme_ids=all_ids,
            t2s_all_phoneme_len=torch.tensor(len(all_ids)),
            t2s_bert=all_bert,
            t2s_prompt=(reference.prompt_tokens if reference.prompt_tokens is not None else torch.zeros(0)).view(1, -1),
        )

        sampling = SamplingParams(
            top_k=settings.top_k,
            top_p=settings.top_p,
            temperature=settings.temperature,
            repetition_penalty=settings.repetition_penalty,
            early_stop_num=models.t2s.config.early_stop_num,
        )
        spoken_phones = sum(phone not in symbols.NOT_SPEECH for run in target_runs for phone in run.phones)
        minimum_tokens = int(MIN_TOKENS_PER_PHONE * spoken_phones)
        started = time.perf_counter()
        for attempt in range(MAX_ATTEMPTS):
            t2s_input = T2SInput(all_ids, all_bert.T, reference.prompt_tokens, seed=seed + 1_000_003 * attempt)
            output = models.t2s.generate(t2s_input, sampling)
            decoder_tokens = output.decoder_tokens
            if len(decoder_tokens) >= max(1, minimum_tokens):
                break
        else:
            raise SynthesisError(
                f"The model kept stopping after {len(decoder_tokens)} sound tokens for a sentence of {spoken_phones} "
                f"phones ({MAX_ATTEMPTS} tries with different seeds), so no audio was made for it. Check that the "
                "reference text matches what the clip says, try a different reference clip, or rephrase the sentence."
            )
        _add_time(timings, "t2s", time.perf_counter() - started)
        if trace is not None:
            prompt = reference.prompt_tokens if reference.prompt_tokens is not None else torch.zeros(0, dtype=torch.long)
            _record(trace, t2s_y=torch.cat([prompt, output.tokens]), t2s_idx=torch.tensor(output.steps))
            _record(trace, decode_codes=decoder_tokens.view(1, 1, -1), decode_text=torch.tensor(target_ids))

        started = time.perf_counter()
        decode_generator = torch.Generator().manual_seed(seed + 1)
        waveform = models.sovits.decode(
            decoder_tokens,
            torch.tensor(target_ids, dtype=torch.long),
            list(reference.timbre),
            speed=settings.speed,
            noise_scale=settings.noise_scale,
            generator=decode_generator,
            trace=trace,
        )
        waveform = waveform.float().cpu().numpy()
        peak = float(np.abs(waveform).max()) if waveform.size else 0.0
        if peak > 1.0:
            waveform = waveform / peak
        _add_time(timings, "sovits", time.perf_counter() - started)
        return waveform.astype(np.float32)


# ----- helpers ----------------------------------------------------------------------------------------------


def _bert_features(models, runs, trace, first_index: int = 0) -> torch.Tensor:
    """[1024, phones]: real BERT features for Chinese runs, zeros for every other language (as upstream)."""
    parts = []
    call_index = first_index
    for run in runs:
        if run.language == "zh":
            if trace is not None:
                trace[f"bert_input_ids_{call_index}"] = models.bert.token_ids(run.normalized_text)
            call_index += 1
            parts.append(models.bert.encode(run.normalized_text, list(run.word2ph)).float().cpu())
        else:
            parts.append(torch.zeros(BERT_DIM, len(run.phones)))
    return torch.cat(parts, dim=1) if parts else torch.zeros(BERT_DIM, 0)


def _resolve_seed(settings: InferenceSettings) -> int:
    """The settings' seed, or a fresh random one (reported back in the result so the output can be repeated)."""
    return settings.seed if settings.seed is not None else secrets.randbelow(2**31)


def _bert_call_count(runs) -> int:
    return sum(run.language == "zh" for run in runs)


def _load_reference_clip(source):
    """Read the main reference clip as mono and apply the 3-10 s rule (trimming long clips at a pause)."""
    clip = audio.load_audio(source)
    samples, notes = validation.check_reference_audio(clip.mono(), clip.sample_rate)
    return audio.AudioClip(samples[None, :], clip.sample_rate, clip.source), list(notes)


def _load_timbre_clip(source):
    """Extra clips only lend timbre: no length rule for them (as upstream)."""
    return audio.load_audio(source)


def _content_hash(clip) -> str:
    digest = hashlib.sha256()
    digest.update(str(clip.sample_rate).encode())
    digest.update(np.ascontiguousarray(clip.samples, dtype=np.float32).tobytes())
    return digest.hexdigest()


def _file_identity(path: Path) -> str:
    stat = Path(path).stat()
    return f"{Path(path).resolve()}:{stat.st_size}:{stat.st_mtime_ns}"


def _require_speaker_path(paths: ModelPaths, model_version: str) -> Path:
    if paths.speaker_encoder is None or not Path(paths.speaker_encoder).is_file():
        raise CheckpointError(
            f"{model_version} models need the speaker-verification model 'pretrained_eres2netv2w24s4ep4.ckpt'; "
            f"it was not found at {paths.speaker_encoder}. Run `python -m gpt_sovits download` or put it there."
        )
    return Path(paths.speaker_encoder)


def _with_pause(waveform: np.ndarray, pause_seconds: float) -> np.ndarray:
    silence = np.zeros(int(SPECTROGRAM_RATE * pause_seconds), dtype=np.float32)
    return np.concatenate([waveform, silence])


def _add_time(timings: dict, stage: str, seconds: float) -> None:
    timings[stage] = timings.get(stage, 0.0) + seconds


def _record(trace: dict | None, **arrays) -> None:
    if trace is not None:
        for name, value in arrays.items():
            trace[name] = value.detach().cpu() if isinstance(value, torch.Tensor) else value
