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

import ctypes
import ctypes.util
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch

from gpt_sovits import openmp, validation
from gpt_sovits.engine import speak
from gpt_sovits.engine.model_set import ModelPool, ModelSet, Placement, SingleModelSet
from gpt_sovits.engine.pipeline import InThread, TokensAhead
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
from gpt_sovits.errors import GptSovitsError
from gpt_sovits.messages import Message, joined
from gpt_sovits.settings import InferenceSettings
from gpt_sovits.text.dropped import dropped_words
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

# Called with (fraction done, what is happening); the text is a Message (English as a str, `render` for others).
Progress = Callable[[float, Message], None]


class Engine:
    """Owns the model pool and the reference cache. Safe to share between concurrent requests."""

    def __init__(
        self,
        paths: ModelPaths,
        model_pool_size: int = 2,
        reference_cache_size: int = 8,
        device: str = "cpu",
        dtype: torch.dtype = torch.float32,
    ):
        self.models = ModelPool(paths, model_pool_size, Placement(device, dtype))
        self.references = ReferenceCache(reference_cache_size)

    @classmethod
    def from_weights_dir(cls, weights_dir: Path, gpt: Path | None = None, sovits: Path | None = None, **options):
        """An engine over the files in a weights folder; a WeightsError says what is missing and where it goes."""
        from gpt_sovits.weights import resolve_weights

        return cls(ModelPaths(**resolve_weights(weights_dir, gpt, sovits)._asdict(), weights_dir=Path(weights_dir)), **options)

    @classmethod
    def from_model_set(cls, model_set: ModelSet, reference_cache_size: int = 8) -> "Engine":
        """An engine over models built elsewhere (the benchmarks build real-size random ones in memory)."""
        engine = cls.__new__(cls)
        engine.models = SingleModelSet(model_set)
        engine.references = ReferenceCache(reference_cache_size)
        return engine

    def model_set(self, choice: ModelChoice | None = None) -> ModelSet:
        """The loaded models for `choice` (None: the defaults), loading them into the pool if needed."""
        return self.models.get(choice)

    def model_info(self, choice: ModelChoice | None = None) -> ModelInfo:
        return self.model_set(choice).info

    def warm_up(self) -> None:
        """Load what the first request would otherwise wait for (jieba, pypinyin and the English dictionaries take
        seconds on first use); the UI calls this in the background at start-up."""
        symbol_version = self.model_info().symbol_version
        for text, language in (("你好，世界。", "all_zh"), ("Hello world.", "en")):
            phonemize(text, language, symbol_version)

    # ----- text in, speech out ------------------------------------------------------------------------------

    def stream(
        self, request: SynthesisRequest, progress: Progress | None = None, cancel=None
    ) -> "SynthesisStream":
        """Check and prepare everything (errors are raised here, before any audio), then return the stream.

        `cancel`: a threading.Event; once set, the stream stops between tokens with SynthesisCancelled.
        """
        report = progress or (lambda fraction, message: None)
        timer = Timer()
        warnings: list[Message] = []
        models = self.model_set(request.models)
        symbol_version = models.info.symbol_version

        with timer("text"):
            target_text = validation.check_target_text(request.target_text)
            validation.check_language(request.target_language, symbol_version)
            warnings.extend(validation.target_text_warnings(target_text, request.target_language))
            reference_free = request.reference_free or not request.reference_text.strip()
            if reference_free and not request.reference_free:
                warnings.append(Message("No reference text was given, so it was not used (reference-free mode)."))
            reference_text = None if reference_free else request.reference_text
            if reference_text is not None:
                validation.check_language(request.reference_language, symbol_version)
            settings, notes = models.synthesizer.adapt(request.settings, reference_free, len(request.extra_reference_audio))
            warnings.extend(notes)
            texts = prepare_target_segments(target_text, settings.cut_method, request.target_language)
            runs = [
                phonemize(text, request.target_language, symbol_version).require_speech(text).runs for text in texts
            ]
            if dropped := dropped_words(target_text, [run for sentence_runs in runs for run in sentence_runs]):
                warnings.append(Message(
                    "Not spoken: {words}. The language mode '{mode}' cannot read them; try another mode (such as "
                    "auto), or write them in plain letters.", words=joined(dropped), mode=request.target_language,
                ))  # fmt: skip

        # The first sentence's BERT features are worked out while the reference is prepared (see InThread).
        first_target_bert = None
        if runs:
            first_target_bert = InThread(lambda: models.features.bert_features(runs[0]), "first-sentence-bert")
        report(0.0, Message("Preparing the reference"))
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

        def remember_reference() -> None:  # once the stream has worked out its timbre: the cache holds finished work
            if not cache_hit:
                self.references.put(key, reference)

        openmp.release_threads()  # the stream's T2S thread computes next, perhaps alone (see openmp.py)
        seed = settings.seed if settings.seed is not None else secrets.randbelow(2**31)
        sentences = [
            TargetSentence(index, text, tuple(sentence_runs), speak.sentence_seed(seed, index))
            for index, (text, sentence_runs) in enumerate(zip(texts, runs))
        ]
        return SynthesisStream(models, reference, sentences, settings, seed, warnings, timer, cache_hit,
                               remember_reference, report, cancel, first_target_bert)  # fmt: skip

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
                                 False, lambda: None, lambda fraction, message: None, None)  # fmt: skip
        return stream.result()


