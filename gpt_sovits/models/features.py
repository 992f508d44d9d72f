"""The two pretrained feature models GPT-SoVITS borrows from Hugging Face, run from local directories.

* `HubertEncoder`: chinese-hubert-base. Reference audio at 16 kHz -> content features, 768 per 20 ms frame.
  The SoVITS quantizer turns them into the prompt's semantic tokens.
* `BertEncoder`: chinese-roberta-wwm-ext-large. Normalised Chinese text -> one 1024-d feature per phone,
  which the text-to-semantic model reads next to the phone ids.

Both run in float32 with PyTorch's SDPA attention: at one thread that reproduces the official outputs bit for
bit (eager attention differs in the last bits). Nothing is ever downloaded: `local_files_only=True`.

BERT can encode several sentences in one call, packed end to end into one row ("sentence packing"): every
layer's matrix products then read the 330 M weights once for all of them, while attention, positions and layer
norms stay per sentence, so no sentence sees another. A sentence packed with others gets the numbers it gets
alone, except that a product over a few rows (under about 10 characters here) may take another kernel in the
math library and differ in the last bits (about 1e-6 relative; tests/test_features.py measures it).
"""

import functools
from pathlib import Path

import torch
from torch import Tensor
from torch.nn.utils import parametrize
from transformers import (
    AttentionInterface, AutoConfig, AutoModelForMaskedLM, AutoTokenizer, BertForMaskedLM, BertModel, HubertModel,
)
from transformers.integrations.sdpa_attention import sdpa_attention_forward

from gpt_sovits.errors import AudioError, CheckpointError, TextError
from gpt_sovits.messages import Message, joined

WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
HUBERT_RECEPTIVE_FIELD = 400  # samples the convolutional front end needs for its first frame


def _check_model_dir(model_dir, what: str, expected_model_type: str, other_files: tuple[tuple[str, ...], ...]) -> Path:
    """Fail early, naming the directory and the files it must hold, instead of deep inside `transformers`.

    `other_files` is a list of alternatives: at least one file of each tuple must exist.
    """
    model_dir = Path(model_dir)
    required = (("config.json",), WEIGHT_FILES, *other_files)
    expected = joined(_either(choice) for choice in required)
    if not model_dir.is_dir():
        raise CheckpointError(Message(
            "The {what} model directory {model_dir} does not exist; it must contain {expected}.",
            what=what, model_dir=model_dir, expected=expected,
        ))
    missing = [_either(choice) for choice in required if not any((model_dir / name).is_file() for name in choice)]
    if missing:
        raise CheckpointError(Message(
            "The {what} model directory {model_dir} is incomplete: missing {missing} (expected {expected}).",
            what=what, model_dir=model_dir, missing=joined(missing), expected=expected,
        ))
    try:
        model_type = AutoConfig.from_pretrained(model_dir, local_files_only=True).model_type
    except Exception as error:  # any unreadable config is the user's file, not our bug
        raise CheckpointError(Message(
            "Cannot read {path} for the {what} model: {error}", path=str(model_dir / "config.json"), what=what, error=str(error)
        )) from error
    if model_type != expected_model_type:
        raise CheckpointError(Message(
            "{model_dir} holds a '{model_type}' model, but the {what} model must be '{expected}'.",
            model_dir=model_dir, model_type=model_type, what=what, expected=expected_model_type,
        ))
    return model_dir


def _either(names: tuple[str, ...]) -> Message | str:
    """"model.safetensors or pytorch_model.bin"."""
    return functools.reduce(lambda earlier, name: Message("{earlier} or {name}", earlier=earlier, name=name), names)


