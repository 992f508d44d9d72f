"""SoVITS synthesizer against the official implementation's recorded intermediates, stage by stage.

Each vector case stores what upstream fed the synthesizer (codes, target phones, reference spectrogram,
speaker embedding, the decode noise) and what came out of every stage; we feed the same and compare.
"""

import types
from functools import lru_cache

import numpy as np
import pytest
import torch

from conftest import load_case, tiny_checkpoints_for, torch_threads, vector_cases
from probes import sovits_stages
from gpt_sovits.checkpoints import load_sovits_checkpoint
from gpt_sovits.errors import CheckpointError, UnsupportedModelError
from gpt_sovits.models.sovits import SoVITS

CASES = [pytest.param(case, id=case.name) for case in vector_cases()]

# Stage -> max abs error allowed. Upstream's own float32 runs differ by up to ~1e-4 between thread counts.
TOLERANCES = {
    "ge_ref_enc": 1e-4,
    "sv_emb_proj": 1e-4,
    "ge_after_prelu": 1e-4,
    "ge_512": 1e-4,
    "enc_p_ge_in": 1e-4,
    "enc_p_m_p": 1e-4,
    "enc_p_logs_p": 1e-4,
    "enc_p_y_mask": 0,
    "decode_noise": 0,
    "flow_g": 1e-4,
    "flow_z": 1e-3,
    "decode_out_max_abs": 1e-4,
}


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


def _stages(model, sidecar, arrays) -> dict:
    """Every stage from the recorded inputs and the recorded noise."""
    return sovits_stages(
        model,
        *_inputs(arrays),
        codes=torch.from_numpy(arrays["decode_codes"][0, 0]),
        phone_ids=torch.from_numpy(arrays["decode_text"]),
        speed=sidecar["get_tts_wav_args"]["speed"],
        noise_scale=sidecar["sovits_decode"]["noise_scale"],
        noise=torch.from_numpy(arrays["decode_noise"])[None],
    )


@pytest.mark.parametrize("case", CASES)
def test_prompt_codes_match_exactly(case):
    model, sidecar, arrays = _model_for(case)
    if "hubert_last_hidden_state" not in arrays:
        pytest.skip("reference-free case: no prompt codes")
    features = torch.from_numpy(arrays["hubert_last_hidden_state"])  # [F, 768]
    codes = model.extract_prompt_codes(features)
    assert codes.dtype == torch.long
    np.testing.assert_array_equal(codes.numpy(), arrays["extract_latent_codes"][0, 0])


@pytest.mark.parametrize("case", CASES)
def test_decode_matches_every_recorded_stage(case):
    model, sidecar, arrays = _model_for(case)
    stages = _stages(model, sidecar, arrays)
    waveform = stages["decode_output"]

    compared = []
    for name, tolerance in TOLERANCES.items():
        if name not in arrays or name == "decode_noise":
            continue
        assert name in stages, f"stage {name} was not computed"
        got, expected = stages[name].numpy(), arrays[name]
        got = got.reshape(expected.shape) if got.size == expected.size else got
        assert got.shape == expected.shape, name
        np.testing.assert_allclose(got, expected, atol=tolerance, rtol=0, err_msg=name)
        compared.append(name)
    assert {"enc_p_m_p", "enc_p_logs_p", "flow_z"} <= set(compared)

    expected_wave = arrays["output_wav_float"][:-9600]  # the web UI appends 0.3 s of silence
    assert waveform.shape == expected_wave.shape
    np.testing.assert_allclose(waveform.numpy(), expected_wave, atol=1e-4, rtol=0)


def test_seeded_noise_is_upstreams_draw():
    """torch.manual_seed(s) then randn_like(m_p), as upstream: decode's draw with a generator seeded with s gives
    the recorded waveform, which the recorded noise gives too."""
    model, sidecar, arrays = _model_for(vector_cases()[0])
    generator = torch.Generator().manual_seed(sidecar["sovits_decode"]["noise_seed"])
    waveform = model.decode(
        torch.from_numpy(arrays["decode_codes"][0, 0]),
        torch.from_numpy(arrays["decode_text"]),
        _reference_embedding(model, arrays),
        speed=sidecar["get_tts_wav_args"]["speed"],
        noise_scale=sidecar["sovits_decode"]["noise_scale"],
        generator=generator,
    )
    torch.testing.assert_close(waveform, _stages(model, sidecar, arrays)["decode_output"], atol=0, rtol=0)


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
