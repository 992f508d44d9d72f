"""AP-BWE (Lu et al.), the optional super-resolution of v3 output: 24 kHz -> 48 kHz (upstream `tools/audio_sr.py`).

The 24 kHz audio is first sinc-resampled to 48 kHz (it then has nothing above 12 kHz); the model predicts the full
band's log-amplitude and phase from those of the resampled signal, frame by frame:

    X          = STFT(audio_48k)           n_fft 1024, hop 80, Hann window 320, centred (reflect padding)
    amp, pha   = log(|X| + 1e-4), angle(X)                                              [513, frames] each
    a, p       = ConvNeXt stacks over frames, mixing the two streams before each block
    amp_wb     = amp + Linear(a);   pha_wb = atan2(Linear_i(p), Linear_r(p))
    audio      = iSTFT(exp(amp_wb) * e^(i pha_wb))   (no target length: 80 * (frames - 1) samples)

Files: `g_24kto48k.zip` (despite the name a torch zip: {"generator": state dict}) + `config.json` beside it.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from gpt_sovits.errors import CheckpointError
from gpt_sovits.messages import Message
from gpt_sovits.models.sovits import check_state_dict

WEIGHTS_FILE = "g_24kto48k.zip"
CONFIG_FILE = "config.json"


@dataclass(frozen=True)
class APBWEConfig:
    channels: int  # ConvNeXt_channels
    layers: int  # ConvNeXt_layers
    n_fft: int
    hop_size: int
    win_size: int
    input_rate: int  # lr_sampling_rate (24000)
    output_rate: int  # hr_sampling_rate (48000)

    @classmethod
    def from_file(cls, path: Path) -> "APBWEConfig":
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            return cls(
                channels=int(raw["ConvNeXt_channels"]),
                layers=int(raw["ConvNeXt_layers"]),
                n_fft=int(raw["n_fft"]),
                hop_size=int(raw["hop_size"]),
                win_size=int(raw["win_size"]),
                input_rate=int(raw["lr_sampling_rate"]),
                output_rate=int(raw["hr_sampling_rate"]),
            )
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise CheckpointError(Message(
                "Cannot read {path} for the {what} model: {error}", path=f"{path.parent.name}/{path.name}", what="AP-BWE",
                error=str(error),
            )) from None  # fmt: skip


class ConvNeXtBlock(nn.Module):
    """ConvNeXt (v1) block over frames: depthwise conv k7 -> LayerNorm -> Linear x3 -> GELU -> Linear, scaled by
    a learned per-channel gamma, plus the input. [1, c, frames] -> [1, c, frames]"""

    def __init__(self, channels: int):
        super().__init__()
        self.dwconv = nn.Conv1d(channels, channels, 7, padding=3, groups=channels)
        self.norm = nn.LayerNorm(channels, eps=1e-6)
        self.pwconv1 = nn.Linear(channels, 3 * channels)
        self.pwconv2 = nn.Linear(3 * channels, channels)
        self.gamma = nn.Parameter(torch.ones(channels))

    def forward(self, x):
        h = self.norm(self.dwconv(x).transpose(1, 2))
        h = self.gamma * self.pwconv2(F.gelu(self.pwconv1(h)))
        return x + h.transpose(1, 2)


class APBWE(nn.Module):
    def __init__(self, config: APBWEConfig):
        super().__init__()
        self.config = config
        bins, c = config.n_fft // 2 + 1, config.channels
        self.conv_pre_mag = nn.Conv1d(bins, c, 7, padding=3)
        self.norm_pre_mag = nn.LayerNorm(c, eps=1e-6)
        self.conv_pre_pha = nn.Conv1d(bins, c, 7, padding=3)
        self.norm_pre_pha = nn.LayerNorm(c, eps=1e-6)
        self.convnext_mag = nn.ModuleList(ConvNeXtBlock(c) for _ in range(config.layers))
        self.convnext_pha = nn.ModuleList(ConvNeXtBlock(c) for _ in range(config.layers))
        self.norm_post_mag = nn.LayerNorm(c, eps=1e-6)
        self.norm_post_pha = nn.LayerNorm(c, eps=1e-6)
        self.linear_post_mag = nn.Linear(c, bins)
        self.linear_post_pha_r = nn.Linear(c, bins)
        self.linear_post_pha_i = nn.Linear(c, bins)

    @classmethod
    def from_dir(cls, model_dir: str | Path) -> "APBWE":
        """Load `g_24kto48k.zip` + `config.json` from a folder; float32, eval mode."""
        from gpt_sovits.checkpoints import load_state_dict_file

        model_dir = Path(model_dir)
        model = cls(APBWEConfig.from_file(model_dir / CONFIG_FILE))
        state = {name: t.float() for name, t in load_state_dict_file(model_dir / WEIGHTS_FILE, "generator").items()}
        check_state_dict(model, state, f"{model_dir.name}/{WEIGHTS_FILE}", Message("AP-BWE model"))
        model.load_state_dict(state, strict=True)
        return model.eval().requires_grad_(False)

    def forward(self, log_amplitude, phase):
        """Narrow-band log-amplitude and phase [1, bins, frames] -> wide-band ones, same shape."""
        a = self.norm_pre_mag(self.conv_pre_mag(log_amplitude).transpose(1, 2)).transpose(1, 2)
        p = self.norm_pre_pha(self.conv_pre_pha(phase).transpose(1, 2)).transpose(1, 2)
        for block_mag, block_pha in zip(self.convnext_mag, self.convnext_pha):
            a = a + p
            p = p + a
            a, p = block_mag(a), block_pha(p)
        a = self.norm_post_mag(a.transpose(1, 2))
        log_amplitude_wb = log_amplitude + self.linear_post_mag(a).transpose(1, 2)
        p = self.norm_post_pha(p.transpose(1, 2))
        phase_wb = torch.atan2(self.linear_post_pha_i(p), self.linear_post_pha_r(p)).transpose(1, 2)
        return log_amplitude_wb, phase_wb

    # The stages, in pipeline order; `super_resolve` chains them.

    @torch.inference_mode()
    def narrow_band_spectrum(self, audio: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Audio [n] at config.input_rate -> (log-amplitude, phase) [1, bins, frames] of it resampled to
        config.output_rate (frames = 2n / hop + 1)."""
        config = self.config
        upsampled = resample_sinc_float32_kernel(audio[None].to(self.conv_pre_mag.weight), config.input_rate, config.output_rate)
        spectrum = torch.stft(
            upsampled, config.n_fft, hop_length=config.hop_size, win_length=config.win_size, window=self._window(),
            center=True, pad_mode="reflect", normalized=False, return_complex=True,
        )
        return torch.log(torch.abs(spectrum) + 1e-4), torch.angle(spectrum)

    @torch.inference_mode()
    def waveform(self, log_amplitude: torch.Tensor, phase: torch.Tensor) -> torch.Tensor:
        """Wide-band (log-amplitude, phase) -> audio [hop * (frames - 1)] at config.output_rate (no target length)."""
        config = self.config
        amplitude = torch.exp(log_amplitude)
        spectrum = torch.complex(amplitude * torch.cos(phase), amplitude * torch.sin(phase))
        return torch.istft(
            spectrum, config.n_fft, hop_length=config.hop_size, win_length=config.win_size, window=self._window(), center=True
        )[0]

    @torch.inference_mode()
    def super_resolve(self, audio: torch.Tensor) -> torch.Tensor:
        """Audio [n] at config.input_rate (24 kHz) -> [m] at config.output_rate (48 kHz), m = hop * (frames - 1)."""
        return self.waveform(*self(*self.narrow_band_spectrum(audio)))

    def _window(self) -> torch.Tensor:
        weight = self.conv_pre_mag.weight
        return torch.hann_window(self.config.win_size, dtype=weight.dtype, device=weight.device)


