"""Reading official model files: containers, version detection, configs, and refusing bad or dangerous files.

tests/data/format_samples/ holds SoVITS files written by upstream's own save functions (plain zip, `05`/`06`
header tags, `utils.HParams` and plain-dict configs); index.json lists the version and config each must give.
tests/data/tiny_ckpt/<version>/t2s.ckpt are official-format T2S files. Everything else is crafted in tmp_path.
"""

import io
import json
import pickle
import os
import sys
import types
from pathlib import Path

import pytest
import torch

from gpt_sovits.checkpoints import (
    T2SConfig,
    check_compatible,
    inspect_model_file,
    load_sovits_checkpoint,
    load_state_dict_file,
    load_t2s_checkpoint,
    require_tensors,
    t2s_tensor_shapes,
)
from gpt_sovits.errors import CheckpointError

DATA = Path(__file__).resolve().parent / "data"
FORMAT_SAMPLES = DATA / "format_samples"
SAMPLE_INDEX = json.loads((FORMAT_SAMPLES / "index.json").read_text(encoding="utf-8"))
TINY_T2S = {version: DATA / "tiny_ckpt" / version / "t2s.ckpt" for version in ("v1", "v2", "v2ProPlus")}


def save_with_header(obj, path: Path, header: bytes = b"PK") -> Path:
    """torch.save, then replace the zip's first two bytes the way upstream's my_save2 does."""
    torch.save(obj, path)
    data = bytearray(path.read_bytes())
    data[:2] = header
    path.write_bytes(bytes(data))
    return path


def small_sovits(text_symbols=732, decoder_channels=8, pro=False) -> dict:
    weights = {
        "enc_p.text_embedding.weight": torch.zeros(text_symbols, 4, dtype=torch.float16),
        "dec.conv_pre.weight": torch.zeros(decoder_channels, 4, 7, dtype=torch.float16),
    }
    if pro:
        weights |= {
            "sv_emb.weight": torch.zeros(4, 16, dtype=torch.float16),
            "ge_to512.weight": torch.zeros(512, 4, dtype=torch.float16),
            "prelu.weight": torch.zeros(4, dtype=torch.float16),
        }
    return {"weight": weights, "config": {"model": {"version": "v2"}, "data": {"sampling_rate": 32000}}, "info": "1epoch"}


# ---------------------------------------------------------------------------------------------------------------
# Official containers


@pytest.mark.parametrize("name", sorted(SAMPLE_INDEX))
def test_format_samples_give_the_expected_version_and_config(name):
    expected = SAMPLE_INDEX[name]
    checkpoint = load_sovits_checkpoint(FORMAT_SAMPLES / name)

    assert checkpoint.model_version == expected["expected_version"]
    assert checkpoint.symbol_version == expected["upstream_after_text_embedding_check"]["symbol_version"]
    assert checkpoint.info == expected["info"]
    assert checkpoint.path.name == name
    # The config comes back as plain nested dicts, equal to the stored one (HParams or dict alike).
    assert checkpoint.hparams == expected["config"]
    assert type(checkpoint.hparams["model"]) is dict and type(checkpoint.hparams["data"]) is dict
    assert checkpoint.hparams["model"]["version"] == expected["expected_version"]
    for tensor_name, facts in expected["weights"].items():
        tensor = checkpoint.state_dict[tensor_name]
        assert list(tensor.shape) == facts["shape"] and tensor.dtype == torch.float16


def test_format_sample_config_values_from_the_readme():
    hparams = load_sovits_checkpoint(FORMAT_SAMPLES / "sovits_v2ProPlus.pth").hparams
    assert hparams["model"]["gin_channels"] == 64
    assert hparams["model"]["upsample_kernel_sizes"] == [20, 16, 8, 2, 2]
    assert hparams["save_weight_dir"] == "SoVITS_weights_v2ProPlus"
    fine_tuned = load_sovits_checkpoint(FORMAT_SAMPLES / "my_voice_dictcfg_e12_s144.pth").hparams
    assert fine_tuned["name"] == "my_voice" and fine_tuned["data"]["exp_dir"] == "logs/my_voice"
    assert fine_tuned["train"]["segment_size"] == 20480 and fine_tuned["data"]["filter_length"] == 2048


