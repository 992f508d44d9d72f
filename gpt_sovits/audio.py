"""Reference audio in, numbers out: reading files, mono mixing, the two resamplers, the linear spectrogram.

The official pipeline looks at the reference recording twice, through two *different* resamplers, and the
models were trained on exactly these front ends, so we reproduce both:

* HuBERT (prompt tokens) hears the reference at 16 kHz as `librosa.load(path, sr=16000)` gives it:
  soundfile decode, channel mean, soxr "HQ" resampling, no peak normalisation  -> `resample_soxr`.
* SoVITS (timbre) sees a linear spectrogram of the reference at 32 kHz, resampled the way
  `torchaudio.transforms.Resample` does it (windowed sinc, Hann window) and peak-limited; v2Pro models also
  feed that 32 kHz signal, resampled again to 16 kHz with the same sinc method, to the speaker encoder
  -> `resample_sinc`, `linear_spectrogram`, `reference_spectrogram_inputs`.
"""

import math
import os
from dataclasses import dataclass
from functools import lru_cache

import av
import numpy as np
import soundfile
import soxr
import torch
import torch.nn.functional as F

from gpt_sovits.errors import AudioError
from gpt_sovits.validation import (
    MAX_AUDIO_CHANNELS,
    MAX_AUDIO_FILE_BYTES,
    MAX_AUDIO_SECONDS,
    MAX_SAMPLE_RATE,
    MIN_SAMPLE_RATE,
)

# libsndfile reads these itself (as librosa does upstream, so their samples are the official ones); FFmpeg, through
# PyAV's bundled libraries, reads the rest: phone voice memos (m4a/AAC), browser recordings (webm/opus), video files.
SUPPORTED_FORMATS = ("wav", "flac", "ogg", "mp3", "m4a", "aac", "webm", "opus", "mp4", "mkv", "wma")
# FFmpeg demuxers we let open a file. Playlist and concatenation formats (HLS, concat, ...) are left out on purpose:
# they open further files or URLs named inside the upload.
_FFMPEG_FORMATS = "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,ogg,mp3,aac,wav,flac,asf,amr,aiff,caf,au,w64"
_READ_BLOCK_FRAMES = 1 << 16

# The SoVITS spectrogram front end (s2 config `data` section; identical for v1, v2, v2Pro and v2ProPlus).
SPECTROGRAM_SAMPLE_RATE = 32000
N_FFT = 2048
HOP_LENGTH = 640  # 50 frames per second at 32 kHz
WIN_LENGTH = 2048

HUBERT_SAMPLE_RATE = 16000
SPEAKER_SAMPLE_RATE = 16000


@dataclass(frozen=True)
class AudioClip:
    """Decoded audio: `samples` is float32 [channels, n] in [-1, 1] (int PCM scaled as upstream: int16 / 32768).

    `load_audio` always gives one channel, the mean of the file's channels (what both librosa's `to_mono` and the
    spectrogram path compute), mixed while decoding so that a many-channel file never sits in memory whole.
    """

    samples: np.ndarray
    sample_rate: int
    source: str  # file name or "uploaded audio", used in error messages

    @property
    def num_samples(self) -> int:
        return self.samples.shape[1]

    @property
    def duration_seconds(self) -> float:
        return self.num_samples / self.sample_rate

    def mono(self) -> np.ndarray:
        """Channel mean -> float32 [n]."""
        if self.samples.shape[0] == 1:
            return self.samples[0]
        return self.samples.mean(axis=0, dtype=np.float32)


