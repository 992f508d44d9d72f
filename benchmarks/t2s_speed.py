"""How fast the T2S model decodes at the official size, on CPU, alone and in batches (exact mode, float32).

Builds a real-size model (512 dim, 16 heads, 24 layers, 1025 semantic tokens, 732 phones) with RANDOM weights in
this process (nothing is downloaded or stored) and decodes typical sentences: about 60 phones after a 150-token
reference prompt, 250 generated tokens each (a per-sentence max_tokens stops them there; early stop is off).
The batch-1 sentence is exactly 60 phones + 150 prompt tokens; the other sentences of a batch vary around that.

The yardstick is a "bare pass": the same weight matrices applied to one vector, plus reading the keys and values
of a cache as long as the decode step's at that moment - the memory-bound floor of one decode step (no norms,
softmax, sampling or bookkeeping). One bare pass runs right after each batch-1 decode step, so both see the same
outside load; the figures are medians over the steps. At batch B, "ms per token per sentence" is the median step
time divided by B (prefill excluded; `*_with_prefill` counts everything).

    python benchmarks/t2s_speed.py [--threads 2] [--batches 1,2,4,8] [--tokens 250] [--json]

Run it with the OpenMP waiting the app sets (OMP_WAIT_POLICY=PASSIVE GOMP_SPINCOUNT=10000, gpt_sovits/openmp.py):
with OpenMP's default unbounded spin-waiting on a busy machine, every parallel region of a decode step can wait a
whole scheduler slice for a worker thread that another process displaced, and 2 threads then run several times
slower than 1. Report `uptime` beside the figures.
"""

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere without installing

from gpt_sovits.checkpoints import T2SConfig  # noqa: E402
from gpt_sovits.models.t2s import SamplingParams, T2SInput, Text2Semantic  # noqa: E402

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
SAMPLING = SamplingParams(early_stop_num=-1)  # upstream's defaults otherwise: top_k 15, temperature 1


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


def sentence(config: T2SConfig, index: int, max_tokens: int) -> T2SInput:
    """Sentence 0 is the standard shape; later ones vary by up to +-20 phones and +-40 prompt tokens."""
    generator = torch.Generator().manual_seed(index)
    num_phones = NUM_PHONES + (0 if index == 0 else int(torch.randint(-20, 21, (1,), generator=generator)))
    num_prompt = NUM_PROMPT + (0 if index == 0 else int(torch.randint(-40, 41, (1,), generator=generator)))
    return T2SInput(
        phone_ids=torch.randint(0, config.phoneme_vocab_size, (num_phones,), generator=generator),
        bert_features=torch.randn(num_phones, 1024, generator=generator),
        prompt_tokens=torch.randint(0, 1024, (num_prompt,), generator=generator),
        seed=index,
        max_tokens=max_tokens,
    )


