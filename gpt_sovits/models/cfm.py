"""The flow-matching mel generator of the v3 / v4 models: a diffusion transformer (DiT) and its Euler sampler.

Given a condition per output frame (the SoVITS features, 512 wide) and the reference's mel spectrogram as a prompt
for the first frames, the model integrates a velocity field from Gaussian noise (t = 0) to a mel spectrogram
(t = 1) in `steps` Euler steps of size d = 1 / steps:

    x_0      = noise [1, 100, T], with the prompt frames set to zero
    x_{j+1}  = x_j + d * v(x_j, prompt, condition, t = j * d, d),   prompt frames zeroed again after each step

The velocity v is the DiT (upstream f5-tts `DiT(dim=1024, depth=22, heads=16, dim_head=64, ff_mult=2,
text_dim=512, conv_layers=4)`, 337 M parameters, hard-wired in the official models):

    c        = ConvNeXtV2 x 4 (condition + sinusoidal positions)                        [T, 512], once per call
    h        = Linear(cat(x, prompt, c)) + grouped-conv position embedding              [T, 1024]
    s        = MLP(sinusoid(1000 t)) + MLP(sinusoid(1000 d))                            [1024] step conditioning
    h        = 22 x { h += g1 * Attention(LN(h) * (1 + a1) + b1);  h += g2 * FF(LN(h) * (1 + a2) + b2) },
               (a1, b1, g1, a2, b2, g2) = Linear(SiLU(s))   (adaptive LayerNorm, "AdaLN-zero")
    v        = Linear(LN(h) * (1 + a) + b),  (a, b) = Linear(SiLU(s))                    [T, 100]

Rotary position embedding (x_transformers, 64 dims, base 10000, interleaved pairs) is applied to the first 64 of
the 1024 query / key channels only, i.e. to head 0 alone: f5-tts rotates q and k before splitting the heads.

Tensors are [batch, time, channels] inside the DiT; the sampler works in [batch, channels, time] like upstream.
Attribute names follow the official checkpoint where they are not plumbing; `DIT_RENAMES` maps the rest.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

MEL_CHANNELS = 100
CONDITION_CHANNELS = 512  # SoVITS v3/v4 feature width (wns1 output)
DIT_DIM = 1024
DIT_DEPTH = 22
DIT_HEADS = 16
DIT_HEAD_DIM = 64
DIT_FF_MULT = 2
CONDITION_BLOCKS = 4
TIMESTEP_FREQUENCIES = 256
TIMESTEP_SCALE = 1000.0  # t in [0, 1] is embedded as the sinusoid of 1000 t
CONDITION_MAX_POSITIONS = 4096  # positions of the condition's sinusoidal table (later frames reuse the last one)

# Official name fragment -> ours (applied to names below `cfm.estimator.`).
DIT_RENAMES = (
    ("rotary_embed.inv_freq", "rotary_inv_freq"),
    (".attn_norm.linear.", ".modulation."),
    (".attn.to_q.", ".to_q."),
    (".attn.to_k.", ".to_k."),
    (".attn.to_v.", ".to_v."),
    (".attn.to_out.0.", ".to_out."),
    (".ff.ff.0.0.", ".ff_in."),
    (".ff.ff.2.", ".ff_out."),
    ("norm_out.linear.", "final_modulation."),
)


def layer_norm(x: torch.Tensor) -> torch.Tensor:
    """LayerNorm over channels without learned scale and shift (eps 1e-6), as every DiT norm is."""
    return F.layer_norm(x, x.shape[-1:], eps=1e-6)


class TimestepEmbedding(nn.Module):
    """Scalar in [0, 1] -> [1, dim]: sinusoid(1000 * value) in 256 frequencies, then Linear / SiLU / Linear."""

    def __init__(self, dim: int):
        super().__init__()
        self.time_mlp = nn.Sequential(nn.Linear(TIMESTEP_FREQUENCIES, dim), nn.SiLU(), nn.Linear(dim, dim))

    def forward(self, value: torch.Tensor) -> torch.Tensor:  # value [1] float32
        half = TIMESTEP_FREQUENCIES // 2
        exponent = math.log(10000) / (half - 1)
        frequencies = torch.exp(torch.arange(half, device=value.device).float() * -exponent)
        angles = TIMESTEP_SCALE * value[:, None] * frequencies[None, :]  # upstream's order: (1000 * t) * f
        return self.time_mlp(torch.cat([angles.sin(), angles.cos()], dim=-1).to(value.dtype))


class GlobalResponseNorm(nn.Module):
    """ConvNeXt-V2's GRN: scale each channel by its L2 norm over time, relative to the mean over channels."""

    def __init__(self, channels: int):
        super().__init__()
        self.gamma = nn.Parameter(torch.zeros(1, 1, channels))
        self.beta = nn.Parameter(torch.zeros(1, 1, channels))

    def forward(self, x):  # [b, t, c]
        norm = torch.norm(x, p=2, dim=1, keepdim=True)  # over time: the whole chunk sees itself
        relative = norm / (norm.mean(dim=-1, keepdim=True) + 1e-6)
        return self.gamma * (x * relative) + self.beta + x


