"""Speaking one target sentence: semantic tokens from T2S (with the guards against bad runs), then SoVITS audio.

The guards are the other half of never returning the wrong speech. A run whose token count is implausible for the
sentence is thrown away and drawn again with a new seed, up to `MAX_ATTEMPTS` times, and then the sentence is
refused with a clear message, before anything is decoded:
* too few tokens: the model stopped early (with a prompt this is when the reference tends to come back);
* too many tokens: the model never stopped (babbling, or looping over the reference).
The decoder only ever receives the tokens generated for the target (`T2SOutput.decoder_tokens`).

Seeds: sentence i of a request with seed s speaks with its own seed s + 2i. T2S samples from that seed (attempt k
from seed + 1_000_003 k), and the SoVITS noise comes from seed + 1: the official pipeline's draw order under
`torch.manual_seed(seed)` with the noise re-seeded to seed + 1, which is how the reference vectors were made.
"""

import itertools
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch

from gpt_sovits import openmp
from gpt_sovits.engine.model_set import ModelSet
from gpt_sovits.engine.pipeline import InThread
from gpt_sovits.engine.reference import PreparedReference
from gpt_sovits.errors import SynthesisCancelled, SynthesisError
from gpt_sovits.messages import Message
from gpt_sovits.models.t2s import SamplingParams, T2SInput, T2SOutput
from gpt_sovits.settings import InferenceSettings
from gpt_sovits.text import symbols
from gpt_sovits.text.types import TextRun

MAX_ATTEMPTS = 4
# Speech runs at 25 semantic tokens per second and rarely faster than ~16 phones per second (>= 1.5 tokens per
# phone). Fewer than 0.25 tokens per spoken phone means the model stopped early, not that the speaker was fast.
MIN_TOKENS_PER_PHONE = 0.25
# The other way: a phone lasts 0.06-0.2 s in normal speech (1.5-5 tokens), and even very slow, drawn-out speech
# stays under ~0.3 s (8 tokens). Twelve tokens (0.48 s) per spoken phone, plus 2 s for pauses and breaths, is far
# beyond any real reading of the sentence; past it the model is not going to stop. The official cap of 1500 tokens
# (60 s) still applies to long sentences.
MAX_TOKENS_PER_PHONE = 12
RUNAWAY_SLACK_TOKENS = 50
OFFICIAL_MAX_TOKENS = 1500


def sentence_seed(request_seed: int, index: int) -> int:
    return request_seed + 2 * index


@dataclass(frozen=True)
class TargetSentence:
    """One piece of the target text, phonemized, with its seed."""

    index: int
    text: str
    runs: tuple[TextRun, ...]
    seed: int

    @property
    def phone_ids(self) -> list[int]:
        return [phone_id for run in self.runs for phone_id in run.phone_ids]

    @property
    def spoken_phones(self) -> int:
        return sum(phone not in symbols.NOT_SPEECH for run in self.runs for phone in run.phones)

    @property
    def token_range(self) -> tuple[int, int]:
        """(fewest, most) tokens a real reading of the sentence can have."""
        phones = self.spoken_phones
        most = min(OFFICIAL_MAX_TOKENS, MAX_TOKENS_PER_PHONE * phones + RUNAWAY_SLACK_TOKENS)
        return max(1, int(MIN_TOKENS_PER_PHONE * phones)), most


@dataclass(frozen=True)
class SpokenTokens:
    output: T2SOutput
    attempts: int


def sampling_params(settings: InferenceSettings, models: ModelSet) -> SamplingParams:
    return SamplingParams(
        top_k=settings.top_k,
        top_p=settings.top_p,
        temperature=settings.temperature,
        repetition_penalty=settings.repetition_penalty,
        max_steps=OFFICIAL_MAX_TOKENS,
        early_stop_num=models.t2s.config.early_stop_num,
    )


def t2s_input(reference: PreparedReference, sentence: TargetSentence, target_bert: torch.Tensor, attempt: int) -> T2SInput:
    """What T2S reads for one attempt at one sentence: [reference phones ‖ target phones], the prompt tokens."""
    return T2SInput(
        phone_ids=torch.tensor(reference.phone_ids + sentence.phone_ids, dtype=torch.long),
        bert_features=torch.cat([reference.bert_features, target_bert]),  # [phones, 1024]
        prompt_tokens=reference.prompt_tokens,
        seed=sentence.seed + 1_000_003 * attempt,
        max_tokens=sentence.token_range[1],
    )


