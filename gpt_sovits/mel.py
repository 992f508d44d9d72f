"""The log-mel front end of the v3 / v4 models: the reference's mel spectrogram and its normalisation.

v3 and v4 generate mel spectrograms (100 bands) with a flow-matching model that continues the reference's own mel
(the "prompt"), and a vocoder turns the result into audio. The reference mel must be computed exactly as the models
were trained (upstream `module/mel_processing.py:mel_spectrogram_torch`):

    audio      the reference, channel mean, sinc-resampled to the mel rate (24 kHz v3, 32 kHz v4), **no** peak limit
    magnitude  reflect-pad (n_fft - hop) / 2 each side, STFT without centring, Hann window, sqrt(re^2 + im^2 + 1e-8)
    mel        librosa's Slaney mel filterbank (0 Hz .. rate / 2) times the magnitude
    log        log(max(mel, 1e-5))
    normalise  (x + 12) / 14 * 2 - 1   (maps upstream's log-mel range [-12, 2] to [-1, 1])
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F

from gpt_sovits.audio import AudioClip, resample_sinc

MEL_BANDS = 100
LOG_MEL_MIN, LOG_MEL_MAX = -12.0, 2.0  # upstream spec_min / spec_max: the range mapped to [-1, 1]


@dataclass(frozen=True)
class MelConfig:
    sample_rate: int
    n_fft: int
    hop_length: int
    win_length: int
    n_mels: int = MEL_BANDS

    @property
    def frames_per_second(self) -> float:
        return self.sample_rate / self.hop_length


V3_MEL = MelConfig(sample_rate=24000, n_fft=1024, hop_length=256, win_length=1024)  # 93.75 frames / s
V4_MEL = MelConfig(sample_rate=32000, n_fft=1280, hop_length=320, win_length=1280)  # 100 frames / s


def reference_mel_audio(clip: AudioClip, config: MelConfig) -> torch.Tensor:
    """The reference as the mel front end hears it: mono, at the mel rate, [1, n] float32 (no peak limit)."""
    audio = torch.from_numpy(clip.mono().copy())[None, :]
    return resample_sinc(audio, clip.sample_rate, config.sample_rate)


def log_mel_spectrogram(audio: torch.Tensor, config: MelConfig) -> torch.Tensor:
    """[1, n] float32 audio at config.sample_rate -> [1, n_mels, n // hop] log-mel spectrogram."""
    pad = (config.n_fft - config.hop_length) // 2
    padded = F.pad(audio[:, None, :], (pad, pad), mode="reflect")[:, 0, :]
    window = torch.hann_window(config.win_length, dtype=audio.dtype, device=audio.device)
    stft = torch.stft(
        padded,
        config.n_fft,
        hop_length=config.hop_length,
        win_length=config.win_length,
        window=window,
        center=False,
        normalized=False,
        onesided=True,
        return_complex=True,
    )
    magnitude = torch.sqrt(torch.view_as_real(stft).pow(2).sum(-1) + 1e-8)  # [1, n_fft // 2 + 1, frames]
    basis = _mel_basis(config.sample_rate, config.n_fft, config.n_mels).to(audio.device, audio.dtype)
    mel = torch.matmul(basis, magnitude)
    return torch.log(torch.clamp(mel, min=1e-5))


def normalize_log_mel(log_mel: torch.Tensor) -> torch.Tensor:
    """Upstream norm_spec: [-12, 2] -> [-1, 1] (written as upstream does, for the same rounding)."""
    return (log_mel - LOG_MEL_MIN) / (LOG_MEL_MAX - LOG_MEL_MIN) * 2 - 1


def denormalize_log_mel(normalized: torch.Tensor) -> torch.Tensor:
    """Upstream denorm_spec, the inverse of normalize_log_mel."""
    return (normalized + 1) / 2 * (LOG_MEL_MAX - LOG_MEL_MIN) + LOG_MEL_MIN


@lru_cache(maxsize=8)
def _mel_basis(sample_rate: int, n_fft: int, n_mels: int) -> torch.Tensor:
    return torch.from_numpy(slaney_mel_filterbank(sample_rate, n_fft, n_mels))  # shared: never modified


def slaney_mel_filterbank(sample_rate: int, n_fft: int, n_mels: int) -> np.ndarray:
    """[n_mels, n_fft // 2 + 1] float32, equal to `librosa.filters.mel(sr=sample_rate, n_fft=n_fft, n_mels=n_mels)`
    (librosa 0.10: Slaney mel scale, fmin 0, fmax sample_rate / 2, Slaney area normalisation).

    Triangles are computed in float64 and stored into float32 before the area normalisation, as librosa does.
    """
    fft_frequencies = np.fft.rfftfreq(n=n_fft, d=1.0 / sample_rate)
    mel_edges = np.linspace(_hz_to_slaney_mel(0.0), _hz_to_slaney_mel(sample_rate / 2.0), n_mels + 2)
    band_edges_hz = _slaney_mel_to_hz(mel_edges)  # n_mels + 2 edges: band i spans edges i .. i + 2
    widths = np.diff(band_edges_hz)
    ramps = np.subtract.outer(band_edges_hz, fft_frequencies)
    weights = np.zeros((n_mels, fft_frequencies.size), dtype=np.float32)
    for band in range(n_mels):
        rising = -ramps[band] / widths[band]
        falling = ramps[band + 2] / widths[band + 1]
        weights[band] = np.maximum(0, np.minimum(rising, falling))
    weights *= (2.0 / (band_edges_hz[2:] - band_edges_hz[:-2]))[:, None]  # equal area per band
    return weights


# The Slaney mel scale: linear below 1 kHz (200/3 Hz per mel), logarithmic above (27 mels per factor 6.4).
# Constants are written as librosa computes them, so the float64 values round the same way.
_HZ_PER_MEL_LINEAR = 200.0 / 3
_LOG_REGION_HZ = 1000.0
_LOG_REGION_MEL = _LOG_REGION_HZ / _HZ_PER_MEL_LINEAR  # 15
_LOG_STEP = np.log(6.4) / 27.0


def _hz_to_slaney_mel(hz: float) -> float:
    if hz >= _LOG_REGION_HZ:
        return _LOG_REGION_MEL + np.log(hz / _LOG_REGION_HZ) / _LOG_STEP
    return hz / _HZ_PER_MEL_LINEAR


def _slaney_mel_to_hz(mels: np.ndarray) -> np.ndarray:
    hz = _HZ_PER_MEL_LINEAR * mels
    log_region = mels >= _LOG_REGION_MEL
    hz[log_region] = _LOG_REGION_HZ * np.exp(_LOG_STEP * (mels[log_region] - _LOG_REGION_MEL))
    return hz