@pytest.mark.parametrize("version", sorted(TINY_T2S))
def test_t2s_checkpoint(version):
    checkpoint = load_t2s_checkpoint(TINY_T2S[version])
    phoneme_vocab_size = 512 if version == "v1" else 732
    assert checkpoint.config == T2SConfig(
        embedding_dim=32,
        hidden_dim=32,
        num_heads=2,
        num_layers=2,
        vocab_size=1025,
        phoneme_vocab_size=phoneme_vocab_size,
        eos_id=1024,
        early_stop_num=100,  # 50 * data.max_sec (2)
    )
    assert checkpoint.info == "GPT-e15"
    assert set(checkpoint.state_dict) == set(t2s_tensor_shapes(checkpoint.config))  # "model." prefix removed
    assert all(tensor.dtype == torch.float16 for tensor in checkpoint.state_dict.values())


def test_inspect_model_file():
    t2s = inspect_model_file(TINY_T2S["v1"])
    assert (t2s.kind, t2s.model_version, t2s.symbol_version) == ("t2s", None, "v1")
    sovits = inspect_model_file(FORMAT_SAMPLES / "sovits_v2Pro.pth")
    assert (sovits.kind, sovits.model_version, sovits.symbol_version) == ("sovits", "v2Pro", "v2")
    assert sovits.size_bytes == SAMPLE_INDEX["sovits_v2Pro.pth"]["bytes"]
    assert sovits.info == "8epoch_96iteration"


def test_pro_models_saved_without_header_are_told_apart_by_their_tensors(tmp_path):
    pro = save_with_header(small_sovits(pro=True, decoder_channels=512), tmp_path / "pro.pth")
    pro_plus = save_with_header(small_sovits(pro=True, decoder_channels=768), tmp_path / "pro_plus.pth")
    v1 = save_with_header(small_sovits(text_symbols=322), tmp_path / "v1.pth")
    assert load_sovits_checkpoint(pro).model_version == "v2Pro"
    assert load_sovits_checkpoint(pro_plus).model_version == "v2ProPlus"
    assert (load_sovits_checkpoint(v1).model_version, load_sovits_checkpoint(v1).symbol_version) == ("v1", "v1")


def test_torch_legacy_format_is_read_and_guarded_too(tmp_path):
    legacy = tmp_path / "legacy.pth"
    torch.save(small_sovits(), legacy, _use_new_zipfile_serialization=False)
    assert load_sovits_checkpoint(legacy).model_version == "v2"
    marker = tmp_path / "pwned"
    evil = dict(small_sovits(), config=RunsACommand(f"touch {marker}"))
    torch.save(evil, tmp_path / "evil.pth", _use_new_zipfile_serialization=False)
    assert_refused(load_sovits_checkpoint, tmp_path / "evil.pth", CheckpointError, "refused")
    assert not marker.exists()


def test_legacy_tags_are_read(tmp_path):
    path = save_with_header(small_sovits(), tmp_path / "old.pth", b"01")
    assert load_sovits_checkpoint(path).model_version == "v2"


# ---------------------------------------------------------------------------------------------------------------
# Files that must be refused, with the file named in the message


def assert_refused(load, path: Path, error=CheckpointError, *words):
    with pytest.raises(error) as caught:
        load(path)
    message = str(caught.value)
    assert path.name in message
    for word in words:
        assert word in message


@pytest.mark.parametrize("loader", [load_t2s_checkpoint, load_sovits_checkpoint, inspect_model_file])
def test_not_a_checkpoint(tmp_path, loader):
    random_bytes = tmp_path / "noise.pth"
    random_bytes.write_bytes(os.urandom(4096))
    text = tmp_path / "notes.ckpt"
    text.write_text("just some text, not a model\n")
    wav = tmp_path / "voice.pth"
    wav.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(28))
    empty = tmp_path / "empty.pth"
    empty.write_bytes(b"")
    for path in (random_bytes, text, wav, empty):
        assert_refused(loader, path, CheckpointError, "not a GPT-SoVITS model file")
    assert_refused(loader, tmp_path / "missing.ckpt", CheckpointError, "does not exist")
    assert_refused(loader, tmp_path, CheckpointError)  # a directory