def load_audio(source, name: str | None = None) -> AudioClip:
    """Read a reference recording from a file path or a Gradio `(sample_rate, array)` pair, as mono.

    `name` is what messages call the file (the user's own file name, where the caller knows it); by default the
    path's base name, never the full (server) path. Every limit in `validation` (file size, duration, sample rate,
    channels) is checked before the work it bounds. Raises AudioError for anything that cannot be used: missing,
    empty, damaged or non-audio files, unsupported formats, out-of-range rates, too long, non-finite samples.
    """
    if isinstance(source, tuple):
        return _clip_from_array(source, name or "uploaded audio")
    if not isinstance(source, (str, os.PathLike)):
        raise AudioError(f"Reference audio must be a file path or a (sample_rate, samples) pair, got {type(source).__name__}.")

    path = os.fspath(source)
    name = name or os.path.basename(path) or "audio file"
    if not os.path.isfile(path):
        raise AudioError(f"Audio file '{name}' does not exist.")
    size = os.path.getsize(path)
    if size == 0:
        raise AudioError(f"Audio file '{name}' is empty (0 bytes).")
    if size > MAX_AUDIO_FILE_BYTES:
        raise AudioError(
            f"Audio file '{name}' is {size / 2**20:.0f} MB; files up to {MAX_AUDIO_FILE_BYTES / 2**20:.0f} MB are "
            "accepted. Please upload a short clip (3-10 s is what the model uses)."
        )
    try:
        sound_file = soundfile.SoundFile(path)
    except Exception:  # not a format libsndfile knows (or not audio at all): FFmpeg gets a try
        samples, sample_rate = _decode_with_ffmpeg(path, name)
    else:
        with sound_file:
            samples, sample_rate = _decode_with_soundfile(sound_file, name)
    return _checked_clip(samples, sample_rate, name)


def _decode_with_soundfile(sound_file: soundfile.SoundFile, name: str) -> tuple[np.ndarray, int]:
    _check_layout(name, sound_file.samplerate, sound_file.channels)
    _check_duration(name, sound_file.frames / sound_file.samplerate)
    most_frames = int(MAX_AUDIO_SECONDS * sound_file.samplerate)
    blocks, frames = [], 0
    try:
        for block in sound_file.blocks(_READ_BLOCK_FRAMES, dtype="float32", always_2d=True):  # [n, channels]
            frames += len(block)
            if frames > most_frames:  # a header that understates the length
                raise _too_long(name, f"more than {MAX_AUDIO_SECONDS:g} s")
            blocks.append(_mono(block.T))
    except soundfile.LibsndfileError:
        raise _damaged(name) from None
    return _joined(blocks), sound_file.samplerate


def _decode_with_ffmpeg(path: str, name: str) -> tuple[np.ndarray, int]:
    try:
        container = av.open(
            path,
            container_options={"format_whitelist": _FFMPEG_FORMATS, "protocol_whitelist": "file"},
            metadata_errors="ignore",
        )
    except av.FFmpegError:
        raise AudioError(
            f"Cannot read audio file '{name}': it is not audio in a format this app reads, or it is damaged. "
            f"Supported formats: {', '.join(SUPPORTED_FORMATS)}."
        ) from None
    with container:
        if not container.streams.audio:
            raise AudioError(f"File '{name}' has no audio track. Please upload a recording of the voice.")
        stream = container.streams.audio[0]
        if stream.duration is not None and stream.time_base is not None:
            _check_duration(name, float(stream.duration * stream.time_base))
        elif container.duration is not None:
            _check_duration(name, container.duration / av.time_base)
        blocks, frames, sample_rate = [], 0, None
        try:
            for frame in container.decode(stream):
                if sample_rate is None:
                    sample_rate = frame.sample_rate
                    _check_layout(name, sample_rate, len(frame.layout.channels))
                elif frame.sample_rate != sample_rate:
                    raise AudioError(f"Audio file '{name}' changes its sample rate midway; please export it again.")
                samples = _frame_samples(frame)  # [channels, n]
                frames += samples.shape[1]
                if frames > MAX_AUDIO_SECONDS * sample_rate:  # no duration in the header (browser recordings)
                    raise _too_long(name, f"more than {MAX_AUDIO_SECONDS:g} s")
                blocks.append(_mono(samples))
        except av.FFmpegError:
            raise _damaged(name) from None
    if sample_rate is None:
        raise AudioError(f"Audio file '{name}' is empty (no samples).")
    return _joined(blocks), sample_rate