class SynthesisStream:
    """The audio of one request as it is made: iterate it for `AudioChunk`s (once), or call `result()`.

    What is known about the run is readable at any time: the models, the seed, the warnings, and one
    `SentenceReport` per target sentence (filled in as each is spoken). The work stops when the stream ends, is
    closed, is dropped, or when a loop over it is left early (a `break`, or an error in the loop's body).

    Ask for the next chunk as soon as you have one (a player plays from a queue): T2S begins the sentences after
    the first once the first chunk has been handed over and the next asked for, so that a listener who leaves at
    the first chunk costs no more work.
    """

    def __init__(self, models: ModelSet, reference, sentences: list[TargetSentence], settings: InferenceSettings,
                 seed: int, warnings: list[str], timer: "Timer", reference_cache_hit: bool,
                 remember_reference: Callable[[], None], report: Progress, cancel,
                 first_target_bert: InThread | None = None):  # fmt: skip
        self.model: ModelInfo = models.info
        self.sample_rate = models.synthesizer.output_rate(settings)
        self.seed = seed
        self.warnings = warnings
        self.timings = timer.seconds
        self.reference_cache_hit = reference_cache_hit
        self.sentences = [SentenceReport(sentence.index, sentence.text, sentence.seed) for sentence in sentences]
        # The speech does not refer back to this stream, so a stream dropped unfinished is freed at once, and its T2S
        # thread stopped, instead of at some later garbage collection.
        speech = _Speech(models, reference, remember_reference, sentences, settings, timer, report, cancel,
                         self.sentences, self.sample_rate, first_target_bert)  # fmt: skip
        self._chunks = speech.chunks()
        self._audio: list[np.ndarray] = []

    def __iter__(self) -> Iterator[AudioChunk]:
        """Between chunks the calling thread lets its OpenMP team go (the caller may be slow to ask again, or ask
        from another thread: a web server's worker threads), so that T2S, running ahead, computes alone."""
        try:
            for chunk in self._chunks:
                self._audio.append(chunk.audio)
                openmp.release_threads()
                yield chunk
        finally:  # also when the loop is left early: nobody will ask for the rest
            self._chunks.close()
            openmp.release_threads()
            return_free_memory()

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