class ConvNeXtV2Block(nn.Module):
    """Depthwise conv (k 7) -> LayerNorm -> Linear x2 -> GELU -> GRN -> Linear, plus the input."""

    def __init__(self, channels: int, hidden: int):
        super().__init__()
        self.dwconv = nn.Conv1d(channels, channels, 7, padding=3, groups=channels)
        self.norm = nn.LayerNorm(channels, eps=1e-6)
        self.pwconv1 = nn.Linear(channels, hidden)
        self.grn = GlobalResponseNorm(hidden)
        self.pwconv2 = nn.Linear(hidden, channels)

    def forward(self, x):  # [b, t, c]
        h = self.dwconv(x.transpose(1, 2)).transpose(1, 2)
        h = self.pwconv2(self.grn(F.gelu(self.pwconv1(self.norm(h)))))
        return x + h


class ConditionEmbedding(nn.Module):
    """The per-frame condition (upstream "text"): + sinusoidal positions (cos | sin, 256 frequencies each),
    then ConvNeXt-V2 blocks. Computed once per sampling call (it does not depend on t)."""

    def __init__(self, channels: int, blocks: int):
        super().__init__()
        self.text_blocks = nn.Sequential(*(ConvNeXtV2Block(channels, 2 * channels) for _ in range(blocks)))

    def forward(self, condition):  # [b, t, c]
        frames, channels = condition.shape[1], condition.shape[2]
        positions = torch.arange(frames, device=condition.device).clamp(max=CONDITION_MAX_POSITIONS - 1)
        return self.text_blocks(condition + _position_table(channels, positions).to(condition.dtype))


def _position_table(channels: int, positions: torch.Tensor) -> torch.Tensor:
    """f5-tts `precompute_freqs_cis(channels, ...)[positions]`: [len, channels] = cat(cos, sin) of pos * f_k,
    f_k = 10000^(-2k / channels), k < channels / 2; in float32 as upstream computes it."""
    half = channels // 2
    frequencies = 1.0 / (10000.0 ** (torch.arange(0, channels, 2, device=positions.device)[:half].float() / channels))
    angles = torch.outer(positions, frequencies).float()
    return torch.cat([torch.cos(angles), torch.sin(angles)], dim=-1)


