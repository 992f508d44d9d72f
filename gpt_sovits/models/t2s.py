"""Text-to-semantic (T2S, "GPT") model: phones + BERT features -> semantic tokens, one token at a time.

A decoder-only transformer reads one sequence made of two parts:

    [ target-and-reference phones (text) | reference semantic tokens (audio prompt) ]  ->  next semantic token

Text positions see all text (bidirectional) and no audio; audio positions see all text and the audio before
them (causal). Generation first runs the whole prompt at once ("prefill", filling a key/value cache), then
one single-query step per new token. Each step's logits go through upstream's sampler (repetition penalty,
top-p, temperature, top-k, exponential race); the semantic vocabulary is 1024 codes plus EOS.

Everything here follows the official implementation's numerics (its `infer_panel_naive`, the classic/CPU path),
including its quirks, so greedy decoding reproduces it token for token:
* text and audio sine positions each count from 0, scaled by a learned alpha per side;
* the EOS column is *removed* (not masked) from the logits for the first 11 steps, so the model says >= 11 tokens;
* the repetition penalty covers the reference prompt tokens too, and changes the logits in place, so the
  "argmax is EOS" stop test sees penalized logits;
* a step that stops on EOS drops its own sample, even when the sample itself was not EOS.
"""

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from gpt_sovits.checkpoints import T2SCheckpoint, T2SConfig

BERT_DIM = 1024
STEPS_BEFORE_EOS_ALLOWED = 11  # upstream: "at least 10 tokens (0.4 s) before it may stop"
TRACE_LOGIT_STEPS = 4  # steps whose full logits a trace keeps (plus the last one)


@dataclass(frozen=True)
class SamplingParams:
    top_k: int = 15
    top_p: float = 1.0
    temperature: float = 1.0
    repetition_penalty: float = 1.35
    max_steps: int = 1500  # hard cap (60 s of audio at 25 tokens/s)
    early_stop_num: int | None = None  # stop once more tokens than this exist; None = the model's own, -1 = never

    def __post_init__(self):
        if self.top_k < 1 or self.max_steps < 1:
            raise ValueError(f"top_k and max_steps must be at least 1, got {self.top_k} and {self.max_steps}")


@dataclass
class T2SOutput:
    """The tokens generated for the target, and why generation stopped.

    `tokens` holds every generated token, EOS excluded. `steps` is the loop index at the stop (upstream's `idx`):
    on "eos" it equals len(tokens); on "early_stop" / "step_cap" it is len(tokens) - 1.

    Upstream quirk: the official callers hand SoVITS `y[:, -idx:]`, so with a prompt they drop the *first*
    generated token on "early_stop" / "step_cap" (and in reference-free mode, where upstream returns idx 0,
    they pass everything). `decoder_tokens` reproduces exactly that.
    """

    tokens: torch.Tensor  # LongTensor [G]
    stop_reason: str  # "eos" | "early_stop" | "step_cap"
    steps: int
    reference_free: bool

    @property
    def decoder_tokens(self) -> torch.Tensor:
        """What SoVITS decodes: the generated tokens, reproducing upstream's `y[:, -idx:]` without its slice.

        With a prompt and an "early_stop" / "step_cap" stop, upstream's idx is one short, so it drops the first
        generated token; we drop it explicitly instead of slicing by a count that could be 0.
        """
        if self.stop_reason == "eos" or self.reference_free:
            return self.tokens
        return self.tokens[1:]


def sine_positions(length: int, dim: int) -> torch.Tensor:
    """[length, dim] table: even columns sin(p * w_k), odd columns cos(p * w_k), w_k = 10000^(-2k/dim) (fp32)."""
    position = torch.arange(0, length, dtype=torch.float32).unsqueeze(1)
    frequency = torch.exp(torch.arange(0, dim, 2, dtype=torch.float32) * -(math.log(10000.0) / dim))
    table = torch.zeros(length, dim)
    table[:, 0::2] = torch.sin(position * frequency)
    table[:, 1::2] = torch.cos(position * frequency)
    return table


def sample_next_token(
    logits: torch.Tensor,
    previous_tokens: torch.Tensor,
    params: SamplingParams,
    generator: torch.Generator | None,
) -> int:
    """Draw one token from logits [V] the way upstream does. Applies the repetition penalty to `logits` IN PLACE.

    The in-place penalty is deliberate: upstream's stop test takes the argmax of these penalized logits.
    """
    if params.repetition_penalty != 1.0:
        # Every earlier token (prompt included, repeats included) is made less likely.
        score = logits.gather(0, previous_tokens)
        score = torch.where(score < 0, score * params.repetition_penalty, score / params.repetition_penalty)
        logits.scatter_(0, previous_tokens, score)

    if params.top_p < 1.0:
        # Drop the tail once the cumulative probability passes top_p; the token that crosses it goes too.
        sorted_logits, order = torch.sort(logits, descending=True)
        remove = torch.cumsum(torch.softmax(sorted_logits, dim=-1), dim=-1) > params.top_p
        remove[0] = False  # always keep the best token
        logits = logits.masked_fill(remove.scatter(0, order, remove), -math.inf)

    logits = logits / max(params.temperature, 1e-5)

    # Keep the top_k best (and anything tied with the k-th).
    kth_best = torch.topk(logits, min(params.top_k, logits.shape[0])).values[-1]
    logits = torch.where(logits < kth_best, -math.inf, logits)

    # Exponential race: argmax(p_i / E_i) with E_i ~ Exp(1) picks i with probability p_i.
    probs = torch.softmax(logits, dim=-1)
    race = torch.empty_like(probs).exponential_(1, generator=generator)
    return int(torch.argmax(probs / race))


