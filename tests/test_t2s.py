"""The T2S model against the official implementation's recorded runs, and its sampler's rules.

The parity cases (tests/data/vectors, plus $GPT_SOVITS_EXTRA_VECTORS; see conftest.py) ran upstream's decoding on
tiny T2S checkpoints; ours must give the same tokens and hand SoVITS the same ones. The logits are compared in
test_parity.py's t2s stage.
"""

import pytest
import torch

from conftest import load_case, sampling_args, tiny_checkpoints_for, torch_threads, vector_cases
from gpt_sovits.checkpoints import load_t2s_checkpoint
from gpt_sovits.models.t2s import SamplingParams, Text2Semantic, sample_next_token, sine_positions
from tolerances import assert_matches_official

CASES = [pytest.param(case, id=case.name) for case in vector_cases()]
GREEDY = SamplingParams(top_k=1, top_p=1.0, temperature=1.0, repetition_penalty=1.35)
UPSTREAM_STOP = {"EOS": "eos", "early_stop_num": "early_stop"}


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """The tiny model's ops are far too small to share out; on a busy machine, waking a second thread for
    each of them costs more than the whole step (seconds per test instead of a fraction of one)."""
    with torch_threads(1):
        yield


def public_case(name: str):
    return next(case for case in vector_cases() if case.name == name and case.source == "public")


def tiny_model(case, eos_bias: float = 0.0) -> Text2Semantic:
    """The tiny T2S model the case was recorded with; eos_bias > 0 makes EOS the best token at every step, < 0 never."""
    version = load_case(case)[0]["model_version"]
    model = Text2Semantic.from_checkpoint(load_t2s_checkpoint(tiny_checkpoints_for(case) / version / "t2s.ckpt"))
    if eos_bias:
        biased = torch.nn.Linear(model.config.hidden_dim, model.config.vocab_size)
        with torch.no_grad():
            biased.weight.copy_(model.to_logits.weight)
            biased.bias.zero_()
            biased.bias[model.config.eos_id] = eos_bias
        model.to_logits = biased
    return model


def case_inputs(case):
    sidecar, arrays = load_case(case)
    prompt = torch.from_numpy(arrays["t2s_prompt"][0]).long()
    return (
        sidecar,
        arrays,
        torch.from_numpy(arrays["t2s_all_phoneme_ids"]).long(),
        torch.from_numpy(arrays["t2s_bert"]),
        prompt if len(prompt) else None,
    )


@pytest.mark.parametrize("case", CASES)
def test_generation_matches_upstream(case):
    sidecar, arrays, phone_ids, bert_features, prompt_tokens = case_inputs(case)
    model = tiny_model(case)
    sampling = SamplingParams(**sampling_args(sidecar))
    generator = torch.Generator().manual_seed(int(sidecar["torch_manual_seed_before_get_tts_wav"]))
    output = model.generate(phone_ids, bert_features, prompt_tokens, sampling, generator)

    num_prompt = 0 if prompt_tokens is None else len(prompt_tokens)
    assert_matches_official("t2s_y", output.tokens, arrays["t2s_y"][num_prompt:])
    assert output.tokens.dtype == torch.long
    assert output.stop_reason == UPSTREAM_STOP[sidecar["t2s"]["stopped_by"]]
    assert output.reference_free == (prompt_tokens is None)
    # Upstream returns idx 0 in reference-free mode; our `steps` is always the loop index at the stop.
    assert output.steps == len(arrays["t2s_step_eos_logit"]) - 1
    if prompt_tokens is not None:
        assert output.steps == int(arrays["t2s_idx"])
    # What upstream handed to SoVITS (its y[:, -idx:] drops the first token on an early stop).
    assert_matches_official("decode_codes", output.decoder_tokens, arrays["decode_codes"][0, 0])


def test_seeded_sampling_is_reproducible():
    case = public_case("v2_ref16k_3s4_s1")
    _, _, phone_ids, bert_features, prompt_tokens = case_inputs(case)
    model = tiny_model(case)
    sampling = SamplingParams(top_k=15, top_p=0.9, temperature=0.8, repetition_penalty=1.35, early_stop_num=-1)

    def run(seed):
        return model.generate(phone_ids, bert_features, prompt_tokens, sampling, torch.Generator().manual_seed(seed))

    first, again, other = run(1234), run(1234), run(99)
    assert torch.equal(first.tokens, again.tokens) and first.stop_reason == again.stop_reason
    assert not torch.equal(first.tokens[:20], other.tokens[:20])


