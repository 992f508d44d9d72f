"""Rebuild the tiny GPT-SoVITS checkpoint set that the parity vectors were made with.

The official models are hundreds of megabytes, and even the "tiny" random ones the vectors use are ~450 MB
(v1-v2ProPlus) and ~2.4 GB (v3/v4: the 337 M-parameter DiT is hard-coded upstream), so they are not stored in the
repository. Instead a recipe (`tests/data/tiny_ckpt/recipe.json.gz`, `tests/data/vectors-v34/tiny_ckpt/...`)
describes every tensor by a numpy seed and a rule, and this module turns that description back into files in the
official containers:

    <cache>/v1|v2|v2ProPlus/t2s.ckpt        torch.save({"weight": fp16, "config": dict, "info"})
    <cache>/v1|v2|v2ProPlus/sovits.pth      torch.save(OrderedDict(weight=fp16, config=utils.HParams, info));
                                            v2ProPlus with its first two bytes replaced by b"06"
    <cache>/hubert/, <cache>/bert/          HF model dirs: pytorch_model.bin + the shipped companion files
    <cache>/sv/pretrained_eres2netv2w24s4ep4.ckpt   torch.save(OrderedDict state dict), fp32
    v3/v4 set: v3|v4/t2s.ckpt, v3/s2Gv3.pth, v4/s2Gv4.pth (plain zips), v3|v4/sovits_lora.pth (the same
    container plus "lora_rank", tagged b"03" / b"04"), bigvgan/bigvgan_generator.pt and
    apbwe/g_24kto48k.zip ({"generator": state dict}), v4/vocoder.pth (the state dict itself), fp32

Recipe semantics (see tests/data/README.md and the vectors README, section "Tiny checkpoint recipe"):
each tensor is drawn in float64 from a fresh `numpy.random.RandomState(seed)` (legacy MT19937, polar gauss),
then rounded float64 -> float32 (-> float16 for T2S / SoVITS files, round-to-nearest-even, subnormals kept).

The result lands in `tests/.cache/tiny-<hash8>/`, keyed by the recipe and companion files, written to a temporary
directory first and renamed into place, so concurrent test processes never see half a set. A present set is reused.

Usage: `python tests/tiny_weights.py` prints the directory (building it if needed).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import pickle
import shutil
import sys
import tempfile
import time
from collections import OrderedDict
from pathlib import Path

import numpy as np
import torch

TESTS_DIR = Path(__file__).resolve().parent
DEFAULT_RECIPE_DIR = TESTS_DIR / "data" / "tiny_ckpt"
DEFAULT_CACHE_ROOT = TESTS_DIR / ".cache"

# Bump when the way files are written changes, so old caches are not reused.
BUILDER_VERSION = "1"

STORED_DTYPES = {"float16": np.float16, "float32": np.float32, "int64": np.int64}


# ----------------------------------------------------------------------------------------------------------------
# Reading the recipe


def read_recipe(recipe_dir: Path) -> dict:
    """The recipe as a dict; accepts recipe.json or recipe.json.gz (the repository keeps the gzipped one)."""
    return json.loads(_recipe_bytes(recipe_dir))


def _recipe_bytes(recipe_dir: Path) -> bytes:
    plain = recipe_dir / "recipe.json"
    if plain.is_file():
        return plain.read_bytes()
    return gzip.decompress((recipe_dir / "recipe.json.gz").read_bytes())


def _companion_files(recipe: dict) -> dict[str, str]:
    """{path inside the tiny set: expected sha256} of the shipped non-weight files (HF configs, tokenizer)."""
    companions = {}
    for file_entry in recipe["files"].values():
        for rel_path, facts in file_entry["container"].get("companion_files", {}).items():
            companions[rel_path] = facts["sha256"]
    return companions


def cache_key(recipe_dir: Path) -> str:
    """sha256 over the recipe, the companion files and the builder version: names the cache directory."""
    digest = hashlib.sha256(BUILDER_VERSION.encode())
    digest.update(_recipe_bytes(recipe_dir))
    for rel_path in sorted(_companion_files(read_recipe(recipe_dir))):
        digest.update(rel_path.encode())
        digest.update((recipe_dir / rel_path).read_bytes())
    return digest.hexdigest()


# ----------------------------------------------------------------------------------------------------------------
# Tensor values


def draw_float64(entry: dict, float32_values: dict[str, np.ndarray]) -> np.ndarray:
    """Evaluate one float rule in float64. `float32_values` holds the file's tensors already rounded to float32
    (needed by weight-norm magnitudes, which are computed from their direction tensor `v`)."""
    rule, shape = entry["rule"], tuple(entry["shape"])
    if "values" in rule:  # buffers upstream computes deterministically (RoPE frequencies, BigVGAN filters)
        return np.asarray(rule["values"], dtype=np.float64).reshape(shape)
    rs = np.random.RandomState(entry["seed"])  # a fresh generator per tensor
    if "weight_norm_g_of" in rule:
        # g = ||v|| over the axes not kept, times a random factor; ||v|| uses v as float32 even in fp16 files.
        direction = float32_values[rule["weight_norm_g_of"]].astype(np.float64)
        summed_axes = tuple(a for a in range(direction.ndim) if a not in rule["dims_kept"])
        norm = np.sqrt(np.sum(direction * direction, axis=summed_axes, keepdims=True))
        low, high = rule["uniform"]
        return norm * rs.uniform(low, high, shape)
    if "normal" in rule:
        mean, std = rule["normal"]
        x = np.asarray(rs.normal(mean, std, shape), dtype=np.float64)
        if "row_scale" in rule:  # T2S output layer: the EOS row is made larger so greedy decoding can stop
            row, factor = rule["row_scale"]
            x[row, ...] *= factor
        return x
    if "one_plus_normal" in rule:
        return 1.0 + np.asarray(rs.normal(0.0, rule["one_plus_normal"], shape), dtype=np.float64)
    if "uniform" in rule:
        low, high = rule["uniform"]
        return np.asarray(rs.uniform(low, high, shape), dtype=np.float64)
    raise ValueError(f"unknown float rule for {entry['name']}: {rule}")


def build_file_arrays(file_entry: dict) -> "OrderedDict[str, np.ndarray]":
    """All tensors of one file, in file order, as numpy arrays in their stored dtype."""
    entries = file_entry["tensors"]
    by_name = {e["name"]: e for e in entries}
    # Only weight-norm directions are needed again (by their magnitude g); keeping every tensor in float32 too would
    # double the memory of a 746 MB file.
    directions = {e["rule"]["weight_norm_g_of"] for e in entries if "weight_norm_g_of" in e["rule"]}
    float32_values: dict[str, np.ndarray] = {}

    def float32_of(name: str) -> np.ndarray:
        if name in float32_values:
            return float32_values[name]
        value = draw_float64(by_name[name], float32_values).astype(np.float32)
        if name in directions:
            float32_values[name] = value
        return value

    stored = OrderedDict()
    for entry in entries:
        dtype = STORED_DTYPES[entry["dtype"]]
        rule = entry["rule"]
        if "const" in rule or "ones" in rule:
            fill = rule.get("const", 1)
            stored[entry["name"]] = np.full(tuple(entry["shape"]), fill, dtype=dtype)
            continue
        if "weight_norm_g_of" in rule:
            float32_of(rule["weight_norm_g_of"])  # the direction tensor may come later in the file
        value = float32_of(entry["name"])
        # float32 -> float16 is numpy's round-to-nearest-even, subnormals included (as torch's .half()).
        stored[entry["name"]] = value.astype(dtype) if dtype != np.float32 else value
    return stored


def tensor_sha256(array: np.ndarray) -> str:
    """The recipe's hash: raw little-endian bytes in the stored dtype, C order."""
    little_endian = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<"))
    return hashlib.sha256(little_endian.reshape(-1).view(np.uint8)).hexdigest()


