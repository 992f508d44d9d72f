"""v3 and v4 models through the engine: loaded from an official weights folder (LoRA fine-tunes merged onto their
base, the vocoder and AP-BWE found beside them), spoken at their own rates, with the settings only they have.

Stage-by-stage parity with the official implementation is test_v34.py; this checks the engine's wiring on the tiny
v3/v4 set with one flow-matching step per chunk (the real-size DiT makes each step cost seconds on a CPU).
"""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import soundfile

from conftest import tiny_checkpoints_for, v34_vector_cases
from gpt_sovits import weights
from gpt_sovits.engine import Engine, ModelChoice, SynthesisRequest
from gpt_sovits.errors import SynthesisError
from gpt_sovits.settings import InferenceSettings
from test_engine import _speech_like

REFERENCE_TEXT = "今天天气很好，我们一起去公园散步吧。"


@pytest.fixture(scope="module")
def weights_dir(tmp_path_factory) -> Path:
    """The tiny v3/v4 set laid out as the official download leaves it, plus two LoRA fine-tunes of the user's."""
    tiny = tiny_checkpoints_for(v34_vector_cases()[0])
    root = tmp_path_factory.mktemp("weights")
    links = {
        "s1v3.ckpt": "v4/t2s.ckpt",
        weights.LORA_BASE_MODELS["v3"]: "v3/s2Gv3.pth",
        weights.LORA_BASE_MODELS["v4"]: "v4/s2Gv4.pth",
        weights.V4_VOCODER: "v4/vocoder.pth",
        weights.BIGVGAN_DIR: "bigvgan",
        weights.SUPER_RESOLUTION_DIR: "apbwe",
        weights.HUBERT_DIR: "hubert",
        weights.BERT_DIR: "bert",
        "my_voices/v3_lora.pth": "v3/sovits_lora.pth",
        "my_voices/v4_lora.pth": "v4/sovits_lora.pth",
        "my_voices/v3_t2s.ckpt": "v3/t2s.ckpt",
    }
    for name, source in links.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).symlink_to(tiny / source)
    return root


@pytest.fixture(scope="module")
def engine(weights_dir):
    return Engine.from_weights_dir(weights_dir, model_pool_size=1)  # one 1.4 GB DiT in memory at a time


@pytest.fixture(scope="module")
def reference_wav(tmp_path_factory):
    path = tmp_path_factory.mktemp("reference") / "reference.wav"
    soundfile.write(path, _speech_like(4.0), 32000)
    return path


def _request(reference, models=None, **settings) -> SynthesisRequest:
    return SynthesisRequest(
        str(reference), REFERENCE_TEXT, "all_zh", "你好，世界。", "all_zh", models=models,
        settings=InferenceSettings(seed=2, sample_steps=1, **settings),
    )  # fmt: skip


def test_v4_lora_speaks_at_48_khz(engine, weights_dir, reference_wav, single_thread):
    lora = ModelChoice(sovits=weights_dir / "my_voices" / "v4_lora.pth")
    result = engine.synthesize(_request(reference_wav, lora))
    assert result.model.model_version == "v4" and result.sample_rate == 48000
    assert np.isfinite(result.audio).all() and np.abs(result.audio).max() <= 1.0
    # upstream counts the pause in 32 kHz samples whatever the output rate: 0.3 s is 9600 samples (0.2 s at 48 kHz)
    assert np.all(result.audio[-9600:] == 0) and result.audio[-9601] != 0


def test_v3_lora_with_and_without_super_resolution(engine, weights_dir, reference_wav, single_thread):
    lora = ModelChoice(t2s=weights_dir / "my_voices" / "v3_t2s.ckpt", sovits=weights_dir / "my_voices" / "v3_lora.pth")
    plain = engine.synthesize(_request(reference_wav, lora))
    assert plain.model.model_version == "v3" and plain.sample_rate == 24000
    high = engine.synthesize(_request(reference_wav, lora, super_resolution=True))
    assert high.sample_rate == 48000 and np.isfinite(high.audio).all()
    assert abs(len(high.audio) / 48000 - len(plain.audio) / 24000) < 0.05


def test_what_v3_v4_cannot_do_is_said(engine, weights_dir, reference_wav, single_thread):
    lora = ModelChoice(sovits=weights_dir / "my_voices" / "v4_lora.pth")
    with pytest.raises(SynthesisError, match="no reference-free mode"):
        engine.stream(replace(_request(reference_wav, lora), reference_text=""))
    stream = engine.stream(_request(reference_wav, lora, streaming="token", super_resolution=True))
    notes = " ".join(stream.warnings)
    assert "sentence by sentence" in notes and "already make 48 kHz" in notes
    stream.close()


def test_cli_speaks_v3_with_super_resolution(weights_dir, reference_wav, tmp_path, single_thread):
    from gpt_sovits import cli

    output = tmp_path / "v3.wav"
    arguments = [
        "synthesize", "--weights-dir", str(weights_dir), "--gpt", str(weights_dir / "my_voices" / "v3_t2s.ckpt"),
        "--sovits", str(weights_dir / "my_voices" / "v3_lora.pth"), "--reference-audio", str(reference_wav),
        "--reference-text", REFERENCE_TEXT, "--reference-language", "all_zh", "--target-text", "你好，世界。",
        "--target-language", "all_zh", "--seed", "2", "--sample-steps", "1", "--super-resolution", "--output", str(output),
    ]  # fmt: skip
    assert cli.main(arguments) == 0
    assert soundfile.info(output).samplerate == 48000
