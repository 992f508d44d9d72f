"""How fast the T2S model generates at the official size, on CPU, in fp32.

Builds a real-size model (512 dim, 16 heads, 24 layers, 1025 semantic tokens, 732 phones) with RANDOM weights
in this process (nothing is downloaded or stored), then times `generate` for a typical sentence: 60 phones, a
150-token reference prompt, 250 generated tokens (the step cap stops it there, so EOS never cuts it short).

The yardstick is a "bare pass": the same weight matrices applied to one vector with nothing else (no attention,
no cache, no sampling) - the memory-bound floor of one decode step. Upstream's naive CPU path measured 26.0 ms/token.

    python benchmarks/t2s_speed.py [--threads 2] [--json]

On a busy machine run it with OMP_WAIT_POLICY=PASSIVE: with OpenMP's default spin-waiting, every parallel
region of a decode step can wait a whole scheduler slice for a worker thread that another process displaced,
and 2 threads then run several times slower than 1 (measured here: 130-260 ms/token instead of ~42).
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere without installing

from gpt_sovits.checkpoints import T2SConfig  # noqa: E402
from gpt_sovits.models.t2s import SamplingParams, Text2Semantic  # noqa: E402

OFFICIAL_SIZE = T2SConfig(
    embedding_dim=512,
    hidden_dim=512,
    num_heads=16,
    num_layers=24,
    vocab_size=1025,
    phoneme_vocab_size=732,
    eos_id=1024,
    early_stop_num=2700,
)
NUM_PHONES, NUM_PROMPT, NUM_GENERATED = 60, 150, 250
BARE_PASSES = 100


def random_model(config: T2SConfig, seed: int = 0) -> Text2Semantic:
    """A model of the given size with small random weights, rounded through fp16 like real checkpoints."""
    model = Text2Semantic(config).eval()
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            noise = torch.randn(parameter.shape, generator=generator) * 0.02
            base = 1.0 if "norm" in name or "alpha" in name else 0.0
            parameter.copy_((base + noise).half().float())
    return model


def timed(function) -> tuple[float, float]:
    """(wall seconds, this process's CPU seconds) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    function()
    return time.perf_counter() - wall, time.process_time() - cpu


def bare_pass(model: Text2Semantic) -> None:
    """One vector through every weight matrix of a decode step (no attention, norms or sampling)."""
    x = torch.randn(1, model.config.hidden_dim)
    with torch.inference_mode():
        h = x
        for block in model.blocks:
            qkv = F.linear(h, block.qkv.weight, block.qkv.bias)
            h = F.linear(qkv[:, : h.shape[1]], block.attention_out.weight, block.attention_out.bias)
            h = F.linear(F.linear(h, block.ffn_in.weight, block.ffn_in.bias), block.ffn_out.weight, block.ffn_out.bias)
        F.linear(h, model.to_logits.weight)


def generate(model: Text2Semantic, max_steps: int, seed: int = 0) -> None:
    generator = torch.Generator().manual_seed(seed)
    phone_ids = torch.randint(0, model.config.phoneme_vocab_size, (NUM_PHONES,), generator=generator)
    bert_features = torch.randn(1024, NUM_PHONES, generator=generator)
    prompt_tokens = torch.randint(0, 1024, (NUM_PROMPT,), generator=generator)
    sampling = SamplingParams(max_steps=max_steps, early_stop_num=-1)
    output = model.generate(phone_ids, bert_features, prompt_tokens, sampling, generator)
    assert len(output.tokens) >= max_steps - 1, "benchmark model stopped early"


def measure(threads: int = 2, repeats: int = 2) -> dict:
    """Time the official-size T2S; returns plain numbers (an aggregate benchmark calls this).

    Every figure is the best of `repeats`, so other load on the machine inflates it as little as possible. The
    "cpu_" figures count this process's CPU time instead of wall time: with threads=1 they hardly depend on
    other processes at all, which makes `cpu_decode_vs_bare_pass` the steadiest number on a busy machine.
    """
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        model = random_model(OFFICIAL_SIZE)
        generate(model, 20)  # warm-up: thread pool, allocator, kernels
        runs = []
        for _ in range(repeats):
            prefill = timed(lambda: generate(model, 1))
            total = timed(lambda: generate(model, NUM_GENERATED))
            # Averaged over a run of passes, like decode steps are, so both see the same share of outside load;
            # the best single pass is kept too (a lower bound no real step reaches on a busy machine).
            passes = [timed(lambda: bare_pass(model)) for _ in range(BARE_PASSES)]
            bare = tuple(sum(clock) / BARE_PASSES for clock in zip(*passes))
            bare_best = tuple(min(clock) for clock in zip(*passes))
            runs.append((prefill, total, bare, bare_best))
    finally:
        torch.set_num_threads(previous_threads)

    def best(which: int, clock: int) -> float:
        return min(run[which][clock] for run in runs)

    result = {
        "threads": threads,
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "(default)"),
        "phones": NUM_PHONES,
        "prompt_tokens": NUM_PROMPT,
        "generated_tokens": NUM_GENERATED,
    }
    for prefix, clock in (("", 0), ("cpu_", 1)):
        prefill_s, total_s, bare_s, bare_best_s = best(0, clock), best(1, clock), best(2, clock), best(3, clock)
        decode_ms = (total_s - prefill_s) * 1000 / (NUM_GENERATED - 1)
        result |= {
            f"{prefix}prefill_ms": round(prefill_s * 1000, 2),
            f"{prefix}total_s": round(total_s, 3),
            f"{prefix}ms_per_token": round(total_s * 1000 / NUM_GENERATED, 2),  # everything, prefill included
            f"{prefix}decode_ms_per_token": round(decode_ms, 2),  # one decode step
            f"{prefix}bare_pass_ms": round(bare_s * 1000, 2),  # mean over a run of passes
            f"{prefix}bare_pass_best_ms": round(bare_best_s * 1000, 2),
            f"{prefix}decode_vs_bare_pass": round(decode_ms / (bare_s * 1000), 3),
            f"{prefix}decode_vs_best_bare_pass": round(decode_ms / (bare_best_s * 1000), 3),
        }
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    result = measure(args.threads)
    if args.json:
        print(json.dumps(result))
        return
    print(f"T2S official size, fp32, {result['threads']} threads (OMP_WAIT_POLICY {result['omp_wait_policy']}): "
          f"{result['phones']} phones, "
          f"{result['prompt_tokens']}-token prompt, {result['generated_tokens']} tokens")
    print(f"  prefill            {result['prefill_ms']:8.2f} ms")
    print(f"  decode             {result['decode_ms_per_token']:8.2f} ms/token")
    print(f"  overall            {result['ms_per_token']:8.2f} ms/token ({result['total_s']:.2f} s)")
    print(f"  bare weight pass   {result['bare_pass_ms']:8.2f} ms  -> decode is {result['decode_vs_bare_pass']:.2f}x "
          f"(best single pass {result['bare_pass_best_ms']:.2f} ms -> {result['decode_vs_best_bare_pass']:.2f}x)")
    print(f"  in CPU time: decode {result['cpu_decode_ms_per_token']:.2f} ms/token, bare pass "
          f"{result['cpu_bare_pass_ms']:.2f} ms -> {result['cpu_decode_vs_bare_pass']:.2f}x")


if __name__ == "__main__":
    main()
