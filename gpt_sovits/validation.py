"""Checks on what a user hands us, before any model runs.

Each check either returns the (possibly cleaned) input plus plain-language notes, or raises a
`gpt_sovits.errors` class whose message says what is wrong and what to do. The engine calls these, so the
web UI, the CLI and the HTTP API all give the same answers.

The official model was trained and tuned on 3-10 second reference clips; outside that range it tends to
copy the reference into the output or stop early, so we refuse short clips and trim long ones.
"""

import re
import unicodedata

import numpy as np

from gpt_sovits.errors import AudioError, TextError
from gpt_sovits.messages import Message
from gpt_sovits.text import languages
from gpt_sovits.text.language import scripts_in

MIN_REFERENCE_SECONDS = 3.0
MAX_REFERENCE_SECONDS = 10.0
# Extra clips lend only timbre, and upstream sets them no length rule; but less than half a second (a syllable or
# two) carries no voice to speak of, and under 22 ms the spectrogram cannot even be computed.
MIN_TIMBRE_CLIP_SECONDS = 0.5

# One request is cut into sentences and synthesized piece by piece; 1000 characters is roughly 3-4 minutes of
# Chinese speech (or about 1 minute of English), well beyond what one web request should take on a CPU.
MAX_TARGET_CHARACTERS = 1000

# Limits on what one request may hand us, each checked before the work it bounds (see also MAX_TARGET_CHARACTERS).
# The reference transcript says what is spoken in a 3-10 s clip: at most about 90 syllables (some 300 characters of
# English); 500 leaves room for punctuation and spaces.
MAX_REFERENCE_CHARACTERS = 500
# Audio files (reference and extra timbre clips): refused before they are read when larger than this ...
MAX_AUDIO_FILE_BYTES = 100 * 2**20
# ... or longer than this: the duration is read from the file's header where it has one, and decoding stops here
# where it has not, so a one-hour recording is never decoded whole. Clips of 10-60 s are trimmed to 3-10 s.
MAX_AUDIO_SECONDS = 60.0
# Sample rates from telephone quality to studio masters; resampling any rate in between is bounded (audio.py).
MIN_SAMPLE_RATE = 8000
MAX_SAMPLE_RATE = 192000
# Up to 7.1 surround and beyond; channels are averaged to mono while the file is decoded.
MAX_AUDIO_CHANNELS = 32
# Model files are zip archives whose entries torch writes uncompressed, so their declared sizes add up to about the
# file's own size. One declaring more than this many times its size (plus 1 MiB) is a zip bomb (2 MB declaring
# 2 GiB was inflated before it was refused) and is refused before anything is inflated.
MAX_CHECKPOINT_EXPANSION = 2.0

# Root-mean-square level below which a clip counts as silent: -60 dBFS, far below any usable recording.
SILENCE_RMS = 1e-3
# A clip is called clipped when more than this fraction of its samples sit at full scale.
CLIPPED_FRACTION = 1e-3
FULL_SCALE = 0.999

# Plausible speaking rates, in syllables per second (a Chinese character is one syllable). Normal speech is
# 3-7; the range is wide on purpose because a warning should only fire when the transcript clearly does not
# belong to the clip (missing half the words, or the transcript of a different, longer recording).
MIN_SYLLABLES_PER_SECOND = 1.0
MAX_SYLLABLES_PER_SECOND = 9.0

def check_timbre_clip(duration_seconds: float, name: str) -> None:
    """Refuse an extra (timbre-only) reference clip too short to carry a voice."""
    if duration_seconds < MIN_TIMBRE_CLIP_SECONDS:
        raise AudioError(Message(
            "The extra reference clip '{name}' is {duration:.2f} s long; a clip that lends its voice needs at least "
            "{minimum:g} s of speech. Use a longer clip, or leave it out.",
            name=name, duration=duration_seconds, minimum=MIN_TIMBRE_CLIP_SECONDS,
        ))  # fmt: skip


