"""Building blocks of the SoVITS synthesizer (inference only, batch of one, no padding).

With a single utterance and no padding every sequence mask of the original VITS code is all ones, so the
masks are left out here: multiplying by one changes nothing. Attribute names follow the official state dict
(`conv_q`, `norm_layers_1`, `in_layers`, ...) so checkpoints load by name; see `sovits.py` for the few renames.

Tensors are [batch, channels, time] unless noted.
"""

import math

import torch
import torch.nn.functional as F
from torch import nn

LRELU_SLOPE = 0.1  # HiFiGAN's leaky ReLU slope everywhere except just before the output conv


class ChannelLayerNorm(nn.Module):
    """LayerNorm over the channel axis of [b, c, t] (parameters named gamma/beta as in the checkpoints)."""

    def __init__(self, channels: int):
        super().__init__()
        self.gamma = nn.Parameter(torch.ones(channels))
        self.beta = nn.Parameter(torch.zeros(channels))

    def forward(self, x):
        x = F.layer_norm(x.transpose(1, 2), self.gamma.shape, self.gamma, self.beta, 1e-5)
        return x.transpose(1, 2)


class PointwiseConv(nn.Conv1d):
    """1x1 convolution (the same linear map over channels at every frame), computed as a matrix product.

    Same parameters and names as nn.Conv1d(in, out, 1). On CPU, oneDNN's convolution kernels are very slow
    for this shape (a few GFLOP/s on short sequences); a matmul is many times faster.
    """

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__(in_channels, out_channels, 1)

    def forward(self, x):  # [b, in, t] -> [b, out, t]
        return torch.matmul(self.weight[:, :, 0], x) + self.bias[:, None]


