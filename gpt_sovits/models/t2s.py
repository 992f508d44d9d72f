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
* the EOS column is *removed* (not masked) from the logits for the first 11 steps, so the model says >= 11 tokens
  (and a step draws 1024 random numbers, not 1025);
* the repetition penalty covers the reference prompt tokens too, and the "argmax is EOS" stop test looks at the
  penalized logits;
* a step that stops on EOS drops its own sample, even when the sample itself was not EOS.

Decoding is a token iterator: `stream(inputs, sampling, max_rows=B)` decodes several sentences ("rows") together,
up to B at once, and yields after every step, so a caller can use tokens as they come and stop at any step (closing
the iterator ends the work; a `stop` event set from another thread ends it too, within one layer of the prefill,
which for a batch of long prompts takes seconds). `generate(input, sampling)` is the one-sentence convenience. How
rows share a step:
* the rows' prompts are prefilled together, packed end to end into one sequence without padding: the weight
  matrices' products run over all their positions at once (bigger GEMMs, about 15% faster per row on a CPU),
  while attention and the mask stay each row's own (each row attends in its own slot of the batch's cache);
* a decode step runs the weight matrices once for all running rows ([B, dim] x [dim, 3 dim] GEMMs, see `linear`):
  the step is memory-bound, so B rows cost far less than B steps;
* the rows' keys and values sit in one cache per batch (each row its own slot); a decode step attends for all
  rows in one call, over the longest row's positions, a mask hiding each shorter row's unused end: one parallel
  region per layer instead of one per row (at 8 rows, a step's attention took 41 ms row by row and 22 ms batched
  on 2 cores, in a second thread, where OpenMP cannot spin: the engine's pipeline);
* each row draws its random numbers from its own generator, seeded with its own seed, exactly as a batch of one
  draws them, so a sentence samples the same tokens in any batch;
* a finished row leaves the batch at once. Its slot goes to the next input waiting, which is prefilled into it
  before the next step and then decodes with the others ("continuous batching": the batch stays full while
  sentences are left, instead of the last rows of one batch decoding nearly alone before the next starts). Where
  no input is waiting, the running rows' slots are copied into a smaller cache (only the positions filled so far);
* rows that joined later are at their own steps: each removes the EOS column for its own first 11 steps.
The difference from a batch of one: a GEMM over B rows, and attention over padded positions, may round differently
from a matrix-vector product and an unpadded call (other kernels, another summation order), so logits can differ
in the last bits; a token changes only where two candidates are that close. A batch of one makes the same calls as
before, and in a prefill each row's attention is its own call, as in a batch of one.

On a GPU, each batch's decode step is captured as a CUDA graph and replayed (_GraphedStep), attending over the
whole cache with a mask (fixed shapes); on a CPU, and wherever a capture fails, the step runs kernel by kernel.

Device and dtype: everything runs on the parameters' device in their dtype (inputs are moved there once, before
the loop; per step only the new tokens come back to the host), with float32 islands: the sine position table is
computed in float32 and then cast (as upstream does), and the sampler (penalty, top-p softmax and cumsum,
temperature, top-k, softmax, race) runs on float32 logits (upstream samples in the model dtype: the same in a
float32 model, more precise in a half one). Torch's LayerNorm and attention kernels accumulate in float32 anyway.
"""

import itertools
import logging
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from gpt_sovits.checkpoints import T2SCheckpoint, T2SConfig

log = logging.getLogger(__name__)

BERT_DIM = 1024
STEPS_BEFORE_EOS_ALLOWED = 11  # upstream: "at least 10 tokens (0.4 s) before it may stop"


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


@dataclass(frozen=True, eq=False)
class T2SInput:
    """One sentence to decode. Tensors may live on any device; they are moved to the model's."""

    phone_ids: torch.Tensor  # LongTensor [N]: reference phones then target phones (target only when reference-free)
    bert_features: torch.Tensor  # [N, 1024], one row per phone
    prompt_tokens: torch.Tensor | None  # LongTensor [P], the reference's semantic tokens; None/empty: reference-free
    seed: int  # seeds this sentence's own random generator
    max_tokens: int | None = None  # runaway guard: stop with "token_limit" once this many tokens exist

    def __post_init__(self):
        num_phones = len(self.phone_ids)
        if self.phone_ids.dim() != 1 or num_phones == 0 or self.bert_features.shape != (num_phones, BERT_DIM):
            raise ValueError(f"need phones [N] and BERT features [N, 1024], got {tuple(self.phone_ids.shape)} and "
                             f"{tuple(self.bert_features.shape)}")
        if self.prompt_tokens is not None and self.prompt_tokens.dim() != 1:
            raise ValueError(f"prompt tokens must be one sequence [P], got shape {tuple(self.prompt_tokens.shape)}")
        if self.max_tokens is not None and self.max_tokens < 1:
            raise ValueError(f"max_tokens must be at least 1 (or None), got {self.max_tokens}")

    @property
    def num_prompt(self) -> int:
        return 0 if self.prompt_tokens is None else len(self.prompt_tokens)