class InputEmbedding(nn.Module):
    """cat(noisy mel, prompt mel, condition embedding) -> model width, plus a convolutional position embedding."""

    def __init__(self, mel_channels: int, condition_channels: int, dim: int, kernel_size: int = 31, groups: int = 16):
        super().__init__()
        self.proj = nn.Linear(2 * mel_channels + condition_channels, dim)
        conv = dict(kernel_size=kernel_size, groups=groups, padding=kernel_size // 2)
        self.conv_pos_embed = nn.Module()
        self.conv_pos_embed.conv1d = nn.Sequential(nn.Conv1d(dim, dim, **conv), nn.Mish(), nn.Conv1d(dim, dim, **conv), nn.Mish())

    def forward(self, x, prompt, condition):  # [b, t, *]
        h = self.proj(torch.cat([x, prompt, condition], dim=-1))
        return self.conv_pos_embed.conv1d(h.transpose(1, 2)).transpose(1, 2) + h


def rotate_head0(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """x_transformers rotary embedding on the first `cos.shape[-1]` channels of x [b, t, C] (interleaved pairs:
    channels (2i, 2i+1) rotate together by angle pos * f_i); the other channels pass unchanged."""
    width = cos.shape[-1]
    rotated, rest = x[..., :width], x[..., width:]
    pairs = rotated.unflatten(-1, (-1, 2))
    quarter_turn = torch.stack([-pairs[..., 1], pairs[..., 0]], dim=-1).flatten(-2)  # (a, b) -> (-b, a)
    return torch.cat([rotated * cos + quarter_turn * sin, rest], dim=-1)


class DiTBlock(nn.Module):
    def __init__(self, dim: int, heads: int, head_dim: int, ff_mult: int):
        super().__init__()
        self.heads = heads
        inner = heads * head_dim
        self.modulation = nn.Linear(dim, 6 * dim)
        self.to_q = nn.Linear(dim, inner)
        self.to_k = nn.Linear(dim, inner)
        self.to_v = nn.Linear(dim, inner)
        self.to_out = nn.Linear(inner, dim)
        self.ff_in = nn.Linear(dim, ff_mult * dim)
        self.ff_out = nn.Linear(ff_mult * dim, dim)

    def forward(self, h, step, rope_cos, rope_sin):
        """h [1, t, dim], step [1, dim] (time + step-size embedding), rope_* [1, t, 64]."""
        shift_attn, scale_attn, gate_attn, shift_ff, scale_ff, gate_ff = self.modulation(F.silu(step)).chunk(6, dim=1)

        x = layer_norm(h) * (1 + scale_attn[:, None]) + shift_attn[:, None]
        q = rotate_head0(self.to_q(x), rope_cos, rope_sin)
        k = rotate_head0(self.to_k(x), rope_cos, rope_sin)
        v = self.to_v(x)
        b, t, inner = q.shape
        q, k, v = (y.view(b, t, self.heads, inner // self.heads).transpose(1, 2) for y in (q, k, v))
        # Upstream passes an all-true mask (one utterance, no padding); SDPA gives the same result without one.
        attended = F.scaled_dot_product_attention(q, k, v)
        h = h + gate_attn[:, None] * self.to_out(attended.transpose(1, 2).reshape(b, t, inner))

        x = layer_norm(h) * (1 + scale_ff[:, None]) + shift_ff[:, None]
        return h + gate_ff[:, None] * self.ff_out(F.gelu(self.ff_in(x), approximate="tanh"))


class DiT(nn.Module):
    def __init__(self):
        super().__init__()
        self.time_embed = TimestepEmbedding(DIT_DIM)
        self.d_embed = TimestepEmbedding(DIT_DIM)
        self.text_embed = ConditionEmbedding(CONDITION_CHANNELS, CONDITION_BLOCKS)
        self.input_embed = InputEmbedding(MEL_CHANNELS, CONDITION_CHANNELS, DIT_DIM)
        # RoPE frequencies 10000^(-2i/64), i < 32: a buffer of the official checkpoint (stored in fp16 there).
        self.register_buffer("rotary_inv_freq", torch.zeros(DIT_HEAD_DIM // 2))
        self.transformer_blocks = nn.ModuleList(
            DiTBlock(DIT_DIM, DIT_HEADS, DIT_HEAD_DIM, DIT_FF_MULT) for _ in range(DIT_DEPTH)
        )
        self.final_modulation = nn.Linear(DIT_DIM, 2 * DIT_DIM)
        self.proj_out = nn.Linear(DIT_DIM, MEL_CHANNELS)

    def embed_condition(self, condition: torch.Tensor) -> torch.Tensor:
        """[1, T, 512] SoVITS features -> [1, T, 512], the part of the input that is the same at every step."""
        return self.text_embed(condition)

    def embed_step(self, t: float, d: float, like: torch.Tensor) -> torch.Tensor:
        """Time t and step size d -> [1, 1024] conditioning (as float32 scalars, like upstream's tensors)."""
        t_tensor = torch.full((1,), t, dtype=like.dtype, device=like.device)
        d_tensor = torch.full((1,), d, dtype=like.dtype, device=like.device)
        return self.time_embed(t_tensor) + self.d_embed(d_tensor)

    def forward(self, x, prompt, condition_embedding, step):
        """Velocity [1, T, 100] at noisy mel x [1, T, 100], prompt mel (zero after the prompt) [1, T, 100],
        `embed_condition` output [1, T, 512] and `embed_step` output [1, 1024]."""
        frames = x.shape[1]
        h = self.input_embed(x, prompt, condition_embedding)
        angles = torch.arange(frames, device=x.device).type_as(self.rotary_inv_freq)[:, None] * self.rotary_inv_freq
        angles = angles.repeat_interleave(2, dim=-1)[None]  # each frequency for a pair of channels: [1, T, 64]
        rope_cos, rope_sin = angles.cos(), angles.sin()
        for block in self.transformer_blocks:
            h = block(h, step, rope_cos, rope_sin)
        scale, shift = self.final_modulation(F.silu(step)).chunk(2, dim=1)
        return self.proj_out(layer_norm(h) * (1 + scale)[:, None, :] + shift[:, None, :])


def draw_noise(generator: torch.Generator | None, frames: int, like: torch.Tensor) -> torch.Tensor:
    """The starting point of one sampling call: upstream's `torch.randn([1, 100, T])`. Drawn in float32 on the
    CPU with `generator` (a seeded one gives upstream's draw, on every device), then moved like `like`."""
    return torch.randn([1, MEL_CHANNELS, frames], generator=generator, dtype=torch.float32).to(like)


@torch.inference_mode()
def sample_mel(dit: DiT, condition: torch.Tensor, prompt_mel: torch.Tensor, steps: int, noise: torch.Tensor) -> torch.Tensor:
    """Upstream `CFM.inference` with temperature 1 and no classifier-free guidance.

    condition [1, T, 512], prompt_mel [1, 100, Tp] (normalised, Tp < T), noise [1, 100, T] (`draw_noise`)
    -> [1, 100, T] with exact zeros in the prompt frames.
    """
    prompt_frames = prompt_mel.shape[-1]
    x = noise.clone()
    x[..., :prompt_frames] = 0
    prompt = torch.zeros_like(x)
    prompt[..., :prompt_frames] = prompt_mel
    prompt = prompt.transpose(1, 2)
    condition_embedding = dit.embed_condition(condition)
    d = 1 / steps
    t = 0.0  # a Python float accumulated like upstream's, rounded to float32 when embedded
    for _ in range(steps):
        velocity = dit(x.transpose(1, 2), prompt, condition_embedding, dit.embed_step(t, d, like=x))
        x = x + d * velocity.transpose(1, 2)
        t = t + d
        x[:, :, :prompt_frames] = 0
    return x