def _frame_samples(frame: av.AudioFrame) -> np.ndarray:
    """One decoded frame as float32 [channels, n]: planar formats come as [channels, n], packed ones as [1, n * channels]."""
    samples = frame.to_ndarray()
    if not frame.format.is_planar:
        samples = samples.reshape(-1, len(frame.layout.channels)).T
    return _as_float32(samples, "audio file")


def _as_float32(samples: np.ndarray, name: str) -> np.ndarray:
    """Integer PCM scaled to [-1, 1) as libsndfile and upstream do (int16 / 32768, ...); floats kept."""
    if samples.dtype == np.int16:
        return samples.astype(np.float32) / 32768.0
    if samples.dtype == np.int32:
        return (samples.astype(np.float64) / 2147483648.0).astype(np.float32)
    if samples.dtype == np.uint8:  # 8-bit WAV is unsigned, centred on 128
        return (samples.astype(np.float32) - 128.0) / 128.0
    if np.issubdtype(samples.dtype, np.floating):
        return samples.astype(np.float32)
    raise AudioError(f"Audio '{name}' has unsupported sample type {samples.dtype}.")


def _mono(samples: np.ndarray) -> np.ndarray:
    """[channels, n] -> float32 [n], the channel mean. Per sample, so mixing block by block changes nothing."""
    if samples.shape[0] == 1:
        return np.array(samples[0], dtype=np.float32)
    return np.ascontiguousarray(samples, dtype=np.float32).mean(axis=0, dtype=np.float32)


def _joined(blocks: list[np.ndarray]) -> np.ndarray:
    return (np.concatenate(blocks) if blocks else np.zeros(0, np.float32))[None, :]  # [1, n]


def _clip_from_array(pair, name: str) -> AudioClip:
    """Gradio's numpy audio: (sample_rate, int16 or float array shaped [n] or [n, channels])."""
    if len(pair) != 2:
        raise AudioError("Uploaded audio must be a (sample_rate, samples) pair.")
    sample_rate, samples = pair
    samples = np.asarray(samples)
    if samples.ndim not in (1, 2):
        raise AudioError(f"Uploaded audio must have shape [samples] or [samples, channels], got {samples.shape}.")
    frames = samples[:, None] if samples.ndim == 1 else samples  # [n, channels]
    _check_sample_rate_type(name, sample_rate)
    _check_layout(name, sample_rate, frames.shape[1])
    _check_duration(name, frames.shape[0] / sample_rate)
    return _checked_clip(_mono(_as_float32(frames.T, name)), sample_rate, name)


def _check_sample_rate_type(name: str, sample_rate) -> None:
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, (int, np.integer)) or sample_rate <= 0:
        raise AudioError(f"Audio '{name}' has an invalid sample rate {sample_rate!r}.")


def _check_layout(name: str, sample_rate: int, channels: int) -> None:
    if not MIN_SAMPLE_RATE <= sample_rate <= MAX_SAMPLE_RATE:
        raise AudioError(
            f"Audio '{name}' has a sample rate of {sample_rate:,} Hz; rates from {MIN_SAMPLE_RATE:,} to "
            f"{MAX_SAMPLE_RATE:,} Hz are accepted. Please export it at 16, 24, 44.1 or 48 kHz."
        )
    if not 1 <= channels <= MAX_AUDIO_CHANNELS:
        raise AudioError(
            f"Audio '{name}' has {channels} channels; 1 to {MAX_AUDIO_CHANNELS} are accepted. Please export it "
            "as mono or stereo."
        )


def _check_duration(name: str, seconds: float) -> None:
    if seconds > MAX_AUDIO_SECONDS:
        raise _too_long(name, f"{seconds / 60:.1f} minutes" if seconds >= 120 else f"{seconds:.1f} s")


