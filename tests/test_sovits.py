"""SoVITS synthesizer: its seeded noise, output lengths, and the errors for unusable checkpoints.

Its parity with the official implementation, stage by stage, is the `prompt_codes` and `sovits_decode` stages of
test_parity.py: each vector case stores what upstream fed the synthesizer (codes, target phones, reference
spectrogram, speaker embedding, the decode noise) and what came out of every stage.
"""

import types
from functools import lru_cache

import pytest
import torch

from conftest import load_case, tiny_checkpoints_for, torch_threads, vector_cases
from gpt_sovits.checkpoints import load_sovits_checkpoint
from gpt_sovits.errors import CheckpointError, UnsupportedModelError
from gpt_sovits.models.sovits import SoVITS
from tolerances import assert_matches_official


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """The tiny model's ops are too small to share out; on a busy machine, waiting for a second thread at every
    op costs more than the op itself."""
    with torch_threads(1):
        yield


@lru_cache(maxsize=None)
def _model(path) -> SoVITS:
    return SoVITS.from_checkpoint(load_sovits_checkpoint(path))


def _model_for(case) -> tuple[SoVITS, dict, dict]:
    sidecar, arrays = load_case(case)
    return _model(tiny_checkpoints_for(case) / sidecar["model_version"] / "sovits.pth"), sidecar, arrays


def _inputs(arrays):
    spectrogram = torch.from_numpy(arrays["refer_spec"])[None]
    speaker = torch.from_numpy(arrays["sv_emb"]) if "sv_emb" in arrays else None
    return spectrogram, speaker


def _reference_embedding(model, arrays):
    return model.timbre_embedding(*_inputs(arrays))


def test_seeded_noise_is_upstreams_draw():
    """torch.manual_seed(s) then randn_like(m_p), as upstream: a generator seeded with s draws the same noise."""
    model, sidecar, arrays = _model_for(vector_cases()[0])
    generator = torch.Generator().manual_seed(sidecar["sovits_decode"]["noise_seed"])
    # decode draws its noise exactly so: one randn over the prior's shape, in float32, from the generator
    noise = torch.randn(arrays["decode_noise"][None].shape, generator=generator, dtype=torch.float32)[0]
    assert_matches_official("decode_noise", noise, arrays["decode_noise"])


def test_output_length_and_speed():
    case = vector_cases()[0]
    model, sidecar, arrays = _model_for(case)
    ge = _reference_embedding(model, arrays)
    codes = torch.zeros(20, dtype=torch.long)
    phones = torch.tensor([3, 5, 7])
    assert model.sample_rate == 32000 and model.samples_per_frame == 640
    assert model.decode(codes, phones, ge, noise_scale=0).shape == (20 * 1280,)
    # speed != 1 resamples the 40 frames to int(40 / speed) + 1 (upstream adds that one frame)
    assert model.decode(codes, phones, ge, speed=1.1, noise_scale=0).shape == ((int(40 / 1.1) + 1) * 640,)
    assert model.decode(codes, phones, ge, speed=0.8, noise_scale=0).shape == ((int(40 / 0.8) + 1) * 640,)


def test_versions_are_reported(tiny_checkpoints):
    for version, symbols in [("v1", "v1"), ("v2", "v2"), ("v2ProPlus", "v2")]:
        model = _model(tiny_checkpoints / version / "sovits.pth")
        assert (model.config.model_version, model.config.symbol_version) == (version, symbols)


def test_pro_model_needs_speaker_embedding(tiny_checkpoints):
    model = _model(tiny_checkpoints / "v2ProPlus" / "sovits.pth")
    with pytest.raises(ValueError, match="speaker embedding"):
        model.timbre_embedding(torch.ones(1, 1025, 30), None)


def _fake_checkpoint(tiny_checkpoints, **changes):
    real = load_sovits_checkpoint(tiny_checkpoints / "v2" / "sovits.pth")
    fields = dict(path=real.path, model_version=real.model_version, symbol_version=real.symbol_version,
                  hparams=real.hparams, state_dict=dict(real.state_dict), info=real.info)
    fields.update(changes)
    return types.SimpleNamespace(**fields)


def test_missing_tensor_is_a_checkpoint_error(tiny_checkpoints):
    ckpt = _fake_checkpoint(tiny_checkpoints)
    del ckpt.state_dict["flow.flows.2.post.weight"]
    with pytest.raises(CheckpointError, match="sovits.pth.*missing"):
        SoVITS.from_checkpoint(ckpt)


def test_config_that_disagrees_with_weights_is_a_checkpoint_error(tiny_checkpoints):
    ckpt = _fake_checkpoint(tiny_checkpoints)
    ckpt.hparams = {**ckpt.hparams, "model": {**ckpt.hparams["model"], "upsample_initial_channel": 64}}
    with pytest.raises(CheckpointError, match="shape"):
        SoVITS.from_checkpoint(ckpt)


def test_v3_is_unsupported(tiny_checkpoints):
    with pytest.raises(UnsupportedModelError, match="v3"):
        SoVITS.from_checkpoint(_fake_checkpoint(tiny_checkpoints, model_version="v3"))


def test_decode_refuses_empty_inputs():
    case = vector_cases()[0]
    model, sidecar, arrays = _model_for(case)
    ge = _reference_embedding(model, arrays)
    with pytest.raises(ValueError, match="at least one"):
        model.decode(torch.zeros(0, dtype=torch.long), torch.tensor([3]), ge)
    with pytest.raises(ValueError, match="at least one"):
        model.decode(torch.zeros(4, dtype=torch.long), torch.zeros(0, dtype=torch.long), ge)
