"""The reference side of a request: its clips read and checked, and the work every target sentence reuses.

    reference clip --HuBERT--> features --SoVITS quantizer--> prompt tokens    ┐
    reference text --front end--> phones + BERT features                       ├ PreparedReference (cached)
    timbre clip(s) --spectrogram (+ speaker encoder)--> timbre ge, averaged    ┘ (on first use: Conditioning)

Only the synthesizer reads the timbre, so it is worked out when first needed: a stream starts T2S on its first
sentence and works it out meanwhile (the v2Pro speaker encoder takes about as long as that sentence's T2S), and
the reference is cached once it is complete.

The prepared work is cached under a key made of the audio *content* (not a file name), the reference text and
language, and the identity of the models it came from. What a request is told about its own clip (trimmed,
clipped, a transcript that looks wrong for it) is worked out per request from that clip, never taken from the
cache, since a cached entry may have come from another upload with the same content after trimming.
"""

import hashlib
import threading
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch

from gpt_sovits import audio, validation
from gpt_sovits.engine.model_set import ModelSet
from gpt_sovits.engine.pipeline import InThread
from gpt_sovits.errors import TextError
from gpt_sovits.messages import Message
from gpt_sovits.text.frontend import phonemize, prepare_reference_text
from gpt_sovits.text.types import TextRun


@dataclass(frozen=True)
class ReferenceClips:
    """The request's reference audio as the models will hear it, and what the user should know about it."""

    main: audio.AudioClip  # mono, cut to 3-10 s: gives the prompt tokens (and the timbre, without extra clips)
    extra: tuple[audio.AudioClip, ...]  # extra clips lend only timbre
    warnings: tuple[Message, ...]

    @property
    def timbre_clips(self) -> tuple[audio.AudioClip, ...]:
        # Upstream: when extra clips are given, they alone set the timbre; the main clip still gives the prompt.
        return self.extra or (self.main,)


@dataclass(frozen=True)
class PreparedReference:
    """Everything the target sentences need from the reference; computed once per (audio, text, models)."""

    prompt_tokens: torch.Tensor | None  # LongTensor [P]; None in reference-free mode
    runs: tuple[TextRun, ...]  # the reference text as phones; empty in reference-free mode
    bert_features: torch.Tensor  # [reference phones, 1024]
    conditioning: "Conditioning"  # what the synthesizer decodes with, worked out on first use

    @property
    def phone_ids(self) -> list[int]:
        return [phone_id for run in self.runs for phone_id in run.phone_ids]


class Conditioning:
    """What the synthesizer decodes a reference's target sentences with (v1-v2ProPlus: the averaged timbre ge
    [1, gin, 1]; v3/v4: the reference mel and features), worked out by the first `get` and then kept.

    It keeps the clips, not the models, until then: any synthesizer of the cache key's `reference_identity` gives
    the same result. The engine caches a reference only once this is worked out (so no cached entry holds clips);
    the lock makes `get` safe from any thread all the same.
    """

    def __init__(self, clips: "ReferenceClips", prompt_tokens: torch.Tensor | None, phone_ids: list[int]):
        self._inputs: tuple | None = (clips, prompt_tokens, phone_ids)
        self._value = None
        self._lock = threading.Lock()

    def get(self, synthesizer):
        with self._lock:
            if self._inputs is not None:
                self._value = synthesizer.prepare(*self._inputs)
                self._inputs = None  # the clips are no longer needed
            return self._value


def load_reference_clips(reference_audio, extra_reference_audio) -> ReferenceClips:
    """Read the clips; the main one must pass the 3-10 s rule (long clips are trimmed at a pause)."""
    clip = audio.load_audio(reference_audio)
    samples, notes = validation.check_reference_audio(clip.mono(), clip.sample_rate)
    main = audio.AudioClip(samples[None, :], clip.sample_rate, clip.source)
    extra = tuple(audio.load_audio(source) for source in extra_reference_audio)
    for clip in extra:  # upstream has no length rule for these; ours only refuses what carries no voice
        validation.check_timbre_clip(clip.duration_seconds, clip.source)
    return ReferenceClips(main, extra, tuple(notes))


def reference_text_warnings(reference_text: str | None, clips: ReferenceClips) -> list[Message]:
    if reference_text is None:
        return []
    return validation.check_reference_text(reference_text, clips.main.duration_seconds)


@contextmanager
def about_reference_text():
    """Text errors here (nothing to pronounce, a sentence too long for BERT) are about the reference text: say so,
    or the user edits the target text instead."""
    try:
        yield
    except TextError as error:
        raise TextError(Message("Reference text: {error} (Or leave the reference text empty.)", error=error)) from None


def phonemize_reference_text(reference_text: str, language: str, symbol_version: str) -> list[TextRun]:
    """The transcript as phones, as the official app prepares it."""
    with about_reference_text():
        spoken_text = prepare_reference_text(reference_text, language)
        return list(phonemize(spoken_text, language, symbol_version).require_speech(spoken_text).runs)


@torch.inference_mode()
def compute_reference(models: ModelSet, clips: ReferenceClips, runs: list[TextRun] | None) -> PreparedReference:
    """`runs` None is reference-free mode: no prompt tokens and no reference phones, timbre only.

    The transcript's BERT features are computed in a thread while HuBERT hears the clip (see InThread)."""
    prompt_tokens = None
    bert = InThread(lambda: models.features.bert_features(runs or ()), "reference-bert")
    if runs is not None:
        hubert_features = models.features.hubert_features(audio.hubert_input(clips.main))  # [F, 768]
        prompt_tokens = models.synthesizer.extract_prompt_codes(hubert_features)  # [F // 2]
    with about_reference_text():
        bert_features = bert.result()
    phone_ids = [phone_id for run in runs or () for phone_id in run.phone_ids]
    conditioning = Conditioning(clips, prompt_tokens, phone_ids)  # worked out when the synthesizer first needs it
    return PreparedReference(prompt_tokens, tuple(runs or ()), bert_features, conditioning)


class ReferenceCache:
    """A bounded LRU of prepared references, keyed by content; safe to share between concurrent requests."""

    def __init__(self, capacity: int = 8):
        self.capacity = capacity
        self._entries: OrderedDict[tuple, PreparedReference] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def key(models: ModelSet, clips: ReferenceClips, reference_text: str | None, language: str | None) -> tuple:
        return (
            content_hash(clips.main),
            tuple(content_hash(clip) for clip in clips.extra),
            reference_text,
            language if reference_text is not None else None,
            models.reference_identity,
        )

    def get(self, key: tuple) -> PreparedReference | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def put(self, key: tuple, reference: PreparedReference) -> None:
        with self._lock:
            self._entries[key] = reference
            self._entries.move_to_end(key)
            while len(self._entries) > self.capacity:
                self._entries.popitem(last=False)


def content_hash(clip: audio.AudioClip) -> str:
    digest = hashlib.sha256()
    digest.update(str(clip.sample_rate).encode())
    digest.update(np.ascontiguousarray(clip.samples, dtype=np.float32).tobytes())
    return digest.hexdigest()