def bare_pass(model: Text2Semantic, keys_values: torch.Tensor, length: int) -> None:
    """One vector through every weight matrix of a decode step, plus one read of `length` cached keys and values
    per layer (keys_values: [layer, key|value, heads, capacity, head_dim])."""
    dim, heads = model.config.hidden_dim, model.config.num_heads
    with torch.inference_mode():
        h = torch.randn(1, dim)
        for block, (keys, values) in zip(model.blocks, keys_values[:, :, :, :length]):
            qkv = F.linear(h, block.qkv.weight, block.qkv.bias)
            queries = qkv[:, :dim].view(heads, 1, dim // heads)
            attended = torch.bmm(torch.bmm(queries, keys.transpose(1, 2)), values)  # [heads, 1, head_dim]
            h = F.linear(attended.view(1, dim), block.attention_out.weight, block.attention_out.bias)
            h = F.linear(F.linear(h, block.ffn_in.weight, block.ffn_in.bias), block.ffn_out.weight, block.ffn_out.bias)
        F.linear(h, model.to_logits.weight)


def clock() -> tuple[float, float]:
    """(wall, this process's CPU) seconds now."""
    return time.perf_counter(), time.process_time()


def since(started: tuple[float, float]) -> tuple[float, float]:
    now = clock()
    return now[0] - started[0], now[1] - started[1]


def decode(model: Text2Semantic, inputs: list[T2SInput], after_step=None) -> dict:
    """Decode `inputs` as one batch, timing each step (wall, CPU); `after_step(step)` runs untimed after each."""
    steps, logits = [], []
    iterator = model.stream(inputs, SAMPLING)
    while True:
        started = clock()
        step = next(iterator, None)
        if step is None:
            break
        steps.append(since(started))
        logits.append(step.logits[step.rows.index(0)] if 0 in step.rows else None)
        if 0 in step.finished:
            row0_tokens = step.finished[0].tokens
        if any(output.stop_reason != "token_limit" for output in step.finished.values()):
            raise RuntimeError("a benchmark sentence stopped early (random weights said EOS); change its seed")
        if after_step is not None:
            after_step(step)
    return {"prefill": steps[0], "steps": steps[1:], "total": tuple(map(sum, zip(*steps))), "row0_logits": logits,
            "row0_tokens": row0_tokens}


def median_ms(clocks: list[tuple[float, float]], which: int) -> float:
    return statistics.median(clock[which] for clock in clocks) * 1000


def measure(threads: int = 2, batches=(1, 2, 4, 8), tokens: int = NUM_GENERATED) -> dict:
    """Time the official-size T2S; returns plain numbers (an aggregate benchmark calls this).

    Wall-clock figures are what a user waits; the "cpu_" ones count this process's CPU time instead, which with
    threads=1 hardly depends on other processes (the steadiest figures on a busy machine).
    """
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        model = random_model(OFFICIAL_SIZE)
        config = model.config
        decode(model, [sentence(config, 0, 20)])  # warm-up: thread pool, allocator, kernels

        # Batch 1, each decode step followed by a bare pass over as many cached positions as the step read.
        capacity = NUM_PHONES + NUM_PROMPT + tokens
        head_dim = config.hidden_dim // config.num_heads
        keys_values = torch.randn(config.num_layers, 2, config.num_heads, capacity, head_dim)
        bare = []

        def bare_after(step):
            length = NUM_PHONES + NUM_PROMPT + step.step + 1  # what the next decode step attends to
            started = clock()
            bare_pass(model, keys_values, min(length, capacity))
            bare.append(since(started))

        single = decode(model, [sentence(config, 0, tokens)], bare_after)
        bare = bare[:-1]  # the last one follows the final step, after which no decode step ran
        results = {1: single}
        for batch in batches:
            if batch != 1:
                results[batch] = decode(model, [sentence(config, index, tokens) for index in range(batch)])
    finally:
        torch.set_num_threads(previous_threads)

    result = {
        "threads": threads,
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "(default)"),
        "gomp_spincount": os.environ.get("GOMP_SPINCOUNT", "(default)"),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "phones": NUM_PHONES,
        "prompt_tokens": NUM_PROMPT,
        "generated_tokens": tokens,
        "prefill_ms": round(single["prefill"][0] * 1000, 1),
        "batch1_total_s": round(single["total"][0], 3),  # prefill + every step of one sentence
    }
    for prefix, which in (("", 0), ("cpu_", 1)):
        step_ms, bare_ms = median_ms(single["steps"], which), median_ms(bare, which)
        result |= {
            f"{prefix}batch1_ms_per_token": round(step_ms, 2),
            f"{prefix}bare_pass_with_kv_ms": round(bare_ms, 2),
            f"{prefix}batch1_vs_bare_pass": round(step_ms / bare_ms, 3),
        }
        for batch, run in results.items():
            per_sentence = median_ms(run["steps"], which) / batch
            with_prefill = run["total"][which] * 1000 / (batch * tokens)
            result[f"{prefix}batch{batch}_ms_per_token_per_sentence"] = round(per_sentence, 2)
            result[f"{prefix}batch{batch}_ms_per_token_per_sentence_with_prefill"] = round(with_prefill, 2)
    # Row 0 of every batch is the batch-1 sentence: how far its logits and tokens moved with the batch size.
    for batch, run in results.items():
        if batch != 1:
            pairs = [(a, b) for a, b in zip(single["row0_logits"], run["row0_logits"]) if b is not None]
            result[f"batch{batch}_row0_max_logit_diff"] = float(max((a - b).abs().max() for a, b in pairs))
            result[f"batch{batch}_row0_same_tokens"] = bool(torch.equal(single["row0_tokens"], run["row0_tokens"]))
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batches", default="1,2,4,8", help="comma-separated batch sizes (1 is always run)")
    parser.add_argument("--tokens", type=int, default=NUM_GENERATED, help="tokens generated per sentence")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    result = measure(args.threads, tuple(int(b) for b in args.batches.split(",")), args.tokens)
    if args.json:
        print(json.dumps(result))
        return
    print(f"T2S official size, fp32, {result['threads']} threads (OMP_WAIT_POLICY {result['omp_wait_policy']}, "
          f"GOMP_SPINCOUNT {result['gomp_spincount']}, load {result['load_average_1min']}): {result['phones']} phones, {result['prompt_tokens']}-token prompt, "
          f"{result['generated_tokens']} tokens per sentence; wall (CPU) medians")
    print(f"  prefill                 {result['prefill_ms']:8.1f} ms")
    print(f"  batch 1                 {result['batch1_ms_per_token']:8.2f} ms/token "
          f"({result['cpu_batch1_ms_per_token']:.2f})")
    print(f"  bare pass + KV read     {result['bare_pass_with_kv_ms']:8.2f} ms       "
          f"({result['cpu_bare_pass_with_kv_ms']:.2f})  -> batch 1 is {result['batch1_vs_bare_pass']:.3f}x "
          f"({result['cpu_batch1_vs_bare_pass']:.3f}x)")
    for name, value in result.items():
        if name.startswith("batch") and name.endswith("_per_sentence"):
            batch = name.removeprefix("batch").split("_")[0]
            print(f"  batch {batch:2s} per sentence    {value:8.2f} ms/token ({result['cpu_' + name]:.2f}); "
                  f"with prefill {result[name + '_with_prefill']:.2f} ({result['cpu_' + name + '_with_prefill']:.2f})")
    for name, value in result.items():
        if name.endswith("_row0_max_logit_diff"):
            same = result[name.replace("max_logit_diff", "same_tokens")]
            print(f"  {name}: {value:.2e}, same tokens: {same}")

if __name__ == "__main__":
    main()