class _Speech:
    """The work behind a SynthesisStream: the target sentences turned into audio chunks, in order, with each
    sentence's report filled in as it is spoken."""

    def __init__(self, models: ModelSet, reference, remember_reference: Callable[[], None],
                 sentences: list[TargetSentence], settings: InferenceSettings, timer: "Timer", report: Progress, cancel,
                 reports: list[SentenceReport], sample_rate: int, first_target_bert: InThread | None):  # fmt: skip
        self.models, self.reference, self.sentences, self.settings = models, reference, sentences, settings
        self.first_target_bert = first_target_bert  # sentence 0's BERT features, being worked out, or None
        self.remember_reference = remember_reference
        self.timer, self.report, self.cancel = timer, report, cancel
        self.reports, self.sample_rate = reports, sample_rate
        self.pause = models.synthesizer.pause(settings)

    def chunks(self) -> Iterator[AudioChunk]:
        if self.settings.streaming == "token":
            return self._token_by_token()
        return self._sentence_by_sentence()

    def _work_out_timbre(self) -> None:
        """The reference's conditioning, which only SoVITS needs (so T2S need not wait for it); then the reference
        goes into the cache, complete: a stream left before this leaves no half-made entry holding its clips."""
        with self.timer("reference"):
            self.reference.conditioning.get(self.models.synthesizer)
        self.remember_reference()

    def _sentence_by_sentence(self) -> Iterator[AudioChunk]:
        """The exact mode: T2S runs ahead (batched) in a thread, each sentence is decoded whole as its tokens come.

        SoVITS takes the next sentence in order when its tokens are ready, or else the earliest later one that is
        (its audio waits for its turn): the rows of a batch finish in any order, and the last of a batch to finish
        would otherwise hold back the decoding of all the others. The audio is the same either way.
        """
        models, reference, sentences, settings, timer = self.models, self.reference, self.sentences, self.settings, self.timer
        first_chunk_out = threading.Event()  # T2S holds its next batch until then (see speak.generate_tokens)
        first_target_bert = self.first_target_bert
        tokens = TokensAhead(
            lambda stop: speak.generate_tokens(models, reference, sentences, settings, timer, stop, first_chunk_out,
                                               first_target_bert),
            self.cancel,
        )
        decoded: dict[int, tuple] = {}  # sentence index -> (SpokenTokens, waveform), or a SynthesisError
        try:
            self._work_out_timbre()  # while T2S makes the first sentence
            position = 0.0
            for sentence in sentences:
                self.report(sentence.index / len(sentences), _speaking(sentence, sentences))
                while sentence.index not in decoded:
                    waiting = [index for index in range(sentence.index, len(sentences)) if index not in decoded]
                    index, spoken = tokens.take_first_ready(waiting)
                    speak.check_cancel(self.cancel)
                    if isinstance(spoken, GptSovitsError):
                        decoded[index] = spoken
                        continue
                    with timer("sovits"):
                        tokens_to_decode = spoken.output.decoder_tokens
                        waveform = speak.decode(models, reference, sentences[index], tokens_to_decode, settings)
                    decoded[index] = spoken, waveform
                outcome = decoded.pop(sentence.index)
                if isinstance(outcome, GptSovitsError):
                    raise outcome
                spoken, waveform = outcome
                self._fill_report(sentence, spoken, spoken.output.decoder_tokens, position, len(waveform))
                chunk = self._chunk(sentence, waveform, position, last=True)
                yield chunk
                first_chunk_out.set()  # handed over and asked for more: a listener who left at once costs no batch
                position += chunk.duration_seconds
            self.report(1.0, Message("Done"))
        finally:
            tokens.stop()
            first_chunk_out.set()

    def _token_by_token(self) -> Iterator[AudioChunk]:
        """Token streaming: one sentence at a time, its audio in pieces while its tokens come.

        The first piece needs the timbre only after the first sentence's BERT, prefill and first tokens, so a thread
        works it out meanwhile (the piece decoder waits for it). The stream waits for that thread at its end, even
        when stopped: a second or two at most, and the reference is then cached complete.
        """
        models, sentences, timer = self.models, self.sentences, self.timer
        timbre = threading.Thread(target=self._work_out_timbre_or_leave_it, name="timbre")
        timbre.start()
        try:
            position = 0.0
            for sentence in sentences:
                self.report(sentence.index / len(sentences), _speaking(sentence, sentences))
                with timer("bert"):
                    if sentence.index == 0 and self.first_target_bert is not None:
                        target_bert = self.first_target_bert.result()
                    else:
                        target_bert = models.features.bert_features(sentence.runs)
                pieces = speak.stream_pieces(models, self.reference, sentence, target_bert, self.settings, timer,
                                             self.cancel)  # fmt: skip
                start, spoken_samples = position, 0
                while True:
                    try:
                        audio, last = next(pieces)
                    except StopIteration as finished:
                        spoken = finished.value
                        break
                    spoken_samples += len(audio)
                    chunk = self._chunk(sentence, audio, position, last)
                    yield chunk
                    position += chunk.duration_seconds
                self._fill_report(sentence, spoken, spoken.output.tokens, start, spoken_samples)
            self.report(1.0, Message("Done"))
        finally:
            timbre.join()

    def _work_out_timbre_or_leave_it(self) -> None:
        """_work_out_timbre in its own thread. A failure is left for the first piece: its `conditioning.get` then
        works the timbre out again and raises in the stream, where the listener hears of it."""
        try:
            self._work_out_timbre()
        except Exception:  # raised again where it matters (see above)
            pass

    def _chunk(self, sentence, audio, position: float, last: bool) -> AudioChunk:
        """A sentence's last chunk carries its pause."""
        if last:
            audio = np.concatenate([audio, self.pause])
        return AudioChunk(audio, self.sample_rate, sentence.index, sentence.text, position, sentence_end=last)

    def _fill_report(self, sentence, spoken, tokens, start: float, speech_samples: int) -> None:
        report = self.reports[sentence.index]
        report.start_seconds, report.end_seconds = start, start + speech_samples / self.sample_rate
        report.tokens, report.stop_reason, report.attempts = tokens, spoken.output.stop_reason, spoken.attempts


