"""The device and precision path: --device / --dtype checked on the machine, the engine in bfloat16 on the CPU, and
no stray CPU tensors inside the models.

CUDA cannot be tested here; `benchmarks/gpu.py` runs parity and speed there. What can be checked on a CPU: a
bfloat16 engine makes finite audio of the right length, and the SoVITS stages run on the `meta` device (every
tensor they make must follow their inputs' device, or mixing devices raises).
"""

import numpy as np
import pytest
import soundfile
import torch

from gpt_sovits.engine import Engine, SynthesisRequest
from gpt_sovits.engine.model_set import Placement, choose_placement, placement_note
from gpt_sovits.errors import DeviceError
from gpt_sovits.messages import render
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


def test_device_and_dtype_by_name_on_a_machine_without_a_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    exact = choose_placement()
    assert exact == Placement("cpu", torch.float32) and exact.is_exact and placement_note(exact) is None
    assert choose_placement(" CPU ", "Float32") == exact  # typed by hand
    faster = choose_placement("cpu", "bfloat16")
    assert faster == Placement("cpu", torch.bfloat16) and "not bit-exact" in placement_note(faster)
    for device, dtype, message in [
        ("cuda", "auto", "No CUDA GPU can be used here"),
        ("cuda:1", "auto", "run with --device cpu"),
        ("cpu", "float16", "float16 is for GPUs"),
        ("tpu", "auto", "Unknown device 'tpu'"),
        ("cpu", "half", "Unknown precision 'half'"),
    ]:
        with pytest.raises(DeviceError, match=message) as caught:
            choose_placement(device, dtype)
        assert render(caught.value, "zh") != str(caught.value)  # the operator's language too


def fake_gpus(monkeypatch, count: int, capability: tuple[int, int], built: list[str]) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: count)
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda index=0: capability)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda index=0: "Test GPU")
    monkeypatch.setattr(torch.cuda, "get_arch_list", lambda: built)


def test_device_and_dtype_by_name_on_a_machine_with_two_gpus(monkeypatch):
    fake_gpus(monkeypatch, 2, (8, 9), ["sm_75", "sm_80", "sm_86", "sm_90", "compute_90"])  # 8.9 runs sm_86 code
    assert choose_placement() == Placement("cuda", torch.float16)  # as the official code runs on a GPU
    gpu1 = choose_placement("cuda:1", "float32")
    assert gpu1 == Placement("cuda:1", torch.float32) and "cuda:1" in placement_note(gpu1)
    with pytest.raises(DeviceError, match="There is no GPU 2: this machine has 2"):
        choose_placement("cuda:2")


def test_a_gpu_this_pytorch_cannot_run_on_is_refused_or_passed_over(monkeypatch):
    built = ["sm_75", "sm_80", "sm_86", "sm_90", "compute_90"]
    fake_gpus(monkeypatch, 1, (6, 1), built)  # Pascal: left out of recent builds
    with pytest.raises(DeviceError, match=r"cannot run on GPU 0 \(Test GPU, compute capability 6.1\)"):
        choose_placement("cuda")
    assert choose_placement() == Placement("cpu", torch.float32)  # auto takes the CPU instead
    fake_gpus(monkeypatch, 1, (12, 0), built)  # newer than the build: its PTX is compiled by the driver
    assert choose_placement() == Placement("cuda", torch.float16)


def test_models_too_big_for_the_device_say_so(monkeypatch):
    def out_of_memory(*args, **kwargs):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 MiB")

    module = torch.nn.Linear(2, 2)
    monkeypatch.setattr(module, "to", out_of_memory)
    with pytest.raises(DeviceError, match="do not fit in the memory of cuda: .* --device cpu"):
        Placement("cuda", torch.float16).apply(module)