@lru_cache(maxsize=4)
def _float32_sinc_kernel(rate_in: int, rate_out: int) -> tuple[torch.Tensor, int]:
    """The windowed-sinc filter bank of `torchaudio.functional.resample` (Hann, 6 zero crossings, rolloff 0.99)
    computed in float32 throughout, as that function does for float32 audio (`gpt_sovits.audio.resample_sinc`
    reproduces the `Resample` transform, whose kernel is computed in float64)."""
    lowpass_filter_width, rolloff = 6, 0.99
    cutoff = min(rate_in, rate_out) * rolloff
    width = math.ceil(lowpass_filter_width * rate_in / cutoff)
    input_times = torch.arange(-width, width + rate_in, dtype=torch.float32)[None, None] / rate_in
    t = torch.arange(0, -rate_out, -1, dtype=torch.float32)[:, None, None] / rate_out + input_times
    t = (t * cutoff).clamp_(-lowpass_filter_width, lowpass_filter_width)
    window = torch.cos(t * math.pi / lowpass_filter_width / 2) ** 2
    t = t * math.pi
    kernel = torch.where(t == 0, torch.tensor(1.0), t.sin() / t)
    return kernel * (window * (cutoff / rate_in)), width


def resample_sinc_float32_kernel(audio: torch.Tensor, sample_rate_in: int, sample_rate_out: int) -> torch.Tensor:
    """`torchaudio.functional.resample(audio, in, out)` for float32 [1, n] audio (upstream's AP-BWE input)."""
    gcd = math.gcd(sample_rate_in, sample_rate_out)
    rate_in, rate_out = sample_rate_in // gcd, sample_rate_out // gcd
    kernel, width = _float32_sinc_kernel(rate_in, rate_out)
    length = audio.shape[-1]
    padded = F.pad(audio[:, None, :], (width, width + rate_in))
    phases = F.conv1d(padded, kernel.to(audio), stride=rate_in)  # [1, rate_out, blocks]
    interleaved = phases.transpose(1, 2).reshape(1, -1)
    return interleaved[:, : math.ceil(rate_out * length / rate_in)]