@dataclass
class T2SOutput:
    """The tokens generated for the target, and why generation stopped.

    `tokens` holds every generated token, EOS excluded. `steps` is the loop index at the stop (upstream's `idx`):
    on "eos" it equals len(tokens); otherwise it is len(tokens) - 1. Stop reasons: "eos" (the model ended),
    "early_stop" (more than early_stop_num tokens), "step_cap" (max_steps reached; both upstream's), and
    "token_limit" (the row's own max_tokens: our runaway guard, not upstream behaviour).

    Upstream quirk: the official callers hand SoVITS `y[:, -idx:]`, so with a prompt they drop the *first*
    generated token on "early_stop" / "step_cap" (and in reference-free mode, where upstream returns idx 0,
    they pass everything). `decoder_tokens` reproduces exactly that.
    """

    tokens: torch.Tensor  # LongTensor [G], on the model's device
    stop_reason: str  # "eos" | "early_stop" | "step_cap" | "token_limit"
    steps: int
    reference_free: bool

    @property
    def decoder_tokens(self) -> torch.Tensor:
        """What SoVITS decodes: the generated tokens, reproducing upstream's `y[:, -idx:]` without its slice.

        With a prompt and an "early_stop" / "step_cap" stop, upstream's idx is one short, so it drops the first
        generated token; we drop it explicitly instead of slicing by a count that could be 0.
        """
        if self.stop_reason in ("early_stop", "step_cap") and not self.reference_free:
            return self.tokens[1:]
        return self.tokens


@dataclass
class T2SStep:
    """What one decoding step did for the rows still running. Rows are named by their index in `stream`'s inputs."""

    step: int  # the stream's loop index; 0 is the first prefill (a row that joined later counts its own steps)
    rows: tuple[int, ...]  # the rows sampled at this step, in `logits` order
    logits: torch.Tensor  # [len(rows), vocab] float32: the model's raw logits (before EOS removal and sampler)
    tokens: dict[int, int]  # row -> the token it gained (a row that stops on EOS gains none)
    finished: dict[int, T2SOutput]  # row -> its result, for the rows that stopped at this step


def sine_positions(length: int, dim: int, device: torch.device | None = None) -> torch.Tensor:
    """[length, dim] float32: even columns sin(p * w_k), odd columns cos(p * w_k), w_k = 10000^(-2k/dim)."""
    position = torch.arange(0, length, dtype=torch.float32, device=device).unsqueeze(1)
    frequency = torch.exp(torch.arange(0, dim, 2, dtype=torch.float32, device=device) * -(math.log(10000.0) / dim))
    table = torch.zeros(length, dim, device=device)
    table[:, 0::2] = torch.sin(position * frequency)
    table[:, 1::2] = torch.cos(position * frequency)
    return table


def prefill_mask(num_phones: int, num_prompt: int, device: torch.device) -> torch.Tensor:
    """[N+P, N+P] bool, True = visible: text sees all text; audio sees all text and itself causally."""
    total = num_phones + num_prompt
    may_attend = torch.ones(total, total, dtype=torch.bool, device=device)
    may_attend[:num_phones, num_phones:] = False
    may_attend[num_phones:, num_phones:] = torch.ones(num_prompt, num_prompt, dtype=torch.bool, device=device).tril()
    return may_attend


def penalize_repetition(logits: torch.Tensor, seen: torch.Tensor, penalty: float) -> torch.Tensor:
    """Make every token already seen (prompt included) less likely: positive logits / penalty, negative * penalty.

    Upstream gathers the logits of its whole history and scatters them back penalized; a token that occurred
    several times gets the same value written several times, so it is penalized once, as here.
    """
    if penalty == 1.0:
        return logits
    return torch.where(seen, torch.where(logits < 0, logits * penalty, logits / penalty), logits)