@torch.inference_mode()
def generate_tokens(
    models: ModelSet,
    reference: PreparedReference,
    sentences: list[TargetSentence],
    settings: InferenceSettings,
    timer,
    cancel=None,
    first_chunk_out=None,
    first_target_bert: InThread | None = None,
) -> Iterator[tuple[int, "SpokenTokens | SynthesisError"]]:
    """T2S for several sentences, up to `settings.batch_size` rows decoded together, each re-rolled on its own while
    its length is implausible. Yields (sentence position in `sentences`, SpokenTokens) as each row is done, or
    (position, SynthesisError) for a sentence that stayed implausible.

    Rows never influence each other (each has its own cache slot, attention and random generator), so a sentence
    gets the same tokens whatever batch it lands in. The first sentence runs alone: a batched step costs up to 3x a
    single one, and the first sentence is what the listener waits for. The others then decode in one continuous
    batch: when a row finishes, the next sentence waiting (a re-roll first) takes its slot. For the same reason a
    sentence's BERT features are computed when it is about to join, not all of them up front: the next
    `batch_size` sentences are encoded together, in one packed BERT call (the first sentence's may come
    ready-made, see first_target_bert). And once the first sentence is yielded, the batch waits for
    `first_chunk_out` (a threading.Event, or None: no wait), which the caller sets once that sentence's audio is
    decoded and handed over: that decode and the batch's BERT and prefill are all bound by the CPU's arithmetic, so
    running them at once delays the first audio without finishing the batch sooner (and a listener who leaves at
    the first chunk leaves no batch running).
    timer: the stream's Timer (stages "bert" and "t2s"). first_target_bert: sentence 0's BERT features, worked out
    in a thread while the reference was prepared (an InThread), or None.
    """
    sampling = sampling_params(settings, models)
    target_berts: dict[int, torch.Tensor] = {}  # [target phones, 1024] per sentence position, kept for re-rolls
    if first_target_bert is not None:
        with timer("bert"):
            target_berts[0] = first_target_bert.result()
    pending = [(position, 0) for position in range(len(sentences))]  # (sentence, attempt): re-rolls, then in order

    def inputs(encode_together: int, rows: list[tuple[int, int]]) -> Iterator[T2SInput]:
        """The T2S inputs of the sentences pending, made as the decoding asks for them; `rows` records which
        (sentence, attempt) each is. A sentence without BERT features gets them in one call with the next
        `encode_together - 1` pending sentences that have none either."""
        while pending:
            check_cancel(cancel)
            position, attempt = pending.pop(0)
            if position not in target_berts:
                later_missing = [later for later, _ in pending if later not in target_berts]
                missing = [position] + later_missing[: encode_together - 1]
                with timer("bert"):
                    features = models.features.bert_features_many([sentences[later].runs for later in missing])
                target_berts.update(zip(missing, features))
                check_cancel(cancel)
            rows.append((position, attempt))
            yield t2s_input(reference, sentences[position], target_berts[position], attempt)

    first = True
    while pending:
        if first_chunk_out is not None and all(position != 0 for position, _ in pending):  # the first was yielded
            openmp.release_threads()  # the first sentence's decode then computes alone (see openmp.py)
            while not first_chunk_out.wait(0.05):
                check_cancel(cancel)
        check_cancel(cancel)
        size = 1 if first else settings.batch_size
        rows: list[tuple[int, int]] = []  # (sentence, attempt) per row of this decoding, by row number
        source = inputs(size, rows)
        steps = models.t2s.stream(itertools.islice(source, 1) if first else source, sampling, stop=cancel,
                                  max_rows=size)  # a stop during a prefill ends it early  # fmt: skip
        first = False
        while True:
            with timer("t2s"):
                step = next(steps, None)
            check_cancel(cancel)
            if step is None:
                break
            retries = []
            for row, output in step.finished.items():
                position, attempt = rows[row]
                fewest, _ = sentences[position].token_range
                if output.stop_reason != "token_limit" and len(output.decoder_tokens) >= fewest:
                    target_berts.pop(position)
                    yield position, SpokenTokens(output, attempt + 1)
                elif attempt + 1 < MAX_ATTEMPTS:
                    retries.append((position, attempt + 1))
                else:
                    target_berts.pop(position)
                    yield position, implausible_length_error(sentences[position], output)
            pending[:0] = sorted(retries)  # re-rolls go first: the sentences waiting for them come first


