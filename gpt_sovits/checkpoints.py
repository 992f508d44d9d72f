"""Safe reading of official GPT-SoVITS model files, and version detection.

Two kinds of file exist:

* T2S ("GPT") `.ckpt`: `{"weight": {"model.<name>": fp16 tensor}, "config": dict (the s1 YAML), "info": str}`.
* SoVITS `.pth`: `{"weight": {name: fp16 tensor}, "config": utils.HParams or dict, "info": str}`; v3/v4 LoRA
  fine-tunes add `"lora_rank": int`.

Both are `torch.save` zip archives. Some SoVITS files replace the first two bytes of the archive (`PK`) by a
version tag: `05` = v2Pro, `06` = v2ProPlus, `03`/`04` = v3/v4 LoRA (`00`-`02` are legacy tags no current writer
uses). We swap the tag back to `PK` in memory and read the archive from there.

v3/v4 LoRA files hold only what training changed: low-rank updates (A, B) of the flow-matching model's attention
projections, plus the small modules trained in full. They are merged onto the official base model (s2Gv3.pth /
s2Gv4.pth) at load time exactly as upstream's peft `merge_and_unload` does: W = W_base + (B @ A) * alpha / rank,
in float32, and every other tensor of the LoRA file replaces the base's.

Safety: a pickle can run any code on load, and model files are downloaded from strangers. We only ever load
with `torch.load(weights_only=True)`, which refuses every global outside torch's tensor-rebuilding allowlist;
the one extra class official files need, `utils.HParams` (the SoVITS training config), is mapped to a stand-in
that can only hold attributes. A file that names any other global is refused, and nothing in it runs.
"""

from __future__ import annotations

import hashlib
import io
import pickle
import re
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import torch

from gpt_sovits.errors import CheckpointError
from gpt_sovits.messages import Message
from gpt_sovits.validation import MAX_CHECKPOINT_EXPANSION

T2S_KEY_PREFIX = "model."  # every T2S weight name starts with this (the Lightning wrapper's attribute)
SEMANTIC_FRAMES_PER_SECOND = 50  # upstream's `hz`: early_stop_num = 50 * data.max_sec

# First two bytes of a model file -> what upstream's `my_save2` meant by them. `PK` is a plain zip archive.
HEADER_TAGS = {
    b"00": "v1",
    b"01": "v2",
    b"02": "v3",
    b"03": "v3 LoRA",
    b"04": "v4 LoRA",
    b"05": "v2Pro",
    b"06": "v2ProPlus",
}
LORA_TAGS = {b"03": "v3", b"04": "v4"}
PICKLE_PROTOCOL_2_START = b"\x80\x02"  # torch's legacy (pre-zip) format is a bare pickle stream

V1_SYMBOL_COUNT = 322  # rows of enc_p.text_embedding in a v1 SoVITS model (v2 symbol table: 732)
PRO_PLUS_DECODER_CHANNELS = 768  # dec.conv_pre output channels of the official v2ProPlus (v2Pro: 512)
SOVITS_V3_V4_PREFIXES = ("cfm.", "bridge.", "wns1.")  # modules only the v3/v4 synthesizer has
# A plain v4 file cannot be told from a v3 one by its tensors (same architecture); upstream recognises the published
# s2Gv4.pth by the md5 of its first 8 KiB and calls every other plain v3/v4 file v3. So do we.
PRETRAINED_V4_HEAD_MD5 = "4f26b9476d0c5033e04162c486074374"
# LoRA files: peft wraps the flow-matching model, so its tensors are named cfm.base_model.model.<name>, and a wrapped
# layer keeps its own weight as <layer>.base_layer.weight beside <layer>.lora_A / lora_B.<adapter>.weight.
LORA_PREFIX = "cfm.base_model.model."
LORA_TARGET_LAYERS = ("to_q", "to_k", "to_v", "to_out.0")  # upstream's LoraConfig(target_modules=...)
_LORA_TENSOR = re.compile(r"^(?P<layer>.+)\.lora_(?P<half>[AB])\.[^.]+\.weight$")
SOVITS_PREFIXES = ("enc_p.", "dec.", "flow.", "ref_enc.", "quantizer.", "ssl_proj.", "enc_q.") + SOVITS_V3_V4_PREFIXES


