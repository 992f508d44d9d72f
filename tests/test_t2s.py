"""The T2S model: against the official implementation's recorded runs, batched decoding against batch-1 runs,
the token iterator, devices and dtypes, and the sampler's rules.

The parity cases (tests/data/vectors, plus $GPT_SOVITS_EXTRA_VECTORS) ran upstream's greedy decoding (top_k=1,
repetition penalty 1.35) on the tiny T2S checkpoints; ours must give the same tokens, stop and logits.
"""

import json
import math
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import tiny_checkpoints_for, torch_threads, vector_cases
from gpt_sovits.checkpoints import load_t2s_checkpoint
from gpt_sovits.models import t2s
from gpt_sovits.models.t2s import (
    SamplingParams,
    T2SInput,
    Text2Semantic,
    penalize_repetition,
    prefill_mask,
    sample_tokens,
    sine_positions,
)
from tiny_weights import DEFAULT_RECIPE_DIR

CASES = vector_cases()


def model_version(case) -> str:
    return json.loads(case.sidecar_path.read_text(encoding="utf-8"))["model_version"]


VERSIONS = sorted({model_version(case) for case in CASES})
GREEDY = SamplingParams(top_k=1, top_p=1.0, temperature=1.0, repetition_penalty=1.35)
SAMPLED = SamplingParams(top_k=15, top_p=0.9, temperature=0.8, repetition_penalty=1.35)
UPSTREAM_STOP = {"EOS": "eos", "early_stop_num": "early_stop"}


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """The tiny model's ops are far too small to share out; on a busy machine, waking a second thread for
    each of them costs more than the whole step (seconds per test instead of a fraction of one)."""
    with torch_threads(1):
        yield


@lru_cache(maxsize=None)
def _load(path: Path) -> Text2Semantic:
    return Text2Semantic.from_checkpoint(load_t2s_checkpoint(path))


def case_model(case, version: str) -> Text2Semantic:
    """The tiny T2S a case was made with: the repository's copy for the public recipe, else rebuilt."""
    if case.recipe_dir == DEFAULT_RECIPE_DIR:
        return _load(DEFAULT_RECIPE_DIR / version / "t2s.ckpt")
    return _load(tiny_checkpoints_for(case) / version / "t2s.ckpt")


def tiny_model(eos_bias: float = 0.0) -> Text2Semantic:
    """A fresh copy of the shipped tiny v2 model; eos_bias > 0 makes EOS the best token at every step, < 0 never."""
    model = Text2Semantic.from_checkpoint(load_t2s_checkpoint(DEFAULT_RECIPE_DIR / "v2" / "t2s.ckpt"))
    if eos_bias:
        biased = torch.nn.Linear(model.config.hidden_dim, model.config.vocab_size)
        with torch.no_grad():
            biased.weight.copy_(model.to_logits.weight)
            biased.bias.zero_()
            biased.bias[model.config.eos_id] = eos_bias
        model.to_logits = biased
    return model


def case_input(case, seed: int = 0) -> T2SInput:
    _, arrays = case.load()
    prompt = torch.from_numpy(arrays["t2s_prompt"][0]).long()
    return T2SInput(
        phone_ids=torch.from_numpy(arrays["t2s_all_phoneme_ids"]).long(),
        bert_features=torch.from_numpy(arrays["t2s_bert"]).T,  # the vectors store [1024, phones]
        prompt_tokens=prompt if len(prompt) else None,
        seed=seed,
    )


def random_input(generator: torch.Generator, seed: int, with_prompt: bool, max_tokens: int | None) -> T2SInput:
    num_phones = int(torch.randint(3, 50, (1,), generator=generator))
    num_prompt = int(torch.randint(1, 80, (1,), generator=generator))
    return T2SInput(
        phone_ids=torch.randint(0, 732, (num_phones,), generator=generator),
        bert_features=torch.randn(num_phones, 1024, generator=generator),
        prompt_tokens=torch.randint(0, 1024, (num_prompt,), generator=generator) if with_prompt else None,
        seed=seed,
        max_tokens=max_tokens,
    )


