"""Real-size random models written as official GPT-SoVITS files, so that our engine and the official code can load
the very same checkpoints (benchmarks/paragraph.py --official).

    python benchmarks/export_checkpoints.py --out DIR [--versions v2,v2ProPlus]

Layout of DIR (the layout the vectors' checkpoint generator writes too, so either can feed `--checkpoints DIR`):

    <version>/t2s.ckpt       {"weight": {"model.<name>": fp16}, "config": the s1longer-v2 dict, "info"}, a torch zip
    <version>/sovits.pth     {"weight": {<official name>: fp16, no enc_q}, "config": the s2 dict, "info"}, a torch zip
                             whose first two bytes are the version tag for the Pro models (b"06" = v2ProPlus)
    hubert/                  chinese-hubert-base layout: config.json, preprocessor_config.json, weights
    bert/                    chinese-roberta-wwm-ext-large layout: config.json, weights, tokenizer files
    sv/pretrained_eres2netv2w24s4ep4.ckpt   ERes2NetV2 state dict, float32

The weights are random (seeded): speed depends only on the architecture. Our models are built in memory and their
state dicts renamed to the official names, the inverse of what our loaders do: T2S names as in
`checkpoints.t2s_tensor_shapes`, SoVITS names through `models.sovits._RENAMES` backwards, and the weight-normed
convolutions of the official SoVITS split again into a direction `weight_v` (our folded weight) and a magnitude
`weight_g` (its norm over every axis but the first), which fold back to the same weight.
"""

import argparse
import io
import re
import shutil
import sys
from pathlib import Path

import torch
from transformers import BertForMaskedLM, HubertModel, Wav2Vec2FeatureExtractor

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import features_speed  # noqa: E402
import sovits_speed  # noqa: E402
import t2s_speed  # noqa: E402

from gpt_sovits.checkpoints import SEMANTIC_FRAMES_PER_SECOND, T2S_KEY_PREFIX  # noqa: E402
from gpt_sovits.engine import ModelPaths  # noqa: E402
from gpt_sovits.models.sovits import _RENAMES, SoVITS, SoVITSConfig  # noqa: E402
from gpt_sovits.models.speaker import ERes2NetV2  # noqa: E402
from gpt_sovits.models.t2s import Text2Semantic  # noqa: E402

REPOSITORY = Path(__file__).resolve().parents[1]
TOKENIZER_DIR = REPOSITORY / "tests" / "data" / "tiny_ckpt" / "bert"  # a Chinese BERT tokenizer (3,890 entries)
TOKENIZER_FILES = ("vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json")
SPEAKER_FILE = "sv/pretrained_eres2netv2w24s4ep4.ckpt"
PRO_HEADER_TAGS = {"v2Pro": b"05", "v2ProPlus": b"06"}  # the official writer's tag in place of the zip's "PK"
SPEAKER_HEAD_INPUTS = 40960  # the official ERes2NetV2 head (seg_1) reads mean and std pooling, 2 x 20480

# Ours -> official, for the T2S tensors outside the blocks and (prefixed "h.layers.<i>.") inside each block.
T2S_NAMES = {
    "text_embedding.weight": "ar_text_embedding.word_embeddings.weight",
    "bert_proj.weight": "bert_proj.weight",
    "bert_proj.bias": "bert_proj.bias",
    "text_position_alpha": "ar_text_position.alpha",
    "audio_embedding.weight": "ar_audio_embedding.word_embeddings.weight",
    "audio_position_alpha": "ar_audio_position.alpha",
    "to_logits.weight": "ar_predict_layer.weight",
}
T2S_BLOCK_NAMES = {
    "qkv.weight": "self_attn.in_proj_weight",
    "qkv.bias": "self_attn.in_proj_bias",
    "attention_out.weight": "self_attn.out_proj.weight",
    "attention_out.bias": "self_attn.out_proj.bias",
    "ffn_in.weight": "linear1.weight",
    "ffn_in.bias": "linear1.bias",
    "ffn_out.weight": "linear2.weight",
    "ffn_out.bias": "linear2.bias",
    "norm1.weight": "norm1.weight",
    "norm1.bias": "norm1.bias",
    "norm2.weight": "norm2.weight",
    "norm2.bias": "norm2.bias",
}
# The official SoVITS convolutions under weight norm (their files store weight_v and weight_g).
WEIGHT_NORMED = re.compile(
    r"dec\.ups\.\d+\.weight|dec\.resblocks\.\d+\.convs[12]\.\d+\.weight"
    r"|flow\.flows\.\d+\.enc\.(cond_layer|in_layers\.\d+|res_skip_layers\.\d+)\.weight"
)
CODEBOOK = "quantizer.vq.layers.0._codebook."