def check_reference_audio(samples: np.ndarray, sample_rate: int) -> tuple[np.ndarray, list[Message]]:
    """Refuse unusable reference clips; trim long ones to 3-10 s ending at a pause.

    samples: float32 mono in [-1, 1]. Returns the samples to use and notes for the user (trimming, clipping).
    """
    samples = np.asarray(samples, dtype=np.float32)
    if samples.ndim != 1:
        raise ValueError(f"check_reference_audio expects mono samples, got shape {samples.shape}")
    if not np.all(np.isfinite(samples)):
        raise AudioError(Message("The reference audio contains invalid samples (NaN or infinity); please export it again."))

    duration = len(samples) / sample_rate
    if duration < MIN_REFERENCE_SECONDS:
        raise AudioError(Message(
            "The reference audio is {duration:.1f} s long; it must be at least {minimum:g} s. "
            "Please use a clip of {minimum:g}-{maximum:g} seconds of clear speech.",
            duration=duration, minimum=MIN_REFERENCE_SECONDS, maximum=MAX_REFERENCE_SECONDS,
        ))  # fmt: skip
    if _rms(samples) < SILENCE_RMS:
        raise AudioError(Message(
            "The reference audio is silent (or almost). Please use a clip in which the voice can be heard clearly."
        ))

    notes = []
    if duration > MAX_REFERENCE_SECONDS:
        start, end = _speech_window(samples, sample_rate)
        samples = samples[start:end]
        notes.append(Message(
            "The reference audio was {duration:.1f} s long; used {start:.1f}-{end:.1f} s ({length:.1f} s, ending at "
            "a pause). For the best result, upload a {minimum:g}-{maximum:g} s clip and give exactly its transcript.",
            duration=duration, start=start / sample_rate, end=end / sample_rate, length=(end - start) / sample_rate,
            minimum=MIN_REFERENCE_SECONDS, maximum=MAX_REFERENCE_SECONDS,
        ))  # fmt: skip

    clipped_fraction = np.mean(np.abs(samples) >= FULL_SCALE)
    if clipped_fraction > CLIPPED_FRACTION:
        notes.append(Message(
            "The reference audio is clipped ({fraction:.1%} of samples at full scale), so it sounds distorted and "
            "the cloned voice may too. A quieter recording will work better.",
            fraction=clipped_fraction,
        ))
    return samples, notes


def check_target_text(text: str) -> str:
    """The text to speak, stripped. Raises TextError when it is empty, has nothing to say, or is too long."""
    text = (text or "").strip()
    if not text:
        raise TextError(Message("The text to synthesize is empty. Please type what the voice should say."))
    if not any(character.isalnum() for character in text):
        raise TextError(Message("The text to synthesize has only punctuation or symbols. Please type words to speak."))
    if len(text) > MAX_TARGET_CHARACTERS:
        raise TextError(Message(
            "The text to synthesize is {length} characters long; the limit is {limit}. "
            "Please split it into several shorter requests.",
            length=len(text), limit=MAX_TARGET_CHARACTERS,
        ))
    return text


def check_reference_text(text: str, duration_seconds: float) -> list[Message]:
    """Warnings when the reference transcript is implausibly short or long for a clip of this duration.

    An empty text means no-reference-text mode and gets no warning here. Raises TextError when the text is longer
    than MAX_REFERENCE_CHARACTERS (checked before any text processing).
    """
    if len(text or "") > MAX_REFERENCE_CHARACTERS:
        raise TextError(Message(
            "The reference text is {length} characters long; the limit is {limit}. It should be only the words "
            "spoken in the reference clip (3-10 s).",
            length=len(text), limit=MAX_REFERENCE_CHARACTERS,
        ))
    syllables = estimate_syllables(text or "")
    if syllables == 0 or duration_seconds <= 0:
        return []
    rate = syllables / duration_seconds
    if rate < MIN_SYLLABLES_PER_SECOND:
        return [Message(
            "The reference text looks too short for a {duration:.1f} s clip (about {syllables} syllables). "
            "It should be exactly what is said in the clip; a mismatched text makes the voice mumble or repeat. "
            "If you do not know the words, leave the reference text empty.",
            duration=duration_seconds, syllables=syllables,
        )]
    if rate > MAX_SYLLABLES_PER_SECOND:
        return [Message(
            "The reference text looks too long for a {duration:.1f} s clip (about {syllables} syllables). "
            "It should be exactly what is said in the clip (after any trimming); a mismatched text makes the "
            "output repeat parts of the reference. If you do not know the words, leave the reference text empty.",
            duration=duration_seconds, syllables=syllables,
        )]
    return []