def decode_batch(model: Text2Semantic, inputs, sampling, max_rows: int | None = None) -> tuple[dict, dict]:
    """({row: T2SOutput}, {row: [steps, vocab] logits}) of one batched run."""
    outputs, logits = {}, {row: [] for row in range(len(inputs))}
    for step in model.stream(inputs, sampling, max_rows=max_rows):
        for row, row_logits in zip(step.rows, step.logits):
            logits[row].append(row_logits)
        outputs |= step.finished
    return outputs, {row: torch.stack(steps) for row, steps in logits.items()}


def assert_rows_match_batch_one(model: Text2Semantic, inputs, sampling, max_rows: int | None = None) -> float:
    """Each row of one batch equals its own batch-1 run token for token; returns the largest logit difference."""
    outputs, logits = decode_batch(model, inputs, sampling, max_rows)
    worst = 0.0
    for row, row_input in enumerate(inputs):
        alone, alone_logits = decode_batch(model, [row_input], sampling)
        assert torch.equal(outputs[row].tokens, alone[0].tokens), f"row {row}"
        assert (outputs[row].stop_reason, outputs[row].steps) == (alone[0].stop_reason, alone[0].steps), f"row {row}"
        difference = float((logits[row] - alone_logits[0]).abs().max())
        assert difference <= 1e-5 * float(alone_logits[0].abs().max()), f"row {row}: logits moved by {difference}"
        worst = max(worst, difference)
    return worst


# ---------------------------------------------------------------------------------------------------------------
# Against the official implementation


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_greedy_generation_matches_upstream(case):
    sidecar, arrays = case.load()
    row = case_input(case)
    output = case_model(case, sidecar["model_version"]).generate(row, GREEDY)

    np.testing.assert_array_equal(output.tokens.numpy(), arrays["t2s_y"][row.num_prompt :])
    assert output.tokens.dtype == torch.long
    assert output.stop_reason == UPSTREAM_STOP[sidecar["t2s"]["stopped_by"]]
    assert output.reference_free == (row.prompt_tokens is None)
    # Upstream returns idx 0 in reference-free mode; our `steps` is always the loop index at the stop.
    assert output.steps == len(arrays["t2s_step_eos_logit"]) - 1
    if row.prompt_tokens is not None:
        assert output.steps == int(arrays["t2s_idx"])
    # What upstream handed to SoVITS (its y[:, -idx:] drops the first token on an early stop).
    np.testing.assert_array_equal(output.decoder_tokens.numpy(), arrays["decode_codes"][0, 0])
    # The logits themselves are compared in test_parity.py's t2s stage, with the tolerance table.


# ---------------------------------------------------------------------------------------------------------------
# Batched decoding: every row as if alone


@pytest.fixture(params=[False, True], ids=["x_Wt", "W_xt"])
def batch_product(request, monkeypatch):
    """Both orientations of a batched step's products (each machine uses one, by its CPU maker)."""
    monkeypatch.setattr(t2s, "TRANSPOSED_BATCH_PRODUCT", request.param)