class _HParamsStandIn:
    """Takes the place of upstream's `utils.HParams` while unpickling: it only receives attributes.

    The pickle creates it with no arguments and then sets its `__dict__`; we turn it into a plain dict at once.
    """


# Registered once, process-wide, rather than with torch's `safe_globals` context manager around each load: that
# manager edits the same process-wide list on entry and exit, so two loads in two threads could race. The class
# has no behaviour, so allowing it everywhere costs nothing.
torch.serialization.add_safe_globals([(_HParamsStandIn, "utils.HParams")])


@dataclass(frozen=True)
class T2SConfig:
    embedding_dim: int
    hidden_dim: int
    num_heads: int
    num_layers: int
    vocab_size: int  # semantic codes + EOS (1025)
    phoneme_vocab_size: int  # 512 for v1 models, 732 after
    eos_id: int  # always vocab_size - 1
    early_stop_num: int  # stop after this many generated tokens (50 * data.max_sec)

    @property
    def symbol_version(self) -> str:
        """The phone table this model reads: v1 models have too few rows for the v2 table's 732 symbols."""
        return "v2" if self.phoneme_vocab_size >= 732 else "v1"


@dataclass
class T2SCheckpoint:
    path: Path
    config: T2SConfig
    state_dict: dict[str, torch.Tensor]  # as stored (fp16), without the "model." prefix
    info: str


@dataclass
class SoVITSCheckpoint:
    path: Path
    model_version: str  # "v1" | "v2" | "v2Pro" | "v2ProPlus" | "v3" | "v4"
    symbol_version: str  # "v1" | "v2": which phone table the text front end must use
    hparams: dict  # the training config as a plain nested dict; hparams["model"]["version"] = model_version
    state_dict: dict[str, torch.Tensor]  # as stored (fp16); LoRA merged onto its base: merged layers float32
    info: str
    lora_rank: int | None = None  # v3/v4 LoRA fine-tunes only
    lora_base: Path | None = None  # the base model file the LoRA was merged onto


@dataclass(frozen=True)
class ModelFileInfo:
    path: Path
    kind: str  # "t2s" | "sovits"
    model_version: str | None  # SoVITS version; None for T2S files, whose layout does not depend on it
    symbol_version: str  # "v1" | "v2"
    info: str  # the file's own note, e.g. "GPT-e15" or "8epoch_96iteration"
    size_bytes: int
    is_lora: bool = False  # a v3/v4 LoRA fine-tune (needs the official base model to run)


# ---------------------------------------------------------------------------------------------------------------
# Public API


def load_t2s_checkpoint(path: str | Path) -> T2SCheckpoint:
    """Read a T2S (GPT) `.ckpt` file; raises CheckpointError if it is not a complete, usable one."""
    path = Path(path)
    return _t2s_checkpoint(path, *_read_model_file(path))


def load_sovits_checkpoint(path: str | Path, lora_bases: Mapping[str, Path] | None = None) -> SoVITSCheckpoint:
    """Read a SoVITS `.pth` file and detect its version from its tensors (and header tag, for v2Pro/v2ProPlus
    and the v3/v4 LoRA files).

    A v3/v4 LoRA file is merged onto its base model, `lora_bases[model_version]` (see
    `gpt_sovits.weights.lora_base_paths`); a missing base is a CheckpointError that names the file to download.
    Only the tensors that decide the version are checked here; `require_tensors` checks the rest when the
    synthesizer is built.
    """
    path = Path(path)
    checkpoint = _sovits_checkpoint(path, *_read_model_file(path))
    if checkpoint.lora_rank is None:
        return checkpoint
    base_path = (lora_bases or {}).get(checkpoint.model_version)
    if base_path is None or not Path(base_path).is_file():
        raise _missing_lora_base(checkpoint, base_path)
    base = _sovits_checkpoint(Path(base_path), *_read_model_file(Path(base_path)))
    if base.lora_rank is not None or base.model_version not in ("v3", "v4"):
        raise CheckpointError(Message(
            "'{base}' should be the official {version} base model for the LoRA fine-tune '{name}', but it is a "
            "{kind} file. Download the official file again.",
            base=Path(base_path).name, version=checkpoint.model_version, name=path.name,
            kind=f"{base.model_version}{' LoRA' if base.lora_rank else ''}",
        ))  # fmt: skip
    checkpoint.state_dict = merge_lora(base.state_dict, checkpoint.state_dict, checkpoint.lora_rank, path)
    checkpoint.lora_base = Path(base_path)
    return checkpoint


