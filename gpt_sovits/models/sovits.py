"""SoVITS synthesizer, inference only (official v1, v2, v2Pro and v2ProPlus models).

Semantic codes (25 Hz, from the T2S model) + the target's phone ids + a timbre vector -> 32 kHz waveform:

    ge        = MelStyleEncoder(reference spectrogram)                       timbre, [1, gin, 1]
                (v2Pro: PReLU(ge + Linear(speaker embedding)))
    content   = codebook[codes], repeated x2 in time                         [1, 768, 2T]   (50 Hz)
    m, logs   = TextEncoder(content, phones, ge)                             prior of the latent
    z_p       = m + noise * exp(logs) * noise_scale
    z         = Flow^-1(z_p, ge)
    waveform  = HiFiGAN(z, ge)                                               [2T * 640] samples at 32 kHz

The same model also turns the reference's HuBERT features into prompt codes for the T2S model
(`extract_prompt_codes`). Each stage is a method (`timbre_embedding`, `prior`, `flow.reverse`, `dec`);
`decode` chains them. Module attribute names follow the official checkpoint (enc_p, ref_enc, flow, dec, ...)
so weights load by name; `prepare_state_dict` folds the weight norms and does the few renames.
"""

import functools
import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from gpt_sovits.errors import CheckpointError, UnsupportedModelError
from gpt_sovits.messages import Message, joined
from gpt_sovits.models.sovits_layers import (
    MRTE,
    HiFiGANGenerator,
    MelStyleEncoder,
    PointwiseConv,
    ResidualCouplingFlow,
    TransformerEncoder,
)

SSL_DIM = 768  # HuBERT feature width; hard-wired in the official design
CODEBOOK_SIZE = 1024
SPEAKER_EMBEDDING_DIM = 20480  # ERes2NetV2 output consumed by v2Pro / v2ProPlus
MRTE_CONDITION_DIM = 512  # width of the timbre vector the text encoder's MRTE adds
REFERENCE_BINS_V2 = 704  # v2+ timbre encoder reads only the lowest 704 of the 1025 spectrogram bins
PRO_VERSIONS = ("v2Pro", "v2ProPlus")
SUPPORTED_VERSIONS = ("v1", "v2") + PRO_VERSIONS