def implausible_length_error(sentence: TargetSentence, output: T2SOutput) -> SynthesisError:
    """The last attempt's length was still implausible: say which way, and what the user can change."""
    if output.stop_reason == "token_limit":
        most = sentence.token_range[1]
        return SynthesisError(Message(
            "Sentence {number} ('{text}', {phones} phones) got no audio: the model kept talking past {tokens} sound "
            "tokens ({seconds:.0f} s) in {attempts} tries with different seeds, so it was stopped. Check that the "
            "reference text matches what the clip says, try a different reference clip, or rephrase the sentence.",
            number=sentence.index + 1, text=sentence.text, phones=sentence.spoken_phones, tokens=most,
            seconds=most / 25, attempts=MAX_ATTEMPTS,
        ))  # fmt: skip
    return SynthesisError(Message(
        "Sentence {number} ('{text}', {phones} phones) got no audio: the model kept stopping after {tokens} sound "
        "tokens in {attempts} tries with different seeds. Check that the reference text matches what the clip says, "
        "try a different reference clip, or rephrase the sentence.",
        number=sentence.index + 1, text=sentence.text, phones=sentence.spoken_phones,
        tokens=len(output.decoder_tokens), attempts=MAX_ATTEMPTS,
    ))  # fmt: skip


def decode(
    models: ModelSet, reference: PreparedReference, sentence: TargetSentence, tokens: torch.Tensor,
    settings: InferenceSettings,
) -> np.ndarray:
    """Tokens -> float32 waveform at the output rate, peak-normalised like upstream (no pause)."""
    conditioning = reference.conditioning.get(models.synthesizer)
    return models.synthesizer.decode(tokens, sentence.phone_ids, conditioning, settings, sentence.seed)


def check_cancel(cancel) -> None:
    """`cancel` is a threading.Event (or None): set by a Stop button, a closed tab or a dropped client."""
    if cancel is not None and cancel.is_set():
        raise SynthesisCancelled(Message("Stopped."))



# ----- token streaming ---------------------------------------------------------------------------------------
# Audio pieces while T2S is still running. Not bit-equal to the whole-sentence decode: the text encoder sees only
# the tokens so far, the flow and vocoder a window of frames, and the noise is drawn frame by frame (the whole
# decode draws it in one call over a shape only known at the end). benchmarks/streaming.py measures the
# difference. The first piece waits until the sentence has more tokens than the too-short guard needs, so a
# re-roll never takes back audio that was already played; a run that turns out too long after its first piece can
# no longer be re-rolled and is refused. A run that ends by upstream's early stop or step cap keeps its first
# token (already played), where the exact decode drops it as upstream's `y[:, -idx:]` does.

FIRST_PIECE_TOKENS = 12  # 0.48 s of speech: the first piece goes out as soon as this much (plus lookahead) exists
MAX_PIECE_TOKENS = 50  # pieces then double up to 2 s: fewer seams, and Gradio's player likes chunks over 1 s
LOOKAHEAD_FRAMES = 8  # decoded past a piece's end but held back: the flow and vocoder need right context
CONTEXT_FRAMES = 8  # decoded before a piece's start: left context
CROSSFADE_FRAMES = 2  # consecutive pieces overlap by this much (40 ms), faded into each other


