"""benchmarks/export_checkpoints.py writes our models as official files: our loaders read them back to the same
model, and the SoVITS files name exactly the tensors an official file of the same config names (the tiny recipe)."""

import dataclasses
import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import export_checkpoints  # noqa: E402
import sovits_speed  # noqa: E402
import t2s_speed  # noqa: E402

from gpt_sovits.checkpoints import load_sovits_checkpoint, load_t2s_checkpoint  # noqa: E402
from gpt_sovits.models.sovits import SoVITS  # noqa: E402
from gpt_sovits.models.t2s import Text2Semantic  # noqa: E402
from tiny_weights import DEFAULT_RECIPE_DIR, read_recipe  # noqa: E402

TINY_T2S = dataclasses.replace(t2s_speed.OFFICIAL_SIZE, embedding_dim=32, hidden_dim=32, num_heads=2, num_layers=2,
                               early_stop_num=100)  # fmt: skip


def tiny_sovits_config(version: str):
    """The tiny recipe's SoVITS sizes (tests/data/tiny_ckpt), on the official layout of `version`."""
    return dataclasses.replace(sovits_speed.official_config(version), inter_channels=32, filter_channels=64,
                               n_layers=2, upsample_initial_channel=32,
                               gin_channels=64 if version == "v2ProPlus" else 512)  # fmt: skip


def test_t2s_file_loads_back_to_the_same_model(tmp_path):
    model = t2s_speed.random_model(TINY_T2S)
    export_checkpoints.write_t2s(model, tmp_path / "t2s.ckpt")
    checkpoint = load_t2s_checkpoint(tmp_path / "t2s.ckpt")
    assert checkpoint.config == TINY_T2S
    loaded = Text2Semantic.from_checkpoint(checkpoint).state_dict()
    for name, tensor in model.state_dict().items():  # random_model rounds through fp16 already: exact
        assert torch.equal(loaded[name], tensor), name


@pytest.mark.parametrize("version", ["v2", "v2ProPlus"])
def test_sovits_file_loads_back_to_the_same_model_with_the_official_names(tmp_path, version):
    torch.manual_seed(0)
    model = SoVITS(tiny_sovits_config(version)).eval()
    export_checkpoints.write_sovits(model, tmp_path / "sovits.pth")
    checkpoint = load_sovits_checkpoint(tmp_path / "sovits.pth")
    assert checkpoint.model_version == version

    official = read_recipe(DEFAULT_RECIPE_DIR)["files"][f"{version}/sovits.pth"]
    assert sorted(checkpoint.state_dict) == sorted(tensor["name"] for tensor in official["tensors"])

    loaded = SoVITS.from_checkpoint(checkpoint).state_dict()
    for name, tensor in model.state_dict().items():
        expected = tensor.half().float()
        # Weight-normed convolutions come back as g * v / ||v|| from fp16 g and v: within a few fp16 steps.
        torch.testing.assert_close(loaded[name], expected, rtol=4e-3, atol=1e-6, msg=name)