def _speaking(sentence: TargetSentence, sentences: list[TargetSentence]) -> Message:
    return Message("Speaking sentence {number} of {count}", number=sentence.index + 1, count=len(sentences))


def _malloc_trim():
    """glibc's malloc_trim, or None where the C library has none (macOS, Windows, musl)."""
    library = ctypes.util.find_library("c")
    trim = getattr(ctypes.CDLL(library), "malloc_trim", None) if library else None
    if trim is not None:
        trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim


_MALLOC_TRIM = _malloc_trim()


def return_free_memory() -> None:
    """Hand the C heap's free pages back to the system once a request's tensors are freed. glibc keeps them, and
    the next request's tensors of other sizes fragment them further: over three paragraphs (v2, batch 8) the peak
    RSS grew from 3.23 to 3.39 GiB without this and stayed at 3.28 with it, and an idle server sits 0.2-0.4 GiB
    lower. Freed memory only, so it is harmless while another request runs."""
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)


class Timer:
    """Seconds spent per stage, added up over the run: `with timer("t2s"): ...`. A stage timed inside another in
    the same thread (the BERT call for sentences joining a T2S batch) counts as itself only, not in both."""

    def __init__(self):
        self.seconds: dict[str, float] = {}
        self._nested = threading.local()  # per thread: the seconds spent in stages inside each open one

    @contextmanager
    def __call__(self, stage: str):
        open_stages = self._nested.__dict__.setdefault("open", [])
        open_stages.append(0.0)
        started = time.perf_counter()
        try:
            yield
        finally:
            elapsed = time.perf_counter() - started
            inside = open_stages.pop()
            self.seconds[stage] = self.seconds.get(stage, 0.0) + elapsed - inside
            if open_stages:
                open_stages[-1] += elapsed