def test_other_pytorch_files_are_refused(tmp_path):
    plain_state_dict = tmp_path / "pytorch_model.bin"
    torch.save({"encoder.weight": torch.zeros(2)}, plain_state_dict)
    assert_refused(load_sovits_checkpoint, plain_state_dict, CheckpointError, "no 'weight' entry")
    foreign = tmp_path / "foreign.pth"
    torch.save({"weight": {"some.other.layer": torch.zeros(2)}, "config": {}}, foreign)
    assert_refused(load_sovits_checkpoint, foreign, CheckpointError, "not a GPT-SoVITS model file")
    assert_refused(load_t2s_checkpoint, foreign, CheckpointError, "not a GPT-SoVITS model file")


@pytest.mark.parametrize("name", ["sovits_v2.pth", "sovits_v2ProPlus.pth"])
@pytest.mark.parametrize("keep", [0.5, 0.99])
def test_truncated_file(tmp_path, name, keep):
    data = (FORMAT_SAMPLES / name).read_bytes()
    truncated = tmp_path / name
    truncated.write_bytes(data[: int(len(data) * keep)])
    assert_refused(load_sovits_checkpoint, truncated, CheckpointError, "truncated")


def test_t2s_and_sovits_files_swapped():
    assert_refused(load_sovits_checkpoint, TINY_T2S["v2"], CheckpointError, "GPT (T2S) model, not a SoVITS model")
    sovits = FORMAT_SAMPLES / "sovits_v2.pth"
    assert_refused(load_t2s_checkpoint, sovits, CheckpointError, "SoVITS model, not a GPT (T2S) model")


def test_missing_or_misshapen_t2s_tensors(tmp_path):
    original = torch.load(TINY_T2S["v2"], weights_only=True)
    missing = dict(original, weight={k: v for k, v in original["weight"].items() if "layers.1.linear2" not in k})
    torch.save(missing, tmp_path / "missing.ckpt")
    assert_refused(load_t2s_checkpoint, tmp_path / "missing.ckpt", CheckpointError, "incomplete", "h.layers.1.linear2")

    misshapen = dict(original, weight=dict(original["weight"]))
    misshapen["weight"]["model.ar_predict_layer.weight"] = torch.zeros(1000, 32, dtype=torch.float16)
    torch.save(misshapen, tmp_path / "misshapen.ckpt")
    assert_refused(load_t2s_checkpoint, tmp_path / "misshapen.ckpt", CheckpointError, "ar_predict_layer.weight")

    no_config = dict(original, config={"model": {}})
    torch.save(no_config, tmp_path / "no_config.ckpt")
    assert_refused(load_t2s_checkpoint, tmp_path / "no_config.ckpt", CheckpointError, "config")


def test_missing_sovits_tensors(tmp_path):
    checkpoint = small_sovits()
    del checkpoint["weight"]["dec.conv_pre.weight"]
    assert_refused(load_sovits_checkpoint, save_with_header(checkpoint, tmp_path / "a.pth"), CheckpointError, "dec.conv_pre")
    pro_without_branch = save_with_header(small_sovits(), tmp_path / "b.pth", b"06")
    assert_refused(load_sovits_checkpoint, pro_without_branch, CheckpointError, "sv_emb.weight")
    no_config = small_sovits()
    no_config["config"] = None
    assert_refused(load_sovits_checkpoint, save_with_header(no_config, tmp_path / "c.pth"), CheckpointError, "config")


def test_require_tensors_names_what_is_missing():
    checkpoint = load_sovits_checkpoint(FORMAT_SAMPLES / "sovits_v2.pth")
    require_tensors(checkpoint, ["enc_p.text_embedding.weight"])
    require_tensors(checkpoint, {"dec.conv_pre.weight": (32, 32, 7)})
    with pytest.raises(CheckpointError, match="flow.flows.0") as caught:
        require_tensors(checkpoint, ["enc_p.text_embedding.weight", "flow.flows.0.pre.weight"])
    assert "sovits_v2.pth" in str(caught.value)
    with pytest.raises(CheckpointError, match="shape"):
        require_tensors(checkpoint, {"dec.conv_pre.weight": (512, 192, 7)})


