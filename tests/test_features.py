"""HuBERT and BERT feature models: loading of both weight-norm layouts, the BERT layer truncation, and the errors a
user sees for a bad model directory or unusable text. Their parity with the official outputs (features and BERT's
token ids) is the `hubert` and `bert` stages of test_parity.py."""

import shutil
from functools import lru_cache

import pytest
import torch
from transformers import AutoModelForMaskedLM

from gpt_sovits.errors import AudioError, CheckpointError, TextError
from gpt_sovits.models.features import BertEncoder, HubertEncoder
from tolerances import tolerance_for

HUBERT_PADDING = 9600  # zeros upstream appends to the 16 kHz HuBERT input (int(32000 * 0.3))


@pytest.fixture
def hubert(tiny_checkpoints):
    return _hubert_for(tiny_checkpoints / "hubert")


@pytest.fixture
def bert(tiny_checkpoints):
    return _bert_for(tiny_checkpoints / "bert")


@lru_cache(maxsize=None)
def _hubert_for(model_dir):
    return HubertEncoder.from_dir(model_dir)


@lru_cache(maxsize=None)
def _bert_for(model_dir):
    return BertEncoder.from_dir(model_dir)


# ----------------------------------------------------------------------------------------------------------------
# Loading


def test_bert_truncation_gives_hidden_states_minus_3(bert, tiny_checkpoints):
    """Dropping the last two layers must not change what upstream reads from the full model."""
    full = AutoModelForMaskedLM.from_pretrained(
        tiny_checkpoints / "bert", local_files_only=True, attn_implementation="sdpa"
    ).eval()
    text = "今天天气很好."
    with torch.no_grad():
        hidden_states = full(input_ids=bert.token_ids(text)[None], output_hidden_states=True).hidden_states
    expected = hidden_states[-3][0][1:-1]  # [characters, 1024]
    ours = bert.encode(text, [1] * len(text))
    assert torch.equal(ours, expected)
    assert len(bert.bert.encoder.layer) == full.config.num_hidden_layers - 2


def test_bert_repeats_each_character_per_phone(bert):
    text = "你好."
    features = bert.encode(text, [2, 3, 1])
    assert features.shape == (6, 1024)
    assert torch.equal(features[0], features[1])
    assert torch.equal(features[2], features[4])
    assert not torch.equal(features[1], features[2])


def test_bert_packs_sentences_without_mixing_them(bert):
    """Sentences encoded in one packed call get what each gets alone (to the last bits of a GEMM kernel choice),
    and none sees another: changing one sentence leaves the others' features as they were."""
    sentences = [("今天天气很好.", [1] * 7), ("你好.", [2, 3, 1]), ("我们一起去公园散步吧,好不好.", [1] * 15)]
    alone = [bert.encode(text, word2ph) for text, word2ph in sentences]
    packed = bert.encode_many(sentences)
    bound = tolerance_for("t2s_bert")
    for ours, expected in zip(packed, alone, strict=True):
        assert ours.shape == expected.shape
        assert (ours - expected).abs().max().item() <= bound.bound(expected.numpy())
    changed = bert.encode_many([sentences[0], ("你们.", [2, 3, 1]), sentences[2]])
    assert torch.equal(changed[0], packed[0]) and torch.equal(changed[2], packed[2])
    assert not torch.allclose(changed[1], packed[1])


@pytest.mark.parametrize("tokenizer_file", ["tokenizer.json", "vocab.txt"])
def test_bert_directory_needs_only_one_tokenizer_file(bert, tiny_checkpoints, tmp_path, tokenizer_file):
    """Published copies of chinese-roberta-wwm-ext-large differ in which tokenizer files they carry."""
    for name in ("config.json", "pytorch_model.bin", tokenizer_file):
        (tmp_path / name).symlink_to(tiny_checkpoints / "bert" / name)
    text = "我们明天早上八点在学校门口见面."
    assert torch.equal(BertEncoder.from_dir(tmp_path).token_ids(text), bert.token_ids(text))


def _copy_hubert_dir(tiny_checkpoints, destination, convert):
    shutil.copytree(tiny_checkpoints / "hubert", destination)
    weights = torch.load(destination / "pytorch_model.bin", map_location="cpu", weights_only=True)
    torch.save(convert(weights), destination / "pytorch_model.bin")
    return destination