class PieceDecoder:
    """Decodes the growing token sequence of one sentence into consecutive audio pieces."""

    def __init__(self, models: ModelSet, reference: PreparedReference, sentence: TargetSentence, settings):
        self.sovits, self.settings = models.synthesizer.sovits, settings
        # Token streaming is for the SoVITS (v1-v2ProPlus) decoder only: its conditioning is the timbre ge, which
        # may still be being worked out (in another thread) until the first piece is wanted.
        self.synthesizer, self.conditioning = models.synthesizer, reference.conditioning
        self.phone_ids = torch.tensor(sentence.phone_ids, dtype=torch.long)
        self.generator = torch.Generator().manual_seed(sentence.seed + 1)
        self.noise = torch.zeros(1, self.sovits.config.inter_channels, 0)  # [1, inter, frames drawn so far]
        self.done_frames = 0  # frames whose audio has been handed out
        self.tail = np.zeros(0, dtype=np.float32)  # audio decoded past done_frames, faded into the next piece

    @torch.inference_mode()
    def piece(self, tokens: list[int], final: bool) -> np.ndarray:
        sovits, hop = self.sovits, self.sovits.samples_per_frame
        ge = self.conditioning.get(self.synthesizer)  # [1, gin, 1]
        m, logs = sovits.prior(torch.tensor(tokens), self.phone_ids, ge, self.settings.speed)  # [1, inter, F]
        frames = m.shape[-1]
        if frames > self.noise.shape[-1]:  # new frames get their noise once, so a frame keeps it across pieces
            new = torch.randn(frames - self.noise.shape[-1], m.shape[1], generator=self.generator)
            self.noise = torch.cat([self.noise, new.T[None]], dim=-1)
        end = frames if final else frames - LOOKAHEAD_FRAMES
        if end <= self.done_frames:
            return np.zeros(0, dtype=np.float32)
        start = max(0, self.done_frames - CONTEXT_FRAMES)
        window = slice(start, frames)
        z_p = m[..., window] + self.noise[..., window].to(m) * torch.exp(logs[..., window]) * self.settings.noise_scale
        audio = sovits.dec(sovits.flow.reverse(z_p, ge), ge)[0, 0].float().cpu().numpy()
        audio = audio[(self.done_frames - start) * hop :]  # from the first frame not yet handed out
        keep = 0 if final else CROSSFADE_FRAMES * hop
        audio = audio[: (end - self.done_frames) * hop + keep]
        overlap = len(self.tail)
        if overlap:
            fade_in = np.linspace(0.0, 1.0, overlap, endpoint=False, dtype=np.float32)
            audio[:overlap] = self.tail * (1 - fade_in) + audio[:overlap] * fade_in
        self.done_frames = end
        out, self.tail = audio[: len(audio) - keep], audio[len(audio) - keep :].copy()
        # Upstream normalises a sentence by its peak, which a stream cannot know in advance: limit instead.
        return np.clip(out, -1.0, 1.0).astype(np.float32)


def stream_pieces(
    models: ModelSet,
    reference: PreparedReference,
    sentence: TargetSentence,
    target_bert: torch.Tensor,
    settings: InferenceSettings,
    timer,
    cancel=None,
):
    """Token streaming: yields (audio piece, is the last one) while T2S goes; returns the SpokenTokens."""
    fewest, _ = sentence.token_range
    sampling = sampling_params(settings, models)
    for attempt in range(MAX_ATTEMPTS):
        check_cancel(cancel)
        decoder = PieceDecoder(models, reference, sentence, settings)
        steps = models.t2s.stream([t2s_input(reference, sentence, target_bert, attempt)], sampling, stop=cancel)
        tokens: list[int] = []
        piece_tokens = max(FIRST_PIECE_TOKENS, fewest)
        next_piece = piece_tokens + LOOKAHEAD_FRAMES // 2  # two frames per token
        played, output = False, None
        while output is None:
            check_cancel(cancel)
            with timer("t2s"):
                step = next(steps, None)
            check_cancel(cancel)  # a stop during the prefill ends the steps without one
            tokens.extend(step.tokens.values())
            output = step.finished.get(0)
            if output is None and len(tokens) >= next_piece:
                with timer("sovits"):
                    piece = decoder.piece(tokens, final=False)
                played = True
                yield piece, False
                piece_tokens = min(2 * piece_tokens, MAX_PIECE_TOKENS)
                next_piece = len(tokens) + piece_tokens
        too_long = output.stop_reason == "token_limit"
        if played and too_long:
            raise implausible_length_error(sentence, output)
        if not too_long and len(output.tokens) >= fewest:
            with timer("sovits"):
                last = decoder.piece(output.tokens.tolist(), final=True)
            yield last, True
            return SpokenTokens(output, attempt + 1)
    raise implausible_length_error(sentence, output)
