"""Speaker encoder (v2Pro / v2ProPlus): the Kaldi fbank's framing and floor, and the errors for unusable files or
audio. Its parity with the official fbank and embedding is the `speaker` stage of test_parity.py."""

import pytest
import torch

from gpt_sovits.errors import AudioError, CheckpointError
from gpt_sovits.models.speaker import ERes2NetV2, SpeakerEncoder, fold_batch_norms, kaldi_fbank


def test_fbank_frames_are_whole_25ms_windows_every_10ms():
    wav = torch.sin(torch.arange(16000) * 0.05)
    assert kaldi_fbank(wav).shape == (1 + (16000 - 400) // 160, 80)
    assert kaldi_fbank(wav[:400]).shape == (1, 80)


def test_fbank_of_silence_is_the_log_floor():
    assert torch.all(kaldi_fbank(torch.zeros(800)) == torch.log(torch.tensor(torch.finfo(torch.float32).eps)))


def test_batch_norms_fold_into_the_convolutions_without_changing_the_embedding():
    torch.manual_seed(0)
    model = ERes2NetV2(m_channels=8, num_blocks=(1, 1, 2, 1)).eval()
    for norm in (module for module in model.modules() if isinstance(module, torch.nn.BatchNorm2d)):
        norm.running_mean.uniform_(-0.5, 0.5)  # stored statistics that are not the identity, as trained ones
        norm.running_var.uniform_(0.5, 2.0)
        norm.weight.data.uniform_(0.5, 1.5)
        norm.bias.data.uniform_(-0.2, 0.2)
    fbank = torch.randn(1, 120, 80)
    with torch.inference_mode():
        expected = model(fbank)
        folded = fold_batch_norms(model)(fbank)
    assert not any(isinstance(module, torch.nn.BatchNorm2d) for module in model.modules())
    torch.testing.assert_close(folded, expected, rtol=1e-5, atol=1e-5 * expected.abs().max().item())


def test_fbank_rejects_audio_shorter_than_one_frame():
    with pytest.raises(AudioError):
        kaldi_fbank(torch.zeros(399))


def test_missing_file_is_a_checkpoint_error(tmp_path):
    with pytest.raises(CheckpointError, match="not found"):
        SpeakerEncoder.from_file(tmp_path / "pretrained_eres2netv2w24s4ep4.ckpt")


def test_garbage_file_is_a_checkpoint_error(tmp_path):
    path = tmp_path / "sv.ckpt"
    path.write_bytes(b"\x00" * 100)
    with pytest.raises(CheckpointError, match="Cannot read"):
        SpeakerEncoder.from_file(path)


def test_other_model_file_is_refused(tiny_checkpoints):
    """Strict loading: a state dict of some other model (here HuBERT's) is not taken for the speaker model."""
    with pytest.raises(CheckpointError, match="not an ERes2NetV2"):
        SpeakerEncoder.from_file(tiny_checkpoints / "hubert" / "pytorch_model.bin")


def test_incomplete_state_dict_is_refused(tmp_path):
    path = tmp_path / "sv.ckpt"
    torch.save({"conv1.weight": torch.zeros(64, 1, 3, 3)}, path)
    with pytest.raises(CheckpointError, match="not an ERes2NetV2"):
        SpeakerEncoder.from_file(path)