def test_eos_is_impossible_before_step_11():
    # An EOS logit that towers over everything: upstream still removes the EOS column for steps 0..10.
    case = public_case("v2_ref16k_3s4_s1")
    _, _, phone_ids, bert_features, prompt_tokens = case_inputs(case)
    model = tiny_model(case, eos_bias=1000.0)
    for seed in range(3):
        output = model.generate(
            phone_ids, bert_features, prompt_tokens, SamplingParams(top_k=5), torch.Generator().manual_seed(seed)
        )
        assert (output.stop_reason, output.steps, len(output.tokens)) == ("eos", 11, 11)
        assert int(output.tokens.max()) < model.config.eos_id
    reference_free = model.generate(phone_ids, bert_features, None, GREEDY)
    assert (reference_free.stop_reason, len(reference_free.tokens)) == ("eos", 11)


def test_early_stop_and_step_cap():
    case = public_case("v2_ref16k_3s4_s1")
    _, _, phone_ids, bert_features, prompt_tokens = case_inputs(case)
    model = tiny_model(case, eos_bias=-1000.0)
    early = model.generate(phone_ids, bert_features, prompt_tokens, SamplingParams(top_k=1, early_stop_num=5))
    assert (early.stop_reason, early.steps, len(early.tokens)) == ("early_stop", 5, 6)
    assert torch.equal(early.decoder_tokens, early.tokens[1:])

    capped = model.generate(phone_ids, bert_features, prompt_tokens, SamplingParams(top_k=1, max_steps=7))
    assert (capped.stop_reason, capped.steps, len(capped.tokens)) == ("step_cap", 6, 7)
    assert torch.equal(capped.tokens[:6], early.tokens)  # same greedy path, just stopped later


def test_tracing_does_not_change_the_result():
    case = public_case("v2_ref32k_4s2_speed1p3")
    _, _, phone_ids, bert_features, prompt_tokens = case_inputs(case)
    model = tiny_model(case)
    sampling = SamplingParams(top_k=10, temperature=0.9)
    trace = {}
    traced = model.generate(phone_ids, bert_features, prompt_tokens, sampling, torch.Generator().manual_seed(5), trace)
    plain = model.generate(phone_ids, bert_features, prompt_tokens, sampling, torch.Generator().manual_seed(5))
    assert torch.equal(traced.tokens, plain.tokens)
    assert trace["t2s_step_top8_ids"].shape == (traced.steps + 1, 8)
    assert trace["t2s_logits_step0"].shape == (model.config.vocab_size,)


def test_sine_positions():
    table = sine_positions(5, 8)
    assert table.shape == (5, 8) and table.dtype == torch.float32
    assert torch.equal(table[0], torch.tensor([0.0, 1.0] * 4))
    assert torch.allclose(table[3, 0], torch.sin(torch.tensor(3.0))) and torch.allclose(table[3, 1], torch.cos(torch.tensor(3.0)))


# ---------------------------------------------------------------------------------------------------------------
# The sampler on hand-made logits


def draws(logits, params, previous=(), seeds=range(200)) -> set[int]:
    previous = torch.tensor(previous, dtype=torch.long)
    return {
        sample_next_token(logits.clone(), previous, params, torch.Generator().manual_seed(seed)) for seed in seeds
    }


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


def test_repetition_penalty_changes_the_callers_logits_in_place():
    logits = torch.tensor([2.0, -1.0, 1.5, 0.5])
    token = sample_next_token(logits, torch.tensor([0, 1, 0]), SamplingParams(top_k=1, repetition_penalty=2.0), None)
    assert torch.equal(logits, torch.tensor([1.0, -2.0, 1.5, 0.5]))  # positive / 2, negative * 2, repeats once
    assert token == 2


def test_temperature_sharpens():
    logits = torch.tensor([1.0, 0.0])
    assert draws(logits, SamplingParams(top_k=2, temperature=0.05, repetition_penalty=1.0)) == {0}
    assert draws(logits, SamplingParams(top_k=2, temperature=2.0, repetition_penalty=1.0)) == {0, 1}
