"""A whole engine at the official model sizes with random weights, built in memory (nothing stored or downloaded),
for the end-to-end benchmarks (streaming.py, paragraph.py).

Random weights never say EOS at a sensible moment, so `force_lengths` makes T2S stop each sentence after about as
many tokens as a real model would say for it (TOKENS_PER_PHONE), through the per-row token cap, reported back as a
normal stop: the work per sentence is then that of real speech.
"""

import dataclasses
import sys
from pathlib import Path

import numpy as np
import soundfile
import torch
from transformers import AutoTokenizer, BertForMaskedLM, HubertModel

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import features_speed  # noqa: E402
import sovits_speed  # noqa: E402
import t2s_speed  # noqa: E402

from gpt_sovits.engine import Engine, ModelInfo  # noqa: E402
from gpt_sovits.engine.model_set import FeatureModels, ModelSet  # noqa: E402
from gpt_sovits.engine.synthesizers import VitsSynthesizer  # noqa: E402
from gpt_sovits.models.features import BertEncoder, HubertEncoder  # noqa: E402
from gpt_sovits.models.speaker import ERes2NetV2, SpeakerEncoder  # noqa: E402
from gpt_sovits.text.frontend import phonemize, prepare_reference_text  # noqa: E402

REPOSITORY = Path(__file__).resolve().parents[1]
# Real models say about 4.5 tokens per Chinese character (2 phones each): 2.2 tokens per phone.
TOKENS_PER_PHONE = 2.2
REFERENCE_TEXT = "今天天气很好，我们一起去公园散步吧，顺便看看花。"  # 22 characters for a 6 s clip


def random_engine(model_version: str) -> Engine:
    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(REPOSITORY / "tests" / "data" / "tiny_ckpt" / "bert")
    features = FeatureModels(
        HubertEncoder(HubertModel(features_speed.HUBERT_BASE).eval()),
        BertEncoder(BertForMaskedLM(features_speed.BERT_LARGE).eval(), tokenizer),
        speaker_path=None,
        identity="random",
    )
    sovits = sovits_speed._random_model(model_version)
    t2s = t2s_speed.random_model(t2s_speed.OFFICIAL_SIZE)
    spoken = prepare_reference_text(REFERENCE_TEXT, "all_zh")
    model_set = ModelSet(
        t2s=force_lengths(t2s, reference_phones=len(phonemize(spoken, "all_zh", "v2").phone_ids)),
        synthesizer=VitsSynthesizer(sovits, SpeakerEncoder(ERes2NetV2()) if sovits.config.is_pro else None),
        features=features,
        info=ModelInfo(model_version, "v2", Path("random-t2s"), Path(f"random-{model_version}"), sovits.sample_rate),
        reference_identity=f"random-{model_version}",
    )
    return Engine.from_model_set(model_set)


def force_lengths(t2s, reference_phones: int):
    """Make `t2s.stream` stop every sentence after TOKENS_PER_PHONE tokens per target phone, as a real model would.
    `reference_phones`: how many of a row's phones are REFERENCE_TEXT's (none in reference-free rows)."""
    original = t2s.stream

    def stream(inputs, sampling):
        forced = []
        for row in inputs:
            target_phones = len(row.phone_ids) - (reference_phones if row.num_prompt else 0)
            forced.append(dataclasses.replace(row, max_tokens=max(12, round(TOKENS_PER_PHONE * target_phones))))
        for step in original(forced, sampling):
            for output in step.finished.values():
                if output.stop_reason == "token_limit":
                    output.stop_reason = "eos"
            yield step

    t2s.stream = stream
    return t2s


def speech_like_reference(folder: Path, seconds: float = 6.0) -> Path:
    """A 6 s voiced, syllable-rate modulated tone at 32 kHz: real signal for every stage, no real voice needed."""
    rate = 32000
    t = np.arange(int(seconds * rate)) / rate
    voice = sum(np.sin(2 * np.pi * 140 * k * t) / k for k in range(1, 6))
    samples = (0.2 * voice * (0.5 + 0.5 * np.sin(2 * np.pi * 4 * t))).astype(np.float32)
    path = Path(folder) / "reference.wav"
    soundfile.write(path, samples, rate)
    return path