@pytest.mark.parametrize("version", VERSIONS)
def test_batched_vector_cases_equal_their_batch_one_runs(version, batch_product):
    """The cases of one model decoded together, with variants: prompt removed, prompt halved, fewer phones."""
    cases = [case for case in CASES if model_version(case) == version]
    inputs, recorded = [], {}  # recorded: row -> the case it is exactly
    for case in cases:
        row = case_input(case)
        recorded[len(inputs)] = case
        inputs.append(row)
        fewer_phones = len(row.phone_ids) // 4
        inputs.append(T2SInput(row.phone_ids[fewer_phones:], row.bert_features[fewer_phones:], row.prompt_tokens, 1))
        if row.prompt_tokens is not None:
            inputs.append(T2SInput(row.phone_ids, row.bert_features, None, seed=2))
            inputs.append(T2SInput(row.phone_ids, row.bert_features, row.prompt_tokens[: row.num_prompt // 2], seed=3))
    inputs = inputs[:8]
    assert len(inputs) >= 3
    model = case_model(cases[0], version)
    assert_rows_match_batch_one(model, inputs, GREEDY)

    # The recorded rows are still upstream's tokens when decoded in the batch.
    outputs, _ = decode_batch(model, inputs, GREEDY)
    for row, case in recorded.items():
        if row < len(inputs):
            recorded_tokens = case.load()[1]["t2s_y"][inputs[row].num_prompt :]
            np.testing.assert_array_equal(outputs[row].tokens.numpy(), recorded_tokens)


@pytest.mark.parametrize("sampling", [GREEDY, SAMPLED], ids=["greedy", "sampled"])
def test_batched_random_sentences_equal_their_batch_one_runs(sampling, batch_product):
    generator = torch.Generator().manual_seed(7)
    limits = [None, 40, 25, None, 60, 15, None, 30]
    inputs = [random_input(generator, seed=100 + row, with_prompt=row % 3 != 0, max_tokens=limit)
              for row, limit in enumerate(limits)]
    model = tiny_model()
    assert_rows_match_batch_one(model, inputs, sampling)
    outputs, _ = decode_batch(model, inputs, sampling)
    assert len({output.steps for output in outputs.values()}) > 3, "rows should finish at different steps"


def test_a_row_decodes_the_same_wherever_it_sits_in_the_batch():
    generator = torch.Generator().manual_seed(3)
    inputs = [random_input(generator, seed=row, with_prompt=True, max_tokens=30) for row in range(4)]
    model = tiny_model()
    forward, _ = decode_batch(model, inputs, SAMPLED)
    backward, _ = decode_batch(model, inputs[::-1], SAMPLED)
    for row in range(4):
        assert torch.equal(forward[row].tokens, backward[3 - row].tokens)


def test_a_batched_step_reads_no_stale_cache_memory(monkeypatch):
    """A batched step reads every row up to the longest row's end, the shorter rows' unused positions hidden by the
    mask. Those positions must hold finite values: NaN there (what an empty cache may hold) would make the row NaN."""
    model = tiny_model()
    empty_cache = model.new_cache
    monkeypatch.setattr(model, "new_cache", lambda rows, capacity: [layer.fill_(math.nan) for layer in
                                                                    empty_cache(rows, capacity)])
    generator = torch.Generator().manual_seed(5)
    inputs = [random_input(generator, seed=row, with_prompt=row != 1, max_tokens=15 + 10 * row) for row in range(4)]
    assert_rows_match_batch_one(model, inputs, SAMPLED)

@pytest.mark.parametrize("sampling", [GREEDY, SAMPLED], ids=["greedy", "sampled"])
def test_rows_that_join_a_running_batch_equal_their_batch_one_runs(sampling):
    """Continuous batching: 3 slots for 8 sentences, each finished row's slot taken by the next sentence. Joiners
    differ in prompt length (some longer than every row before them: the other slots are read that far too) and in
    length limit (some need a larger cache than the batch had), and start their first 11 steps, without EOS,
    beside rows past theirs."""
    generator = torch.Generator().manual_seed(21)
    limits = [12, 20, 14, None, 16, 40, None, 25]
    inputs = [random_input(generator, seed=200 + row, with_prompt=row % 4 != 2, max_tokens=limit)
              for row, limit in enumerate(limits)]
    model = tiny_model()
    assert_rows_match_batch_one(model, inputs, sampling, max_rows=3)

    steps = list(model.stream(inputs, sampling, max_rows=3))
    assert max(len(step.rows) for step in steps) == 3
    joined_beside_others = [step for step in steps if len(step.rows) == 3 and max(step.rows) >= 3]
    assert joined_beside_others, "later rows should decode beside earlier ones"
    assert sum(len(step.finished) for step in steps) == len(inputs)


def test_a_step_over_the_whole_cache_gives_the_same_logits():
    """A GPU replays each decode step as a CUDA graph, which attends over every cache position (attend_all) with
    a mask; rows of different lengths, a cache holding another row's old keys past their ends: the logits must be
    the step's own, to rounding."""
    model = tiny_model()
    generator = torch.Generator().manual_seed(11)
    rows = [random_input(generator, seed=row, with_prompt=True, max_tokens=None) for row in range(3)]
    lengths = [len(row.phone_ids) + row.num_prompt for row in rows]
    capacity = max(lengths) + 9
    positions = sine_positions(capacity, model.config.hidden_dim)
    with torch.inference_mode():
        for batch in ([0], [0, 1, 2]):
            cache = model.new_cache(len(batch), capacity)
            for layer in cache:
                layer.normal_(generator=generator)  # stale but finite: what a slot's previous row leaves
            model.prefill([rows[row] for row in batch], cache, positions)
            shadow = [layer.clone() for layer in cache]
            row_lengths = [lengths[row] for row in batch]
            tokens = torch.randint(0, 1024, (len(batch),), generator=generator)
            audio_positions = torch.tensor([rows[row].num_prompt for row in batch])
            for _ in range(8):
                expected = model.decode_step(tokens, audio_positions, cache, row_lengths, positions)
                logits = model.decode_step(tokens, audio_positions, shadow, torch.tensor(row_lengths), positions,
                                           attend_all=True)  # fmt: skip
                assert (logits - expected).abs().max() <= 1e-5 * expected.abs().max()
                tokens, audio_positions = expected.argmax(-1), audio_positions + 1
                row_lengths = [length + 1 for length in row_lengths]


class ReplayedGraph:
    """A CUDA graph's part in _GraphedStep, on a CPU: replay() runs the captured step again on what it was made
    with (the cache layers and table it was given, by reference, as a real graph reads them by address)."""

    captures = 0

    def __init__(self, step):
        self.step = step
        ReplayedGraph.captures += 1

    def replay(self):
        self.step.logits = self.step.run()


def graphed_on_the_cpu(monkeypatch, capture=lambda step: setattr(step, "graph", ReplayedGraph(step))):
    """Make every batch decode through _GraphedStep, with `capture` standing in for the CUDA capture, and its
    caches start zeroed, as on a GPU (a graphed step reads every position, masked or not)."""
    start, new_cache, repack = t2s._Batch.__init__, Text2Semantic.new_cache, Text2Semantic.repack

    def zeroed_cache(model, rows, capacity):
        return [layer.zero_() for layer in new_cache(model, rows, capacity)]

    def zeroed_repack(cache, slots, filled, capacity):
        repack(cache, slots, filled, capacity)
        for layer in cache:
            layer[:, :, :, filled:] = 0

    monkeypatch.setattr(Text2Semantic, "new_cache", zeroed_cache)
    monkeypatch.setattr(Text2Semantic, "repack", staticmethod(zeroed_repack))

    def graphed(batch, *args):
        start(batch, *args)
        batch.graphs = True

    monkeypatch.setattr(t2s._Batch, "__init__", graphed)
    monkeypatch.setattr(t2s._GraphedStep, "capture", capture)


@pytest.mark.parametrize("sampling", [GREEDY, SAMPLED], ids=["greedy", "sampled"])
def test_graphed_steps_decode_as_the_eager_ones(monkeypatch, sampling):
    """A GPU replays one graph per batch, made for its cache and sine table: rows joining and leaving (repacks),
    and joiners longer than any row so far (a longer table, a bigger cache), must each get a new graph, or it
    would read memory the batch no longer uses."""
    model = tiny_model()
    generator = torch.Generator().manual_seed(5)
    inputs = [random_input(generator, seed=row, with_prompt=row != 2, max_tokens=15 + 9 * row) for row in range(6)]
    expected, expected_logits = decode_batch(model, inputs, sampling, max_rows=3)
    graphed_on_the_cpu(monkeypatch)
    ReplayedGraph.captures = 0
    outputs, logits = decode_batch(model, inputs, sampling, max_rows=3)
    assert ReplayedGraph.captures > 1  # rows left: new graphs
    for row in range(len(inputs)):
        assert torch.equal(outputs[row].tokens, expected[row].tokens), f"row {row}"
        assert outputs[row].stop_reason == expected[row].stop_reason
        scale = float(expected_logits[row].abs().max())
        assert float((logits[row] - expected_logits[row]).abs().max()) <= 1e-5 * scale, f"row {row}"


def test_a_step_that_cannot_be_captured_decodes_kernel_by_kernel(monkeypatch, caplog):
    def fails(step):
        raise RuntimeError("operation not permitted when stream is capturing")

    model = tiny_model()
    generator = torch.Generator().manual_seed(6)
    inputs = [random_input(generator, seed=row, with_prompt=True, max_tokens=20) for row in range(2)]
    expected, _ = decode_batch(model, inputs, SAMPLED)
    graphed_on_the_cpu(monkeypatch, capture=fails)
    outputs, _ = decode_batch(model, inputs, SAMPLED)
    assert all(torch.equal(outputs[row].tokens, expected[row].tokens) for row in range(2))
    assert "could not be captured" in caplog.text


def test_joining_rows_read_no_stale_cache_memory(monkeypatch):
    """As test_a_batched_step_reads_no_stale_cache_memory, for slots handed from a finished row to a joiner, and
    for a cache made larger or smaller: every position a cache has not been given is NaN."""
    model = tiny_model()
    empty_cache, repack = model.new_cache, model.repack

    def nan_cache(rows, capacity):
        return [layer.fill_(math.nan) for layer in empty_cache(rows, capacity)]

    def nan_repack(cache, slots, filled, capacity):
        repack(cache, slots, filled, capacity)
        for layer in cache:
            layer[:, :, :, filled:] = math.nan

    monkeypatch.setattr(model, "new_cache", nan_cache)
    monkeypatch.setattr(model, "repack", nan_repack)
    generator = torch.Generator().manual_seed(8)
    inputs = [random_input(generator, seed=row, with_prompt=row != 2, max_tokens=[14, 30, 12, 45, 18][row])
              for row in range(5)]
    longer_than_any = T2SInput(torch.randint(0, 732, (60,), generator=generator),
                               torch.randn(60, 1024, generator=generator),
                               torch.randint(0, 1024, (150,), generator=generator), seed=77, max_tokens=12)  # fmt: skip
    inputs.insert(2, longer_than_any)  # joins the first two rows' batch: its prompt goes past both of theirs
    assert_rows_match_batch_one(model, inputs, SAMPLED, max_rows=2)


def test_inputs_are_read_as_slots_free_up_so_a_caller_can_add_to_them():
    """The way the engine re-rolls a sentence: seeing a row finish, it adds an input, which the next free slot
    takes in the same stream."""
    generator = torch.Generator().manual_seed(4)
    queue = [random_input(generator, seed=row, with_prompt=True, max_tokens=12 + 6 * row) for row in range(3)]
    extra = random_input(generator, seed=99, with_prompt=True, max_tokens=15)
    read = []

    def inputs():
        while queue:
            read.append(len(read))
            yield queue.pop(0)

    model = tiny_model()
    finished = {}
    for step in model.stream(inputs(), SAMPLED, max_rows=2):
        assert len(read) == min(2 + len(finished), 4), "one input read per slot that was free"
        if step.finished and not finished:
            queue.append(extra)  # read after the input still waiting, when the next slot frees up
        finished |= step.finished
    assert sorted(finished) == [0, 1, 2, 3]
    alone = model.generate(extra, SAMPLED)
    assert torch.equal(finished[3].tokens, alone.tokens)


# ---------------------------------------------------------------------------------------------------------------
# The token iterator


def test_stream_yields_each_token_as_it_is_made():
    generator = torch.Generator().manual_seed(11)
    limits = [None, 20, 35]
    inputs = [random_input(generator, seed=row, with_prompt=row != 1, max_tokens=limits[row]) for row in range(3)]
    model = tiny_model()
    streamed = {row: [] for row in range(3)}
    finished = {}
    for number, step in enumerate(model.stream(inputs, SAMPLED)):
        assert step.step == number
        assert step.logits.shape == (len(step.rows), model.config.vocab_size) and step.logits.dtype == torch.float32
        assert set(step.tokens) <= set(step.rows) and set(step.finished) <= set(step.rows)
        assert not set(step.rows) & set(finished), "a finished row is never computed again"
        for row, token in step.tokens.items():
            streamed[row].append(token)
        finished |= step.finished
    assert sorted(finished) == [0, 1, 2]
    for row, output in finished.items():
        assert output.tokens.tolist() == streamed[row]
    assert finished[1].stop_reason == "token_limit" and len(finished[1].tokens) == 20
    assert finished[0].reference_free is False and finished[1].reference_free is True


def test_closing_the_stream_stops_the_work():
    model = tiny_model(eos_bias=-1000.0)  # would run to the step cap
    calls = []
    model.to_logits.register_forward_hook(lambda module, args, output: calls.append(output.shape))
    stream = model.stream([random_input(torch.Generator().manual_seed(0), 0, True, None)], GREEDY)
    for _ in range(3):
        next(stream)
    stream.close()
    assert len(calls) == 3
    with pytest.raises(StopIteration):
        next(stream)


class StopAfter:
    """A stop event that turns itself on after `calls` looks (is_set is all the model asks of it)."""

    def __init__(self, calls: int):
        self.calls_left = calls

    def is_set(self) -> bool:
        self.calls_left -= 1
        return self.calls_left < 0


def test_a_stop_event_ends_the_stream_within_the_prefill():
    """A batch of long prompts takes seconds to prefill: a stop set meanwhile ends it before the next layer."""
    model = tiny_model(eos_bias=-1000.0)
    layers_run = []
    for block in model.blocks:
        def counted(*args, block=block, prefill=block.prefill):
            layers_run.append(block)
            return prefill(*args)
        block.prefill = counted
    inputs = [random_input(torch.Generator().manual_seed(row), row, True, None) for row in range(3)]
    assert list(model.stream(inputs, GREEDY, stop=StopAfter(1))) == []
    assert len(layers_run) == 1 < len(model.blocks)
    assert list(model.stream(inputs, GREEDY, stop=StopAfter(0))) == [], "a stop set beforehand runs nothing"
    assert len(layers_run) == 1
    steps = list(model.stream(inputs, GREEDY, stop=StopAfter(len(model.blocks) + 2)))  # stops after 2 steps
    assert [step.step for step in steps] == [0, 1, 2] and not any(step.finished for step in steps)


def test_generate_is_a_batch_of_one():
    row = random_input(torch.Generator().manual_seed(5), seed=9, with_prompt=True, max_tokens=None)
    model = tiny_model()
    output = model.generate(row, SAMPLED)
    outputs, _ = decode_batch(model, [row], SAMPLED)
    assert torch.equal(output.tokens, outputs[0].tokens) and output.stop_reason == outputs[0].stop_reason


# ---------------------------------------------------------------------------------------------------------------
# Stop rules and seeds


def test_seeded_sampling_is_reproducible():
    model = tiny_model()
    sampling = SamplingParams(top_k=15, top_p=0.9, temperature=0.8, repetition_penalty=1.35, early_stop_num=-1)
    base = case_input(CASES[0])

    def run(seed):
        return model.generate(T2SInput(base.phone_ids, base.bert_features, base.prompt_tokens, seed=seed), sampling)

    first, again, other = run(1234), run(1234), run(99)
    assert torch.equal(first.tokens, again.tokens) and first.stop_reason == again.stop_reason
    assert not torch.equal(first.tokens[:20], other.tokens[:20])


def test_eos_is_impossible_before_step_11():
    # An EOS logit that towers over everything: upstream still removes the EOS column for steps 0..10.
    model = tiny_model(eos_bias=1000.0)
    base = random_input(torch.Generator().manual_seed(1), 0, True, None)
    rows = [T2SInput(base.phone_ids, base.bert_features, base.prompt_tokens, seed=seed) for seed in range(3)]
    outputs, _ = decode_batch(model, rows, SamplingParams(top_k=5))
    for output in outputs.values():
        assert (output.stop_reason, output.steps, len(output.tokens)) == ("eos", 11, 11)
        assert int(output.tokens.max()) < model.config.eos_id
        assert torch.equal(output.decoder_tokens, output.tokens)
    reference_free = model.generate(T2SInput(base.phone_ids, base.bert_features, None, seed=0), GREEDY)
    assert (reference_free.stop_reason, len(reference_free.tokens)) == ("eos", 11)


def test_early_stop_step_cap_and_token_limit():
    model = tiny_model(eos_bias=-1000.0)
    row = random_input(torch.Generator().manual_seed(2), 0, True, None)
    early = model.generate(row, SamplingParams(top_k=1, early_stop_num=5))
    assert (early.stop_reason, early.steps, len(early.tokens)) == ("early_stop", 5, 6)
    assert torch.equal(early.decoder_tokens, early.tokens[1:])  # upstream's y[:, -idx:] quirk

    capped = model.generate(row, SamplingParams(top_k=1, max_steps=7))
    assert (capped.stop_reason, capped.steps, len(capped.tokens)) == ("step_cap", 6, 7)
    assert torch.equal(capped.tokens[:6], early.tokens)  # same greedy path, just stopped later

    limited = T2SInput(row.phone_ids, row.bert_features, row.prompt_tokens, seed=0, max_tokens=4)
    guarded = model.generate(limited, SamplingParams(top_k=1))
    assert (guarded.stop_reason, guarded.steps, len(guarded.tokens)) == ("token_limit", 3, 4)
    assert torch.equal(guarded.decoder_tokens, early.tokens[:4])  # our guard keeps every token
    # upstream's own stops win when they fall on the same step
    at_cap = model.generate(limited, SamplingParams(top_k=1, max_steps=4))
    assert at_cap.stop_reason == "step_cap"


def test_input_checks():
    phones, bert = torch.tensor([1, 2, 3]), torch.zeros(3, 1024)
    with pytest.raises(ValueError, match=r"\[N, 1024\]"):
        T2SInput(phones, bert.T, None, seed=0)  # the old [1024, N] layout
    with pytest.raises(ValueError):
        T2SInput(phones[:0], bert[:0], None, seed=0)
    with pytest.raises(ValueError, match="max_tokens"):
        T2SInput(phones, bert, None, seed=0, max_tokens=0)
    with pytest.raises(ValueError):
        T2SInput(phones, bert, torch.zeros(1, 5, dtype=torch.long), seed=0)
    with pytest.raises(ValueError):
        next(tiny_model().stream([], GREEDY))


# ---------------------------------------------------------------------------------------------------------------
# Devices and dtypes


def test_the_forward_pass_creates_no_tensor_off_the_model_device():
    """On the meta device any tensor made on the CPU (a factory without device=, a .cpu()) fails the op it meets."""
    model = tiny_model().to("meta")
    meta = torch.device("meta")
    row = T2SInput(torch.zeros(7, dtype=torch.long, device=meta), torch.zeros(7, 1024, device=meta),
                   torch.zeros(5, dtype=torch.long, device=meta), seed=0)
    one_row, two_rows = model.new_cache(1, 16), model.new_cache(2, 16)
    positions = sine_positions(16, model.config.hidden_dim, meta)
    with torch.inference_mode():
        first = model.prefill([row], one_row, positions)
        both = model.prefill([row, row], two_rows, positions)  # rows packed end to end
        alone = model.decode_step(torch.zeros(1, dtype=torch.long, device=meta), torch.tensor([5], device=meta),
                                  one_row, [12], positions)
        logits = model.decode_step(torch.zeros(2, dtype=torch.long, device=meta), torch.tensor([5, 5], device=meta),
                                   two_rows, [13, 12], positions)  # batched: a mask
        model.repack(two_rows, torch.tensor([1], device=meta), 13, 16)  # a row left: the other is copied
        vocab = model.config.vocab_size
        tokens, best = sample_tokens(logits, torch.zeros(2, vocab, dtype=torch.bool, device=meta), SAMPLED,
                                     torch.empty(2, vocab, device=meta).exponential_())
    assert logits.shape == (2, vocab) and two_rows[0].shape[1] == 1
    for tensor in (first, both, alone, logits, tokens, best, prefill_mask(7, 5, meta), *two_rows):
        assert tensor.device == meta


def test_decoding_makes_every_tensor_on_the_inputs_device():
    """With meta as the default device, a factory that does not follow the model's device makes a meta tensor,
    which fails as soon as it meets a real one; the whole loop (sampler and stop rules included) must not notice."""
    model = tiny_model()
    generator = torch.Generator().manual_seed(4)
    inputs = [random_input(generator, seed=row, with_prompt=row != 0, max_tokens=20 + 5 * row) for row in range(3)]
    expected, _ = decode_batch(model, inputs, SAMPLED)
    with torch.device("meta"):
        outputs, logits = decode_batch(model, inputs, SAMPLED)
    for row in range(3):
        assert outputs[row].tokens.device.type == "cpu" and logits[row].device.type == "cpu"
        assert torch.equal(outputs[row].tokens, expected[row].tokens)


def test_bfloat16_on_cpu_gives_valid_tokens():
    model = tiny_model().to(torch.bfloat16)
    generator = torch.Generator().manual_seed(6)
    inputs = [random_input(generator, seed=row, with_prompt=row != 0, max_tokens=40) for row in range(3)]
    for sampling in (GREEDY, SAMPLED):
        outputs, logits = decode_batch(model, inputs, sampling)
        for row in range(3):
            assert torch.isfinite(logits[row]).all() and logits[row].dtype == torch.float32
            tokens = outputs[row].tokens
            assert len(tokens) >= 1 and 0 <= int(tokens.min()) and int(tokens.max()) < model.config.eos_id


# ---------------------------------------------------------------------------------------------------------------
# Pieces


def test_sine_positions():
    table = sine_positions(5, 8)
    assert table.shape == (5, 8) and table.dtype == torch.float32
    assert torch.equal(table[0], torch.tensor([0.0, 1.0] * 4))
    assert torch.allclose(table[3, 0], torch.sin(torch.tensor(3.0))) and torch.allclose(table[3, 1], torch.cos(torch.tensor(3.0)))


def test_prefill_mask():
    mask = prefill_mask(2, 3, torch.device("cpu"))
    expected = torch.tensor([
        [1, 1, 0, 0, 0],
        [1, 1, 0, 0, 0],
        [1, 1, 1, 0, 0],
        [1, 1, 1, 1, 0],
        [1, 1, 1, 1, 1],
    ], dtype=torch.bool)
    assert torch.equal(mask, expected)


def draws(logits, params, seen=(), seeds=range(200)) -> set[int]:
    mask = torch.zeros(1, len(logits), dtype=torch.bool)
    mask[0, list(seen)] = True
    found = set()
    for seed in seeds:
        race = torch.empty(1, len(logits)).exponential_(1, generator=torch.Generator().manual_seed(seed))
        found.add(int(sample_tokens(logits[None], mask, params, race)[0]))
    return found


def test_top_k_keeps_ties():
    logits = torch.tensor([2.0, 2.0, 1.0, 0.0])
    assert draws(logits, SamplingParams(top_k=1, repetition_penalty=1.0)) == {0, 1}
    assert draws(logits, SamplingParams(top_k=3, repetition_penalty=1.0)) == {0, 1, 2}


def test_top_p_cut_is_inclusive():
    logits = torch.log(torch.tensor([0.5, 0.3, 0.2]))
    # cumulative 0.5, 0.8, 1.0: the token that crosses 0.7 is removed too (no shift), leaving only the first.
    assert draws(logits, SamplingParams(top_k=3, top_p=0.7, repetition_penalty=1.0)) == {0}
    assert draws(logits, SamplingParams(top_k=3, top_p=0.4, repetition_penalty=1.0)) == {0}  # best one always kept
    assert draws(logits, SamplingParams(top_k=3, top_p=0.9, repetition_penalty=1.0)) == {0, 1}


def test_repetition_penalty_matches_upstreams_gather_and_scatter():
    logits = torch.tensor([[2.0, -1.0, 1.5, 0.5]])
    history = torch.tensor([[0, 1, 0]])  # token 0 twice: still penalized once
    seen = torch.zeros(1, 4, dtype=torch.bool).scatter(1, history, True)
    upstream = logits.clone()
    score = upstream.gather(1, history)
    upstream.scatter_(1, history, torch.where(score < 0, score * 2.0, score / 2.0))
    assert torch.equal(penalize_repetition(logits, seen, 2.0), upstream)
    assert torch.equal(upstream, torch.tensor([[1.0, -2.0, 1.5, 0.5]]))


def test_the_stop_test_sees_penalized_logits():
    logits = torch.tensor([[2.0, -1.0, 1.5, 0.5]])
    seen = torch.tensor([[True, True, False, False]])
    race = torch.ones(1, 4)
    tokens, best = sample_tokens(logits, seen, SamplingParams(top_k=1, repetition_penalty=2.0), race)
    assert (int(tokens), int(best)) == (2, 2)  # 2.0 / 2 = 1.0 falls behind 1.5


def test_temperature_sharpens():
    logits = torch.tensor([1.0, 0.0])
    assert draws(logits, SamplingParams(top_k=2, temperature=0.05, repetition_penalty=1.0)) == {0}
    assert draws(logits, SamplingParams(top_k=2, temperature=2.0, repetition_penalty=1.0)) == {0, 1}