def check_language(mode: str, symbol_version: str) -> None:
    """Raise TextError when the loaded model (by its phone-symbol table) cannot speak `mode`."""
    language_mode = languages.language_mode(mode)
    if symbol_version not in language_mode.symbol_versions:
        supported = languages.modes_for(symbol_version)
        if not supported:
            raise TextError(Message(
                "The loaded model ({symbol_version} symbols) has a phone table this app does not know.",
                symbol_version=symbol_version,
            ))
        raise TextError(Message(
            "The loaded model ({symbol_version} symbols) cannot speak {language} ({mode!r}): its phone table has no "
            "phones for it. Choose one of: {choices}, or load a v2 or later model.",
            symbol_version=symbol_version, language=language_mode.name, mode=mode,
            choices=languages.describe_modes(supported),
        ))  # fmt: skip


_HAN = re.compile(r"[\u4e00-\u9fff]")


def target_text_warnings(text: str, mode: str) -> list[Message]:
    """Notes when the text will not be read as written: letters of another script than the chosen language's (kana
    or Hangul outside Japanese/Korean, Chinese characters in English mode), and symbols nobody speaks (emoji)."""
    language_mode = languages.language_mode(mode)
    notes = []
    if language_mode.language is not None:  # the auto-detect modes pick each run's language themselves
        found = (["zh"] if language_mode.language == "en" and _HAN.search(text) else []) + scripts_in(text)
        for code in found:
            if code != language_mode.language:
                notes.append(Message(
                    "The text has {script} characters, but its language is set to {language}: they may be misread "
                    "or left out. Choose {script} (or auto-detect) as the language of the text.",
                    script=languages.LANGUAGES[code].name, language=language_mode.name,
                ))  # fmt: skip
    dropped = dict.fromkeys(char for char in text if unicodedata.category(char) in ("So", "Co", "Cn"))
    if dropped:
        notes.append(Message("These characters are not spoken and were left out: {characters}", characters=" ".join(dropped)))
    return notes


def check_language_mode(mode: str) -> None:
    """Raise TextError when `mode` is not a language mode of this app (no model needed to check)."""
    languages.language_mode(mode)


def estimate_syllables(text: str) -> int:
    """Rough syllable count: one per CJK character, kana (a mora) or Hangul syllable, vowel groups per Latin word,
    one per digit."""
    cjk = len(re.findall(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]", text))
    kana = len(re.findall(r"[\u3041-\u3096\u30a1-\u30fa\u30fc]", text))
    hangul = len(re.findall(r"[\uac00-\ud7af]", text))
    digits = len(re.findall(r"[0-9]", text))
    latin = sum(max(1, len(re.findall(r"[aeiouy]+", word))) for word in re.findall(r"[a-z']+", text.lower()))
    return cjk + kana + hangul + digits + latin


def _rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))


def _speech_window(samples: np.ndarray, sample_rate: int) -> tuple[int, int]:
    """(start, end) sample indices of a 3-10 s window: from where speech begins to the quietest late point.

    Energy is measured in 20 ms frames and smoothed over 100 ms, so a pause means a stretch of quiet, not one
    zero crossing. Among the candidate end points, the latest one almost as quiet as the quietest is chosen,
    so the window is as long as possible without cutting a word.
    """
    frame = sample_rate // 50  # 20 ms
    frame_count = len(samples) // frame
    frame_rms = np.sqrt(np.mean(np.square(samples[: frame_count * frame].reshape(frame_count, frame)), axis=1))
    smoothed = np.convolve(frame_rms, np.ones(5) / 5, mode="same")  # 100 ms moving average

    # Skip leading silence: speech begins at the first frame above 10 % of the loudest one, minus 100 ms.
    loud = np.flatnonzero(frame_rms > 0.1 * frame_rms.max())
    # Never start so late that less than the minimum is left.
    start_frame = min(max(0, int(loud[0]) - 5), frame_count - int(MIN_REFERENCE_SECONDS * 50))

    first_end = start_frame + int(MIN_REFERENCE_SECONDS * 50)
    last_end = min(frame_count, start_frame + int(MAX_REFERENCE_SECONDS * 50))
    candidates = smoothed[first_end - 1 : last_end]  # energy just before each possible end boundary
    quiet_enough = candidates <= 1.5 * candidates.min() + 1e-4
    end_frame = first_end + int(np.flatnonzero(quiet_enough)[-1])
    return start_frame * frame, end_frame * frame