def merge_lora(
    base: dict[str, torch.Tensor], lora: dict[str, torch.Tensor], rank: int, lora_path: Path
) -> dict[str, torch.Tensor]:
    """The state dict upstream's model holds after loading a LoRA fine-tune (`change_sovits_weights`).

    Upstream loads the base, wraps the CFM in peft with `lora_alpha = r = lora_rank`, loads the LoRA file over it
    (every tensor of the file replaces the model's) and calls `merge_and_unload`, which adds (B @ A) * (alpha / r)
    to each wrapped layer's float32 weight. Layers outside the four wrapped ones have no LoRA slot upstream, so
    their A / B tensors are ignored, as there.
    """
    merged = dict(base)
    halves: dict[str, dict[str, torch.Tensor]] = {}
    for name, tensor in lora.items():
        plain_name = name.replace(LORA_PREFIX, "cfm.", 1).replace(".base_layer.", ".")
        match = _LORA_TENSOR.match(plain_name)
        if match is None:
            merged[plain_name] = tensor
        elif match["layer"].startswith("cfm.") and match["layer"].endswith(LORA_TARGET_LAYERS):
            halves.setdefault(match["layer"], {})[match["half"]] = tensor
    lora_alpha = rank  # upstream: LoraConfig(r=lora_rank, lora_alpha=lora_rank), so alpha / r = 1
    for layer, pair in halves.items():
        weight_name = f"{layer}.weight"
        if set(pair) != {"A", "B"} or weight_name not in base:
            raise CheckpointError(Message(
                "LoRA fine-tune '{name}' is incomplete or does not fit its base model (layer {layer}). Use the file "
                "as GPT-SoVITS training saved it, with the official base model.",
                name=lora_path.name, layer=layer,
            ))  # fmt: skip
        down, up = pair["A"].float(), pair["B"].float()  # A: [rank, in], B: [out, rank]
        weight = base[weight_name].float()
        if down.shape != (rank, weight.shape[1]) or up.shape != (weight.shape[0], rank):
            raise CheckpointError(Message(
                "LoRA fine-tune '{name}' does not fit its base model: layer {layer} has LoRA shapes {down} / {up} "
                "for a {weight} weight at rank {rank}. Use it with the official base model it was trained on.",
                name=lora_path.name, layer=layer, down=tuple(down.shape), up=tuple(up.shape),
                weight=tuple(weight.shape), rank=rank,
            ))  # fmt: skip
        merged[weight_name] = weight + (up @ down) * (lora_alpha / rank)
    return merged


def inspect_model_file(path: str | Path) -> ModelFileInfo:
    """What kind of model a file holds, for the UI's model lists. Raises CheckpointError for unusable files."""
    path = Path(path)
    contents = _read_model_file(path)
    size_bytes = path.stat().st_size
    if _kind_of(contents[1]) == "t2s":
        t2s = _t2s_checkpoint(path, *contents)
        return ModelFileInfo(path, "t2s", None, t2s.config.symbol_version, t2s.info, size_bytes)
    sovits = _sovits_checkpoint(path, *contents)
    return ModelFileInfo(
        path, "sovits", sovits.model_version, sovits.symbol_version, sovits.info, size_bytes, sovits.lora_rank is not None
    )


def require_tensors(
    checkpoint: T2SCheckpoint | SoVITSCheckpoint,
    expected: Mapping[str, tuple[int, ...] | None] | Iterable[str],
) -> None:
    """Raise CheckpointError unless the state dict holds every named tensor (with the given shape, where given).

    `expected` is a list of names, or a mapping name -> shape (None = any shape).
    """
    _require(checkpoint.path, checkpoint.state_dict, expected)


def check_compatible(t2s: T2SCheckpoint, sovits: SoVITSCheckpoint) -> None:
    """A v1 GPT model cannot read the v2 phone table that v2+ SoVITS models use (its phone embedding is too small)."""
    if t2s.config.symbol_version == "v1" and sovits.symbol_version == "v2":
        raise CheckpointError(Message(
            "GPT model '{gpt}' is a v1 model, but SoVITS model '{sovits}' is {version}. Pick a v1 SoVITS model, or "
            "a GPT model made for v2 and later.",
            gpt=t2s.path.name, sovits=sovits.path.name, version=sovits.model_version,
        ))  # fmt: skip


