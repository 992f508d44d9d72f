"""The seam between the engine and the model families that turn semantic tokens into audio.

    VitsSynthesizer   v1, v2, v2Pro, v2ProPlus: the SoVITS decoder (VITS prior + flow + HiFi-GAN), 32 kHz
    CfmSynthesizer    v3, v4: SoVITS features -> mel by flow matching over the reference's mel -> vocoder
                      (BigVGAN 24 kHz for v3, optionally AP-BWE to 48 kHz; the 48 kHz vocoder for v4)

Both answer the same calls, so the engine never asks which family it has:

    extract_prompt_codes(hubert [F, 768])                        -> prompt tokens [F // 2]
    prepare(clips, prompt_tokens, reference_phone_ids)           -> conditioning (opaque, cached per reference)
    decode(tokens, target_phone_ids, conditioning, settings, seed) -> float32 audio of one sentence (no pause)
    output_rate(settings), pause(settings)                       -> the rate every chunk has, the sentence gap
"""

from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from gpt_sovits import audio, weights
from gpt_sovits.errors import SynthesisError
from gpt_sovits.messages import Message, joined
from gpt_sovits.models.sovits import SoVITS
from gpt_sovits.models.speaker import SpeakerEncoder
from gpt_sovits.models.synthesizer_v3v4 import DEFAULT_SAMPLE_STEPS, V3V4Synthesizer
from gpt_sovits.settings import InferenceSettings


def _peak_normalised(waveform: torch.Tensor) -> np.ndarray:
    """float32 numpy audio, divided by its peak when that exceeds 1 (what upstream does per sentence)."""
    waveform = waveform.float().cpu().numpy()
    peak = float(np.abs(waveform).max()) if waveform.size else 0.0
    return (waveform / peak if peak > 1.0 else waveform).astype(np.float32)


class VitsSynthesizer:
    """v1 - v2ProPlus. The timbre of several clips is their averaged ge (v2Pro: with the speaker embedding)."""

    token_streaming = True
    reference_free = True  # upstream allows reference-free mode for these

    def __init__(self, sovits: SoVITS, speaker: SpeakerEncoder | None):
        self.sovits, self.speaker = sovits, speaker
        self.sample_rate = sovits.sample_rate

    def extract_prompt_codes(self, hubert_features: torch.Tensor) -> torch.Tensor:
        return self.sovits.extract_prompt_codes(hubert_features)

    @torch.inference_mode()
    def prepare(self, clips, prompt_tokens, reference_phone_ids) -> torch.Tensor:
        return torch.stack([self._timbre(clip) for clip in clips.timbre_clips]).mean(dim=0)  # ge [1, gin, 1]

    def _timbre(self, clip: audio.AudioClip) -> torch.Tensor:
        inputs = audio.reference_spectrogram_inputs(clip, with_speaker_audio=self.speaker is not None)
        speaker_embedding = self.speaker(inputs.audio_16k) if self.speaker is not None else None  # [20480]
        return self.sovits.timbre_embedding(inputs.spectrogram, speaker_embedding)

    @torch.inference_mode()
    def decode(self, tokens, target_phone_ids, conditioning, settings: InferenceSettings, seed: int) -> np.ndarray:
        waveform = self.sovits.decode(
            tokens, torch.tensor(target_phone_ids, dtype=torch.long), conditioning, speed=settings.speed,
            noise_scale=settings.noise_scale, generator=torch.Generator().manual_seed(seed + 1),
        )  # fmt: skip
        return _peak_normalised(waveform)

    def output_rate(self, settings: InferenceSettings) -> int:
        return self.sample_rate

    def pause(self, settings: InferenceSettings) -> np.ndarray:
        return np.zeros(int(self.sample_rate * settings.pause_seconds), dtype=np.float32)

    def adapt(self, settings: InferenceSettings, reference_free: bool, extra_clips: int):
        """(settings as these models run them, notes for the user): the v3/v4-only settings do nothing here."""
        if settings.super_resolution or settings.sample_steps:
            note = Message("Sampling steps and super-resolution are for v3/v4 models; this model does not use them.")
            return replace(settings, super_resolution=False, sample_steps=None), [note]
        return settings, []