def _load_pretrained(model_class, model_dir: Path, what: str, is_used):
    """`from_pretrained` that refuses a weight file missing tensors we use (transformers would fill them randomly).

    `is_used(name)` says whether a parameter matters at inference; missing training-only ones are fine.
    """
    try:
        model, loading_info = model_class.from_pretrained(
            model_dir,
            local_files_only=True,
            dtype=torch.float32,  # whatever the file stores (a half-precision copy too): upstream runs fp32 on CPU
            attn_implementation="sdpa",
            output_loading_info=True,
        )
    except Exception as error:  # truncated / foreign weight files raise many different types
        raise CheckpointError(Message(
            "Cannot load the {what} model from {model_dir}: {error}", what=what, model_dir=model_dir, error=error
        )) from error
    missing = sorted(name for name in loading_info["missing_keys"] if is_used(name))
    if missing:
        raise CheckpointError(Message(
            "The {what} weights in {model_dir} are missing {count} tensors (for example {examples}); this is not "
            "a {what} checkpoint.",
            what=what, model_dir=model_dir, count=len(missing), examples=joined(missing[:3]),
        ))
    return model.eval()


def hubert_for_inference(model: HubertModel) -> HubertModel:
    """Fold the positional conv's weight norm (magnitude and direction, recombined on every call otherwise)
    into a plain weight, once: the same function gives the same numbers. Modifies and returns `model`."""
    positional_conv = model.encoder.pos_conv_embed.conv
    if parametrize.is_parametrized(positional_conv, "weight"):
        parametrize.remove_parametrizations(positional_conv, "weight", leave_parametrized=True)
    return model.eval()


class HubertEncoder:
    """chinese-hubert-base: 16 kHz waveform -> last hidden state, one 768-d row per 320 samples."""

    def __init__(self, model: HubertModel):
        self.model = hubert_for_inference(model)

    @classmethod
    def from_dir(cls, model_dir) -> "HubertEncoder":
        model_dir = _check_model_dir(model_dir, "HuBERT", "hubert", other_files=())
        # masked_spec_embed is the learned mask vector of pre-training, never used at inference.
        return cls(_load_pretrained(HubertModel, model_dir, "HuBERT", is_used=lambda name: name != "masked_spec_embed"))

    @torch.inference_mode()
    def __call__(self, wav16k: Tensor) -> Tensor:
        """wav16k: float [N] in [-1, 1], already padded by the caller -> [F, 768], F = (N - 80) // 320.

        The model is called on the raw waveform, without the feature extractor's zero-mean/unit-variance
        normalisation, exactly as the official inference code does.
        """
        if wav16k.dim() != 1 or wav16k.numel() < HUBERT_RECEPTIVE_FIELD:
            raise AudioError(Message(
                "HuBERT needs a mono 16 kHz waveform of at least {samples} samples, got shape {shape}.",
                samples=HUBERT_RECEPTIVE_FIELD, shape=tuple(wav16k.shape),
            ))
        weight = next(self.model.parameters())
        return self.model(wav16k[None].to(weight)).last_hidden_state[0]  # [1, N] in


def attention_within_sentences(module, queries, keys, values, attention_mask, sentence_lengths=None, **kwargs):
    """Attention for a row of sentences packed end to end: each attends to itself only, with the very SDPA call
    it gets alone. queries/keys/values: [1, heads, total tokens, head_dim]; sentence_lengths: tokens of each,
    in order (None: the row is one sentence). We never pad, so there is no mask to apply."""
    if sentence_lengths is None:
        return sdpa_attention_forward(module, queries, keys, values, None, **kwargs)
    attended, start = [], 0
    for length in sentence_lengths:
        span = slice(start, start + length)
        attended.append(sdpa_attention_forward(module, queries[:, :, span], keys[:, :, span], values[:, :, span],
                                               None, **kwargs)[0])  # [1, length, heads, head_dim]
        start += length
    return torch.cat(attended, dim=1), None


SENTENCE_ATTENTION = "gpt_sovits_sentences"
AttentionInterface.register(SENTENCE_ATTENTION, attention_within_sentences)


def bert_up_to_third_last_layer(masked_lm: BertForMaskedLM) -> BertModel:
    """The encoder of a masked-LM BERT without its head and last two layers: its last_hidden_state is the full
    model's hidden_states[-3]. Modifies and returns `masked_lm.bert`."""
    bert = masked_lm.bert
    del bert.encoder.layer[len(bert.encoder.layer) - 2 :]
    bert.config.num_hidden_layers = len(bert.encoder.layer)
    return bert