# ----------------------------------------------------------------------------------------------------------------
# Containers


class HParams:
    """Stand-in for upstream's `utils.HParams`: pickle records only the class path and the instance __dict__,
    so SoVITS configs pickled from this class load exactly like official ones."""

    def __init__(self, values: dict):
        for key, value in values.items():
            setattr(self, key, HParams(value) if isinstance(value, dict) else value)


HParams.__module__ = "utils"
HParams.__qualname__ = "HParams"


class _UpstreamNamesPickler(pickle._Pickler):
    """Pure-Python pickler that writes our HParams stand-in as the global `utils.HParams` (the default pickler
    would first import `utils` to check the name, and no such module exists here)."""

    def save_global(self, obj, name=None):
        if obj is HParams:
            self.write(pickle.GLOBAL + b"utils\nHParams\n")
            self.memoize(obj)
            return
        super().save_global(obj, name)


class _PickleModule:
    """What torch.save needs of a pickle module: a Pickler class (subclassed by torch to add persistent ids)."""

    Pickler = _UpstreamNamesPickler


def _as_torch(arrays: "OrderedDict[str, np.ndarray]", file_entry: dict) -> dict[str, torch.Tensor]:
    """numpy -> torch, with tied tensors (BERT embeddings / decoder) stored as one tensor under both names."""
    tensors: dict[str, torch.Tensor] = {}
    for entry in file_entry["tensors"]:
        name = entry["name"]
        tied = [other for other in entry.get("shares_storage_with", []) if other in tensors]
        tensors[name] = tensors[tied[0]] if tied else torch.from_numpy(arrays[name])
    return tensors


