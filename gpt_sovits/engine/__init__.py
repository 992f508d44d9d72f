"""The inference engine: (reference clip, texts, settings) in, speech out, as a stream of audio chunks.

    engine = Engine(ModelPaths(...))                  # or Engine.from_weights_dir("weights")
    for chunk in engine.stream(request): ...          # AudioChunk: audio, sentence index and text, start time
    result = engine.synthesize(request)               # the same stream, joined: SynthesisResult

For every request:

    reference clip + text ──> PreparedReference (prompt tokens, phones + BERT, timbre)  cached by content (reference.py)
    target text ──cut──> sentences ──front end──> phones (+ BERT features)
    per sentence: [reference phones ‖ target phones], prompt tokens ──T2S──> target tokens ──SoVITS──> audio (speak.py)

Models come from a pool (model_set.py): each request may name its T2S / SoVITS files, so concurrent users with
different models never affect each other. Reference and target are kept apart everywhere, and the decoder only ever
receives the tokens T2S generated for the target; implausible token counts are re-rolled, then refused (speak.py).
"""

import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from gpt_sovits import validation
from gpt_sovits.engine import speak
from gpt_sovits.engine.model_set import ModelPool, ModelSet
from gpt_sovits.engine.reference import (
    ReferenceCache,
    compute_reference,
    load_reference_clips,
    phonemize_reference_text,
    reference_text_warnings,
)
from gpt_sovits.engine.speak import TargetSentence
from gpt_sovits.engine.types import (
    AudioChunk,
    ModelChoice,
    ModelInfo,
    ModelPaths,
    SentenceReport,
    SynthesisRequest,
    SynthesisResult,
)
from gpt_sovits.settings import InferenceSettings
from gpt_sovits.text.frontend import phonemize, prepare_target_segments
from gpt_sovits.text.types import TextRun

__all__ = [
    "AudioChunk",
    "Engine",
    "ModelChoice",
    "ModelInfo",
    "ModelPaths",
    "SentenceReport",
    "SynthesisRequest",
    "SynthesisResult",
    "SynthesisStream",
]

Progress = Callable[[float, str], None]


class Engine:
    """Owns the model pool and the reference cache. Safe to share between concurrent requests."""

    def __init__(self, paths: ModelPaths, model_pool_size: int = 2, reference_cache_size: int = 8):
        self.models = ModelPool(paths, model_pool_size)
        self.references = ReferenceCache(reference_cache_size)

    @classmethod
    def from_weights_dir(cls, weights_dir: Path, gpt: Path | None = None, sovits: Path | None = None, **options):
        """An engine over the files in a weights folder; a WeightsError says what is missing and where it goes."""
        from gpt_sovits.weights import resolve_weights

        return cls(ModelPaths(**resolve_weights(weights_dir, gpt, sovits)._asdict()), **options)

    def model_set(self, choice: ModelChoice | None = None) -> ModelSet:
        """The loaded models for `choice` (None: the defaults), loading them into the pool if needed."""
        return self.models.get(choice)

    def model_info(self, choice: ModelChoice | None = None) -> ModelInfo:
        return self.model_set(choice).info

    # ----- text in, speech out ------------------------------------------------------------------------------

    def stream(
        self, request: SynthesisRequest, progress: Progress | None = None, cancel=None
    ) -> "SynthesisStream":
        """Check and prepare everything (errors are raised here, before any audio), then return the stream.

        `cancel`: a threading.Event; once set, the stream stops between tokens with SynthesisCancelled.
        """
        report = progress or (lambda fraction, message: None)
        timer = Timer()
        warnings: list[str] = []
        models = self.model_set(request.models)
        symbol_version = models.info.symbol_version

        with timer("text"):
            target_text = validation.check_target_text(request.target_text)
            validation.check_language(request.target_language, symbol_version)
            reference_free = request.reference_free or not request.reference_text.strip()
            if reference_free and not request.reference_free:
                warnings.append("No reference text was given, so it was not used (reference-free mode).")
            reference_text = None if reference_free else request.reference_text
            if reference_text is not None:
                validation.check_language(request.reference_language, symbol_version)
            texts = prepare_target_segments(target_text, request.settings.cut_method, request.target_language)
            runs = [
                phonemize(text, request.target_language, symbol_version).require_speech(text).runs for text in texts
            ]

        report(0.0, "Preparing the reference")
        with timer("reference"):
            clips = load_reference_clips(request.reference_audio, request.extra_reference_audio)
            warnings.extend(clips.warnings)
            warnings.extend(reference_text_warnings(reference_text, clips))
            key = ReferenceCache.key(models, clips, reference_text, request.reference_language)
            reference = self.references.get(key)
            cache_hit = reference is not None
            if not cache_hit:
                reference_runs = None
                if reference_text is not None:
                    reference_runs = phonemize_reference_text(reference_text, request.reference_language, symbol_version)
                reference = compute_reference(models, clips, reference_runs)
                self.references.put(key, reference)

        seed = request.settings.seed if request.settings.seed is not None else secrets.randbelow(2**31)
        sentences = [
            TargetSentence(index, text, tuple(sentence_runs), speak.sentence_seed(seed, index))
            for index, (text, sentence_runs) in enumerate(zip(texts, runs))
        ]
        return SynthesisStream(models, reference, sentences, request.settings, seed, warnings, timer, cache_hit,
                               report, cancel)  # fmt: skip

    def synthesize(self, request: SynthesisRequest, progress: Progress | None = None, cancel=None) -> SynthesisResult:
        """The whole stream, joined."""
        return self.stream(request, progress, cancel).result()

    def synthesize_phonemized(
        self,
        reference_audio,
        reference_runs: list[TextRun] | None,
        target_runs: list[TextRun],
        settings: InferenceSettings = InferenceSettings(),
        models: ModelChoice | None = None,
    ) -> SynthesisResult:
        """Speak one already-phonemized target sentence; `reference_runs=None` is reference-free mode.

        No caching and no text processing: the caller gives phones, as the official pipeline has them after its
        front end (what the parity tests drive).
        """
        model_set = self.model_set(models)
        clips = load_reference_clips(reference_audio, ())
        reference = compute_reference(model_set, clips, reference_runs)
        seed = settings.seed if settings.seed is not None else secrets.randbelow(2**31)
        sentence = TargetSentence(0, "".join(run.normalized_text for run in target_runs), tuple(target_runs), seed)
        stream = SynthesisStream(model_set, reference, [sentence], settings, seed, list(clips.warnings), Timer(),
                                 False, lambda fraction, message: None, None)  # fmt: skip
        return stream.result()