class BertEncoder:
    """chinese-roberta-wwm-ext-large: normalised Chinese text -> [phones, 1024] features.

    The official code asks for every hidden state and keeps `hidden_states[-3]`, the output of the third-last
    layer. The last two layers (and the masked-LM head) therefore never influence the result, so they are
    dropped at load: 22 of 24 layers run, with identical numbers.
    """

    def __init__(self, masked_lm: BertForMaskedLM, tokenizer):
        self.tokenizer = tokenizer
        self.bert = bert_up_to_third_last_layer(masked_lm)
        self.bert.set_attn_implementation(SENTENCE_ATTENTION)
        self.max_characters = self.bert.config.max_position_embeddings - 2  # room for [CLS] and [SEP]

    @classmethod
    def from_dir(cls, model_dir) -> "BertEncoder":
        model_dir = _check_model_dir(
            model_dir, "BERT", "bert", other_files=(("tokenizer.json", "vocab.txt"),)
        )
        try:
            tokenizer = AutoTokenizer.from_pretrained(model_dir, local_files_only=True)
        except Exception as error:
            raise CheckpointError(
                Message("Cannot load the BERT tokenizer from {model_dir}: {error}", model_dir=model_dir, error=error)
            ) from error
        masked_lm = _load_pretrained(
            AutoModelForMaskedLM, model_dir, "BERT", is_used=lambda name: name.startswith("bert.")
        )
        if masked_lm.config.num_hidden_layers < 3:
            raise CheckpointError(
                Message("The BERT model in {model_dir} has fewer than the 3 layers GPT-SoVITS needs.", model_dir=model_dir)
            )
        return cls(masked_lm, tokenizer)

    def token_ids(self, text: str) -> Tensor:
        """LongTensor [tokens]: [CLS] + one id per character (for Chinese text) + [SEP]."""
        return self.tokenizer(text, return_tensors="pt")["input_ids"][0]

    def encode(self, normalized_text: str, word2ph: list[int]) -> Tensor:
        """[sum(word2ph), 1024]: the feature of character i, repeated once for each of its word2ph[i] phones."""
        return self.encode_many([(normalized_text, word2ph)])[0]

    @torch.inference_mode()
    def encode_many(self, sentences: list[tuple[str, list[int]]]) -> list[Tensor]:
        """`encode` for several (normalized_text, word2ph) sentences in one packed call (see the module's notes)."""
        token_ids = [self._checked_token_ids(text, word2ph) for text, word2ph in sentences]
        device = next(self.bert.parameters()).device
        lengths = [len(ids) for ids in token_ids]
        hidden = self.bert(
            input_ids=torch.cat(token_ids)[None].to(device),
            position_ids=torch.cat([torch.arange(length) for length in lengths])[None].to(device),
            sentence_lengths=lengths,
        ).last_hidden_state[0]  # [all tokens, 1024]
        features = []
        for sentence_hidden, (_, word2ph) in zip(hidden.split(lengths), sentences):
            per_character = sentence_hidden[1:-1]  # drop [CLS] and [SEP]
            features.append(per_character.repeat_interleave(torch.tensor(word2ph, device=hidden.device), dim=0))
        return features  # each [phones, 1024]

    def _checked_token_ids(self, normalized_text: str, word2ph: list[int]) -> Tensor:
        if len(word2ph) != len(normalized_text):
            raise ValueError(f"{len(normalized_text)} characters in {normalized_text!r} but {len(word2ph)} phone counts")
        if len(normalized_text) > self.max_characters:
            raise TextError(Message(
                "A Chinese sentence of {length} characters is too long for BERT (at most {limit}); cut the text "
                "into shorter sentences.",
                length=len(normalized_text), limit=self.max_characters,
            ))
        token_ids = self.token_ids(normalized_text)
        if len(token_ids) != len(normalized_text) + 2:
            raise TextError(Message(
                "The BERT tokenizer split {text!r} into {count} tokens instead of one per character, so its "
                "features cannot be matched to the phones.",
                text=normalized_text, count=len(token_ids) - 2,
            ))
        return token_ids