def t2s_tensor_shapes(config: T2SConfig) -> dict[str, tuple[int, ...]]:
    """Every tensor a T2S model needs (names without the "model." prefix) and its shape."""
    d = config.hidden_dim
    shapes = {
        "bert_proj.weight": (d, 1024),  # BERT feature width is fixed by the official BERT model
        "bert_proj.bias": (d,),
        "ar_text_embedding.word_embeddings.weight": (config.phoneme_vocab_size, d),
        "ar_text_position.alpha": (1,),
        "ar_audio_embedding.word_embeddings.weight": (config.vocab_size, d),
        "ar_audio_position.alpha": (1,),
        "ar_predict_layer.weight": (config.vocab_size, d),
    }
    for i in range(config.num_layers):
        layer = f"h.layers.{i}."
        shapes |= {
            layer + "self_attn.in_proj_weight": (3 * d, d),
            layer + "self_attn.in_proj_bias": (3 * d,),
            layer + "self_attn.out_proj.weight": (d, d),
            layer + "self_attn.out_proj.bias": (d,),
            layer + "linear1.weight": (4 * d, d),  # FFN width is 4 * hidden upstream, whatever the config says
            layer + "linear1.bias": (4 * d,),
            layer + "linear2.weight": (d, 4 * d),
            layer + "linear2.bias": (d,),
            layer + "norm1.weight": (d,),
            layer + "norm1.bias": (d,),
            layer + "norm2.weight": (d,),
            layer + "norm2.bias": (d,),
        }
    return shapes


# ---------------------------------------------------------------------------------------------------------------
# From file contents to checkpoints


def _require(path: Path, state_dict: dict, expected: Mapping[str, tuple[int, ...] | None] | Iterable[str]) -> None:
    shapes = expected if isinstance(expected, Mapping) else dict.fromkeys(expected)
    missing = [name for name in shapes if name not in state_dict]
    if missing:
        shown = ", ".join(missing[:5])
        if len(missing) > 5:
            shown = Message("{names} and {count} more", names=shown, count=len(missing) - 5)
        raise CheckpointError(Message(
            "'{name}' is incomplete: {count} tensor(s) the model needs are missing ({shown}). The file may be "
            "damaged or come from an incompatible program; use the file as GPT-SoVITS saved it.",
            name=path.name, count=len(missing), shown=shown,
        ))  # fmt: skip
    for name, shape in shapes.items():
        if shape is not None and tuple(state_dict[name].shape) != tuple(shape):
            raise CheckpointError(Message(
                "'{name}' does not match its own config: tensor '{tensor}' has shape {shape}, expected {expected}. "
                "The file may be damaged; download or copy it again.",
                name=path.name, tensor=name, shape=tuple(state_dict[name].shape), expected=tuple(shape),
            ))  # fmt: skip


def _t2s_checkpoint(path: Path, header: bytes, weights: dict, config, info: str, lora_rank=None) -> T2SCheckpoint:
    kind = _kind_of(weights)
    if kind == "sovits":
        raise CheckpointError(Message(
            "'{name}' is a SoVITS model, not a GPT (T2S) model. Choose it in the SoVITS model list, and pick a GPT "
            ".ckpt file (from a GPT_weights folder) here.",
            name=path.name,
        ))  # fmt: skip
    if kind != "t2s":
        raise _not_a_model(path, _FOREIGN_TENSORS)
    state_dict = {name.removeprefix(T2S_KEY_PREFIX): tensor for name, tensor in weights.items()}
    t2s_config = _t2s_config(path, config)
    _require(path, state_dict, t2s_tensor_shapes(t2s_config))
    return T2SCheckpoint(path, t2s_config, state_dict, info)