def _too_long(name: str, length: str) -> AudioError:
    return AudioError(
        f"Audio '{name}' is {length} long; at most {MAX_AUDIO_SECONDS:g} s is accepted. The voice is cloned from "
        "3-10 s of speech: please upload a clip of that length."
    )


def _damaged(name: str) -> AudioError:
    return AudioError(
        f"Audio file '{name}' could not be decoded to the end: it is probably truncated or damaged (an interrupted "
        "upload or recording). Please export it again."
    )


def _checked_clip(samples: np.ndarray, sample_rate, name: str) -> AudioClip:
    """samples: float32 mono [1, n] (or [n])."""
    _check_sample_rate_type(name, sample_rate)
    samples = np.ascontiguousarray(samples, dtype=np.float32).reshape(1, -1)
    if samples.shape[1] == 0:
        raise AudioError(f"Audio '{name}' is empty (no samples).")
    if not np.isfinite(samples).all():
        raise AudioError(f"Audio '{name}' contains invalid (NaN or infinite) samples.")
    return AudioClip(samples=samples, sample_rate=int(sample_rate), source=name)


# ---------------------------------------------------------------------------------------------------------------
# Resamplers


def _fit_length(samples, length: int):
    """Trim or zero-pad the last axis to `length` samples (numpy or torch)."""
    if samples.shape[-1] >= length:
        return samples[..., :length]
    if isinstance(samples, torch.Tensor):
        return F.pad(samples, (0, length - samples.shape[-1]))
    return np.pad(samples, [(0, 0)] * (samples.ndim - 1) + [(0, length - samples.shape[-1])])


def resample_soxr(samples: np.ndarray, sample_rate_in: int, sample_rate_out: int) -> np.ndarray:
    """soxr "HQ" resampling of mono float32 [n], exactly as `librosa.resample(res_type="soxr_hq")` (librosa 0.10.2).

    librosa trims or zero-pads soxr's output to ceil(n * ratio) samples (`fix=True`), so we do too. soxr handles
    any pair of rates in bounded memory and time.
    """
    if sample_rate_in == sample_rate_out:
        return samples
    resampled = soxr.resample(samples, sample_rate_in, sample_rate_out, quality="HQ")
    target_length = int(np.ceil(samples.shape[-1] * (float(sample_rate_out) / sample_rate_in)))
    return np.ascontiguousarray(_fit_length(resampled, target_length), dtype=np.float32)


# Rates that recorders and editors write. Each of them reduces with 32 or 16 kHz to a small ratio, so the official
# filter bank for it is small (the largest, 11.025 -> 32 kHz, has 0.6 M taps).
COMMON_SAMPLE_RATES = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000, 64000, 88200, 96000, 176400, 192000)
# Filter banks up to this many taps (4 MB of float32) are built the official way; at most 8 are kept.
MAX_SINC_KERNEL_TAPS = 1 << 20
_LOWPASS_FILTER_WIDTH = 6
_ROLLOFF = 0.99


def _reduced_rates(sample_rate_in: int, sample_rate_out: int) -> tuple[int, int]:
    gcd = math.gcd(sample_rate_in, sample_rate_out)
    return sample_rate_in // gcd, sample_rate_out // gcd


def _sinc_width(rate_in: int, rate_out: int) -> int:
    """Input samples the filter reaches on each side (rates already divided by their gcd)."""
    return math.ceil(_LOWPASS_FILTER_WIDTH * rate_in / (min(rate_in, rate_out) * _ROLLOFF))


def sinc_kernel_taps(sample_rate_in: int, sample_rate_out: int) -> int:
    """Size of the official filter bank for this pair of rates: one filter of (2 * width + rate_in) taps per phase."""
    rate_in, rate_out = _reduced_rates(sample_rate_in, sample_rate_out)
    return rate_out * (2 * _sinc_width(rate_in, rate_out) + rate_in)