def sample_tokens(
    logits: torch.Tensor, seen: torch.Tensor, params: SamplingParams, race: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Draw one token per row the way upstream does.

    logits: [B, V] float32; seen: [B, V] bool, the tokens the repetition penalty covers (prompt and generated so
    far); race: [B, V] Exp(1) draws. Returns (tokens [B], argmax of the penalized logits [B]); upstream's stop test
    looks at the latter.
    """
    logits = penalize_repetition(logits, seen, params.repetition_penalty)
    best = torch.argmax(logits, dim=-1)

    if params.top_p < 1.0:
        # Drop the tail once the cumulative probability passes top_p; the token that crosses it goes too.
        sorted_logits, order = torch.sort(logits, descending=True, dim=-1)
        remove = torch.cumsum(torch.softmax(sorted_logits, dim=-1), dim=-1) > params.top_p
        remove[:, 0] = False  # always keep the best token
        logits = logits.masked_fill(remove.scatter(-1, order, remove), -math.inf)

    logits = logits / max(params.temperature, 1e-5)

    # Keep the top_k best (and anything tied with the k-th).
    kth_best = torch.topk(logits, min(params.top_k, logits.shape[-1]), dim=-1).values[:, -1:]
    logits = torch.where(logits < kth_best, -math.inf, logits)

    # Exponential race: argmax(p_i / E_i) with E_i ~ Exp(1) picks i with probability p_i.
    return torch.argmax(torch.softmax(logits, dim=-1) / race, dim=-1), best


def _cpu_vendor() -> str:
    """The CPU maker as Linux names it ("GenuineIntel", "AuthenticAMD"), or "" where that cannot be read."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("vendor_id"):
                    return line.partition(":")[2].strip()
    except OSError:
        pass
    return ""


# Which orientation of a batched decode step's products is faster is MKL's business, and differs by CPU maker: on
# AMD (EPYC, 2 threads) W @ x^T ran 1.1-2x faster per step at B = 4-8 than F.linear's x @ W^T; on Intel (Xeon
# with AVX-512) F.linear is faster, a batch-8 step by 14% (benchmarks/t2s_speed.py: 5.6 against 6.5 ms per token
# per sentence). Fixed per machine, so a request gives the same numbers every time on it.
TRANSPOSED_BATCH_PRODUCT = _cpu_vendor() == "AuthenticAMD"


def linear(layer: nn.Linear, x: torch.Tensor, one_position_per_row: bool) -> torch.Tensor:
    """layer(x) for x [N, in] -> [N, out], the new positions of one or more rows.

    Float32 batch 1 and every prefill use F.linear, exactly as upstream computes them. A decode step on the CPU may
    take a faster kernel for the same product: batched, W @ x^T on AMD (see TRANSPOSED_BATCH_PRODUCT) and in
    bfloat16; at batch 1 in bfloat16, a matrix-vector product (oneDNN's bfloat16 GEMM is slow at one row: a step
    took 18.3 ms that way against 14.6, and a batch-8 step 3.6 against 3.3 ms per row transposed; Xeon, 2 threads).
    """
    if not one_position_per_row or x.device.type != "cpu":
        return layer(x)
    if len(x) == 1:
        if x.dtype != torch.bfloat16:
            return layer(x)
        vector = torch.mv(layer.weight, x[0]) if layer.bias is None else torch.addmv(layer.bias, layer.weight, x[0])
        return vector[None]
    if not (TRANSPOSED_BATCH_PRODUCT or x.dtype == torch.bfloat16):
        return layer(x)
    product = layer.weight @ x.T if layer.bias is None else torch.addmm(layer.bias[:, None], layer.weight, x.T)
    return product.T.contiguous()


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

    def prefill(self, x: torch.Tensor, cache: torch.Tensor, lengths: Sequence[int], masks: Sequence[torch.Tensor],
                slots: Sequence[int]) -> torch.Tensor:
        """x: [N, dim], the rows' whole prompts end to end (row b's lengths[b] positions); cache: this layer's
        [key|value, slots, heads, capacity, head_dim]. Row b's keys/values fill positions 0..lengths[b]-1 of slot
        slots[b], and it attends to them as masks[b] allows ([lengths[b], lengths[b]] bool, True = visible); its
        positions after that, up to the longest row's, are zeroed."""
        dim = x.shape[-1]
        heads, head_dim = self.num_heads, dim // self.num_heads
        queries, keys_values = linear(self.qkv, x, one_position_per_row=False).split([dim, 2 * dim], dim=-1)
        attended, longest = [], max(lengths)
        for slot, row_queries, row_keys_values, length, mask in zip(
            slots, queries.split(lengths), keys_values.split(lengths), lengths, masks
        ):
            row_queries = row_queries.view(1, length, heads, head_dim).transpose(1, 2)  # [1, heads, L, hd]
            cache[:, slot, :, :length] = row_keys_values.view(length, 2, heads, head_dim).permute(1, 2, 0, 3)
            cache[:, slot, :, length:longest] = 0  # read (masked) by batched steps: finite, not stale memory
            keys, values = cache[:, slot, :, :length]  # [heads, L, hd] each
            # 4-d inputs get torch's fused CPU kernel: one parallel region per call, no score matrix in memory.
            row_attended = F.scaled_dot_product_attention(row_queries, keys[None], values[None], attn_mask=mask)
            attended.append(row_attended.transpose(1, 2).reshape(length, dim))
        return self.feed_forward(x, torch.cat(attended), one_position_per_row=False)

    def step(self, x: torch.Tensor, cache: torch.Tensor, lengths: torch.Tensor | None, attended_positions: int,
             padding: torch.Tensor | None) -> torch.Tensor:
        """x: [B, dim], one new position per row, stored at position lengths[b] of slot b of this layer's cache
        [key|value, B, heads, capacity, head_dim]; row b attends to its positions 0..lengths[b]. The call reads
        the first attended_positions = max(lengths) + 1 of every slot; padding: [B, 1, 1, attended_positions]
        float, 0 where visible and -inf past a row's own end. A single row attending to all its positions has
        nothing to hide: padding and lengths are None, and its new position is attended_positions - 1."""
        rows, dim = x.shape
        heads, head_dim = self.num_heads, dim // self.num_heads
        queries, keys_values = linear(self.qkv, x, one_position_per_row=True).split([dim, 2 * dim], dim=-1)
        if padding is None:  # one row, unmasked: its new position is the last one read (lengths is None)
            cache[:, 0, :, attended_positions - 1] = keys_values.view(2, heads, head_dim)  # a plain slice copy
        else:
            # The last position read is new to the shorter rows too: hidden by the mask, it must still be finite
            # (the empty cache may hold NaN, and NaN * 0 is NaN). The longest rows overwrite it just below.
            cache[:, :, :, attended_positions - 1] = 0
            # Indexed by slot and position together, the cache gives a [B, key|value, heads, head_dim] view to fill.
            cache[:, torch.arange(rows, device=x.device), :, lengths] = keys_values.view(rows, 2, heads, head_dim)
        keys, values = cache[:, :, :, :attended_positions]  # [B, heads, attended, hd] each
        queries = queries.view(rows, 1, heads, head_dim).transpose(1, 2)  # [B, heads, 1, hd]
        attended = F.scaled_dot_product_attention(queries, keys, values, attn_mask=padding)  # [B, heads, 1, hd]
        return self.feed_forward(x, attended.reshape(rows, dim), one_position_per_row=True)

    def feed_forward(self, x: torch.Tensor, attended: torch.Tensor, one_position_per_row: bool) -> torch.Tensor:
        """The rest of the block: x = LN1(x + out(attended)); x = LN2(x + FFN(x))."""
        one_each = one_position_per_row
        x = self.norm1(x + linear(self.attention_out, attended, one_each))
        # ReLU in place: a prefill's [positions, 4 dim] activations are tens of MB, and a new tensor that size is
        # fresh pages from the OS (a page fault each 4 KB): out of place it took ~13% of a batch's prefill.
        hidden = F.relu(linear(self.ffn_in, x, one_each), inplace=True)
        return self.norm2(x + linear(self.ffn_out, hidden, one_each))


@dataclass(eq=False)
class _Row:
    """One sentence being decoded: its place in the inputs, its random generator, its tokens so far."""

    index: int
    input: T2SInput
    length: int  # positions cached so far
    limit: int  # most tokens it may reach: min(max_steps, max_tokens)
    generator: torch.Generator
    tokens: list[int] = field(default_factory=list)
    step: int = 0  # its own loop index (upstream's idx): the samples it drew before this one

    @classmethod
    def start(cls, index: int, row: T2SInput, sampling: SamplingParams, device: torch.device) -> "_Row":
        limit = min(sampling.max_steps, row.max_tokens or sampling.max_steps)
        generator = torch.Generator(device=device).manual_seed(row.seed)
        return cls(index, row, len(row.phone_ids) + row.num_prompt, limit, generator)

    @property
    def most_positions(self) -> int:
        """The cache positions it can ever fill: its prompt, then one per token."""
        return self.length + self.limit - len(self.tokens)

    @property
    def most_sine_positions(self) -> int:
        """The sine table rows it can ever read: text and audio count from 0 each."""
        return max(len(self.input.phone_ids), self.input.num_prompt + self.limit)

    def take(self, token: int, best: int, eos: int, early_stop_num: int, max_steps: int) -> str | None:
        """Apply upstream's stop rules, in its order, to this step's sample and the penalized argmax `best`.
        Returns why the row stops, or None to go on."""
        if token == eos or best == eos:
            return "eos"  # the stopping sample is dropped, whatever it was
        self.tokens.append(token)
        if early_stop_num != -1 and len(self.tokens) > early_stop_num:
            return "early_stop"
        if len(self.tokens) == max_steps:
            return "step_cap"
        if len(self.tokens) == self.limit:
            return "token_limit"
        return None

    def output(self, stop_reason: str, device: torch.device) -> T2SOutput:
        tokens = torch.tensor(self.tokens, dtype=torch.long, device=device)
        return T2SOutput(tokens, stop_reason, steps=self.step, reference_free=self.input.num_prompt == 0)


class _Batch:
    """The rows decoding together, and what the next step needs of them: slot s of the cache and of each tensor
    here belongs to rows[s]. Rows join (prefilled into a slot), step together, and leave.

    Every slot's cache positions below `finite` hold finite values (its row's keys and values, zeros, or what the
    slot's previous row left): a batched step reads every slot up to the longest row's end and masks the rest, and
    a NaN there (fresh memory may hold one) would survive the mask, since NaN * 0 is NaN.
    """

    def __init__(self, model: "Text2Semantic", rows: list[_Row]):
        weight, vocab = model.to_logits.weight, model.config.vocab_size
        self.model, self.device = model, weight.device
        self.rows = rows  # slots not yet filled hold the rows about to be
        self.capacity = max(row.most_positions for row in rows)
        self.cache = model.new_cache(len(rows), self.capacity)
        self.finite = 0
        self.positions = weight.new_empty(0, model.config.hidden_dim)  # the sine table, grown as rows need
        self.logits = torch.empty(len(rows), vocab, device=self.device)  # [rows, vocab] float32: for the next token
        self.seen = torch.zeros(len(rows), vocab, dtype=torch.bool, device=self.device)  # [rows, vocab]
        self.audio_positions = torch.zeros(len(rows), dtype=torch.long, device=self.device)  # [rows]
        self.tokens = torch.zeros(len(rows), dtype=torch.long, device=self.device)  # [rows]: the latest token each
        self.graphs = model.cuda_graphs and self.device.type == "cuda"  # steps as graph replays (_GraphedStep)
        self.graphed: _GraphedStep | None = None  # the step's graph, while the cache and sine table it reads last

    def fill(self, slots: list[int], rows: list[_Row], stop) -> bool:
        """Prefill `rows` into `slots` (new or freed); their logits are then the ones for their first token.
        False if `stop` was set meanwhile."""
        longest_table = max(row.most_sine_positions for row in rows)
        if longest_table > len(self.positions):
            dim, dtype = self.positions.shape[1], self.positions.dtype
            self.positions = sine_positions(longest_table, dim, self.device).to(dtype)
            self.graphed = None
        capacity = max(row.most_positions for row in rows)
        if capacity > self.capacity:  # rare: a joiner longer than any row so far
            self.capacity = capacity
            self.model.repack(self.cache, torch.arange(len(self.rows), device=self.device), self.finite, capacity)
            self.graphed = None
        longest = max(row.length for row in rows)
        if longest > self.finite:  # the prefill zeroes its own slots this far; the others are read this far too
            others = [slot for slot in range(len(self.rows)) if slot not in slots]
            if others:
                others = torch.tensor(others, device=self.device)
                for layer in self.cache:
                    layer[:, others, :, self.finite : longest] = 0
            self.finite = longest
        logits = self.model.prefill([row.input for row in rows], self.cache, self.positions, stop, slots)
        if logits is None:
            return False
        index = torch.tensor(slots, device=self.device)
        self.logits = self.logits.index_copy(0, index, logits)  # a new tensor: the last step's was handed out
        self.seen[index] = False
        for slot, row in zip(slots, rows):
            self.rows[slot] = row
            if row.input.num_prompt:
                self.seen[slot, row.input.prompt_tokens.to(self.device)] = True
        self.audio_positions[index] = torch.tensor([row.input.num_prompt for row in rows], device=self.device)
        return True

    def sample(self, sampling: SamplingParams) -> tuple[list[int], list[int]]:
        """Each row's next token (and the penalized argmax, for upstream's stop test), drawn from its own
        generator. Rows in their first 11 steps have no EOS column at all; when rows on both sides of that share
        the batch, each side is sampled on its own."""
        eos, rows = self.model.config.eos_id, self.rows
        early = [slot for slot, row in enumerate(rows) if row.step < STEPS_BEFORE_EOS_ALLOWED]
        late = [slot for slot, row in enumerate(rows) if row.step >= STEPS_BEFORE_EOS_ALLOWED]
        tokens = torch.empty(len(rows), dtype=torch.long, device=self.device)
        best = torch.empty_like(tokens)
        for slots, vocab in ((early, eos), (late, eos + 1)):
            if not slots:
                continue
            race = torch.empty(len(slots), vocab, dtype=torch.float32, device=self.device)  # [rows, vocab]
            for draws, slot in zip(race, slots):  # each row from its own generator, as a batch of one draws
                draws.exponential_(1, generator=rows[slot].generator)
            if len(slots) == len(rows):
                tokens, best = sample_tokens(self.logits[:, :vocab], self.seen[:, :vocab], sampling, race)
            else:
                index = torch.tensor(slots, device=self.device)
                tokens[index], best[index] = sample_tokens(self.logits[index, :vocab], self.seen[index, :vocab],
                                                           sampling, race)  # fmt: skip
        self.seen.scatter_(1, tokens[:, None], True)
        self.tokens = tokens
        tokens_and_best = torch.stack([tokens, best], 1).tolist()
        return [token for token, _ in tokens_and_best], [best for _, best in tokens_and_best]

    def step(self) -> None:
        """Every slot's latest token in, its logits for the next out."""
        lengths = [row.length for row in self.rows]
        if self.graphs:
            if self.graphed is None:
                self.graphed = _GraphedStep(self.model, self.cache, self.positions, len(self.rows))
            self.logits = self.graphed(self.tokens, self.audio_positions, lengths)
            if self.graphed.graph is None:  # the capture failed: kernel by kernel from here on
                self.graphs, self.graphed = False, None
        else:
            self.logits = self.model.decode_step(self.tokens, self.audio_positions, self.cache, lengths,
                                                 self.positions)  # fmt: skip
        self.finite = max(self.finite, max(lengths) + 1)
        self.audio_positions += 1
        for row in self.rows:
            row.length += 1

    def remove(self, slots: list[int]) -> None:
        """The rows in `slots` leave: the others' cache positions filled so far are copied into a smaller cache."""
        if not slots:
            return
        kept = [slot for slot in range(len(self.rows)) if slot not in slots]
        self.rows = [self.rows[slot] for slot in kept]
        if not self.rows:
            return
        index = torch.tensor(kept, device=self.device)
        self.finite = max(row.length for row in self.rows)
        self.model.repack(self.cache, index, self.finite, self.capacity)
        self.graphed = None
        self.logits, self.seen = self.logits[index], self.seen[index]
        self.audio_positions, self.tokens = self.audio_positions[index], self.tokens[index]


class _GraphedStep:
    """A batch's decode step on a GPU as a CUDA graph: run eagerly at its first step and captured, then replayed.

    A step launches about 14 small kernels per layer (350 at the official size); one by one from Python, the GPU
    waits for the CPU most of the time at small batches. A replay launches them all at once. The graph reads its
    inputs from fixed tensors (copied into before each replay), and the cache layers and sine table it was made
    with by address: the batch drops it whenever it replaces those (a repack, a longer table). It attends over the
    whole cache (attend_all): the shapes must not change from step to step. If the capture fails (a driver or a
    PyTorch build that cannot), `graph` stays None after the first step, whose result is still right.
    """

    def __init__(self, model: "Text2Semantic", cache: Sequence[torch.Tensor], positions: torch.Tensor, rows: int):
        device = positions.device
        self.tokens = torch.zeros(rows, dtype=torch.long, device=device)  # [rows]: the inputs, read by address
        self.audio_positions = torch.zeros_like(self.tokens)
        self.lengths = torch.zeros_like(self.tokens)
        layers = list(cache)  # these tensors, even once the batch's cache list holds others
        self.run = lambda: model.decode_step(self.tokens, self.audio_positions, layers, self.lengths, positions,
                                             attend_all=True)  # fmt: skip
        self.graph: torch.cuda.CUDAGraph | None = None
        self.logits: torch.Tensor | None = None  # [rows, vocab]: what a replay writes

    def __call__(self, tokens: torch.Tensor, audio_positions: torch.Tensor, lengths: list[int]) -> torch.Tensor:
        self.tokens.copy_(tokens)
        self.audio_positions.copy_(audio_positions)
        self.lengths.copy_(torch.tensor(lengths))
        if self.graph is None:
            logits = self.run()  # this step's own result; it also warms up what the capture records
            try:
                self.capture()
            except RuntimeError as error:  # self.graph stays None: the batch goes on kernel by kernel
                log.warning("T2S: the decode step could not be captured as a CUDA graph (%s); decoding kernel by "
                            "kernel instead, which is slower", error)  # fmt: skip
            return logits
        self.graph.replay()
        return self.logits.clone()  # the next replay overwrites self.logits; the caller may keep this step's

    def capture(self) -> None:
        """Record the step (not run: the cache is written once per step) on a side stream, as graphs must be.
        Not torch.cuda.graph(): it also collects garbage and empties the allocator's cache, tens of milliseconds
        each time a batch's rows leave. thread_local: the engine decodes audio in another thread meanwhile."""
        stream, current = torch.cuda.Stream(self.tokens.device), torch.cuda.current_stream(self.tokens.device)
        stream.wait_stream(current)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.stream(stream):
            graph.capture_begin(capture_error_mode="thread_local")
            try:
                self.logits = self.run()
            finally:
                graph.capture_end()
        current.wait_stream(stream)
        self.graph = graph


class Text2Semantic(nn.Module):
    def __init__(self, config: T2SConfig):
        super().__init__()
        self.config = config
        self.cuda_graphs = True  # on a GPU, decode steps as graph replays (_GraphedStep); False: kernel by kernel
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

    # ----- the forward pass -------------------------------------------------------------------------------

    def new_cache(self, rows: int, capacity: int) -> list[torch.Tensor]:
        """Room for the keys and values of `capacity` positions of each of `rows` rows: per layer [key|value, rows,
        heads, capacity, head_dim], allocated once (pages a row never reaches are never touched on CPU). On a GPU
        it starts zeroed: a graphed step (attend_all) reads every position, masked or not, and NaN * 0 is NaN."""
        config, weight = self.config, self.to_logits.weight
        heads = config.num_heads
        shape = (2, rows, heads, capacity, config.hidden_dim // heads)
        new = torch.empty if weight.device.type == "cpu" else torch.zeros
        return [new(shape, dtype=weight.dtype, device=weight.device) for _ in range(config.num_layers)]

    @staticmethod
    def repack(cache: list[torch.Tensor], slots: torch.Tensor, filled: int, capacity: int) -> None:
        """Make `cache` hold only the rows in `slots` (in that order), their first `filled` positions copied, with
        room for `capacity` positions. One layer at a time, each old layer freed as its copy is made: together they
        never take more than a layer more than before."""
        for index, layer in enumerate(cache):
            shape = list(layer.shape)
            shape[1], shape[3] = len(slots), capacity
            repacked = layer.new_empty(shape) if layer.device.type == "cpu" else layer.new_zeros(shape)
            repacked[:, :, :, :filled] = layer[:, slots, :, :filled]
            cache[index] = repacked

    def prefill(self, rows: Sequence[T2SInput], cache: Sequence[torch.Tensor], positions: torch.Tensor,
                stop=None, slots: Sequence[int] | None = None) -> torch.Tensor | None:
        """Run the rows' whole prompts (text, then audio prompt), packed end to end, filling positions 0..N+P-1 of
        each row's slot of the cache: row b's is slots[b] (default b, as in a new_cache(len(rows), ...)). positions:
        the sine table in the model's dtype. Returns each row's logits for its first token: [B, vocab] float32;
        None if `stop` (an object with is_set(), or None) was set between two layers."""
        weight = self.to_logits.weight
        sequences, masks = [], []
        for row in rows:
            phone_ids = row.phone_ids.to(weight.device)
            bert_features = row.bert_features.to(weight.device, weight.dtype)
            prompt_tokens = phone_ids.new_zeros(0) if row.prompt_tokens is None else row.prompt_tokens.to(weight.device)
            num_phones, num_prompt = len(phone_ids), len(prompt_tokens)
            text = self.text_embedding(phone_ids) + self.bert_proj(bert_features)
            text = text + self.text_position_alpha * positions[:num_phones]
            audio = self.audio_embedding(prompt_tokens) + self.audio_position_alpha * positions[:num_prompt]
            sequences.append(torch.cat([text, audio]))  # [N+P, dim]
            masks.append(prefill_mask(num_phones, num_prompt, weight.device))
        lengths = [len(sequence) for sequence in sequences]
        slots = range(len(rows)) if slots is None else slots
        x = torch.cat(sequences)  # [sum of N+P, dim]
        for layer, block in enumerate(self.blocks):
            if stop is not None and stop.is_set():
                return None
            x = block.prefill(x, cache[layer], lengths, masks, slots)
        last_positions = torch.stack([row_positions[-1] for row_positions in x.split(lengths)])  # [B, dim]
        return self.to_logits(last_positions).float()

    def decode_step(
        self,
        tokens: torch.Tensor,
        audio_positions: torch.Tensor,
        cache: Sequence[torch.Tensor],
        lengths: Sequence[int] | torch.Tensor,
        positions: torch.Tensor,
        attend_all: bool = False,
    ) -> torch.Tensor:
        """One new token per row -> the logits of the next: [B, vocab] float32.

        tokens: [B] the rows' latest tokens, at audio positions audio_positions [B]; slot b of the cache holds
        row b's lengths[b] positions so far, and the new one goes after them.
        attend_all: attend over every position of the cache (a mask hides those past each row's end; lengths is
        then a tensor [B] on the model's device) instead of up to the longest row's. Every step then has the same
        shapes and reads its inputs from the same tensors, so it can be replayed as a CUDA graph (_GraphedStep).
        """
        x = self.audio_embedding(tokens) + self.audio_position_alpha * positions[audio_positions]  # [B, dim]
        padding = None  # a single row attends to all its positions, unmasked: the call a batch of one makes
        if attend_all:
            attended_positions = cache[0].shape[3]
        else:
            attended_positions = max(lengths) + 1
            lengths = torch.tensor(lengths, device=tokens.device) if len(lengths) > 1 else None  # [B]
        if lengths is not None:
            visible = torch.arange(attended_positions, device=tokens.device) <= lengths[:, None]  # [B, attended]
            padding = torch.zeros(visible.shape, dtype=x.dtype, device=x.device).masked_fill_(~visible, -math.inf)
            padding = padding[:, None, None, :]  # [B, 1, 1, attended]: the same for every head
        for layer, block in enumerate(self.blocks):
            x = block.step(x, cache[layer], lengths, attended_positions, padding)
        return linear(self.to_logits, x, one_position_per_row=True).float()

    # ----- decoding ---------------------------------------------------------------------------------------

    @torch.inference_mode()
    def stream(self, inputs: Iterable[T2SInput], sampling: SamplingParams, stop=None,
               max_rows: int | None = None) -> Iterator[T2SStep]:
        """Decode the inputs, up to `max_rows` at once (None: all together), one T2SStep per step; each row ends
        with its T2SOutput in `finished`. Rows are named by their place in `inputs`.

        `inputs` is read lazily: the first max_rows at the start, then one more each time a row finishes, which
        takes the finished row's slot (prefilled before the next step). So a caller may make inputs as they are
        asked for (and add to what it yields after seeing a step).

        Work happens only while the caller iterates: closing the iterator (or dropping it) stops it. `stop` (an
        object with is_set(), such as a threading.Event, or None): once set, the iterator ends, without the rows'
        results, before its next prefill layer or step.
        """
        config, device = self.config, self.to_logits.weight.device
        early_stop_num = config.early_stop_num if sampling.early_stop_num is None else sampling.early_stop_num
        waiting, names = iter(inputs), itertools.count()

        def admit(count: int | None) -> list[_Row]:
            return [_Row.start(next(names), row, sampling, device) for row in itertools.islice(waiting, count)]

        rows = admit(max_rows)
        if not rows:
            raise ValueError("need at least one input to decode")
        batch = _Batch(self, rows)
        # Step 0 runs every row's prompt; its logits are those of the last prompt position.
        if not batch.fill(list(range(len(rows))), rows, stop):
            return
        for iteration in itertools.count():
            tokens, best = batch.sample(sampling)
            gained, finished, free = {}, {}, []
            for slot, (row, token, best_token) in enumerate(zip(batch.rows, tokens, best)):
                stop_reason = row.take(token, best_token, config.eos_id, early_stop_num, sampling.max_steps)
                if stop_reason != "eos":
                    gained[row.index] = token
                if stop_reason:
                    finished[row.index] = row.output(stop_reason, device)
                    free.append(slot)
                row.step += 1
            yield T2SStep(iteration, tuple(row.index for row in batch.rows), batch.logits, gained, finished)
            if stop is not None and stop.is_set():
                return

            joiners = admit(len(free))  # read only now: the caller may have added to the inputs after the yield
            left = free[len(joiners) :]
            going_on = len(batch.rows) - len(free)
            if not joiners:
                batch.remove(left)  # before the step, which then computes fewer rows
            if going_on:
                # With joiners, the rows that finished keep their slots through this step (their results unused):
                # cheaper than copying the cache to drop them, and the joiners' prefills then overwrite them.
                batch.step()
            if joiners:
                if not batch.fill(free[: len(joiners)], joiners, stop):
                    return
                batch.remove(left)
            if not batch.rows:
                return

    def generate(self, input: T2SInput, sampling: SamplingParams) -> T2SOutput:
        """Decode one sentence to the end (a batch of one)."""
        return next(step.finished[0] for step in self.stream([input], sampling) if step.finished)
