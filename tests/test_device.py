"""The device and precision path: the engine in bfloat16 on the CPU, and no stray CPU tensors inside the models.

CUDA cannot be tested here; `benchmarks/gpu.py` runs parity and speed there. What can be checked on a CPU: a
bfloat16 engine makes finite audio of the right length, and the SoVITS stages run on the `meta` device (every
tensor they make must follow their inputs' device, or mixing devices raises).
"""

import numpy as np
import pytest
import soundfile
import torch

from gpt_sovits.engine import Engine, SynthesisRequest
from gpt_sovits.engine.model_set import Placement
from gpt_sovits.settings import InferenceSettings
from test_engine import _paths, _speech_like


@pytest.fixture(scope="module")
def reference_wav(tmp_path_factory):
    path = tmp_path_factory.mktemp("reference") / "reference.wav"
    soundfile.write(path, _speech_like(4.0), 32000)
    return path


def test_bfloat16_engine_makes_finite_audio_of_the_right_length(tiny_checkpoints, reference_wav, single_thread):
    engine = Engine(_paths(tiny_checkpoints), dtype=torch.bfloat16)
    models = engine.model_set()
    assert next(models.t2s.parameters()).dtype == torch.bfloat16
    assert next(models.synthesizer.sovits.parameters()).dtype == torch.bfloat16
    request = SynthesisRequest(
        str(reference_wav), "今天天气很好，我们一起去公园散步吧。", "all_zh", "你好，世界。今天天气很好。", "all_zh",
        settings=InferenceSettings(seed=1, cut_method="cut5"),
    )
    result = engine.synthesize(request)
    assert result.audio.dtype == np.float32 and np.isfinite(result.audio).all()
    speech = sum(len(sentence.tokens) for sentence in result.sentences) * 2 * 640  # 2 frames of 640 per token
    pauses = len(result.sentences) * int(0.3 * result.sample_rate)
    assert len(result.audio) == speech + pauses


def test_sovits_stages_make_no_stray_cpu_tensors(tiny_checkpoints):
    from gpt_sovits.checkpoints import load_sovits_checkpoint
    from gpt_sovits.models.sovits import SoVITS

    for version in ("v2", "v2ProPlus"):
        model = Placement("meta").apply(SoVITS.from_checkpoint(load_sovits_checkpoint(tiny_checkpoints / version / "sovits.pth")))
        speaker = torch.zeros(20480, device="meta") if model.config.is_pro else None
        ge = model.timbre_embedding(torch.zeros(1, 1025, 60, device="meta"), speaker)
        assert ge.device.type == "meta"
        codes = model.extract_prompt_codes(torch.zeros(40, 768, device="meta"))
        assert codes.device.type == "meta"
        waveform = model.decode(torch.zeros(20, dtype=torch.long), torch.tensor([3, 5, 7]), ge, speed=1.1)
        assert waveform.device.type == "meta" and waveform.shape == ((int(40 / 1.1) + 1) * 640,)
