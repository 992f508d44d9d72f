"""A whole engine at the official model sizes with random weights, built in memory (nothing stored or downloaded),
for the end-to-end benchmarks (streaming.py, paragraph.py).

Random weights never say EOS at a sensible moment, so `force_lengths` makes T2S speak each sentence for about as
many tokens as a real model would say for it (`forced_tokens`: TOKENS_PER_PHONE per target phone): EOS is never
sampled, and the row stops one token later through the per-row token cap, reported back as upstream's early stop
(whose decoder drops the first token). The work per sentence is then that of real speech, and exactly what the
official decoder does when held by the same early_stop_num (paragraph.py --official holds it so).
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
from gpt_sovits.text.frontend import phonemize, prepare_reference_text, prepare_target_segments  # noqa: E402

REPOSITORY = Path(__file__).resolve().parents[1]
# Real models say about 4.5 tokens per Chinese character (2 phones each): 2.2 tokens per phone.
TOKENS_PER_PHONE = 2.2
REFERENCE_TEXT = "今天天气很好，我们一起去公园散步吧，顺便看看花。"  # 22 characters for a 6 s clip


def random_engine(model_version: str, stop_reason: str = "early_stop") -> Engine:
    """A real-size engine with random weights; `stop_reason`: see force_lengths."""
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
    model_set = ModelSet(
        t2s=force_lengths(t2s, reference_phone_count(), stop_reason),
        synthesizer=VitsSynthesizer(sovits, SpeakerEncoder(ERes2NetV2()) if sovits.config.is_pro else None),
        features=features,
        info=ModelInfo(model_version, "v2", Path("random-t2s"), Path(f"random-{model_version}"), sovits.sample_rate),
        reference_identity=f"random-{model_version}",
    )
    return Engine.from_model_set(model_set)


def forced_tokens(target_phones: int) -> int:
    """Tokens SoVITS decodes for a sentence of `target_phones` phones, on both engines."""
    return max(12, round(TOKENS_PER_PHONE * target_phones))


def force_lengths(t2s, reference_phones: int, stop_reason: str = "early_stop"):
    """Make `t2s` speak every sentence for forced_tokens(its target phones) tokens. stop_reason "early_stop": as
    upstream's decoder does under early_stop_num = that count (no EOS, one token more generated, the first one
    dropped for the decoder; what paragraph.py compares with the official code). "eos": as a model that ended by
    itself (every generated token decoded; what token streaming decodes too, so streaming.py compares with that).
    `reference_phones`: how many of a row's phones are REFERENCE_TEXT's (none in reference-free rows)."""
    extra = 1 if stop_reason == "early_stop" else 0
    original_stream, original_prefill, original_step = t2s.stream, t2s.prefill, t2s.decode_step
    eos = t2s.config.eos_id

    def without_eos(logits):
        if logits is not None:  # None: a prefill that was stopped
            logits[..., eos] = float("-inf")
        return logits

    def forced(row):
        target_phones = len(row.phone_ids) - (reference_phones if row.num_prompt else 0)
        return dataclasses.replace(row, max_tokens=forced_tokens(target_phones) + extra)

    def stream(inputs, sampling, stop=None, max_rows=None):
        for step in original_stream(map(forced, inputs), sampling, stop, max_rows):  # read as lazily as the inputs
            for output in step.finished.values():
                if output.stop_reason == "token_limit":
                    output.stop_reason = stop_reason
            yield step

    t2s.stream = stream
    t2s.prefill = lambda *args: without_eos(original_prefill(*args))
    t2s.decode_step = lambda *args, **options: without_eos(original_step(*args, **options))
    return t2s


def reference_phone_count() -> int:
    """Phones of REFERENCE_TEXT as the engines give it to T2S (the sentence end added)."""
    return len(phonemize(prepare_reference_text(REFERENCE_TEXT, "all_zh"), "all_zh", "v2").phone_ids)


def paragraph_plan(text: str, cut_method: str) -> list[dict]:
    """Per sentence of `text` cut by `cut_method`: its target phones and the tokens both engines are held to."""
    plan = []
    for sentence in prepare_target_segments(text, cut_method, "all_zh"):
        phones = len(phonemize(sentence, "all_zh", "v2").phone_ids)
        plan.append({"text": sentence, "target_phones": phones, "tokens": forced_tokens(phones)})
    return plan


def speech_like_reference(folder: Path, variant: int = 0, seconds: float = 6.0) -> Path:
    """A 6 s voiced, syllable-rate modulated tone at 32 kHz: real signal for every stage, no real voice needed.
    Each `variant` > 0 adds its own faint noise: another clip to the engines (a reference cache misses it)."""
    rate = 32000
    t = np.arange(int(seconds * rate)) / rate
    voice = sum(np.sin(2 * np.pi * 140 * k * t) / k for k in range(1, 6))
    samples = 0.2 * voice * (0.5 + 0.5 * np.sin(2 * np.pi * 4 * t))
    if variant:
        samples += 1e-3 * np.random.default_rng(variant).standard_normal(len(samples))
    path = Path(folder) / f"reference-{variant}.wav"
    soundfile.write(path, samples.astype(np.float32), rate)
    return path
