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

import numpy as np
import soundfile
import soxr
import torch
import torch.nn.functional as F

from gpt_sovits.errors import AudioError

SUPPORTED_FORMATS = ("wav", "flac", "ogg", "mp3")

# The SoVITS spectrogram front end (s2 config `data` section; identical for v1, v2, v2Pro and v2ProPlus).
SPECTROGRAM_SAMPLE_RATE = 32000
N_FFT = 2048
HOP_LENGTH = 640  # 50 frames per second at 32 kHz
WIN_LENGTH = 2048

HUBERT_SAMPLE_RATE = 16000
SPEAKER_SAMPLE_RATE = 16000


@dataclass(frozen=True)
class AudioClip:
    """Decoded audio: `samples` is float32 [channels, n] in [-1, 1] (int PCM scaled as upstream: int16 / 32768)."""

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
        """Channel mean -> float32 [n] (what both librosa's `to_mono` and the spectrogram path do)."""
        if self.samples.shape[0] == 1:
            return self.samples[0]
        return self.samples.mean(axis=0, dtype=np.float32)


def load_audio(source) -> AudioClip:
    """Read a reference recording from a file path (wav, flac, ogg, mp3) or a Gradio `(sample_rate, array)` pair.

    Raises AudioError for anything that cannot be used: missing or unreadable files, unsupported formats,
    empty or non-finite audio.
    """
    if isinstance(source, tuple):
        return _clip_from_array(source)
    if not isinstance(source, (str, os.PathLike)):
        raise AudioError(f"Reference audio must be a file path or a (sample_rate, samples) pair, got {type(source).__name__}.")

    path = os.fspath(source)
    name = os.path.basename(path) or path
    if not os.path.isfile(path):
        raise AudioError(f"Audio file '{path}' does not exist.")
    try:
        frames, sample_rate = soundfile.read(path, dtype="float32", always_2d=True)  # [n, channels]
    except Exception as error:  # libsndfile reports every decoding failure as a generic error
        reason = str(error).rstrip(".")  # libsndfile's own text often ends in a full stop already
        raise AudioError(
            f"Cannot read audio file '{name}': {reason}. Supported formats: {', '.join(SUPPORTED_FORMATS)}."
        ) from None
    return _checked_clip(frames.T, sample_rate, name)


def _clip_from_array(pair) -> AudioClip:
    """Gradio's numpy audio: (sample_rate, int16 or float array shaped [n] or [n, channels])."""
    if len(pair) != 2:
        raise AudioError("Uploaded audio must be a (sample_rate, samples) pair.")
    sample_rate, samples = pair
    samples = np.asarray(samples)
    if samples.ndim not in (1, 2):
        raise AudioError(f"Uploaded audio must have shape [samples] or [samples, channels], got {samples.shape}.")
    if samples.dtype == np.int16:
        samples = samples.astype(np.float32) / 32768.0
    elif samples.dtype == np.int32:
        samples = (samples.astype(np.float64) / 2147483648.0).astype(np.float32)
    elif samples.dtype == np.uint8:  # 8-bit WAV is unsigned, centred on 128
        samples = (samples.astype(np.float32) - 128.0) / 128.0
    elif np.issubdtype(samples.dtype, np.floating):
        samples = samples.astype(np.float32)
    else:
        raise AudioError(f"Uploaded audio has unsupported sample type {samples.dtype}.")
    frames = samples[:, None] if samples.ndim == 1 else samples
    return _checked_clip(np.ascontiguousarray(frames.T), sample_rate, "uploaded audio")


def _checked_clip(samples: np.ndarray, sample_rate, name: str) -> AudioClip:
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, (int, np.integer)) or sample_rate <= 0:
        raise AudioError(f"Audio '{name}' has an invalid sample rate {sample_rate!r}.")
    if samples.shape[1] == 0 or samples.shape[0] == 0:
        raise AudioError(f"Audio '{name}' is empty (no samples).")
    if not np.isfinite(samples).all():
        raise AudioError(f"Audio '{name}' contains invalid (NaN or infinite) samples.")
    return AudioClip(samples=np.ascontiguousarray(samples, dtype=np.float32), sample_rate=int(sample_rate), source=name)