def _sovits_checkpoint(
    path: Path, header: bytes, weights: dict, config, info: str, lora_rank: int | None
) -> SoVITSCheckpoint:
    kind = _kind_of(weights)
    if kind == "t2s":
        raise CheckpointError(Message(
            "'{name}' is a GPT (T2S) model, not a SoVITS model. Choose it in the GPT model list, and pick a SoVITS "
            ".pth file (from a SoVITS_weights folder) here.",
            name=path.name,
        ))  # fmt: skip
    if kind != "sovits":
        raise _not_a_model(path, _FOREIGN_TENSORS)
    if not (isinstance(config, dict) and isinstance(config.get("model"), dict) and isinstance(config.get("data"), dict)):
        raise CheckpointError(Message(
            "'{name}' has no usable training config (its 'config' needs 'model' and 'data' sections). Use a SoVITS "
            "file written by GPT-SoVITS training.",
            name=path.name,
        ))  # fmt: skip
    if any(name.startswith(SOVITS_V3_V4_PREFIXES) for name in weights):
        model_version = _v3_v4_version(path, header, lora_rank)
        if lora_rank is None:  # a LoRA file holds neither enc_p nor ssl_proj: they come from the base
            _require(path, weights, ["enc_p.text_embedding.weight", "cfm.estimator.proj_out.weight", "wns1.pre.weight"])
        config["model"]["version"] = model_version
        return SoVITSCheckpoint(path, model_version, "v2", config, weights, info, lora_rank)
    if lora_rank is not None or header in LORA_TAGS:
        raise CheckpointError(Message(
            "'{name}' is marked as a v3/v4 LoRA fine-tune but holds no v3/v4 model tensors. The file may be damaged; "
            "use it as GPT-SoVITS training saved it.",
            name=path.name,
        ))  # fmt: skip
    _require(path, weights, ["enc_p.text_embedding.weight", "dec.conv_pre.weight"])

    text_symbols = weights["enc_p.text_embedding.weight"].shape[0]
    symbol_version = "v1" if text_symbols == V1_SYMBOL_COUNT else "v2"
    model_version = symbol_version
    if header in (b"05", b"06") or "sv_emb.weight" in weights:
        # The Pro models add a speaker-verification branch; upstream knows them only by the header tag. A
        # plain zip with that branch (re-saved by another tool) is told apart by the wider ProPlus decoder.
        _require(path, weights, ["sv_emb.weight", "ge_to512.weight", "prelu.weight"])
        if header in (b"05", b"06"):
            model_version = HEADER_TAGS[header]
        elif weights["dec.conv_pre.weight"].shape[0] == PRO_PLUS_DECODER_CHANNELS:
            model_version = "v2ProPlus"
        else:
            model_version = "v2Pro"
        symbol_version = "v2"
    config["model"]["version"] = model_version  # upstream overwrites the stored value the same way
    return SoVITSCheckpoint(path, model_version, symbol_version, config, weights, info)


def _v3_v4_version(path: Path, header: bytes, lora_rank: int | None) -> str:
    """v3 or v4, as upstream's `get_sovits_version_from_path_fast` decides it: the header tag of a LoRA file,
    else the published s2Gv4.pth by its first 8 KiB, else v3."""
    if header in LORA_TAGS:
        if lora_rank is None:
            raise CheckpointError(Message(
                "'{name}' carries a v3/v4 LoRA tag but no LoRA rank. The file may be damaged; use it as GPT-SoVITS "
                "training saved it.",
                name=path.name,
            ))  # fmt: skip
        return LORA_TAGS[header]
    if lora_rank is not None:
        raise CheckpointError(Message(
            "'{name}' is a LoRA fine-tune without the v3/v4 tag GPT-SoVITS writes into its first bytes, so its "
            "version is unknown. Use the file as GPT-SoVITS training saved it.",
            name=path.name,
        ))  # fmt: skip
    with path.open("rb") as file:
        head = file.read(8192)
    return "v4" if hashlib.md5(head).hexdigest() == PRETRAINED_V4_HEAD_MD5 else "v3"


def _missing_lora_base(checkpoint: SoVITSCheckpoint, base_path: Path | None) -> CheckpointError:
    from gpt_sovits.weights import LORA_BASE_MODELS, REPO_ID  # the download layout lives there

    official = LORA_BASE_MODELS[checkpoint.model_version]
    return CheckpointError(Message(
        "'{name}' is a {version} LoRA fine-tune: it holds only the changes to the official {version} base model, "
        "which was not found ({path}). Download it with `python -m gpt_sovits download --version {version}` (or "
        "the Download button), or copy '{official}' from https://huggingface.co/{repo} into the weights folder.",
        name=checkpoint.path.name, version=checkpoint.model_version, path=str(base_path or official),
        official=official, repo=REPO_ID,
    ))  # fmt: skip