class TransformerBlock(nn.Module):
    """Post-norm block: x = LN1(x + Attention(x)); x = LN2(x + FFN(x)), FFN = Linear(4d) -> ReLU -> Linear(d)."""

    def __init__(self, dim: int, num_heads: int):
        super().__init__()
        self.num_heads = num_heads
        self.qkv = nn.Linear(dim, 3 * dim)  # rows: queries, keys, values
        self.attention_out = nn.Linear(dim, dim)
        self.norm1 = nn.LayerNorm(dim)
        self.ffn_in = nn.Linear(dim, 4 * dim)
        self.ffn_out = nn.Linear(4 * dim, dim)
        self.norm2 = nn.LayerNorm(dim)

    def forward(self, x: torch.Tensor, layer_cache: torch.Tensor, start: int, may_attend: torch.Tensor | None):
        """x: [L, dim], the positions start..start+L-1. Stores their keys/values in layer_cache, attends to
        everything cached up to them. may_attend: [L, start+L] bool (True = visible), None = all visible."""
        length, dim = x.shape
        heads, head_dim = self.num_heads, dim // self.num_heads
        queries, keys_values = self.qkv(x).split([dim, 2 * dim], dim=-1)
        # [L, 2*dim] -> [2, heads, L, head_dim], written straight into the cache
        layer_cache[:, :, start : start + length] = keys_values.view(length, 2, heads, head_dim).permute(1, 2, 0, 3)
        keys, values = layer_cache[:, :, : start + length]
        queries = queries.view(1, length, heads, head_dim).transpose(1, 2)  # [1, heads, L, hd]
        # 4-d inputs get torch's fused CPU kernel: one parallel region per layer, no score matrix in memory.
        attended = F.scaled_dot_product_attention(queries, keys[None], values[None], attn_mask=may_attend)[0]
        x = self.norm1(x + self.attention_out(attended.transpose(0, 1).reshape(length, dim)))
        return self.norm2(x + self.ffn_out(F.relu(self.ffn_in(x))))