@lru_cache(maxsize=8)
def _sinc_kernel(rate_in: int, rate_out: int) -> tuple[torch.Tensor, int]:
    """Polyphase windowed-sinc filter bank for rate_in -> rate_out (both already divided by their gcd).

    Output sample j sits at time j / rate_out; it is the sum of input samples i at i / rate_in weighted by a
    low-pass sinc (cut-off `rolloff * min(rates) / 2`) under a Hann window spanning `lowpass_filter_width`
    zero crossings on each side. Outputs repeat their phase every `rate_out` samples, so we need one
    filter per phase ([rate_out, 1, taps]), applied with stride `rate_in`. Computed in float64, stored float32.
    Returns (kernel, width) where width is the number of input samples the filter reaches before/after.
    """
    width = _sinc_width(rate_in, rate_out)
    if rate_out * (2 * width + rate_in) > MAX_SINC_KERNEL_TAPS:
        raise ValueError(f"a sinc filter bank for {rate_in}/{rate_out} is too large; resample_sinc bridges such rates")
    cutoff = min(rate_in, rate_out) * _ROLLOFF  # in units where the input rate is `rate_in`
    input_times = torch.arange(-width, width + rate_in, dtype=torch.float64) / rate_in  # [taps]
    # Phase offsets -j / rate_out; torchaudio computes these in float32 before widening, and so do we.
    output_phases = (torch.arange(0, -rate_out, -1) / rate_out).to(torch.float64)  # [rate_out]
    t = (output_phases[:, None] + input_times[None, :]) * cutoff  # distance in zero crossings of the sinc
    t = t.clamp(-_LOWPASS_FILTER_WIDTH, _LOWPASS_FILTER_WIDTH)
    window = torch.cos(t * math.pi / _LOWPASS_FILTER_WIDTH / 2) ** 2  # Hann, zero at +-lowpass_filter_width
    t = t * math.pi
    sinc = torch.where(t == 0, torch.ones_like(t), torch.sin(t) / t)
    kernel = sinc * (window * (cutoff / rate_in))
    return kernel.to(torch.float32)[:, None, :], width


def resample_sinc(audio: torch.Tensor, sample_rate_in: int, sample_rate_out: int) -> torch.Tensor:
    """Windowed-sinc resampling of float32 [..., n], equal to `torchaudio.transforms.Resample(in, out)` defaults
    (sinc_interp_hann, lowpass_filter_width 6, rolloff 0.99). Output length ceil(n * out / in).

    That is exact for every pair of rates whose filter bank has at most MAX_SINC_KERNEL_TAPS taps, which includes
    every rate in COMMON_SAMPLE_RATES (so every file the official models were used with). An odd rate such as
    32,001 Hz would need a bank of 32,000 phases (8 GB): such a signal first goes through soxr (any ratio, bounded)
    to the nearest common rate at or above its own, so nothing of its band is lost, and the official filter then
    does the final band limit the models were trained with.
    """
    if sample_rate_in == sample_rate_out:
        return audio
    target_length = math.ceil(sample_rate_out * audio.shape[-1] / sample_rate_in)
    if sinc_kernel_taps(sample_rate_in, sample_rate_out) > MAX_SINC_KERNEL_TAPS:
        bridge_rate = min((rate for rate in COMMON_SAMPLE_RATES if rate >= sample_rate_in), default=COMMON_SAMPLE_RATES[-1])
        audio = _resample_soxr_batch(audio, sample_rate_in, bridge_rate)
        return _fit_length(resample_sinc(audio, bridge_rate, sample_rate_out), target_length)

    rate_in, rate_out = _reduced_rates(sample_rate_in, sample_rate_out)
    kernel, width = _sinc_kernel(rate_in, rate_out)
    leading_shape, length = audio.shape[:-1], audio.shape[-1]
    signal = F.pad(audio.reshape(-1, 1, length), (width, width + rate_in))  # [batch, 1, width + n + width + rate_in]
    phases = F.conv1d(signal, kernel.to(audio.dtype), stride=rate_in)  # [batch, rate_out, blocks]
    interleaved = phases.transpose(1, 2).reshape(phases.shape[0], -1)  # phase j of block b -> b * rate_out + j
    return interleaved[:, :target_length].reshape(*leading_shape, -1)