def split_heads(x: torch.Tensor, n_heads: int) -> torch.Tensor:
    """[b, c, t] -> [b, heads, t, c / heads]"""
    b, c, t = x.shape
    return x.view(b, n_heads, c // n_heads, t).transpose(2, 3)


def merge_heads(x: torch.Tensor) -> torch.Tensor:
    """[b, heads, t, d] -> [b, heads * d, t]"""
    b, h, t, d = x.shape
    return x.transpose(2, 3).reshape(b, h * d, t)


class RelativeSelfAttention(nn.Module):
    """Multi-head self-attention with learned relative-position terms for offsets -window..window (VITS).

    score_ij = q_i.k_j / sqrt(d) + q_i.E_k[j - i] / sqrt(d)      (second term only for |j - i| <= window)
    out_i    = sum_j p_ij v_j    + sum_j p_ij E_v[j - i]          (likewise)
    One pair of relative tables is shared by all heads.
    """

    def __init__(self, channels: int, n_heads: int, window: int = 4):
        super().__init__()
        self.n_heads = n_heads
        self.window = window
        self.conv_q = PointwiseConv(channels, channels)
        self.conv_k = PointwiseConv(channels, channels)
        self.conv_v = PointwiseConv(channels, channels)
        self.conv_o = PointwiseConv(channels, channels)
        head_dim = channels // n_heads
        self.emb_rel_k = nn.Parameter(torch.zeros(1, 2 * window + 1, head_dim))
        self.emb_rel_v = nn.Parameter(torch.zeros(1, 2 * window + 1, head_dim))

    def forward(self, x):
        q = split_heads(self.conv_q(x), self.n_heads)  # [b, h, t, d]
        k = split_heads(self.conv_k(x), self.n_heads)
        v = split_heads(self.conv_v(x), self.n_heads)
        b, h, t, d = q.shape
        w = self.window
        q = q / math.sqrt(d)

        # Relative offset j - i of every (query i, key j) pair, and which pairs have a learned term.
        positions = torch.arange(t, device=x.device)
        offset = positions[None, :] - positions[:, None]  # [t, t]
        in_window = offset.abs() <= w
        table_row = (offset.clamp(-w, w) + w).expand(b, h, t, t)  # row of E_k for each pair

        relative_logits = q @ self.emb_rel_k[0].T  # [b, h, t, 2w+1]: q_i . E_k[r] for every offset r
        scores = q @ k.transpose(-2, -1)
        scores = scores + torch.where(in_window, relative_logits.gather(-1, table_row), 0.0)
        p = F.softmax(scores, dim=-1)  # [b, h, t, t]

        # p_ij regrouped by offset: p_by_offset[i, r] = p[i, i + r - w] (0 where i + r - w falls outside).
        key_index = positions[:, None] + torch.arange(-w, w + 1, device=x.device)[None, :]  # [t, 2w+1]
        inside = (key_index >= 0) & (key_index < t)
        p_by_offset = torch.where(inside, p.gather(-1, key_index.clamp(0, t - 1).expand(b, h, t, 2 * w + 1)), 0.0)
        out = p @ v + p_by_offset @ self.emb_rel_v[0]
        return self.conv_o(merge_heads(out))


class CrossAttention(nn.Module):
    """Plain multi-head attention of `x` (queries) over `context` (keys and values), as in MRTE."""

    def __init__(self, channels: int, n_heads: int):
        super().__init__()
        self.n_heads = n_heads
        self.conv_q = PointwiseConv(channels, channels)
        self.conv_k = PointwiseConv(channels, channels)
        self.conv_v = PointwiseConv(channels, channels)
        self.conv_o = PointwiseConv(channels, channels)

    def forward(self, x, context):
        q = split_heads(self.conv_q(x), self.n_heads)
        k = split_heads(self.conv_k(context), self.n_heads)
        v = split_heads(self.conv_v(context), self.n_heads)
        scores = (q / math.sqrt(q.shape[-1])) @ k.transpose(-2, -1)
        return self.conv_o(merge_heads(F.softmax(scores, dim=-1) @ v))


class FeedForward(nn.Module):
    """conv -> ReLU -> conv over time, "same" padding."""

    def __init__(self, channels: int, filter_channels: int, kernel_size: int):
        super().__init__()
        self.conv_1 = nn.Conv1d(channels, filter_channels, kernel_size, padding=kernel_size // 2)
        self.conv_2 = nn.Conv1d(filter_channels, channels, kernel_size, padding=kernel_size // 2)

    def forward(self, x):
        return self.conv_2(torch.relu(self.conv_1(x)))


class TransformerEncoder(nn.Module):
    """Post-norm transformer: x = LN(x + attn(x)); x = LN(x + ffn(x)), per layer."""

    def __init__(self, channels: int, filter_channels: int, n_heads: int, n_layers: int, kernel_size: int):
        super().__init__()
        self.attn_layers = nn.ModuleList(RelativeSelfAttention(channels, n_heads) for _ in range(n_layers))
        self.norm_layers_1 = nn.ModuleList(ChannelLayerNorm(channels) for _ in range(n_layers))
        self.ffn_layers = nn.ModuleList(
            FeedForward(channels, filter_channels, kernel_size) for _ in range(n_layers)
        )
        self.norm_layers_2 = nn.ModuleList(ChannelLayerNorm(channels) for _ in range(n_layers))

    def forward(self, x):
        for attn, norm_1, ffn, norm_2 in zip(self.attn_layers, self.norm_layers_1, self.ffn_layers, self.norm_layers_2):
            x = norm_1(x + attn(x))
            x = norm_2(x + ffn(x))
        return x


class MRTE(nn.Module):
    """Multi-reference timbre encoder: the content stream attends to the phone stream, then adds the timbre ge.

    Widths are fixed by the official design: 192-channel streams in and out, 512 inside, 4 heads.
    """

    def __init__(self, channels: int = 192, hidden: int = 512, n_heads: int = 4):
        super().__init__()
        self.c_pre = PointwiseConv(channels, hidden)
        self.text_pre = PointwiseConv(channels, hidden)
        self.cross_attention = CrossAttention(hidden, n_heads)
        self.c_post = PointwiseConv(hidden, channels)

    def forward(self, content, phones, ge):
        """content [1, 192, frames], phones [1, 192, Lt], ge [1, 512, 1] -> [1, 192, frames]"""
        content = self.c_pre(content)
        x = self.cross_attention(content, self.text_pre(phones)) + content + ge
        return self.c_post(x)


def mish(x):
    return x * torch.tanh(F.softplus(x))


class StyleAttention(nn.Module):
    """The MelStyleEncoder's 2-head self-attention on [b, t, c], with its residual.

    Scores are divided by sqrt(c) = sqrt(128) (the model width), not sqrt(head width): the official quirk.
    """

    def __init__(self, channels: int, n_heads: int):
        super().__init__()
        self.n_heads = n_heads
        self.w_qs = nn.Linear(channels, channels)
        self.w_ks = nn.Linear(channels, channels)
        self.w_vs = nn.Linear(channels, channels)
        self.fc = nn.Linear(channels, channels)
        self.temperature = math.sqrt(channels)

    def forward(self, x):
        b, t, c = x.shape
        q, k, v = (split_heads(proj(x).transpose(1, 2), self.n_heads) for proj in (self.w_qs, self.w_ks, self.w_vs))
        p = F.softmax((q @ k.transpose(-2, -1)) / self.temperature, dim=-1)  # [b, h, t, t]
        out = merge_heads(p @ v).transpose(1, 2)  # [b, t, c]
        return self.fc(out) + x


class MelStyleEncoder(nn.Module):
    """Reference spectrogram [1, bins, frames] -> timbre vector ge [1, gin, 1].

    Two Mish-activated linear layers per frame, two gated convolutions over time (residual), self-attention,
    a projection to gin channels and the mean over time.
    """

    def __init__(self, in_bins: int, out_channels: int, hidden: int = 128, kernel_size: int = 5, n_heads: int = 2):
        super().__init__()
        self.spectral_in = nn.Linear(in_bins, hidden)
        self.spectral_out = nn.Linear(hidden, hidden)
        # Each temporal conv yields [value; gate] for a gated linear unit.
        self.temporal = nn.ModuleList(
            nn.Conv1d(hidden, 2 * hidden, kernel_size, padding=kernel_size // 2) for _ in range(2)
        )
        self.slf_attn = StyleAttention(hidden, n_heads)
        self.out = nn.Linear(hidden, out_channels)

    def forward(self, spectrogram):
        x = spectrogram.transpose(1, 2)  # [1, frames, bins]
        x = mish(self.spectral_out(mish(self.spectral_in(x))))
        x = x.transpose(1, 2)  # [1, hidden, frames]
        for conv in self.temporal:
            value, gate = conv(x).chunk(2, dim=1)
            x = x + value * torch.sigmoid(gate)
        x = self.out(self.slf_attn(x.transpose(1, 2)))  # [1, frames, gin]
        # Mean over time as upstream computes it: each frame divided by the count, then summed, in float32.
        frames = x.shape[1]
        return (x.float() / frames).sum(dim=1).to(x.dtype)[:, :, None]


class WaveNet(nn.Module):
    """Non-causal WaveNet stack conditioned on ge (VITS `WN`): gated tanh*sigmoid units with residual/skip outputs."""

    def __init__(self, channels: int, kernel_size: int, n_layers: int, gin_channels: int):
        super().__init__()
        self.channels = channels
        self.cond_layer = PointwiseConv(gin_channels, 2 * channels * n_layers)
        self.in_layers = nn.ModuleList(
            nn.Conv1d(channels, 2 * channels, kernel_size, padding=kernel_size // 2) for _ in range(n_layers)
        )
        # The last layer has no residual output, only the skip half.
        self.res_skip_layers = nn.ModuleList(
            PointwiseConv(channels, 2 * channels if i < n_layers - 1 else channels) for i in range(n_layers)
        )

    def forward(self, x, ge, mask=None):
        """x [1, c, t], ge [1, gin, 1]; mask [1, 1, t] (1 = frame, 0 = padding), or None when every frame counts.

        With a mask, padded frames are zeroed after every layer, as upstream does, so they do not leak into the
        neighbouring frames through the convolutions (v3/v4's wns1 at some speeds).
        """
        c = self.channels
        conditions = self.cond_layer(ge).split(2 * c, dim=1)  # one [1, 2c, 1] bias per layer
        skip = 0
        for i, (in_layer, res_skip_layer) in enumerate(zip(self.in_layers, self.res_skip_layers)):
            a = in_layer(x) + conditions[i]
            acts = torch.tanh(a[:, :c]) * torch.sigmoid(a[:, c:])
            out = res_skip_layer(acts)
            if i < len(self.in_layers) - 1:
                x = x + out[:, :c]
                if mask is not None:
                    x = x * mask
                skip = skip + out[:, c:]
            else:
                skip = skip + out
        return skip if mask is None else skip * mask


class CouplingLayer(nn.Module):
    """Mean-only affine coupling: the second half of the channels is shifted by a function of the first half."""

    def __init__(self, channels: int, hidden: int, kernel_size: int, n_layers: int, gin_channels: int):
        super().__init__()
        self.pre = PointwiseConv(channels // 2, hidden)
        self.enc = WaveNet(hidden, kernel_size, n_layers, gin_channels)
        self.post = PointwiseConv(hidden, channels // 2)

    def reverse(self, x, ge):
        x0, x1 = x.chunk(2, dim=1)
        shift = self.post(self.enc(self.pre(x0), ge))
        return torch.cat([x0, x1 - shift], dim=1)


class Flip(nn.Module):
    """Reverse the channel order (between couplings, so each half gets transformed)."""

    def reverse(self, x, ge):
        return torch.flip(x, [1])


class ResidualCouplingFlow(nn.Module):
    """Normalising flow between the prior and the decoder's latent; only the reverse (sampling) direction is needed.

    `flows` alternates coupling, flip, coupling, flip, ... (the flips hold no weights, hence the checkpoint's
    names flows.0, flows.2, ...)."""

    def __init__(self, channels: int, hidden: int, gin_channels: int, n_flows: int = 4, kernel_size: int = 5, n_layers: int = 4):
        super().__init__()
        layers = []
        for _ in range(n_flows):
            layers += [CouplingLayer(channels, hidden, kernel_size, n_layers, gin_channels), Flip()]
        self.flows = nn.ModuleList(layers)

    def reverse(self, z, ge):
        for flow in reversed(self.flows):
            z = flow.reverse(z, ge)
        return z


def time_conv(in_channels: int, out_channels: int, kernel_size: int, dilation: int = 1, bias: bool = True) -> nn.Conv2d:
    """A "same"-padded 1-D convolution over time, built as a (1 x k) 2-D one (see HiFiGANGenerator)."""
    padding = dilation * (kernel_size - 1) // 2
    return nn.Conv2d(in_channels, out_channels, (1, kernel_size), dilation=(1, dilation), padding=(0, padding), bias=bias)


class ResBlock(nn.Module):
    """HiFiGAN ResBlock1: three (dilated conv, conv) pairs, each added back to its input."""

    def __init__(self, channels: int, kernel_size: int, dilations: list[int]):
        super().__init__()
        self.convs1 = nn.ModuleList(time_conv(channels, channels, kernel_size, d) for d in dilations)
        self.convs2 = nn.ModuleList(time_conv(channels, channels, kernel_size) for _ in dilations)

    def forward(self, x):
        # In-place ops on fresh intermediates: at 32 kHz these are tens of MB each, and not allocating them
        # again is a large part of the decoder's speed on CPU.
        for conv1, conv2 in zip(self.convs1, self.convs2):
            h = F.leaky_relu(conv1(F.leaky_relu(x, LRELU_SLOPE)), LRELU_SLOPE, inplace=True)
            x = conv2(h).add_(x)
        return x


class HiFiGANGenerator(nn.Module):
    """Latent [1, inter, frames] + ge -> waveform [1, 1, frames * prod(upsample_rates)] in (-1, 1).

    Each stage upsamples with a transposed conv and averages a set of ResBlocks with different kernels.

    Speed: the decoder is almost all of SoVITS's time (about 400 GFLOP for 10 s of audio at the official size).
    Its 1-D convolutions run as (1 x k) 2-D convolutions on a [1, C, 1, time] signal in channels-last memory,
    which oneDNN executes markedly faster on CPU than 1-D ones (up to several times for the narrow 16-64
    channel stages). Same arithmetic; the checkpoint's [out, in, k] weights get a height axis at load.
    """

    def __init__(
        self,
        in_channels: int,
        upsample_initial_channel: int,
        upsample_rates: list[int],
        upsample_kernel_sizes: list[int],
        resblock_kernel_sizes: list[int],
        resblock_dilation_sizes: list[list[int]],
        gin_channels: int,
        output_bias: bool = False,
    ):
        """gin_channels 0: no timbre input (the v4 vocoder); output_bias: conv_post has a bias (the v4 vocoder)."""
        super().__init__()
        self.blocks_per_stage = len(resblock_kernel_sizes)
        self.conv_pre = time_conv(in_channels, upsample_initial_channel, 7)
        self.cond = time_conv(gin_channels, upsample_initial_channel, 1) if gin_channels else None
        self.ups = nn.ModuleList()
        self.resblocks = nn.ModuleList()  # flat: stage i owns resblocks[i * blocks_per_stage : (i + 1) * ...]
        channels = upsample_initial_channel
        for rate, kernel in zip(upsample_rates, upsample_kernel_sizes):
            # padding (k - rate) / 2 makes the output exactly `rate` times longer
            self.ups.append(
                nn.ConvTranspose2d(channels, channels // 2, (1, kernel), (1, rate), padding=(0, (kernel - rate) // 2))
            )
            channels //= 2
            for k, dilations in zip(resblock_kernel_sizes, resblock_dilation_sizes):
                self.resblocks.append(ResBlock(channels, k, dilations))
        self.conv_post = time_conv(channels, 1, 7, bias=output_bias)
        self.to(memory_format=torch.channels_last)  # loading a state dict copies into these layouts

    def forward(self, z, ge=None):
        x = z[:, :, None, :].contiguous(memory_format=torch.channels_last)  # [1, inter, 1, frames]
        x = self.conv_pre(x)
        if self.cond is not None:
            x = x + self.cond(ge[:, :, None, :])
        n = self.blocks_per_stage
        for i, upsample in enumerate(self.ups):
            x = upsample(F.leaky_relu(x, LRELU_SLOPE, inplace=True))
            blocks = self.resblocks[i * n : (i + 1) * n]
            mixed = blocks[0](x)
            for block in blocks[1:]:
                mixed += block(x)
            x = mixed.div_(n)  # the average of the stage's ResBlocks
        x = F.leaky_relu(x, 0.01, inplace=True)  # upstream uses the default slope 0.01 here, not 0.1
        return torch.tanh(self.conv_post(x))[:, :, 0, :]