class Text2Semantic(nn.Module):
    def __init__(self, config: T2SConfig):
        super().__init__()
        self.config = config
        dim = config.hidden_dim
        self.text_embedding = nn.Embedding(config.phoneme_vocab_size, dim)
        self.bert_proj = nn.Linear(BERT_DIM, dim)
        self.text_position_alpha = nn.Parameter(torch.ones(1))
        self.audio_embedding = nn.Embedding(config.vocab_size, dim)
        self.audio_position_alpha = nn.Parameter(torch.ones(1))
        self.blocks = nn.ModuleList(TransformerBlock(dim, config.num_heads) for _ in range(config.num_layers))
        self.to_logits = nn.Linear(dim, config.vocab_size, bias=False)

    @classmethod
    def from_checkpoint(cls, checkpoint: T2SCheckpoint) -> "Text2Semantic":
        """Build the model in eval mode with float32 weights (upcast exactly from the stored fp16)."""
        model = cls(checkpoint.config)
        weights = checkpoint.state_dict
        renamed = {
            "text_embedding.weight": weights["ar_text_embedding.word_embeddings.weight"],
            "bert_proj.weight": weights["bert_proj.weight"],
            "bert_proj.bias": weights["bert_proj.bias"],
            "text_position_alpha": weights["ar_text_position.alpha"],
            "audio_embedding.weight": weights["ar_audio_embedding.word_embeddings.weight"],
            "audio_position_alpha": weights["ar_audio_position.alpha"],
            "to_logits.weight": weights["ar_predict_layer.weight"],
        }
        upstream_block_names = {
            "qkv.weight": "self_attn.in_proj_weight",
            "qkv.bias": "self_attn.in_proj_bias",
            "attention_out.weight": "self_attn.out_proj.weight",
            "attention_out.bias": "self_attn.out_proj.bias",
            "norm1.weight": "norm1.weight",
            "norm1.bias": "norm1.bias",
            "ffn_in.weight": "linear1.weight",
            "ffn_in.bias": "linear1.bias",
            "ffn_out.weight": "linear2.weight",
            "ffn_out.bias": "linear2.bias",
            "norm2.weight": "norm2.weight",
            "norm2.bias": "norm2.bias",
        }
        for i in range(checkpoint.config.num_layers):
            for ours, theirs in upstream_block_names.items():
                renamed[f"blocks.{i}.{ours}"] = weights[f"h.layers.{i}.{theirs}"]
        model.load_state_dict({name: tensor.float() for name, tensor in renamed.items()})
        return model.eval()

    def generate(
        self,
        phone_ids: torch.Tensor,
        bert_features: torch.Tensor,
        prompt_tokens: torch.Tensor | None,
        sampling: SamplingParams,
        generator: torch.Generator | None = None,
        trace: dict | None = None,
    ) -> T2SOutput:
        """Generate the target's semantic tokens.

        phone_ids: LongTensor [N], reference phones followed by target phones (target only when reference-free).
        bert_features: [1024, N], one column per phone.
        prompt_tokens: LongTensor [P], the reference's semantic tokens; None = reference-free.
        trace: if a dict, receives the raw logits of the first steps and the last one, and per-step top-8 / EOS logits.
        """
        config = self.config
        if len(phone_ids) == 0 or bert_features.shape != (BERT_DIM, len(phone_ids)):
            raise ValueError(f"need phones and [1024, phones] BERT features, got {len(phone_ids)} and "
                             f"{tuple(bert_features.shape)}")
        eos = config.eos_id
        early_stop_num = config.early_stop_num if sampling.early_stop_num is None else sampling.early_stop_num
        prompt_tokens = phone_ids.new_zeros(0) if prompt_tokens is None else prompt_tokens
        num_phones, num_prompt = len(phone_ids), len(prompt_tokens)
        dim, heads = config.hidden_dim, config.num_heads
        positions = sine_positions(max(num_phones, num_prompt + sampling.max_steps), dim)

        with torch.inference_mode():
            text = self.text_embedding(phone_ids) + self.bert_proj(bert_features.T.float())
            text = text + self.text_position_alpha * positions[:num_phones]
            audio = self.audio_embedding(prompt_tokens) + self.audio_position_alpha * positions[:num_prompt]

            # Prefill mask (True = visible): text sees all text; audio sees all text and itself causally.
            total = num_phones + num_prompt
            may_attend = torch.ones(total, total, dtype=torch.bool)
            may_attend[:num_phones, num_phones:] = False
            may_attend[num_phones:, num_phones:] = torch.ones(num_prompt, num_prompt, dtype=torch.bool).tril()

            # Keys and values of every position, allocated once: [layer, key|value, head, position, head_dim].
            cache = torch.empty(config.num_layers, 2, heads, total + sampling.max_steps, dim // heads)
            cached = 0  # positions filled so far
            # Tokens the repetition penalty looks at: the prompt, then every generated token.
            history = torch.empty(num_prompt + sampling.max_steps, dtype=torch.long)
            history[:num_prompt] = prompt_tokens
            generated = 0
            step_logits = []  # per-step raw logits, only when tracing

            x, mask = torch.cat([text, audio]), may_attend  # step 0 runs the whole prompt at once
            for step in range(sampling.max_steps):
                for layer, block in enumerate(self.blocks):
                    x = block(x, cache[layer], cached, mask)
                cached += len(x)
                raw_logits = self.to_logits(x[-1])  # [vocab]
                if trace is not None:
                    step_logits.append(raw_logits.clone())

                logits = raw_logits[:eos] if step < STEPS_BEFORE_EOS_ALLOWED else raw_logits
                token = sample_next_token(logits, history[: num_prompt + generated], sampling, generator)
                history[num_prompt + generated] = token
                generated += 1

                early_stop = early_stop_num != -1 and generated > early_stop_num
                eos_stop = token == eos or int(torch.argmax(logits)) == eos  # penalized logits, as upstream
                if eos_stop:
                    generated -= 1  # the stopping sample is dropped, whatever it was
                if early_stop or eos_stop or step == sampling.max_steps - 1:
                    break

                # Next input: the new token at audio position P + step, seeing everything cached.
                x = self.audio_embedding.weight[token : token + 1] + self.audio_position_alpha * positions[
                    num_prompt + step : num_prompt + step + 1
                ]
                mask = None

        if trace is not None:
            self._fill_trace(trace, step_logits)
        stop_reason = "eos" if eos_stop else "early_stop" if early_stop else "step_cap"
        return T2SOutput(
            tokens=history[num_prompt : num_prompt + generated].clone(),
            stop_reason=stop_reason,
            steps=step,
            reference_free=num_prompt == 0,
        )

    def _fill_trace(self, trace: dict, step_logits: list[torch.Tensor]) -> None:
        """Names as in the parity vectors: t2s_logits_step<k>, t2s_step_top8_values/ids, t2s_step_eos_logit."""
        last = len(step_logits) - 1
        for step in [*range(min(TRACE_LOGIT_STEPS, last + 1)), last]:
            trace[f"t2s_logits_step{step}"] = step_logits[step]
        trace["t2s_logits_step_last"] = step_logits[last]
        all_logits = torch.stack(step_logits)  # [steps, vocab]
        top8 = torch.topk(all_logits[:, : self.config.eos_id], 8, dim=-1)
        trace["t2s_step_top8_values"] = top8.values
        trace["t2s_step_top8_ids"] = top8.indices
        trace["t2s_step_eos_logit"] = all_logits[:, self.config.eos_id]