def t2s_config(model: Text2Semantic) -> dict:
    """The file's config: s1longer-v2.yaml's sections as training saves them, with this model's sizes."""
    c = model.config
    return {
        "train": {"seed": 1234, "epochs": 15, "batch_size": 8, "save_every_n_epoch": 5, "precision": "32",
                  "gradient_clip": 1.0},
        "optimizer": {"lr": 0.01, "lr_init": 1e-05, "lr_end": 0.0001, "warmup_steps": 2000, "decay_steps": 40000},
        "data": {"max_eval_sample": 8, "max_sec": c.early_stop_num // SEMANTIC_FRAMES_PER_SECOND, "num_workers": 4,
                 "pad_val": c.eos_id},
        "model": {"vocab_size": c.vocab_size, "phoneme_vocab_size": c.phoneme_vocab_size,
                  "embedding_dim": c.embedding_dim, "hidden_dim": c.hidden_dim, "head": c.num_heads,
                  "linear_units": 4 * c.hidden_dim, "n_layer": c.num_layers, "dropout": 0, "EOS": c.eos_id,
                  "random_bert": 0},
        "inference": {"top_k": 15},
    }  # fmt: skip


def t2s_file(model: Text2Semantic) -> dict:
    """What a T2S .ckpt holds: official names with the "model." prefix, fp16."""
    weights = {}
    for name, tensor in model.state_dict().items():
        if name.startswith("blocks."):
            _, layer, local = name.split(".", 2)
            official = f"h.layers.{layer}.{T2S_BLOCK_NAMES[local]}"
        else:
            official = T2S_NAMES[name]
        weights[T2S_KEY_PREFIX + official] = tensor.detach().half().clone()
    return {"weight": weights, "config": t2s_config(model), "info": "GPT-e15"}


def sovits_config(config: SoVITSConfig) -> dict:
    """The file's config: s2.json / s2v2ProPlus.json's sections with this model's sizes (a plain dict, as some
    official writers leave it; the training UI pickles the same values as utils.HParams)."""
    return {
        "train": {"log_interval": 100, "eval_interval": 500, "seed": 1234, "epochs": 8, "learning_rate": 0.0001,
                  "betas": [0.8, 0.99], "eps": 1e-09, "batch_size": 4, "fp16_run": False, "lr_decay": 0.999875,
                  "segment_size": 20480, "init_lr_ratio": 1, "warmup_epochs": 0, "c_mel": 45, "c_kl": 1.0,
                  "text_low_lr_rate": 0.4, "grad_ckpt": False},
        "data": {"max_wav_value": 32768.0, "sampling_rate": config.sample_rate,
                 "filter_length": 2 * (config.spectrogram_bins - 1), "hop_length": 640, "win_length": 2048,
                 "n_mel_channels": 128, "mel_fmin": 0.0, "mel_fmax": None, "add_blank": True, "n_speakers": 300,
                 "cleaned_text": True},
        "model": {"inter_channels": config.inter_channels, "hidden_channels": config.hidden_channels,
                  "filter_channels": config.filter_channels, "n_heads": config.n_heads, "n_layers": config.n_layers,
                  "kernel_size": config.kernel_size, "p_dropout": 0.0 if config.is_pro else 0.1, "resblock": "1",
                  "resblock_kernel_sizes": list(config.resblock_kernel_sizes),
                  "resblock_dilation_sizes": [list(d) for d in config.resblock_dilation_sizes],
                  "upsample_rates": list(config.upsample_rates),
                  "upsample_initial_channel": config.upsample_initial_channel,
                  "upsample_kernel_sizes": list(config.upsample_kernel_sizes), "n_layers_q": 3,
                  "use_spectral_norm": False, "gin_channels": config.gin_channels, "semantic_frame_rate": "25hz",
                  "freeze_quantizer": True, "version": config.model_version},
        "content_module": "cnhubert",
        "version": config.model_version,
    }  # fmt: skip