def _top_level_object(file_entry: dict, tensors: dict[str, torch.Tensor]):
    container = file_entry["container"]
    ordered = container["top_level_type"] == "collections.OrderedDict"
    if container["weights_key"] is None:  # HF weights, the SV model, the v4 vocoder: the state dict itself
        return OrderedDict(tensors) if ordered else dict(tensors)
    weights = OrderedDict(tensors) if container.get("weights_type") == "OrderedDict" else dict(tensors)
    top = {container["weights_key"]: weights}  # "weight" (GPT-SoVITS files) or "generator" (BigVGAN, AP-BWE)
    if "config" in container["top_level_keys"]:
        config = container["config"]
        top["config"] = HParams(config) if container["config_type"] == "utils.HParams" else config
        top["info"] = container["info"]
    if "lora_rank" in container["top_level_keys"]:  # v3/v4 LoRA fine-tunes
        top["lora_rank"] = container["lora_rank"]
    return OrderedDict(top) if ordered else top


def write_file(path: Path, file_entry: dict, tensors: dict[str, torch.Tensor]) -> None:
    container = file_entry["container"]
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as file:  # straight to disk: a v3/v4 SoVITS file is 746 MB
        torch.save(_top_level_object(file_entry, tensors), file, pickle_module=_PickleModule, pickle_protocol=2)
    magic = container["magic"].encode()
    if magic != b"PK":  # upstream my_save2: the version tag overwrites the zip signature's first two bytes
        with path.open("r+b") as file:
            file.write(magic)


# ----------------------------------------------------------------------------------------------------------------
# Building the set


def build_into(out_dir: Path, recipe_dir: Path, check: bool = True) -> dict[str, dict[str, str]]:
    """Write the full tiny set into out_dir; return {file: {tensor: sha256}} of what was written.
    With check=True a tensor whose hash differs from the recipe raises (the rebuild is meant to be bit-exact)."""
    recipe = read_recipe(recipe_dir)
    written_hashes: dict[str, dict[str, str]] = {}
    for rel_path, file_entry in recipe["files"].items():
        arrays = build_file_arrays(file_entry)
        hashes = {name: tensor_sha256(a) for name, a in arrays.items()}
        if check:
            wrong = [e["name"] for e in file_entry["tensors"] if hashes[e["name"]] != e["sha256"]]
            if wrong:
                raise RuntimeError(f"{rel_path}: {len(wrong)} tensors differ from the recipe, e.g. {wrong[:3]}")
        write_file(out_dir / rel_path, file_entry, _as_torch(arrays, file_entry))
        written_hashes[rel_path] = hashes
        del arrays
    for rel_path, expected_sha in _companion_files(recipe).items():
        source = recipe_dir / rel_path
        if hashlib.sha256(source.read_bytes()).hexdigest() != expected_sha:
            raise RuntimeError(f"companion file {source} does not match the recipe's sha256")
        shutil.copyfile(source, out_dir / rel_path)
    return written_hashes


def tiny_checkpoints_dir(recipe_dir: Path = DEFAULT_RECIPE_DIR, cache_root: Path = DEFAULT_CACHE_ROOT) -> Path:
    """Path of the rebuilt tiny set for this recipe, building it first if it is not cached yet."""
    recipe_dir, cache_root = Path(recipe_dir), Path(cache_root)
    final_dir = cache_root / f"tiny-{cache_key(recipe_dir)[:8]}"
    if final_dir.is_dir():
        return final_dir
    cache_root.mkdir(parents=True, exist_ok=True)
    _remove_abandoned_builds(cache_root)
    temp_dir = Path(tempfile.mkdtemp(prefix=f"{final_dir.name}.partial-", dir=cache_root))
    try:
        hashes = build_into(temp_dir, recipe_dir)
        (temp_dir / "tensor_sha256.json").write_text(json.dumps(hashes, indent=0))
        temp_dir.chmod(0o755)  # mkdtemp creates it private
        try:
            os.rename(temp_dir, final_dir)  # atomic: readers see either nothing or the complete set
        except OSError:
            if not final_dir.is_dir():  # not a lost race with another process: a real failure
                raise
    finally:
        if temp_dir.exists():
            shutil.rmtree(temp_dir, ignore_errors=True)
    return final_dir


def _remove_abandoned_builds(cache_root: Path, older_than_seconds: float = 3600) -> None:
    """Partial directories left by an interrupted build (a killed test run) would otherwise pile up."""
    now = time.time()
    for partial in cache_root.glob("tiny-*.partial-*"):
        try:
            if now - partial.stat().st_mtime > older_than_seconds:
                shutil.rmtree(partial, ignore_errors=True)
        except FileNotFoundError:  # another process removed it first
            pass


if __name__ == "__main__":
    recipe_arg = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_RECIPE_DIR
    print(tiny_checkpoints_dir(recipe_arg))