def _resample_soxr_batch(audio: torch.Tensor, sample_rate_in: int, sample_rate_out: int) -> torch.Tensor:
    """soxr "HQ" over the last axis of float32 [..., n] (soxr takes [n, channels])."""
    leading_shape, length = audio.shape[:-1], audio.shape[-1]
    frames = np.ascontiguousarray(audio.reshape(-1, length).T.numpy(), dtype=np.float32)
    resampled = soxr.resample(frames, sample_rate_in, sample_rate_out, quality="HQ")
    return torch.from_numpy(np.ascontiguousarray(resampled.T)).reshape(*leading_shape, -1)


def limit_peak(audio: torch.Tensor) -> torch.Tensor:
    """Spectrogram-path peak limit: if max|audio| > 1, divide by min(2, max) (so audio may stay above 1)."""
    peak = audio.abs().max()
    if peak > 1:
        return audio / min(2.0, peak)
    return audio


def linear_spectrogram(audio_32k: torch.Tensor) -> torch.Tensor:
    """Magnitude STFT [1, n] -> [1, 1025, n // 640] as SoVITS was trained on (no log, no mel).

    Reflect-pad (n_fft - hop) / 2 = 704 samples each side, periodic Hann window, no centring;
    magnitude sqrt(re^2 + im^2 + 1e-8). Always computed in float32.
    """
    pad = (N_FFT - HOP_LENGTH) // 2
    padded = F.pad(audio_32k.float()[:, None, :], (pad, pad), mode="reflect")[:, 0, :]
    stft = torch.stft(
        padded,
        N_FFT,
        hop_length=HOP_LENGTH,
        win_length=WIN_LENGTH,
        window=torch.hann_window(WIN_LENGTH),
        center=False,
        normalized=False,
        onesided=True,
        return_complex=True,
    )
    return torch.sqrt(torch.view_as_real(stft).pow(2).sum(-1) + 1e-8)


@dataclass(frozen=True)
class ReferenceSpectrogram:
    spectrogram: torch.Tensor  # [1, 1025, frames] float32
    audio_16k: torch.Tensor | None  # [n] float32 speaker-encoder input (v2Pro / v2ProPlus), else None


def reference_spectrogram_inputs(clip: AudioClip, with_speaker_audio: bool) -> ReferenceSpectrogram:
    """Everything SoVITS needs from a reference clip for timbre: its spectrogram and (v2Pro) the 16 kHz speaker audio.

    Mirrors upstream `get_spepc`: mono mix, sinc-resample to 32 kHz, peak limit, spectrogram; the speaker audio is
    the *peak-limited 32 kHz* signal resampled to 16 kHz with the same sinc method.
    """
    audio = torch.from_numpy(clip.mono().copy())[None, :]  # [1, n]
    audio_32k = limit_peak(resample_sinc(audio, clip.sample_rate, SPECTROGRAM_SAMPLE_RATE))
    spectrogram = linear_spectrogram(audio_32k)
    audio_16k = resample_sinc(audio_32k, SPECTROGRAM_SAMPLE_RATE, SPEAKER_SAMPLE_RATE)[0] if with_speaker_audio else None
    return ReferenceSpectrogram(spectrogram=spectrogram, audio_16k=audio_16k)


def hubert_input(clip: AudioClip) -> np.ndarray:
    """The 16 kHz mono float32 signal HuBERT hears (`librosa.load(path, sr=16000)`), before any padding."""
    return resample_soxr(clip.mono(), clip.sample_rate, HUBERT_SAMPLE_RATE)