# ---------------------------------------------------------------------------------------------------------------
# Reading the container


def _read_header(path: Path) -> bytes:
    if not path.is_file():
        raise CheckpointError(Message("Model file '{name}' does not exist or is not a file.", name=path.name))
    with path.open("rb") as file:
        return file.read(2)


def _read_model_file(path: Path) -> tuple[bytes, dict[str, torch.Tensor], object, str, int | None]:
    """Load a model file safely and return (header bytes, weights, config as plain data, info, LoRA rank or None)."""
    header = _read_header(path)
    if header in HEADER_TAGS:
        data = bytearray(path.read_bytes())
        data[:2] = b"PK"
        source = io.BytesIO(bytes(data))
    elif header in (b"PK", PICKLE_PROTOCOL_2_START):
        source = path  # a plain zip, or torch's legacy (pre-zip) format that the same safe unpickler reads
    else:
        raise _not_a_model(path, Message("it is not a PyTorch archive"))
    if header != PICKLE_PROTOCOL_2_START:
        _check_declared_sizes(path, source, header)

    top = _torch_load(path, source, header)
    if not isinstance(top, dict) or "weight" not in top:
        raise _not_a_model(path, Message(
            "it holds no 'weight' entry (other PyTorch files, and training checkpoints from logs/ folders, are not "
            "model files; GPT-SoVITS saves those in its GPT_weights* and SoVITS_weights* folders)"
        ))  # fmt: skip
    weights = top["weight"]
    if not isinstance(weights, dict) or not weights or not all(isinstance(t, torch.Tensor) for t in weights.values()):
        raise _not_a_model(path, Message("its 'weight' entry is not a set of tensors"))
    return header, dict(weights), _as_plain_data(top.get("config")), str(top.get("info", "")), _lora_rank(path, top)