def sovits_state_dict(model: SoVITS) -> dict[str, torch.Tensor]:
    """Our SoVITS weights under the official names, fp16; weight norms split again into direction and magnitude."""
    official_prefix = {ours: theirs for theirs, ours in _RENAMES.items()}
    state = {}
    for name, tensor in model.state_dict().items():
        tensor = tensor.detach().float()
        for ours, theirs in official_prefix.items():
            if name.startswith(ours):
                name = theirs + name[len(ours):]
                break
        if name.startswith("dec.") and tensor.dim() == 4:
            tensor = tensor[:, :, 0, :]  # our decoder runs (1 x k) 2-D convolutions; the official ones are 1-D
        if WEIGHT_NORMED.fullmatch(name):
            norm = tensor.reshape(tensor.shape[0], -1).norm(dim=1).reshape(-1, *([1] * (tensor.dim() - 1)))
            state[name + "_g"], state[name + "_v"] = norm.half(), tensor.half()
        else:
            state[name] = tensor.half()
    embed = state[CODEBOOK + "embed"]  # the quantizer's k-means statistics: unused at inference, kept for the format
    state[CODEBOOK + "inited"] = torch.ones(1, dtype=torch.half)
    state[CODEBOOK + "cluster_size"] = torch.ones(embed.shape[0], dtype=torch.half)
    state[CODEBOOK + "embed_avg"] = embed.clone()
    return state


def sovits_file_bytes(model: SoVITS) -> bytes:
    contents = {"weight": sovits_state_dict(model), "config": sovits_config(model.config), "info": "8epoch_96iteration"}
    buffer = io.BytesIO()
    torch.save(contents, buffer)
    data = buffer.getvalue()
    tag = PRO_HEADER_TAGS.get(model.config.model_version)
    return tag + data[2:] if tag else data


def write_t2s(model: Text2Semantic, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(t2s_file(model), path)


def write_sovits(model: SoVITS, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(sovits_file_bytes(model))


def write_feature_models(out_dir: Path, with_speaker: bool) -> None:
    """HuBERT, BERT (and the speaker encoder) at their official sizes, random, in their official layouts."""
    torch.manual_seed(1)
    hubert_dir = out_dir / "hubert"
    HubertModel(features_speed.HUBERT_BASE).save_pretrained(hubert_dir)
    Wav2Vec2FeatureExtractor(feature_size=1, sampling_rate=16000, padding_value=0.0, do_normalize=True,
                             return_attention_mask=False).save_pretrained(hubert_dir)  # fmt: skip
    bert_dir = out_dir / "bert"
    BertForMaskedLM(features_speed.BERT_LARGE).save_pretrained(bert_dir)
    for name in TOKENIZER_FILES:
        shutil.copyfile(TOKENIZER_DIR / name, bert_dir / name)
    if with_speaker:
        state = ERes2NetV2().state_dict()
        # The 192-d embedding head: in the official file (its loader is strict), never used by forward3 / ours.
        state["seg_1.weight"] = torch.randn(192, SPEAKER_HEAD_INPUTS) / SPEAKER_HEAD_INPUTS**0.5
        state["seg_1.bias"] = torch.zeros(192)
        (out_dir / SPEAKER_FILE).parent.mkdir(parents=True, exist_ok=True)
        torch.save(state, out_dir / SPEAKER_FILE)


def write_checkpoints(out_dir: Path, versions: list[str]) -> None:
    """Every file the engines need for `versions`, into out_dir (the layout in the module docstring)."""
    out_dir = Path(out_dir)
    write_feature_models(out_dir, with_speaker=any(version in PRO_HEADER_TAGS for version in versions))
    for version in versions:
        write_t2s(t2s_speed.random_model(t2s_speed.OFFICIAL_SIZE), out_dir / version / "t2s.ckpt")
        write_sovits(sovits_speed._random_model(version), out_dir / version / "sovits.pth")


def model_paths(checkpoints_dir: Path, version: str) -> ModelPaths:
    """The files of one version in a checkpoints directory (this module's layout)."""
    root = Path(checkpoints_dir)
    speaker = root / SPEAKER_FILE
    return ModelPaths(root / version / "t2s.ckpt", root / version / "sovits.pth", root / "hubert", root / "bert",
                      speaker if speaker.is_file() else None)  # fmt: skip


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--versions", default="v2,v2ProPlus")
    args = parser.parse_args()
    write_checkpoints(args.out, args.versions.split(","))
    print(args.out)


if __name__ == "__main__":
    main()