def resample_soxr(samples: np.ndarray, sample_rate_in: int, sample_rate_out: int) -> np.ndarray:
    """soxr "HQ" resampling of mono float32 [n], exactly as `librosa.resample(res_type="soxr_hq")` (librosa 0.10.2).

    librosa trims or zero-pads soxr's output to ceil(n * ratio) samples (`fix=True`), so we do too.
    """
    if sample_rate_in == sample_rate_out:
        return samples
    resampled = soxr.resample(samples, sample_rate_in, sample_rate_out, quality="HQ")
    target_length = int(np.ceil(samples.shape[-1] * (float(sample_rate_out) / sample_rate_in)))
    if resampled.shape[-1] >= target_length:
        return np.ascontiguousarray(resampled[:target_length], dtype=np.float32)
    return np.pad(resampled, (0, target_length - resampled.shape[-1])).astype(np.float32)


@lru_cache(maxsize=16)
def _sinc_kernel(rate_in: int, rate_out: int, lowpass_filter_width: int, rolloff: float) -> tuple[torch.Tensor, int]:
    """Polyphase windowed-sinc filter bank for rate_in -> rate_out (both already divided by their gcd).

    Output sample j sits at time j / rate_out; it is the sum of input samples i at i / rate_in weighted by a
    low-pass sinc (cut-off `rolloff * min(rates) / 2`) under a Hann window spanning `lowpass_filter_width`
    zero crossings on each side. Outputs repeat their phase every `rate_out` samples, so we need one
    filter per phase ([rate_out, 1, taps]), applied with stride `rate_in`. Computed in float64, stored float32.
    Returns (kernel, width) where width is the number of input samples the filter reaches before/after.
    """
    cutoff = min(rate_in, rate_out) * rolloff  # in units where the input rate is `rate_in`
    width = math.ceil(lowpass_filter_width * rate_in / cutoff)
    input_times = torch.arange(-width, width + rate_in, dtype=torch.float64) / rate_in  # [taps]
    # Phase offsets -j / rate_out; torchaudio computes these in float32 before widening, and so do we.
    output_phases = (torch.arange(0, -rate_out, -1) / rate_out).to(torch.float64)  # [rate_out]
    t = (output_phases[:, None] + input_times[None, :]) * cutoff  # distance in zero crossings of the sinc
    t = t.clamp(-lowpass_filter_width, lowpass_filter_width)
    window = torch.cos(t * math.pi / lowpass_filter_width / 2) ** 2  # Hann, zero at +-lowpass_filter_width
    t = t * math.pi
    sinc = torch.where(t == 0, torch.ones_like(t), torch.sin(t) / t)
    kernel = sinc * (window * (cutoff / rate_in))
    return kernel.to(torch.float32)[:, None, :], width


def resample_sinc(audio: torch.Tensor, sample_rate_in: int, sample_rate_out: int) -> torch.Tensor:
    """Windowed-sinc resampling of float32 [..., n], equal to `torchaudio.transforms.Resample(in, out)` defaults
    (sinc_interp_hann, lowpass_filter_width 6, rolloff 0.99). Output length ceil(n * out / in)."""
    if sample_rate_in == sample_rate_out:
        return audio
    gcd = math.gcd(sample_rate_in, sample_rate_out)
    rate_in, rate_out = sample_rate_in // gcd, sample_rate_out // gcd
    kernel, width = _sinc_kernel(rate_in, rate_out, 6, 0.99)

    leading_shape, length = audio.shape[:-1], audio.shape[-1]
    signal = F.pad(audio.reshape(-1, 1, length), (width, width + rate_in))  # [batch, 1, width + n + width + rate_in]
    phases = F.conv1d(signal, kernel.to(audio.dtype), stride=rate_in)  # [batch, rate_out, blocks]
    interleaved = phases.transpose(1, 2).reshape(phases.shape[0], -1)  # phase j of block b -> b * rate_out + j
    target_length = math.ceil(rate_out * length / rate_in)
    return interleaved[:, :target_length].reshape(*leading_shape, -1)


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
