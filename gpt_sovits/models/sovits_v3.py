"""SoVITS v3 / v4 (upstream `SynthesizerTrnV3`), inference only: the part that turns codes into the condition of
the flow-matching mel generator, and that generator.

v3 and v4 keep the v2 front half (quantizer, text encoder with MRTE, timbre encoder) and replace the flow and the
HiFiGAN decoder by a mel generator (`cfm.DiT`) and an external vocoder:

    ge        = MelStyleEncoder(reference linear spectrogram[:704])                   timbre, [1, 512, 1]
    content   = codebook[codes], repeated x2 in time                                  [1, 768, 2T]   (50 Hz)
    x         = TextEncoder.hidden(content, phones, ge, speed)                        [1, 192, L]
    features  = LeakyReLU(bridge(x)), nearest-interpolated x1.875 (v3) / x2 (v4)     [1, 512, F]   (mel rate)
    features  = wns1(features, ge)   (WaveNet encoder, frames past `length` masked)   the CFM condition

The mel rate is 24000 / 256 = 93.75 Hz (v3) or 32000 / 320 = 100 Hz (v4): 50 Hz x 1.875 or x 2.

Module attribute names follow the official checkpoint (enc_p, ref_enc, bridge, wns1, ...) so weights load by name;
`prepare_state_dict` folds the weight norms and does the few renames.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from gpt_sovits.errors import CheckpointError
from gpt_sovits.messages import Message
from gpt_sovits.models import sovits
from gpt_sovits.models.cfm import DIT_RENAMES, DiT
from gpt_sovits.models.sovits import (
    CODEBOOK_SIZE,
    MRTE_CONDITION_DIM,
    REFERENCE_BINS_V2,
    SSL_DIM,
    TextEncoder,
    check_state_dict,
    nearest_codes,
    text_encoder_fields,
)
from gpt_sovits.models.sovits_layers import MelStyleEncoder, PointwiseConv, WaveNet

FEATURE_CHANNELS = 512  # bridge / wns1 width (upstream inter_channels2), the CFM condition width
WNS1_LAYERS, WNS1_KERNEL = 8, 5
# Upstream decode_encp: features are interpolated from 50 Hz to the mel rate, and wns1 is told a length of
# codes * LENGTH_FACTOR (/ speed) frames; frames past it are masked.
MEL_RATE_FACTOR = {"v3": 1.875, "v4": 2}
LENGTH_FACTOR = {"v3": 3.875, "v4": 4}


@dataclass(frozen=True)
class SoVITSV3Config:
    """The text-encoder part of the training config (the rest of the model is hard-wired upstream).

    Field names are those `sovits.TextEncoder` reads."""

    model_version: str  # "v3" | "v4"
    num_symbols: int  # 732: the v2 phone table
    inter_channels: int
    hidden_channels: int  # must be 192 (MRTE)
    filter_channels: int
    n_heads: int
    n_layers: int
    kernel_size: int
    gin_channels: int  # must be 512 (MRTE adds ge to its 512-wide stream; wns1 is conditioned on it)

    @classmethod
    def from_checkpoint(cls, ckpt) -> "SoVITSV3Config":
        name = getattr(ckpt.path, "name", str(ckpt.path))
        try:
            model = ckpt.hparams["model"]
            config = cls(
                model_version=ckpt.model_version,
                num_symbols=int(ckpt.state_dict["enc_p.text_embedding.weight"].shape[0]),
                **text_encoder_fields(model),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise CheckpointError(
                Message("SoVITS model '{name}' has an incomplete or invalid config ({error!r}).", name=name, error=error)
            ) from None
        if config.model_version not in MEL_RATE_FACTOR:
            raise ValueError(f"not a v3/v4 model: {config.model_version}")
        if config.gin_channels != MRTE_CONDITION_DIM or config.kernel_size % 2 != 1 or config.hidden_channels % config.n_heads:
            raise CheckpointError(Message(
                "SoVITS model '{name}' has an invalid config (gin_channels must be {channels}, kernel_size odd, and the "
                "heads must divide hidden_channels).",
                name=name, channels=MRTE_CONDITION_DIM,
            ))  # fmt: skip
        return config


class ConditionedEncoder(nn.Module):
    """Upstream `models.Encoder` as wns1: 1x1 conv -> WaveNet conditioned on ge -> 1x1 conv, masked."""

    def __init__(self, channels: int, kernel_size: int, n_layers: int, gin_channels: int):
        super().__init__()
        self.pre = PointwiseConv(channels, channels)
        self.enc = WaveNet(channels, kernel_size, n_layers, gin_channels)
        self.proj = PointwiseConv(channels, channels)

    def forward(self, x, length: int, ge):
        """x [1, c, frames]; frames at index >= length are padding (zeroed throughout) -> [1, c, frames]"""
        mask = (torch.arange(x.shape[-1], device=x.device) < length).to(x.dtype)[None, None, :]
        h = self.enc(self.pre(x) * mask, ge, mask)
        return self.proj(h) * mask


class SoVITSV3(nn.Module):
    def __init__(self, config: SoVITSV3Config):
        super().__init__()
        self.config = config
        # Reference tokenizer: HuBERT features (50 Hz) -> 25 Hz -> nearest codebook entry (as every version).
        self.ssl_proj = nn.Conv1d(SSL_DIM, SSL_DIM, 2, stride=2)
        self.register_buffer("codebook", torch.zeros(CODEBOOK_SIZE, SSL_DIM))
        self.ref_enc = MelStyleEncoder(REFERENCE_BINS_V2, config.gin_channels)
        self.enc_p = TextEncoder(config)
        self.bridge = PointwiseConv(config.hidden_channels, FEATURE_CHANNELS)
        self.wns1 = ConditionedEncoder(FEATURE_CHANNELS, WNS1_KERNEL, WNS1_LAYERS, config.gin_channels)
        # Weights come from a checkpoint (`from_checkpoint` assigns them): skip the random initialisation of the
        # DiT's 337 M parameters, which would take longer than loading them.
        with torch.device("meta"):
            self.dit = DiT()

    @property
    def model_version(self) -> str:
        return self.config.model_version

    @classmethod
    def from_checkpoint(cls, ckpt) -> "SoVITSV3":
        """Build from a v3/v4 `checkpoints.SoVITSCheckpoint` (LoRA already merged); float32, eval mode."""
        model = cls(SoVITSV3Config.from_checkpoint(ckpt))
        state_dict = prepare_state_dict(ckpt.state_dict)
        check_state_dict(model, state_dict, getattr(ckpt.path, "name", str(ckpt.path)))
        model.load_state_dict(state_dict, strict=True, assign=True)
        return model.eval().requires_grad_(False)

    # The stages, in pipeline order; tests call them one by one.

    @torch.inference_mode()
    def extract_prompt_codes(self, hubert_features: torch.Tensor) -> torch.Tensor:
        """HuBERT last hidden state [F, 768] (50 Hz) -> reference semantic codes LongTensor[F // 2] (25 Hz)."""
        return nearest_codes(self.ssl_proj, self.codebook, hubert_features)

    @torch.inference_mode()
    def timbre_embedding(self, spectrogram: torch.Tensor) -> torch.Tensor:
        """Timbre vector ge [1, 512, 1] of the reference: linear spectrogram [1, 1025, S] (its lowest 704 bins)."""
        return self.ref_enc(spectrogram[:, :REFERENCE_BINS_V2].to(self.codebook.dtype))

    @torch.inference_mode()
    def text_hidden(self, codes: torch.Tensor, phone_ids: torch.Tensor, ge: torch.Tensor, speed: float = 1.0):
        """Codes LongTensor[T] + phone ids LongTensor[L] + ge -> the text encoder's output [1, 192, 2T'] (50 Hz)."""
        content = self.codebook[codes.long()].T[None].repeat_interleave(2, dim=2)  # [1, 768, 2T]
        return self.enc_p.hidden(content, phone_ids.long()[None], ge, speed)

    @torch.inference_mode()
    def condition_features(
        self, codes: torch.Tensor, phone_ids: torch.Tensor, ge: torch.Tensor, speed: float = 1.0
    ) -> torch.Tensor:
        """Upstream `decode_encp`: codes LongTensor[T] + phone ids LongTensor[L] (of the same sentence: the
        reference's for the prompt, the target's for the new speech) -> CFM condition [1, 512, F] at the mel rate.

        F = floor(2T' * 1.875) (v3) / 2 * 2T' (v4), T' the frames after the speed change. Upstream tells wns1 a
        length of int(T * 3.875 | 4 / speed) + 1 (at speed 1: int(T * 3.875) | 4T); at v4 speeds that can be one
        frame short of F, and then the last frame is exactly zero, as upstream's is.
        """
        version = self.model_version
        x = self.text_hidden(codes, phone_ids, ge, speed)
        features = F.leaky_relu(self.bridge(x), 0.01)
        # Exactly upstream's call: with a non-integer factor PyTorch maps output frame i to input frame
        # floor(i * float32(1 / 1.875)), which is not always floor(i * in / out).
        features = F.interpolate(features, scale_factor=MEL_RATE_FACTOR[version], mode="nearest")
        if speed == 1:
            length = int(codes.numel() * LENGTH_FACTOR[version])
        else:
            length = int(codes.numel() * LENGTH_FACTOR[version] / speed) + 1
        return self.wns1(features, length, ge)


# ---------------------------------------------------------------------------------------------------------------
# Official state dict -> ours

# The v3/v4 modules' names beside those `sovits.prepare_state_dict` already maps (timbre encoder, codebook).
_RENAMES = {"bridge.0.": "bridge.", "cfm.estimator.": "dit."}
_UNUSED_PREFIXES = ("linear_mel.",)  # the mel head trained beside the CFM, unused at inference


def prepare_state_dict(official: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Official (fp16, LoRA merged) tensors -> float32 tensors named as our modules, weight norms folded:
    the renames every SoVITS version shares, then the v3/v4 modules'."""
    state = {}
    for name, tensor in sovits.prepare_state_dict(official).items():
        if name.startswith(_UNUSED_PREFIXES):
            continue
        for old, new in _RENAMES.items():
            if name.startswith(old):
                name = new + name[len(old):]
        if name.startswith("dit."):
            for old, new in DIT_RENAMES:
                name = name.replace(old, new)
        state[name] = tensor
    return state