@dataclass(frozen=True)
class SoVITSConfig:
    model_version: str  # "v1" | "v2" | "v2Pro" | "v2ProPlus"
    symbol_version: str  # "v1" | "v2": the phone table of enc_p.text_embedding
    num_symbols: int  # 322 (v1) or 732 (v2)
    sample_rate: int  # output rate, 32000 for every supported version
    spectrogram_bins: int  # filter_length // 2 + 1 = 1025
    inter_channels: int  # latent width (192 in official models)
    hidden_channels: int  # text encoder width; must be 192 (MRTE is fixed at 192)
    filter_channels: int
    n_heads: int
    n_layers: int
    kernel_size: int
    gin_channels: int  # timbre vector width: 512 (v1/v2), 1024 (Pro)
    upsample_rates: tuple[int, ...]
    upsample_kernel_sizes: tuple[int, ...]
    upsample_initial_channel: int
    resblock_kernel_sizes: tuple[int, ...]
    resblock_dilation_sizes: tuple[tuple[int, ...], ...]

    @property
    def is_pro(self) -> bool:
        return self.model_version in PRO_VERSIONS

    @property
    def reference_bins(self) -> int:
        """Spectrogram bins the timbre encoder reads: all of them for v1, the lowest 704 for later versions."""
        return self.spectrogram_bins if self.model_version == "v1" else REFERENCE_BINS_V2

    @classmethod
    def from_checkpoint(cls, ckpt) -> "SoVITSConfig":
        """Read the config from a SoVITSCheckpoint (duck-typed: path, model_version, symbol_version, hparams, state_dict)."""
        name = getattr(ckpt.path, "name", str(ckpt.path))
        if ckpt.model_version not in SUPPORTED_VERSIONS:
            raise UnsupportedModelError(Message(
                "SoVITS model '{name}' is version {version}; supported: {supported}.",
                name=name, version=ckpt.model_version, supported=joined(SUPPORTED_VERSIONS),
            ))
        try:
            model, data = ckpt.hparams["model"], ckpt.hparams["data"]
            if str(model.get("resblock", "1")) != "1":
                raise UnsupportedModelError(Message(
                    "SoVITS model '{name}' uses resblock type {kind!r}; only '1' is supported.",
                    name=name, kind=model["resblock"],
                ))
            config = cls(
                model_version=ckpt.model_version,
                symbol_version=ckpt.symbol_version,
                num_symbols=int(ckpt.state_dict["enc_p.text_embedding.weight"].shape[0]),
                sample_rate=int(data["sampling_rate"]),
                spectrogram_bins=int(data["filter_length"]) // 2 + 1,
                **text_encoder_fields(model),
                upsample_rates=tuple(int(r) for r in model["upsample_rates"]),
                upsample_kernel_sizes=tuple(int(k) for k in model["upsample_kernel_sizes"]),
                upsample_initial_channel=int(model["upsample_initial_channel"]),
                resblock_kernel_sizes=tuple(int(k) for k in model["resblock_kernel_sizes"]),
                resblock_dilation_sizes=tuple(tuple(int(d) for d in ds) for ds in model["resblock_dilation_sizes"]),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise CheckpointError(
                Message("SoVITS model '{name}' has an incomplete or invalid config ({error!r}).", name=name, error=error)
            ) from None
        if config.kernel_size % 2 != 1 or config.hidden_channels % config.n_heads != 0:
            raise CheckpointError(Message(
                "SoVITS model '{name}' has an invalid config (kernel_size must be odd, heads divide width).", name=name
            ))
        return config


def text_encoder_fields(model: dict) -> dict[str, int]:
    """The text encoder's sizes (and the timbre width) from a training config's `model` section; every SoVITS
    version's config reads them the same way."""
    names = ("inter_channels", "hidden_channels", "filter_channels", "n_heads", "n_layers", "kernel_size", "gin_channels")
    return {name: int(model[name]) for name in names}


class TextEncoder(nn.Module):
    """Content (quantized HuBERT codes at 50 Hz) + target phones + timbre -> prior mean and log-std per frame."""

    def __init__(self, config: SoVITSConfig):
        super().__init__()
        c = config.hidden_channels
        layers = (config.filter_channels, config.n_heads)
        self.ssl_proj = PointwiseConv(SSL_DIM, c)
        self.encoder_ssl = TransformerEncoder(c, *layers, config.n_layers // 2, config.kernel_size)
        self.text_embedding = nn.Embedding(config.num_symbols, c)
        self.encoder_text = TransformerEncoder(c, *layers, config.n_layers, config.kernel_size)
        self.mrte = MRTE(c)
        self.encoder2 = TransformerEncoder(c, *layers, config.n_layers // 2, config.kernel_size)
        self.proj = PointwiseConv(c, 2 * config.inter_channels)

    def forward(self, content, phone_ids, ge, speed: float):
        """content [1, 768, frames], phone_ids [1, Lt], ge [1, 512, 1] -> (m, logs) each [1, inter, frames']"""
        m, logs = self.proj(self.hidden(content, phone_ids, ge, speed)).chunk(2, dim=1)
        return m, logs

    def hidden(self, content, phone_ids, ge, speed: float):
        """The encoder output before the prior projection, [1, hidden, frames'] (what v3/v4 models read)."""
        y = self.encoder_ssl(self.ssl_proj(content))
        phones = self.encoder_text(self.text_embedding(phone_ids).transpose(1, 2))
        y = self.encoder2(self.mrte(y, phones, ge))
        if speed != 1:
            # Speed changes the number of frames; upstream's int(n / speed) + 1 always adds one frame.
            y = F.interpolate(y, size=int(y.shape[-1] / speed) + 1, mode="linear")
        return y


class SoVITS(nn.Module):
    def __init__(self, config: SoVITSConfig):
        super().__init__()
        self.config = config
        gin = config.gin_channels
        # Reference tokenizer: HuBERT features (50 Hz) -> 25 Hz -> nearest codebook entry.
        self.ssl_proj = nn.Conv1d(SSL_DIM, SSL_DIM, 2, stride=2)
        self.register_buffer("codebook", torch.zeros(CODEBOOK_SIZE, SSL_DIM))
        # Timbre: spectrogram -> ge.
        self.ref_enc = MelStyleEncoder(config.reference_bins, gin)
        if config.is_pro:
            self.sv_emb = nn.Linear(SPEAKER_EMBEDDING_DIM, gin)
            self.prelu = nn.PReLU(gin)
            self.ge_to512 = nn.Linear(gin, MRTE_CONDITION_DIM)
        self.enc_p = TextEncoder(config)
        self.flow = ResidualCouplingFlow(config.inter_channels, config.hidden_channels, gin)
        self.dec = HiFiGANGenerator(
            config.inter_channels,
            config.upsample_initial_channel,
            list(config.upsample_rates),
            list(config.upsample_kernel_sizes),
            list(config.resblock_kernel_sizes),
            [list(d) for d in config.resblock_dilation_sizes],
            gin,
        )

    @property
    def sample_rate(self) -> int:
        return self.config.sample_rate

    @property
    def samples_per_frame(self) -> int:
        """Output samples per 50 Hz latent frame (prod(upsample_rates) = 640; one semantic code is 2 frames)."""
        return math.prod(self.config.upsample_rates)

    @classmethod
    def from_checkpoint(cls, ckpt) -> "SoVITS":
        """Build from a `checkpoints.SoVITSCheckpoint`; float32, eval mode, weight norms folded."""
        config = SoVITSConfig.from_checkpoint(ckpt)
        model = cls(config)
        state_dict = prepare_state_dict(ckpt.state_dict)
        check_state_dict(model, state_dict, getattr(ckpt.path, "name", str(ckpt.path)))
        model.load_state_dict(state_dict, strict=True)
        return model.eval().requires_grad_(False)

    # The stages, in pipeline order. `decode` chains the last four; tests call them one by one.

    @torch.inference_mode()
    def extract_prompt_codes(self, hubert_features: torch.Tensor) -> torch.Tensor:
        """HuBERT last hidden state [F, 768] (50 Hz) -> reference semantic codes LongTensor[F // 2] (25 Hz)."""
        return nearest_codes(self.ssl_proj, self.codebook, hubert_features)

    @torch.inference_mode()
    def timbre_embedding(self, spectrogram: torch.Tensor, speaker_embedding: torch.Tensor | None = None) -> torch.Tensor:
        """ge [1, gin, 1] of one reference: spectrogram [1, 1025, S] (+ v2Pro speaker embedding [20480])."""
        ge = self.ref_enc(spectrogram[:, : self.config.reference_bins].to(self.codebook))
        if not self.config.is_pro:
            return ge
        if speaker_embedding is None:
            raise ValueError(f"{self.config.model_version} models need the reference's speaker embedding.")
        speaker = self.sv_emb(speaker_embedding.to(ge.dtype).reshape(1, SPEAKER_EMBEDDING_DIM))  # [1, gin]
        return self.prelu(ge + speaker[:, :, None])

    def text_condition(self, ge: torch.Tensor) -> torch.Tensor:
        """The timbre as the text encoder's MRTE takes it: ge itself, or (v2Pro) projected to 512 channels."""
        if self.config.is_pro:
            return self.ge_to512(ge.transpose(1, 2)).transpose(1, 2)  # [1, 512, 1]
        return ge

    @torch.inference_mode()
    def prior(self, codes: torch.Tensor, phone_ids: torch.Tensor, ge: torch.Tensor, speed: float = 1.0):
        """Semantic codes LongTensor[T] + target phones LongTensor[Lt] + ge -> (m, logs), each [1, inter, 2T']."""
        device = self.codebook.device
        content = self.codebook[codes.to(device).long()].T[None]  # [1, 768, T]
        content = content.repeat_interleave(2, dim=2)  # 25 Hz -> 50 Hz
        return self.enc_p(content, phone_ids.to(device).long()[None], self.text_condition(ge), speed)

    @torch.inference_mode()
    def decode(
        self,
        codes: torch.Tensor,
        phone_ids: torch.Tensor,
        ge: torch.Tensor,
        speed: float = 1.0,
        noise_scale: float = 0.5,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Semantic codes LongTensor[T] + target phones LongTensor[Lt] + timbre ge -> waveform [samples].

        The noise is drawn in float32 on the CPU with `generator`, in one call over the prior's shape as upstream
        draws it, so a seed gives the same noise on every device.
        """
        if codes.numel() == 0 or phone_ids.numel() == 0:
            raise ValueError("decode needs at least one semantic code and one target phone")
        m, logs = self.prior(codes, phone_ids, ge, speed)
        noise = torch.randn(m.shape, generator=generator, dtype=torch.float32).to(m)
        z_p = m + noise * torch.exp(logs) * noise_scale
        return self.dec(self.flow.reverse(z_p, ge), ge)[0, 0]


def nearest_codes(ssl_proj: nn.Conv1d, codebook: torch.Tensor, hubert_features: torch.Tensor) -> torch.Tensor:
    """The quantizer every SoVITS version shares: HuBERT features [F, 768] -> 25 Hz frames (ssl_proj: kernel 2,
    stride 2) -> index of the nearest codebook entry, LongTensor[F // 2]."""
    x = ssl_proj(hubert_features.T[None].to(codebook))[0].T  # [P, 768]
    e = codebook
    # Negative squared distance, written out as upstream does so near-ties break the same way.
    score = -(x.pow(2).sum(1, keepdim=True) - 2 * x @ e.T + e.T.pow(2).sum(0, keepdim=True))
    return score.max(dim=-1).indices


# ---------------------------------------------------------------------------------------------------------------
# Official state dict -> ours

# Official name -> ours, for the parts whose official names are pure plumbing (nn.Sequential indices, wrappers).
_RENAMES = {
    "quantizer.vq.layers.0._codebook.embed": "codebook",
    "ref_enc.spectral.0.fc.": "ref_enc.spectral_in.",
    "ref_enc.spectral.3.fc.": "ref_enc.spectral_out.",
    "ref_enc.temporal.0.conv1.conv.": "ref_enc.temporal.0.",
    "ref_enc.temporal.1.conv1.conv.": "ref_enc.temporal.1.",
    "ref_enc.fc.fc.": "ref_enc.out.",
}
# Present in official files but unused at inference: the posterior encoder (training only) and the
# quantizer's k-means statistics.
_UNUSED_PREFIXES = (
    "enc_q.",
    "quantizer.vq.layers.0._codebook.embed_avg",
    "quantizer.vq.layers.0._codebook.cluster_size",
    "quantizer.vq.layers.0._codebook.inited",
)


def prepare_state_dict(official: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """fp16 official tensors -> float32 tensors named as our modules, weight norms folded (upstream recomputes
    them each forward; folding once in float32 gives the same numbers)."""
    state = {}
    for name, tensor in fold_weight_norms(official).items():
        if name.startswith(_UNUSED_PREFIXES):
            continue
        for old, new in _RENAMES.items():
            if name.startswith(old):
                name = new + name[len(old):]
                break
        if name.startswith("dec.") and tensor.dim() == 3:
            tensor = tensor[:, :, None, :]  # the decoder runs its convolutions as (1 x k) 2-D ones
        state[name] = tensor
    return state


def fold_weight_norms(official: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Tensors as float32, each weight-normed pair (weight_g, weight_v) replaced by the weight it stands for.

    Weight norm stores a direction v and a magnitude g; the effective weight is g * v / ||v||, the norm taken over
    every axis but the first. `torch._weight_norm` is the kernel upstream's modules use (in every forward, or once
    in `remove_weight_norm`); its reduction order differs from `Tensor.norm`'s in the last bit.
    """
    state = {}
    for name, tensor in official.items():
        if name.endswith(".weight_g"):
            continue  # folded together with its weight_v below
        tensor = tensor.float()
        if name.endswith(".weight_v"):
            stem = name[: -len(".weight_v")]
            tensor, name = torch._weight_norm(tensor, official[stem + ".weight_g"].float(), 0), stem + ".weight"
        state[name] = tensor
    return state


def check_state_dict(model: nn.Module, state: dict[str, torch.Tensor], file_name: str, what: str | None = None) -> None:
    """Raise CheckpointError unless `state` holds exactly the model's tensors, each in the model's shape.
    `what` names the kind of file (a Message; default: a SoVITS model)."""
    what = what or Message("SoVITS model")
    expected = model.state_dict()
    missing = [name for name in expected if name not in state]
    unexpected = [name for name in state if name not in expected]
    wrong_shape = [n for n in expected if n in state and state[n].shape != expected[n].shape]
    if missing or unexpected or wrong_shape:
        problems = []
        if missing:
            problems.append(Message("{count} missing tensor(s) (e.g. {example})", count=len(missing), example=missing[0]))
        if unexpected:
            problems.append(
                Message("{count} unknown tensor(s) (e.g. {example})", count=len(unexpected), example=unexpected[0])
            )
        if wrong_shape:
            n = wrong_shape[0]
            problems.append(Message(
                "tensor {name} has shape {shape}, expected {expected}",
                name=n, shape=tuple(state[n].shape), expected=tuple(expected[n].shape),
            ))
        raise CheckpointError(Message(
            "{what} '{name}' does not match its own config: {problems}. The file may be damaged or come from "
            "an incompatible program.",
            what=what, name=file_name, problems=functools.reduce(_and_also, problems),
        ))


def _and_also(earlier: Message, problem: Message) -> Message:
    """Problems joined with semicolons (they contain commas)."""
    return Message("{earlier}; {problem}", earlier=earlier, problem=problem)