def _torch_load(path: Path, source, header: bytes):
    """torch.load with the safety rules above; every failure is a CheckpointError naming the file."""
    try:
        # weights_only: torch's restricted unpickler. No mmap: a file rewritten in place while mapped (a training
        # run saving again) would crash us.
        return torch.load(source, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        offending = _disallowed_global(str(error))
        if offending:
            raise CheckpointError(Message(
                "'{name}' was refused: besides model weights it contains Python code or objects ({offending}) that "
                "could run arbitrary commands when opened. Use an official GPT-SoVITS model file.",
                name=path.name, offending=offending,
            )) from None  # fmt: skip
        raise _damaged(path, header) from error
    except Exception as error:  # the zip reader and unpickler raise many types for damaged data
        raise _damaged(path, header) from error


def load_state_dict_file(path: str | Path, key: str | None) -> dict[str, torch.Tensor]:
    """A plain PyTorch weights file (the vocoders, AP-BWE), read with the same safety rules as model files:
    `top[key]` (BigVGAN and AP-BWE store {"generator": state dict}) or, with key None, the file itself."""
    path = Path(path)
    header = _read_header(path)
    if header != b"PK":
        raise CheckpointError(Message("'{name}' is not a PyTorch weights file. Download or copy it again.", name=path.name))
    _check_declared_sizes(path, path, header)
    top = _torch_load(path, path, header)
    weights = top.get(key) if key is not None and isinstance(top, dict) else top
    if not isinstance(weights, dict) or not weights or not all(isinstance(t, torch.Tensor) for t in weights.values()):
        if key is None:
            raise CheckpointError(Message(
                "'{name}' is not the expected weights file: it should hold a set of tensors. Download or copy it again.",
                name=path.name,
            ))  # fmt: skip
        raise CheckpointError(Message(
            "'{name}' is not the expected weights file: it should hold a '{key}' entry of tensors. Download or copy "
            "it again.",
            name=path.name, key=key,
        ))  # fmt: skip
    return dict(weights)


def _lora_rank(path: Path, top: dict) -> int | None:
    if "lora_rank" not in top:
        return None
    rank = top["lora_rank"]
    if isinstance(rank, bool) or not isinstance(rank, int) or rank <= 0:
        raise CheckpointError(Message(
            "'{name}' has an invalid LoRA rank {rank!r}. The file may be damaged; use it as GPT-SoVITS training saved it.",
            name=path.name, rank=rank,
        ))  # fmt: skip
    return rank


def _check_declared_sizes(path: Path, archive, header: bytes) -> None:
    """Refuse an archive whose entries claim more bytes than a model file can hold, before anything is inflated.

    torch writes every entry uncompressed, so the declared (uncompressed) sizes add up to about the file's size; the
    zip directory gives them without reading the entries.
    """
    file_size = path.stat().st_size
    try:
        with zipfile.ZipFile(archive) as zip_file:
            declared = sum(entry.file_size for entry in zip_file.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        raise _damaged(path, header) from None
    if isinstance(archive, io.BytesIO):
        archive.seek(0)
    if declared > MAX_CHECKPOINT_EXPANSION * file_size + 2**20:
        raise CheckpointError(Message(
            "'{name}' was refused: its {size:.1f} MB archive declares {declared:.0f} MB of contents, far more than a "
            "model file holds (a compressed 'zip bomb', or a damaged file). Use the model file as GPT-SoVITS saved it.",
            name=path.name, size=file_size / 2**20, declared=declared / 2**20,
        ))  # fmt: skip


def _as_plain_data(value):
    """Turn unpickled `utils.HParams` stand-ins (nested) into plain dicts."""
    if isinstance(value, _HParamsStandIn):
        value = vars(value)
    if isinstance(value, dict):
        return {key: _as_plain_data(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_as_plain_data(item) for item in value)
    return value


def _disallowed_global(message: str) -> str | None:
    """Name of the global torch's safe unpickler refused, or None if the error was about something else."""
    match = re.search(r"GLOBAL (\S+)", message)
    if match:
        return match.group(1)
    match = re.search(r"(unrecognized function \S+|Can only (?:create|build) .*? but got \S+)", message)
    return match.group(1) if match else None


def _kind_of(weights: dict[str, torch.Tensor]) -> str:
    if all(name.startswith(T2S_KEY_PREFIX) for name in weights):
        return "t2s"
    if any(name.startswith(SOVITS_PREFIXES) for name in weights):
        return "sovits"
    return "unknown"


def _t2s_config(path: Path, config) -> T2SConfig:
    try:
        model, data = config["model"], config["data"]
        t2s_config = T2SConfig(
            embedding_dim=int(model["embedding_dim"]),
            hidden_dim=int(model["hidden_dim"]),
            num_heads=int(model["head"]),
            num_layers=int(model["n_layer"]),
            vocab_size=int(model["vocab_size"]),
            phoneme_vocab_size=int(model["phoneme_vocab_size"]),
            eos_id=int(model["EOS"]),
            early_stop_num=SEMANTIC_FRAMES_PER_SECOND * int(data["max_sec"]),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise CheckpointError(Message(
            "'{name}' has no usable GPT config (missing or invalid field {field}). Use a GPT .ckpt file written by "
            "GPT-SoVITS training.",
            name=path.name, field=str(error),
        )) from None  # fmt: skip
    if (
        t2s_config.embedding_dim != t2s_config.hidden_dim
        or t2s_config.eos_id != t2s_config.vocab_size - 1
        or t2s_config.hidden_dim % t2s_config.num_heads
    ):
        raise CheckpointError(Message(
            "'{name}' has a GPT config this app cannot run (embedding_dim must equal hidden_dim, EOS must be the last "
            "vocabulary entry, and hidden_dim must divide into the heads).",
            name=path.name,
        ))  # fmt: skip
    return t2s_config


_FOREIGN_TENSORS = Message("its tensors are not those of a GPT-SoVITS model")


def _not_a_model(path: Path, reason: Message) -> CheckpointError:
    return CheckpointError(Message(
        "'{name}' is not a GPT-SoVITS model file: {reason}. Choose a GPT .ckpt file or a SoVITS .pth file saved by "
        "GPT-SoVITS.",
        name=path.name, reason=reason,
    ))  # fmt: skip


def _damaged(path: Path, header: bytes) -> CheckpointError:
    if header == b"PK" or header in HEADER_TAGS:
        return CheckpointError(Message(
            "'{name}' looks like a model file but cannot be read: it is probably truncated or damaged (an "
            "interrupted download or copy). Download or copy it again.",
            name=path.name,
        ))  # fmt: skip
    return _not_a_model(path, Message("it could not be read as a PyTorch checkpoint"))

