"""BigVGAN v2 (NVIDIA), the v3 vocoder: 100-band log-mel at 93.75 Hz -> 24 kHz audio (`bigvgan_v2_24khz_100band_256x`).

    x = conv_pre(mel)
    per stage: x = ConvTranspose(x)   (x upsample_rates[i]), then the mean of the stage's AMP blocks
    AMP block: for each dilation: x = x + conv2(act2(conv1_dilated(act1(x))))
    audio = clamp(conv_post(act_post(x)), -1, 1)   (or tanh, per config)

Every activation is anti-aliased SnakeBeta: upsample x2 (kaiser-sinc filter), x + 1/b * sin^2(a x) with per-channel
a = exp(alpha), b = exp(beta), low-pass and downsample x2. The filters are buffers of the checkpoint.

Files: `config.json` (hyperparameters) + `bigvgan_generator.pt` = {"generator": state dict with weight norm}
(upstream calls `remove_weight_norm()` after loading; we fold the norms the same way).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from gpt_sovits.errors import CheckpointError
from gpt_sovits.messages import Message
from gpt_sovits.models.sovits import check_state_dict, fold_weight_norms

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "bigvgan_generator.pt"


@dataclass(frozen=True)
class BigVGANConfig:
    num_mels: int
    sampling_rate: int
    hop_size: int
    upsample_rates: tuple[int, ...]
    upsample_kernel_sizes: tuple[int, ...]
    upsample_initial_channel: int
    resblock_kernel_sizes: tuple[int, ...]
    resblock_dilation_sizes: tuple[tuple[int, ...], ...]
    use_tanh_at_final: bool
    use_bias_at_final: bool

    @classmethod
    def from_file(cls, path: Path) -> "BigVGANConfig":
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            if raw.get("resblock") != "1" or raw.get("activation") != "snakebeta" or not raw.get("snake_logscale"):
                raise CheckpointError(Message(
                    "'{file}' describes a BigVGAN variant this app does not run (it needs resblock '1' and log-scale "
                    "snakebeta activations, as bigvgan_v2_24khz_100band_256x has). Download the official v3 vocoder "
                    "folder again.",
                    file=f"{path.parent.name}/{path.name}",
                ))  # fmt: skip
            return cls(
                num_mels=int(raw["num_mels"]),
                sampling_rate=int(raw["sampling_rate"]),
                hop_size=int(raw["hop_size"]),
                upsample_rates=tuple(int(r) for r in raw["upsample_rates"]),
                upsample_kernel_sizes=tuple(int(k) for k in raw["upsample_kernel_sizes"]),
                upsample_initial_channel=int(raw["upsample_initial_channel"]),
                resblock_kernel_sizes=tuple(int(k) for k in raw["resblock_kernel_sizes"]),
                resblock_dilation_sizes=tuple(tuple(int(d) for d in ds) for ds in raw["resblock_dilation_sizes"]),
                use_tanh_at_final=bool(raw.get("use_tanh_at_final", True)),
                use_bias_at_final=bool(raw.get("use_bias_at_final", True)),
            )
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise CheckpointError(Message(
                "Cannot read {path} for the {what} model: {error}", path=f"{path.parent.name}/{path.name}", what="BigVGAN",
                error=str(error),
            )) from None  # fmt: skip


class AntiAliasedSnakeBeta(nn.Module):
    """Upsample x2 -> SnakeBeta -> low-pass + downsample x2 (BigVGAN `Activation1d`), on [1, c, t] -> [1, c, t].

    The 12-tap kaiser-sinc filters (`upsample_filter`, `downsample_filter`) come with the checkpoint; signal ends
    are padded by repeating the edge sample, as upstream does.
    """

    ratio = 2
    taps = 12

    def __init__(self, channels: int):
        super().__init__()
        self.alpha = nn.Parameter(torch.zeros(channels))  # log-scale: frequency a = exp(alpha)
        self.beta = nn.Parameter(torch.zeros(channels))  # log-scale: magnitude 1 / b, b = exp(beta)
        self.register_buffer("upsample_filter", torch.zeros(1, 1, self.taps))
        self.register_buffer("downsample_filter", torch.zeros(1, 1, self.taps))

    def forward(self, x):
        channels = x.shape[1]
        # Upsample: zero-stuffing transposed conv with the filter times 2, trimmed back to exactly 2 t samples.
        pad = self.taps // self.ratio - 1
        trim = pad * self.ratio + (self.taps - self.ratio) // 2
        x = F.pad(x, (pad, pad), mode="replicate")
        x = self.ratio * F.conv_transpose1d(x, self.upsample_filter.expand(channels, -1, -1), stride=self.ratio, groups=channels)
        x = x[..., trim:-trim]
        # SnakeBeta, written as upstream computes it.
        alpha = torch.exp(self.alpha)[None, :, None]
        beta = torch.exp(self.beta)[None, :, None]
        x = x + (1.0 / (beta + 0.000000001)) * torch.pow(torch.sin(x * alpha), 2)
        # Low-pass and keep every second sample.
        x = F.pad(x, (self.taps // 2 - 1, self.taps // 2), mode="replicate")
        return F.conv1d(x, self.downsample_filter.expand(channels, -1, -1), stride=self.ratio, groups=channels)


class AMPBlock(nn.Module):
    """BigVGAN AMPBlock1: per dilation d, x + conv(act(conv_d(act(x)))) (convs 'same'-padded)."""

    def __init__(self, channels: int, kernel_size: int, dilations: tuple[int, ...]):
        super().__init__()
        self.convs1 = nn.ModuleList(
            nn.Conv1d(channels, channels, kernel_size, dilation=d, padding=d * (kernel_size - 1) // 2) for d in dilations
        )
        self.convs2 = nn.ModuleList(
            nn.Conv1d(channels, channels, kernel_size, padding=(kernel_size - 1) // 2) for _ in dilations
        )
        # Checkpoint order: activations 2k and 2k + 1 belong to the k-th (conv1, conv2) pair.
        self.activations = nn.ModuleList(AntiAliasedSnakeBeta(channels) for _ in range(2 * len(dilations)))

    def forward(self, x):
        for k, (conv1, conv2) in enumerate(zip(self.convs1, self.convs2)):
            x = conv2(self.activations[2 * k + 1](conv1(self.activations[2 * k](x)))) + x
        return x


class BigVGAN(nn.Module):
    def __init__(self, config: BigVGANConfig):
        super().__init__()
        self.config = config
        channels = config.upsample_initial_channel
        self.conv_pre = nn.Conv1d(config.num_mels, channels, 7, padding=3)
        self.ups = nn.ModuleList()
        self.resblocks = nn.ModuleList()  # flat: stage i owns resblocks[i * n : (i + 1) * n]
        for rate, kernel in zip(config.upsample_rates, config.upsample_kernel_sizes):
            self.ups.append(nn.ConvTranspose1d(channels, channels // 2, kernel, rate, padding=(kernel - rate) // 2))
            channels //= 2
            for k, dilations in zip(config.resblock_kernel_sizes, config.resblock_dilation_sizes):
                self.resblocks.append(AMPBlock(channels, k, dilations))
        self.activation_post = AntiAliasedSnakeBeta(channels)
        self.conv_post = nn.Conv1d(channels, 1, 7, padding=3, bias=config.use_bias_at_final)

    @property
    def sample_rate(self) -> int:
        return self.config.sampling_rate

    @classmethod
    def from_dir(cls, model_dir: str | Path) -> "BigVGAN":
        """Load `config.json` + `bigvgan_generator.pt` from a folder (upstream `BigVGAN.from_pretrained(dir)`)."""
        from gpt_sovits.checkpoints import load_state_dict_file

        model_dir = Path(model_dir)
        model = cls(BigVGANConfig.from_file(model_dir / CONFIG_FILE))
        state = prepare_state_dict(load_state_dict_file(model_dir / WEIGHTS_FILE, "generator"))
        check_state_dict(model, state, f"{model_dir.name}/{WEIGHTS_FILE}", Message("BigVGAN vocoder"))
        model.load_state_dict(state, strict=True)
        return model.eval().requires_grad_(False)

    @torch.inference_mode()
    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        """Log-mel [1, num_mels, frames] -> audio [1, 1, frames * prod(upsample_rates)] in [-1, 1]."""
        x = self.conv_pre(mel)
        n = len(self.config.resblock_kernel_sizes)
        for i, upsample in enumerate(self.ups):
            x = upsample(x)
            blocks = self.resblocks[i * n : (i + 1) * n]
            mixed = blocks[0](x)
            for block in blocks[1:]:
                mixed += block(x)
            x = mixed / n
        x = self.conv_post(self.activation_post(x))
        return torch.tanh(x) if self.config.use_tanh_at_final else torch.clamp(x, min=-1.0, max=1.0)


_RENAMES = (
    (".act.alpha", ".alpha"),
    (".act.beta", ".beta"),
    (".upsample.filter", ".upsample_filter"),
    (".downsample.lowpass.filter", ".downsample_filter"),
)


def prepare_state_dict(official: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Official generator tensors -> ours: weight norms folded, `ups.<i>.0` -> `ups.<i>`, activation renames."""
    state = {}
    for name, tensor in fold_weight_norms(official).items():
        if name.startswith("ups."):
            stage, _, rest = name[len("ups."):].split(".", 2)
            name = f"ups.{stage}.{rest}"
        for old, new in _RENAMES:
            name = name.replace(old, new)
        state[name] = tensor
    return state