def test_hubert_loads_weight_g_weight_v_naming(hubert, tiny_checkpoints, tmp_path):
    """The published chinese-hubert-base stores the positional conv's weight norm as weight_g / weight_v
    (the tiny file, written by a newer transformers, uses parametrizations.weight.original0/1)."""
    old_names = {
        "parametrizations.weight.original0": "weight_g",
        "parametrizations.weight.original1": "weight_v",
    }

    def rename(weights):
        renamed = {}
        for name, tensor in weights.items():
            for new, old in old_names.items():
                name = name.replace(new, old)
            renamed[name] = tensor
        assert any(name.endswith("weight_g") for name in renamed)
        return renamed

    converted = HubertEncoder.from_dir(_copy_hubert_dir(tiny_checkpoints, tmp_path / "hubert", rename))
    wav = torch.linspace(-1, 1, 8000).sin()
    # Not bit-equal: the weight norm is folded at load, and its sum's order depends on the thread count then.
    assert torch.allclose(converted(wav), hubert(wav), rtol=0, atol=1e-5)


def test_hubert_float16_file_runs_in_float32(tiny_checkpoints, tmp_path):
    """The published chinese-hubert-base file is float16; upstream runs it in float32 on CPU."""
    half = HubertEncoder.from_dir(
        _copy_hubert_dir(tiny_checkpoints, tmp_path / "hubert", lambda w: {k: v.half() for k, v in w.items()})
    )
    assert {p.dtype for p in half.model.parameters()} == {torch.float32}
    assert half(torch.zeros(4000)).dtype == torch.float32


def test_hubert_output_shape(hubert):
    assert hubert(torch.zeros(16000 + HUBERT_PADDING)).shape == ((16000 + HUBERT_PADDING - 80) // 320, 768)


# ----------------------------------------------------------------------------------------------------------------
# Errors


def test_missing_model_directory_names_directory_and_files(tmp_path):
    with pytest.raises(CheckpointError) as error:
        HubertEncoder.from_dir(tmp_path / "chinese-hubert-base")
    message = str(error.value)
    assert str(tmp_path / "chinese-hubert-base") in message
    assert "config.json" in message and "pytorch_model.bin" in message


def test_incomplete_bert_directory_lists_missing_files(tiny_checkpoints, tmp_path):
    (tmp_path / "bert").mkdir()
    shutil.copy(tiny_checkpoints / "bert" / "config.json", tmp_path / "bert")
    with pytest.raises(CheckpointError, match="missing.*pytorch_model.bin.*vocab.txt"):
        BertEncoder.from_dir(tmp_path / "bert")


def test_wrong_model_kind_is_refused(tiny_checkpoints):
    with pytest.raises(CheckpointError, match="'bert' model"):
        HubertEncoder.from_dir(tiny_checkpoints / "bert")


def test_corrupt_weight_file_is_refused(tiny_checkpoints, tmp_path):
    shutil.copytree(tiny_checkpoints / "hubert", tmp_path / "hubert")
    (tmp_path / "hubert" / "pytorch_model.bin").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="Cannot load the HuBERT model"):
        HubertEncoder.from_dir(tmp_path / "hubert")


def test_weight_file_with_missing_tensors_is_refused(tiny_checkpoints, tmp_path):
    def drop_one(weights):
        return {k: v for k, v in weights.items() if not k.startswith("encoder.layers.0.attention.q_proj")}

    with pytest.raises(CheckpointError, match="missing"):
        HubertEncoder.from_dir(_copy_hubert_dir(tiny_checkpoints, tmp_path / "hubert", drop_one))


def test_hubert_rejects_too_short_audio(hubert):
    with pytest.raises(AudioError):
        hubert(torch.zeros(100))


def test_bert_rejects_text_not_one_token_per_character(bert):
    with pytest.raises(TextError, match="one per character"):
        bert.encode("我 们", [2, 0, 2])  # the tokenizer drops the space


def test_bert_rejects_word2ph_length_mismatch(bert):
    with pytest.raises(ValueError):
        bert.encode("我们", [2])