def test_v1_gpt_with_v2_sovits_is_refused():
    v1_gpt = load_t2s_checkpoint(TINY_T2S["v1"])
    with pytest.raises(CheckpointError, match="v1"):
        check_compatible(v1_gpt, load_sovits_checkpoint(FORMAT_SAMPLES / "sovits_v2.pth"))
    check_compatible(v1_gpt, load_sovits_checkpoint(FORMAT_SAMPLES / "sovits_v1.pth"))
    check_compatible(load_t2s_checkpoint(TINY_T2S["v2"]), load_sovits_checkpoint(FORMAT_SAMPLES / "sovits_v1.pth"))


# ---------------------------------------------------------------------------------------------------------------
# v3 / v4 and their LoRA fine-tunes (the real tiny files are read by test_v34.py)

RANK = 2
TO_Q = "cfm.estimator.transformer_blocks.0.attn.to_q.weight"


def small_v3(version="v3") -> dict:
    """A plain v3/v4 file in miniature: the tensors that decide the version, a wrapped attention layer, a buffer."""
    weights = {
        "enc_p.text_embedding.weight": torch.zeros(732, 4, dtype=torch.float16),
        "wns1.pre.weight": torch.full((4, 4, 1), 1.0, dtype=torch.float16),
        "cfm.estimator.proj_out.weight": torch.zeros(4, 4, dtype=torch.float16),
        "cfm.estimator.rotary_embed.inv_freq": torch.ones(2, dtype=torch.float16),
        TO_Q: (torch.arange(16, dtype=torch.float32).reshape(4, 4) / 16).half(),
    }
    config = {"model": {"version": version}, "data": {"sampling_rate": 32000}}
    return {"weight": weights, "config": config, "info": "8epoch_96iteration"}


def small_lora(version="v3", rank=RANK) -> dict:
    """The matching LoRA file: A / B of one attention layer (peft's names), and a fully trained module."""
    prefix = "cfm.base_model.model.estimator.transformer_blocks.0.attn."
    weights = {
        "wns1.pre.weight": torch.full((4, 4, 1), 3.0, dtype=torch.float16),
        "cfm.base_model.model.estimator.rotary_embed.inv_freq": torch.ones(2, dtype=torch.float16),
        prefix + "to_q.lora_A.default.weight": (torch.arange(rank * 4, dtype=torch.float32).reshape(rank, 4) / 8).half(),
        prefix + "to_q.lora_B.default.weight": (torch.arange(4 * rank, dtype=torch.float32).reshape(4, rank) / 4).half(),
    }
    return dict(small_v3(version), weight=weights, lora_rank=rank)


def test_plain_v3_v4_files_are_v3_unless_they_are_the_published_v4(tmp_path):
    # Upstream tells the published s2Gv4.pth by the md5 of its first 8 KiB; any other plain v3/v4 file is v3.
    checkpoint = load_sovits_checkpoint(save_with_header(small_v3("v4"), tmp_path / "full.pth"))
    assert (checkpoint.model_version, checkpoint.symbol_version, checkpoint.lora_rank) == ("v3", "v2", None)
    assert checkpoint.hparams["model"]["version"] == "v3"
    assert load_sovits_checkpoint(save_with_header(small_v3(), tmp_path / "tagged.pth", b"02")).model_version == "v3"


@pytest.mark.parametrize("header, version", [(b"03", "v3"), (b"04", "v4")])
def test_lora_files_are_recognised_without_their_base(tmp_path, header, version):
    path = save_with_header(small_lora(version), tmp_path / "voice_lora.pth", header)
    info = inspect_model_file(path)
    assert (info.kind, info.model_version, info.symbol_version, info.is_lora) == ("sovits", version, "v2", True)