class CfmSynthesizer:
    """v3 / v4. Upstream uses the main clip only (no extra timbre clips) and has no reference-free mode."""

    token_streaming = False  # upstream never streams these token by token: the mel is made chunk by chunk
    reference_free = False

    def __init__(self, model: V3V4Synthesizer, weights_dir: Path):
        self.model, self.weights_dir = model, weights_dir
        self.sample_rate = model.sample_rate
        self.default_sample_steps = DEFAULT_SAMPLE_STEPS[model.model_version]

    def extract_prompt_codes(self, hubert_features: torch.Tensor) -> torch.Tensor:
        return self.model.extract_prompt_codes(hubert_features)

    def prepare(self, clips, prompt_tokens, reference_phone_ids):
        return self.model.prepare_reference(clips.main, prompt_tokens, torch.tensor(reference_phone_ids, dtype=torch.long))

    @torch.inference_mode()
    def decode(self, tokens, target_phone_ids, conditioning, settings: InferenceSettings, seed: int) -> np.ndarray:
        waveform = self.model.decode(
            tokens, torch.tensor(target_phone_ids, dtype=torch.long), conditioning,
            sample_steps=settings.sample_steps or self.default_sample_steps, speed=settings.speed,
            generator=torch.Generator().manual_seed(seed + 1),
        )  # fmt: skip
        waveform = waveform.float().cpu()
        if settings.super_resolution:
            # Upstream runs AP-BWE once over the joined output; a stream runs it per sentence (with its pause),
            # which differs only where a pause's silence meets the next sentence.
            waveform = torch.cat([waveform, torch.from_numpy(self._pause_24k(settings))])
            return _peak_normalised(self.model.super_resolve(waveform))
        return waveform.numpy().astype(np.float32)

    def output_rate(self, settings: InferenceSettings) -> int:
        return self.model.output_sample_rate(settings.super_resolution)

    def pause(self, settings: InferenceSettings) -> np.ndarray:
        """Upstream counts the pause in 32 kHz samples whatever the output rate (0.3 s is 0.4 s at 24 kHz); with
        super-resolution the pause already went through AP-BWE with its sentence."""
        return np.zeros(0 if settings.super_resolution else self.model.pause_samples(settings.pause_seconds), np.float32)

    def _pause_24k(self, settings) -> np.ndarray:
        return np.zeros(self.model.pause_samples(settings.pause_seconds), dtype=np.float32)

    def adapt(self, settings: InferenceSettings, reference_free: bool, extra_clips: int):
        """(settings as these models run them, notes for the user); SynthesisError for what they cannot do."""
        version, notes = self.model.model_version, []
        if reference_free:
            raise SynthesisError(Message(
                "{version} models need the reference text (they have no reference-free mode). Type what the "
                "reference clip says.", version=version,
            ))  # fmt: skip
        if settings.super_resolution and version == "v4":
            notes.append(Message("v4 models already make 48 kHz audio, so super-resolution was not needed."))
            settings = replace(settings, super_resolution=False)
        elif settings.super_resolution and self.model.super_resolution is None:
            raise SynthesisError(Message(
                "Super-resolution needs the AP-BWE model, which is not in the weights folder: put {files} from {source} "
                "(the official download) into {folder}/, or turn super-resolution off.",
                files=joined(weights.SUPER_RESOLUTION_FILES), source=weights.SUPER_RESOLUTION_SOURCE,
                folder=weights.SUPER_RESOLUTION_DIR,
            ))  # fmt: skip
        if settings.streaming == "token":
            notes.append(Message("{version} models play sentence by sentence (their audio is made per sentence).",
                                 version=version))  # fmt: skip
            settings = replace(settings, streaming="sentence")
        if extra_clips:
            notes.append(Message("{version} models use the main reference clip only; the extra clips were not used.",
                                 version=version))  # fmt: skip
        return settings, notes
