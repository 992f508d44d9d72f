"""The rebuilt tiny checkpoints are bit-exact and in the official containers.

Every parity test trusts these files, so check them directly: each tensor read back from disk hashes to the
recipe's sha256, and each file has the container the official loaders expect.
"""

from __future__ import annotations

import io
import pickle
from collections import OrderedDict

import pytest
import torch

from tiny_weights import DEFAULT_RECIPE_DIR, HParams, read_recipe, tensor_sha256

RECIPE = read_recipe(DEFAULT_RECIPE_DIR)


class _StandInUnpickler(pickle.Unpickler):
    """Resolves `utils.HParams` (upstream's config class) to the test stand-in; everything else as usual."""

    def find_class(self, module, name):
        if (module, name) == ("utils", "HParams"):
            return HParams
        return super().find_class(module, name)


class _PickleModule:
    Unpickler = _StandInUnpickler


def _load(path):
    data = path.read_bytes()
    return data[:2], torch.load(io.BytesIO(b"PK" + data[2:]), pickle_module=_PickleModule, weights_only=False)


def _as_plain(value):
    if isinstance(value, HParams):
        return {k: _as_plain(v) for k, v in vars(value).items()}
    return value


@pytest.mark.parametrize("rel_path", list(RECIPE["files"]))
def test_rebuilt_file_matches_recipe(tiny_checkpoints, rel_path):
    file_entry = RECIPE["files"][rel_path]
    container = file_entry["container"]
    magic, top = _load(tiny_checkpoints / rel_path)

    assert magic == container["magic"].encode()
    expected_type = OrderedDict if container["top_level_type"] == "collections.OrderedDict" else dict
    assert type(top) is expected_type
    if container["weights_key"] is None:
        weights = top
    else:
        assert list(top) == container["top_level_keys"]
        assert top["info"] == container["info"]
        assert _as_plain(top["config"]) == container["config"]
        if container["config_type"] == "utils.HParams":
            assert isinstance(top["config"], HParams)
        weights = top["weight"]

    assert list(weights) == [e["name"] for e in file_entry["tensors"]]
    for entry in file_entry["tensors"]:
        tensor = weights[entry["name"]]
        assert str(tensor.dtype) == f"torch.{entry['dtype']}", entry["name"]
        assert list(tensor.shape) == entry["shape"], entry["name"]
        assert tensor_sha256(tensor.numpy()) == entry["sha256"], entry["name"]
        for other in entry.get("shares_storage_with", []):  # tied BERT tensors are one storage, as HF writes them
            assert weights[other].untyped_storage().data_ptr() == tensor.untyped_storage().data_ptr()


@pytest.mark.parametrize("version", ["v1", "v2", "v2ProPlus"])
def test_shipped_t2s_equals_rebuilt(tiny_checkpoints, version):
    """The T2S files shipped with the vectors (the originals) hold the same tensors and config as the rebuild."""
    _, shipped = _load(DEFAULT_RECIPE_DIR / version / "t2s.ckpt")
    _, rebuilt = _load(tiny_checkpoints / version / "t2s.ckpt")
    assert shipped["config"] == rebuilt["config"]
    assert list(shipped["weight"]) == list(rebuilt["weight"])
    for name, tensor in shipped["weight"].items():
        assert torch.equal(tensor, rebuilt["weight"][name]), name


def test_companion_files_present(tiny_checkpoints):
    for model_dir, files in {
        "hubert": ["config.json", "preprocessor_config.json", "pytorch_model.bin"],
        "bert": ["config.json", "pytorch_model.bin", "vocab.txt", "tokenizer.json", "tokenizer_config.json"],
    }.items():
        for name in files:
            assert (tiny_checkpoints / model_dir / name).is_file(), f"{model_dir}/{name}"