@pytest.mark.parametrize("header, version, official", [(b"03", "v3", "s2Gv3.pth"), (b"04", "v4", "gsv-v4-pretrained/s2Gv4.pth")])
def test_lora_without_its_base_says_what_to_download(tmp_path, header, version, official):
    path = save_with_header(small_lora(version), tmp_path / "voice_lora.pth", header)
    assert_refused(load_sovits_checkpoint, path, CheckpointError, "LoRA", official, f"download --version {version}")
    missing = tmp_path / "nowhere" / "s2Gv3.pth"
    assert_refused(lambda p: load_sovits_checkpoint(p, {version: missing}), path, CheckpointError, str(missing))


def test_lora_merge_is_upstreams(tmp_path):
    base_path = save_with_header(small_v3(), tmp_path / "s2Gv3.pth")
    lora = small_lora()
    merged = load_sovits_checkpoint(save_with_header(lora, tmp_path / "lora.pth", b"03"), {"v3": base_path})
    base = small_v3()["weight"]
    down = lora["weight"]["cfm.base_model.model.estimator.transformer_blocks.0.attn.to_q.lora_A.default.weight"]
    up = lora["weight"]["cfm.base_model.model.estimator.transformer_blocks.0.attn.to_q.lora_B.default.weight"]
    # W = W_base + (B @ A) * alpha / r, alpha = r (upstream's LoraConfig), in float32
    assert torch.equal(merged.state_dict[TO_Q], base[TO_Q].float() + up.float() @ down.float())
    assert torch.equal(merged.state_dict["wns1.pre.weight"], lora["weight"]["wns1.pre.weight"])  # replaced
    assert torch.equal(merged.state_dict["enc_p.text_embedding.weight"], base["enc_p.text_embedding.weight"])  # kept
    assert not any("lora_" in name or "base_model" in name for name in merged.state_dict)
    assert (merged.model_version, merged.lora_rank, merged.lora_base) == ("v3", RANK, base_path)


def test_lora_that_does_not_fit_its_base_is_refused(tmp_path):
    base_path = save_with_header(small_v3(), tmp_path / "s2Gv3.pth")
    wrong_rank = dict(small_lora(), lora_rank=RANK + 1)
    path = save_with_header(wrong_rank, tmp_path / "rank.pth", b"03")
    assert_refused(lambda p: load_sovits_checkpoint(p, {"v3": base_path}), path, CheckpointError, "does not fit")
    half = small_lora()
    del half["weight"]["cfm.base_model.model.estimator.transformer_blocks.0.attn.to_q.lora_B.default.weight"]
    path = save_with_header(half, tmp_path / "half.pth", b"03")
    assert_refused(lambda p: load_sovits_checkpoint(p, {"v3": base_path}), path, CheckpointError, "incomplete")
    not_a_base = save_with_header(small_sovits(), tmp_path / "v2.pth")
    path = save_with_header(small_lora(), tmp_path / "lora.pth", b"03")
    assert_refused(lambda p: load_sovits_checkpoint(p, {"v3": not_a_base}), path, CheckpointError, "base model")


def test_lora_tag_and_rank_must_agree(tmp_path):
    untagged = save_with_header(small_lora(), tmp_path / "untagged.pth")
    assert_refused(load_sovits_checkpoint, untagged, CheckpointError, "LoRA", "tag")
    no_rank = {key: value for key, value in small_lora().items() if key != "lora_rank"}
    assert_refused(load_sovits_checkpoint, save_with_header(no_rank, tmp_path / "no_rank.pth", b"04"), CheckpointError, "rank")
    v2_tagged = save_with_header(small_sovits(), tmp_path / "v2_tagged.pth", b"03")
    assert_refused(load_sovits_checkpoint, v2_tagged, CheckpointError, "no v3/v4 model tensors")


