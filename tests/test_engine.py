"""The engine end to end on tiny checkpoints, and the failure we exist to never have.

Upstream users got the *reference* sentence back (plus noise) instead of the target: the decoder was fed the
prompt tokens when T2S stopped at once (a `y[:, -idx:]` slice with idx == 0). These tests build a T2S checkpoint
whose EOS logit dominates from the first step, and check that the decoder only ever sees the tokens generated
for the target, that implausibly short outputs are re-rolled and then refused, and that different references and
targets never share work.
"""

import shutil

import numpy as np
import pytest
import soundfile
import torch

from gpt_sovits.engine import Engine, ModelPaths, SynthesisRequest, speak
from gpt_sovits.errors import AudioError, SynthesisError, TextError
from gpt_sovits.settings import InferenceSettings
from gpt_sovits.text.symbols import phones_to_ids
from gpt_sovits.text.types import TextRun

EOS = 1024


def _run(language, text, phones, word2ph=None):
    return TextRun(language, text, tuple(phones), phones_to_ids(phones, "v2"), tuple(word2ph) if word2ph else None)


REFERENCE_RUNS = [_run("zh", "今天天气很好.", ["j", "in1", "t", "ian1", "t", "ian1", "q", "i4", "h", "en3", "h", "ao3", "."],
                       [2, 2, 2, 2, 2, 2, 1])]
SHORT_TARGET = [_run("en", "hello.", ["HH", "AH0", "L", "OW1", "."])]
LONG_TARGET = [_run("en", "a long sentence.", ["AH0", "L", "AO1", "NG", "S", "EH1", "N", "T", "AH0", "N", "S"] * 6 + ["."])]


