"""v3 / v4 synthesis: semantic codes -> mel spectrogram (flow matching over the reference's mel) -> vocoder.

One `V3V4Synthesizer` is a loaded set: the SoVITS v3/v4 model (a LoRA fine-tune already merged onto its base),
its vocoder (BigVGAN 24 kHz for v3, the 48 kHz HiFiGAN for v4) and, for v3, optionally AP-BWE (24 -> 48 kHz).
It follows the v3/v4 branch of upstream `get_tts_wav` exactly:

    reference (once):  ge       = timbre of the reference's 32 kHz spectrogram
                       prompt   = SoVITS features of (prompt codes, reference phones)          [512, Fr]
                       mel      = normalised log-mel of the reference (24 / 32 kHz)              [100, M]
                       both cut to T = min(M, Fr) frames from the start, then to their last Tref frames
    each sentence:     features = SoVITS features of (target codes, target phones, speed)    [512, Ft]
                       in chunks of Tchunk - T frames: mel_k = CFM(cat(prompt, chunk_k), prompt mel);
                       the next prompt is the last T frames of chunk k (mel and features); no overlap
                       audio = vocoder(denormalised cat(mel_k)), divided by its peak if that exceeds 1
    the whole output:  sentences joined with pauses; v3 super-resolution runs on all of it at once

Random draws: one `torch.randn([1, 100, T_k])` per chunk, in chunk order, from the generator passed to `decode`
(upstream draws them from torch's global generator; seeding ours the same way gives the same noise).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from gpt_sovits import audio
from gpt_sovits.audio import AudioClip
from gpt_sovits.checkpoints import SoVITSCheckpoint, load_sovits_checkpoint
from gpt_sovits.errors import CheckpointError
from gpt_sovits.messages import Message
from gpt_sovits.mel import V3_MEL, V4_MEL, denormalize_log_mel, log_mel_spectrogram, normalize_log_mel, reference_mel_audio
from gpt_sovits.models.apbwe import APBWE
from gpt_sovits.models.bigvgan import BigVGAN
from gpt_sovits.models.cfm import draw_noise, sample_mel
from gpt_sovits.models.sovits_v3 import SoVITSV3
from gpt_sovits.models.vocoder_v4 import SAMPLE_RATE as V4_SAMPLE_RATE
from gpt_sovits.models.vocoder_v4 import load_v4_vocoder

MEL_CONFIGS = {"v3": V3_MEL, "v4": V4_MEL}
# Upstream: the reference prompt is at most PROMPT_FRAMES frames; each CFM call covers at most CHUNK_FRAMES frames
# (prompt included), about 10 s of mel.
PROMPT_FRAMES = {"v3": 468, "v4": 500}
CHUNK_FRAMES = {"v3": 934, "v4": 1000}
DEFAULT_SAMPLE_STEPS = {"v3": 32, "v4": 8}  # the official web UI's defaults
SAMPLE_STEP_CHOICES = {"v3": (4, 8, 16, 32, 64, 128), "v4": (4, 8, 16, 32)}  # what its menu offers
# Upstream appends int(hps.data.sampling_rate * pause) zeros after each sentence: the SoVITS config's 32 kHz rate,
# whatever the output rate (so 0.3 s of pause is 9600 samples: 0.4 s at 24 kHz, 0.2 s at 48 kHz).
PAUSE_RATE = 32000


@dataclass(frozen=True)
class V3V4Reference:
    """What every sentence needs from one reference (computed once per reference clip, text and model)."""

    timbre: torch.Tensor  # ge [1, 512, 1]
    prompt_mel: torch.Tensor  # normalised log-mel [1, 100, T], T <= PROMPT_FRAMES
    prompt_features: torch.Tensor  # SoVITS features of the reference [1, 512, T], frame-aligned with prompt_mel


class V3V4Synthesizer:
    def __init__(self, sovits: SoVITSV3, vocoder: torch.nn.Module, super_resolution: APBWE | None = None):
        if super_resolution is not None and sovits.model_version != "v3":
            raise ValueError("super-resolution belongs to v3 (v4 already outputs 48 kHz)")
        self.sovits = sovits
        self.vocoder = vocoder
        self.super_resolution = super_resolution
        self.model_version = sovits.model_version
        self.symbol_version = "v2"  # v3 and v4 read the v2 phone table
        self.mel_config = MEL_CONFIGS[self.model_version]

    @classmethod
    def load(
        cls,
        sovits_path: str | Path,
        vocoder_path: str | Path,
        apbwe_dir: str | Path | None = None,
        lora_bases: dict[str, Path] | None = None,
    ) -> "V3V4Synthesizer":
        """Load a v3/v4 SoVITS file (a LoRA fine-tune is merged onto `lora_bases[version]`, see
        `weights.lora_base_paths`), its vocoder (v3: the BigVGAN folder, v4: vocoder.pth; see
        `weights.v3_v4_companions`) and, for v3, optionally the AP-BWE folder."""
        checkpoint = load_sovits_checkpoint(sovits_path, lora_bases)
        return cls.from_checkpoint(checkpoint, vocoder_path, apbwe_dir)

    @classmethod
    def from_checkpoint(
        cls, checkpoint: SoVITSCheckpoint, vocoder_path: str | Path, apbwe_dir: str | Path | None = None
    ) -> "V3V4Synthesizer":
        if checkpoint.model_version not in MEL_CONFIGS:
            raise CheckpointError(Message(
                "SoVITS model '{name}' is {version}, not a v3 or v4 model.",
                name=checkpoint.path.name, version=checkpoint.model_version,
            ))  # fmt: skip
        sovits = SoVITSV3.from_checkpoint(checkpoint)
        vocoder = BigVGAN.from_dir(vocoder_path) if checkpoint.model_version == "v3" else load_v4_vocoder(vocoder_path)
        if checkpoint.model_version == "v3" and apbwe_dir is not None:
            return cls(sovits, vocoder, APBWE.from_dir(apbwe_dir))
        return cls(sovits, vocoder)

    # ----- rates -------------------------------------------------------------------------------------------

    @property
    def sample_rate(self) -> int:
        """The vocoder's rate: 24000 (v3), 48000 (v4)."""
        return self.vocoder.sample_rate if isinstance(self.vocoder, BigVGAN) else V4_SAMPLE_RATE

    def output_sample_rate(self, super_resolution: bool) -> int:
        if super_resolution:
            self._require_super_resolution()
            return self.super_resolution.config.output_rate
        return self.sample_rate

    @staticmethod
    def pause_samples(pause_seconds: float) -> int:
        """Zeros upstream appends after each sentence (computed at 32 kHz whatever the output rate)."""
        return int(PAUSE_RATE * pause_seconds)

    # ----- the reference -----------------------------------------------------------------------------------

    def extract_prompt_codes(self, hubert_features: torch.Tensor) -> torch.Tensor:
        """HuBERT last hidden state [F, 768] of the (padded) reference -> prompt codes LongTensor[F // 2]."""
        return self.sovits.extract_prompt_codes(hubert_features)

    @torch.inference_mode()
    def reference_timbre(self, reference_clip: AudioClip) -> torch.Tensor:
        """ge [1, 512, 1] from the reference's 32 kHz linear spectrogram (the v2 front end, `get_spepc`)."""
        spectrogram = audio.reference_spectrogram_inputs(reference_clip, with_speaker_audio=False).spectrogram
        return self.sovits.timbre_embedding(spectrogram)

    def reference_mel(self, reference_clip: AudioClip) -> torch.Tensor:
        """The reference's log-mel [1, 100, M] at the model's mel rate (not yet normalised)."""
        return log_mel_spectrogram(reference_mel_audio(reference_clip, self.mel_config), self.mel_config)

    @torch.inference_mode()
    def prepare_reference(
        self, reference_clip: AudioClip, prompt_codes: torch.Tensor, reference_phone_ids: torch.Tensor
    ) -> V3V4Reference:
        """Timbre, prompt features and prompt mel of one reference (its clip, its prompt codes, its phones)."""
        ge = self.reference_timbre(reference_clip)
        features = self.sovits.condition_features(prompt_codes, reference_phone_ids, ge)
        return self.reference_from(ge, features, self.reference_mel(reference_clip))

    def reference_from(self, ge: torch.Tensor, features: torch.Tensor, log_mel: torch.Tensor) -> V3V4Reference:
        """The prompt from the reference's features [1, 512, Fr] and log-mel [1, 100, M]: both cut to
        min(Fr, M) frames from the start, then to their last PROMPT_FRAMES frames."""
        mel = normalize_log_mel(log_mel).to(features)  # the mel front end runs on the CPU, in float32
        frames = min(mel.shape[-1], features.shape[-1])
        keep = min(frames, PROMPT_FRAMES[self.model_version])  # from the first `frames`, the last `keep`
        return V3V4Reference(
            timbre=ge,
            prompt_mel=mel[:, :, frames - keep : frames],
            prompt_features=features[:, :, frames - keep : frames],
        )

    # ----- one sentence ------------------------------------------------------------------------------------

    @torch.inference_mode()
    def decode(
        self,
        target_codes: torch.Tensor,
        target_phone_ids: torch.Tensor,
        reference: V3V4Reference,
        sample_steps: int,
        speed: float,
        generator: torch.Generator | None,
    ) -> torch.Tensor:
        """Target codes LongTensor[T] + target phone ids LongTensor[L] -> float32 audio [samples] at
        `sample_rate`, peak-normalised like upstream (divided by its peak only if that exceeds 1); no pause."""
        if target_codes.numel() == 0 or target_phone_ids.numel() == 0:
            raise ValueError("decode needs at least one semantic code and one target phone")
        if isinstance(sample_steps, bool) or not isinstance(sample_steps, int) or sample_steps < 1:
            raise ValueError(f"sample_steps must be a positive whole number, got {sample_steps!r}")
        features = self.sovits.condition_features(target_codes, target_phone_ids, reference.timbre, speed)
        mel = self.generate_mel(features, reference, sample_steps, generator)
        waveform = self.vocode(mel)
        peak = waveform.abs().max()
        return waveform / peak if peak > 1 else waveform

    @torch.inference_mode()
    def generate_mel(
        self, target_features: torch.Tensor, reference: V3V4Reference, sample_steps: int, generator: torch.Generator | None
    ) -> torch.Tensor:
        """Target features [1, 512, Ft] -> normalised mel [1, 100, Ft], chunk by chunk (upstream's loop)."""
        prompt_frames = reference.prompt_mel.shape[-1]
        chunk_frames = CHUNK_FRAMES[self.model_version] - prompt_frames
        prompt_mel, prompt_features = reference.prompt_mel, reference.prompt_features
        generated = []
        for start in range(0, target_features.shape[-1], chunk_frames):
            chunk = target_features[:, :, start : start + chunk_frames]
            condition = torch.cat([prompt_features, chunk], dim=2).transpose(1, 2)  # [1, T_k, 512]
            noise = draw_noise(generator, condition.shape[1], like=condition)
            mel = sample_mel(self.sovits.dit, condition, prompt_mel, sample_steps, noise)
            new_mel = mel[:, :, prompt_mel.shape[-1] :]
            generated.append(new_mel)
            # The next chunk continues from the end of this one (its last `prompt_frames` frames at most).
            prompt_mel, prompt_features = new_mel[:, :, -prompt_frames:], chunk[:, :, -prompt_frames:]
        return torch.cat(generated, dim=2)

    @torch.inference_mode()
    def vocode(self, normalised_mel: torch.Tensor) -> torch.Tensor:
        """Normalised mel [1, 100, F] -> audio [samples] at `sample_rate`."""
        return self.vocoder(denormalize_log_mel(normalised_mel))[0, 0]

    # ----- the whole output --------------------------------------------------------------------------------

    def finish(self, sentences: list[torch.Tensor], pause_seconds: float, super_resolution: bool) -> tuple[torch.Tensor, int]:
        """Join decoded sentences as upstream does: each followed by `pause_samples` zeros; with super_resolution
        (v3) the joined audio goes through AP-BWE and is divided by its peak if that exceeds 1.
        Returns (float32 audio, its sample rate)."""
        pause = torch.zeros(self.pause_samples(pause_seconds))
        joined = torch.cat([part for sentence in sentences for part in (sentence.float().cpu(), pause)])
        if not super_resolution:
            return joined, self.sample_rate
        high_rate = self.super_resolve(joined)
        peak = high_rate.abs().max()
        return (high_rate / peak if peak > 1 else high_rate), self.output_sample_rate(True)

    def super_resolve(self, audio_24k: torch.Tensor) -> torch.Tensor:
        """v3 output [n] at 24 kHz -> [m] at 48 kHz (AP-BWE)."""
        self._require_super_resolution()
        return self.super_resolution.super_resolve(audio_24k)

    def _require_super_resolution(self) -> None:
        if self.model_version == "v4":
            raise CheckpointError(Message("Super-resolution is for v3 models: v4 models already output 48 kHz."))
        if self.super_resolution is None:
            raise CheckpointError(Message("Super-resolution needs the AP-BWE model, which is not loaded."))