def test_plain_weights_files_are_read_safely(tmp_path):
    torch.save({"generator": {"conv_pre.weight": torch.ones(2)}}, tmp_path / "g.pt")
    assert list(load_state_dict_file(tmp_path / "g.pt", "generator")) == ["conv_pre.weight"]
    torch.save({"conv_pre.weight": torch.ones(2)}, tmp_path / "vocoder.pth")
    assert list(load_state_dict_file(tmp_path / "vocoder.pth", None)) == ["conv_pre.weight"]
    assert_refused(lambda p: load_state_dict_file(p, "generator"), tmp_path / "vocoder.pth", CheckpointError, "generator")
    torch.save({"generator": RunsACommand("touch nothing")}, tmp_path / "evil.pt")
    assert_refused(lambda p: load_state_dict_file(p, "generator"), tmp_path / "evil.pt", CheckpointError, "refused")


# ---------------------------------------------------------------------------------------------------------------
# Safety: a pickle that would run code is refused, and the code never runs


class RunsACommand:
    """Pickles as "call os.system(command)", the classic malicious model file."""

    def __init__(self, command: str):
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


@pytest.mark.parametrize("header", [b"PK", b"06", b"03"])
@pytest.mark.parametrize("where", ["config", "weight", "top"])
def test_malicious_pickle_is_refused_and_not_executed(tmp_path, header, where):
    marker = tmp_path / "pwned"
    evil = RunsACommand(f"touch {marker}")
    checkpoint = small_sovits()
    if where == "config":
        checkpoint["config"] = evil
    elif where == "weight":
        checkpoint["weight"]["enc_p.text_embedding.weight"] = evil
    else:
        checkpoint = evil
    path = save_with_header(checkpoint, tmp_path / "evil.pth", header)

    for load in (load_sovits_checkpoint, load_t2s_checkpoint, inspect_model_file):
        assert_refused(load, path, CheckpointError, "refused", "system")
    assert not marker.exists()


def test_the_allowed_hparams_name_cannot_call_anything(tmp_path, monkeypatch):
    # A pickle may name utils.HParams (allowed) and try to call it with arguments, hoping for a class that runs
    # them. Our stand-in takes no arguments and has no behaviour, so the file fails to load and nothing runs.
    marker = tmp_path / "pwned"
    fake_utils = types.ModuleType("utils")

    class HParams:
        def __init__(self, command):
            os.system(command)

    HParams.__module__, HParams.__qualname__ = "utils", "HParams"
    fake_utils.HParams = HParams
    monkeypatch.setitem(sys.modules, "utils", fake_utils)  # lets pickle write "utils.HParams" while saving

    class CallsHParams:
        def __reduce__(self):
            return (HParams, (f"touch {marker}",))

    checkpoint = small_sovits()
    checkpoint["config"] = CallsHParams()
    path = save_with_header(checkpoint, tmp_path / "hparams_call.pth")
    monkeypatch.delitem(sys.modules, "utils")
    assert_refused(load_sovits_checkpoint, path, CheckpointError)
    assert not marker.exists()


def _zip_bomb(path: Path, header: bytes = b"PK", inflated_mb: int = 64) -> Path:
    """A torch-like archive whose one deflated entry inflates to `inflated_mb` MB of zeros (the file stays ~0.3 MB)."""
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("archive/data.pkl", pickle.dumps({"weight": {}}, protocol=2))
        with archive.open("archive/data/0", "w", force_zip64=True) as entry:
            block = bytes(2**20)
            for _ in range(inflated_mb):
                entry.write(block)
    data = bytearray(buffer.getvalue())
    data[:2] = header
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize("header", [b"PK", b"05"])
@pytest.mark.parametrize("loader", [load_t2s_checkpoint, load_sovits_checkpoint, inspect_model_file])
def test_zip_bomb_is_refused_before_inflating(tmp_path, header, loader):
    import time
    import tracemalloc

    path = _zip_bomb(tmp_path / "bomb.pth", header)
    assert path.stat().st_size < 2**20
    tracemalloc.start()
    started = time.perf_counter()
    with pytest.raises(CheckpointError, match=r"'bomb\.pth' was refused.*declares 64 MB") as caught:
        loader(path)
    elapsed, peak = time.perf_counter() - started, tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert str(tmp_path) not in str(caught.value)
    assert peak < 8 * 2**20 and elapsed < 2, (peak, elapsed)  # 64 MB were never inflated