def _speech_like(seconds, sample_rate=32000, f0=140.0, seed=0):
    """A voiced, amplitude-modulated tone: enough signal for the pipeline, no real voice needed."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    voice = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 6))
    envelope = 0.5 + 0.5 * np.sin(2 * np.pi * 3.0 * t)
    return (0.2 * voice * envelope + 0.01 * rng.standard_normal(len(t))).astype(np.float32)


@pytest.fixture(scope="module")
def reference_wav(tmp_path_factory):
    path = tmp_path_factory.mktemp("reference") / "reference.wav"
    soundfile.write(path, _speech_like(4.0), 32000)
    return path


def _paths(tiny, t2s_path=None):
    return ModelPaths(
        t2s=t2s_path or tiny / "v2" / "t2s.ckpt",
        sovits=tiny / "v2" / "sovits.pth",
        hubert_dir=tiny / "hubert",
        bert_dir=tiny / "bert",
    )


@pytest.fixture(scope="module")
def eos_first_t2s(tiny_checkpoints, tmp_path_factory):
    """A T2S checkpoint in the official format whose EOS logit wins at every step.

    The last block's second LayerNorm gets weight 0 and a fixed bias b, so every hidden state is b; the output layer
    keeps only the EOS row, set to b. EOS then scores |b|^2 > 0 against 0 for every other token. Since EOS is
    banned for the first 11 steps, generation always yields exactly 11 tokens.
    """
    checkpoint = torch.load(tiny_checkpoints / "v2" / "t2s.ckpt", map_location="cpu", weights_only=True)
    weights = checkpoint["weight"]
    last = checkpoint["config"]["model"]["n_layer"] - 1
    bias = torch.linspace(0.5, 1.5, weights[f"model.h.layers.{last}.norm2.bias"].numel())
    weights[f"model.h.layers.{last}.norm2.weight"].zero_()
    weights[f"model.h.layers.{last}.norm2.bias"].copy_(bias.half())
    predict = weights["model.ar_predict_layer.weight"]
    predict.zero_()
    predict[EOS] = bias.half()
    path = tmp_path_factory.mktemp("eos_first") / "eos_first.ckpt"
    torch.save(checkpoint, path)
    return path


@pytest.fixture(scope="module")
def tiny_engine(tiny_checkpoints):
    return Engine(_paths(tiny_checkpoints))


@pytest.fixture(scope="module")
def eos_first_engine(tiny_checkpoints, eos_first_t2s):
    return Engine(_paths(tiny_checkpoints, eos_first_t2s))


def _spy(monkeypatch, obj, name):
    calls = []
    original = getattr(obj, name)

    def wrapper(*args, **kwargs):
        result = original(*args, **kwargs)
        calls.append((args, kwargs, result))
        return result

    monkeypatch.setattr(obj, name, wrapper)
    return calls


def _spy_t2s(monkeypatch, t2s):
    """Record every T2S run: (its inputs, {row: T2SOutput}) as the engine iterates it (the inputs as T2S reads them)."""
    calls = []
    original = t2s.stream

    def wrapper(inputs, sampling, stop=None, max_rows=None):
        read, outputs = [], {}
        calls.append((read, outputs))

        def reading():
            for row in inputs:
                read.append(row)
                yield row

        for step in original(reading(), sampling, stop, max_rows):
            outputs.update(step.finished)
            yield step

    monkeypatch.setattr(t2s, "stream", wrapper)
    return calls


def test_decoder_receives_only_the_generated_target_tokens(eos_first_engine, reference_wav, monkeypatch):
    models = eos_first_engine.model_set()
    generated = _spy_t2s(monkeypatch, models.t2s)
    decoded = _spy(monkeypatch, models.synthesizer.sovits, "decode")
    prompted = _spy(monkeypatch, models.synthesizer.sovits, "extract_prompt_codes")
    result = eos_first_engine.synthesize_phonemized(
        reference_wav, REFERENCE_RUNS, SHORT_TARGET, InferenceSettings(top_k=1, seed=3)
    )
    output = generated[-1][1][0]
    assert output.stop_reason == "eos" and len(output.tokens) == 11  # EOS banned for steps 0-10, then it wins
    decoder_codes = decoded[-1][0][0]
    assert torch.equal(decoder_codes, output.tokens)
    assert torch.equal(result.sentences[0].tokens, output.tokens)
    prompt_tokens = prompted[-1][2]
    assert len(prompt_tokens) > 11, "the reference prompt is longer than what the decoder got"
    # 11 tokens at 25 Hz = 0.44 s of speech, plus the 0.3 s pause: the target, not the 4 s reference.
    assert result.duration_seconds == pytest.approx(11 * 2 * 640 / 32000 + 0.3, abs=1e-6)


def test_implausibly_short_output_is_rerolled_then_refused(eos_first_engine, reference_wav, monkeypatch):
    generated = _spy_t2s(monkeypatch, eos_first_engine.model_set().t2s)
    decoded = _spy(monkeypatch, eos_first_engine.model_set().synthesizer.sovits, "decode")
    with pytest.raises(SynthesisError, match="kept stopping"):
        eos_first_engine.synthesize_phonemized(reference_wav, REFERENCE_RUNS, LONG_TARGET, InferenceSettings(seed=5))
    assert len(generated) == speak.MAX_ATTEMPTS
    seeds = {inputs[0].seed for inputs, _ in generated}
    assert len(seeds) == speak.MAX_ATTEMPTS, "every retry uses a new seed"
    assert decoded == [], "nothing is decoded, so no reference audio can come back"


def test_reference_free_mode_also_decodes_only_generated_tokens(eos_first_engine, reference_wav, monkeypatch):
    decoded = _spy(monkeypatch, eos_first_engine.model_set().synthesizer.sovits, "decode")
    result = eos_first_engine.synthesize_phonemized(reference_wav, None, SHORT_TARGET, InferenceSettings(top_k=1, seed=1))
    assert len(decoded[-1][0][0]) == 11
    assert result.duration_seconds == pytest.approx(11 * 2 * 640 / 32000 + 0.3, abs=1e-6)


def test_different_targets_give_different_audio(tiny_engine, reference_wav):
    settings = InferenceSettings(top_k=1, seed=7)
    first = tiny_engine.synthesize_phonemized(reference_wav, REFERENCE_RUNS, SHORT_TARGET, settings)
    second = tiny_engine.synthesize_phonemized(reference_wav, REFERENCE_RUNS, LONG_TARGET, settings)
    assert not (len(first.audio) == len(second.audio) and np.allclose(first.audio, second.audio))


def test_same_inputs_and_seed_give_identical_audio(tiny_engine, reference_wav):
    settings = InferenceSettings(top_k=5, temperature=0.8, seed=11)
    first = tiny_engine.synthesize_phonemized(reference_wav, REFERENCE_RUNS, LONG_TARGET, settings)
    second = tiny_engine.synthesize_phonemized(reference_wav, REFERENCE_RUNS, LONG_TARGET, settings)
    assert np.array_equal(first.audio, second.audio)


def test_reference_cache_is_keyed_by_content_not_file_name(tiny_engine, reference_wav, tmp_path):
    """Same bytes under another name hit the cache; other bytes under the same name do not."""
    request = SynthesisRequest(
        reference_audio=str(reference_wav),
        reference_text="今天天气很好。",
        reference_language="all_zh",
        target_text="你好。",
        target_language="all_zh",
        settings=InferenceSettings(seed=1),
    )
    first = tiny_engine.synthesize(request)
    renamed = tmp_path / "another_name.wav"
    shutil.copy(reference_wav, renamed)
    second = tiny_engine.synthesize(_replace(request, reference_audio=str(renamed)))
    assert not first.reference_cache_hit and second.reference_cache_hit
    assert np.array_equal(first.audio, second.audio)

    other_voice = tmp_path / "reference.wav"
    soundfile.write(other_voice, _speech_like(4.0, f0=220.0, seed=1), 32000)
    third = tiny_engine.synthesize(_replace(request, reference_audio=str(other_voice)))
    assert not third.reference_cache_hit


def test_reference_text_is_part_of_the_cache_key(tiny_engine, reference_wav):
    base = SynthesisRequest(str(reference_wav), "今天天气很好。", "all_zh", "你好。", "all_zh", settings=InferenceSettings(seed=1))
    tiny_engine.synthesize(base)
    changed = tiny_engine.synthesize(_replace(base, reference_text="我们去公园散步吧。"))
    assert not changed.reference_cache_hit


def _replace(request, **changes):
    from dataclasses import replace

    return replace(request, **changes)


def _with_extra_clip(reference_wav, extra, seconds: float) -> SynthesisRequest:
    """A request whose extra (timbre-only) clip, written to `extra`, is `seconds` of speech at 32 kHz."""
    soundfile.write(extra, _speech_like(4.0)[: int(32000 * seconds)], 32000)
    return SynthesisRequest(str(reference_wav), "今天天气很好。", "all_zh", "你好。", "all_zh",
                            extra_reference_audio=(str(extra),))  # fmt: skip


@pytest.mark.parametrize("seconds", [0.0005, 0.01, 0.4])
def test_an_extra_clip_too_short_to_lend_a_voice_is_refused_by_name(tiny_engine, reference_wav, tmp_path, seconds):
    """Under 22 ms the spectrogram itself failed with torch's padding error; now any clip under 0.5 s is named."""
    request = _with_extra_clip(reference_wav, tmp_path / "tiny-extra.wav", seconds)
    with pytest.raises(AudioError, match="^The extra reference clip 'tiny-extra.wav' is 0.[0-9]+ s long; .* at least 0.5 s"):
        tiny_engine.stream(request)


def test_an_extra_clip_of_half_a_second_lends_its_voice(tiny_engine, reference_wav, tmp_path):
    request = _with_extra_clip(reference_wav, tmp_path / "half-a-second.wav", 0.5)
    assert len(tiny_engine.synthesize(request).audio) > 0


@pytest.mark.parametrize("reference_text", ["。。。", "你好世界" * 100])
def test_reference_text_problems_name_the_reference_text(tiny_engine, reference_wav, reference_text):
    """Nothing to pronounce, or a sentence too long for BERT: the message must not send the user to the target."""
    request = SynthesisRequest(str(reference_wav), reference_text, "all_zh", "你好。", "all_zh")
    with pytest.raises(TextError, match="^Reference text: .*leave the reference text empty"):
        tiny_engine.synthesize(request)