class SynthesisStream:
    """The audio of one request as it is made: iterate it for `AudioChunk`s (once), or call `result()`.

    What is known about the run is readable at any time: the models, the seed, the warnings, and one
    `SentenceReport` per target sentence (filled in as each is spoken).
    """

    def __init__(self, models: ModelSet, reference, sentences: list[TargetSentence], settings: InferenceSettings,
                 seed: int, warnings: list[str], timer: "Timer", reference_cache_hit: bool, report: Progress, cancel):  # fmt: skip
        self.model: ModelInfo = models.info
        self.sample_rate = models.sample_rate
        self.seed = seed
        self.warnings = warnings
        self.timings = timer.seconds
        self.reference_cache_hit = reference_cache_hit
        self.sentences = [SentenceReport(sentence.index, sentence.text, sentence.seed) for sentence in sentences]
        self._chunks = self._speak(models, reference, sentences, settings, timer, report, cancel)
        self._audio: list[np.ndarray] = []

    def __iter__(self) -> Iterator[AudioChunk]:
        for chunk in self._chunks:
            self._audio.append(chunk.audio)
            yield chunk

    def close(self) -> None:
        """Stop: no more work is done for this stream."""
        self._chunks.close()

    def result(self) -> SynthesisResult:
        for _ in self:  # whatever has not been consumed yet
            pass
        return SynthesisResult(
            audio=np.concatenate(self._audio) if self._audio else np.zeros(0, dtype=np.float32),
            sample_rate=self.sample_rate,
            seed=self.seed,
            warnings=self.warnings,
            timings=self.timings,
            reference_cache_hit=self.reference_cache_hit,
            sentences=self.sentences,
            model=self.model,
        )

    def _speak(self, models, reference, sentences, settings, timer, report, cancel) -> Iterator[AudioChunk]:
        speak_sentence = speak.stream_pieces if settings.streaming == "token" else speak.whole_sentence
        position = 0.0  # seconds of audio handed out so far
        for sentence, sentence_report in zip(sentences, self.sentences):
            report(sentence.index / len(sentences), f"Speaking sentence {sentence.index + 1} of {len(sentences)}")
            with timer("bert"):
                target_bert = models.features.bert_features(sentence.runs)
            sentence_report.start_seconds = position
            pieces = speak_sentence(models, reference, sentence, target_bert, settings, timer, cancel)
            while True:
                try:
                    audio, last = next(pieces)
                except StopIteration as finished:
                    spoken = finished.value
                    break
                speech_end = position + len(audio) / self.sample_rate
                if last:  # the sentence's pause travels with its last piece
                    audio = np.concatenate([audio, speak.pause(settings, self.sample_rate)])
                yield AudioChunk(audio, self.sample_rate, sentence.index, sentence.text, position, sentence_end=last)
                position += len(audio) / self.sample_rate
            sentence_report.end_seconds = speech_end
            sentence_report.tokens = spoken.output.tokens if settings.streaming == "token" else spoken.output.decoder_tokens
            sentence_report.stop_reason, sentence_report.attempts = spoken.output.stop_reason, spoken.attempts
        report(1.0, "Done")


class Timer:
    """Seconds spent per stage, added up over the run: `with timer("t2s"): ...`."""

    def __init__(self):
        self.seconds: dict[str, float] = {}

    @contextmanager
    def __call__(self, stage: str):
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[stage] = self.seconds.get(stage, 0.0) + time.perf_counter() - started
